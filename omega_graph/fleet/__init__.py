"""Fleets of stores: Parquet export, statistics on DuckDB or Spark, per-store graph answers on Spark.

Thousands of stores (one per agent, user or experiment run), each small enough for one machine, are
exported to one Hive-partitioned Parquet dataset per table; questions across the fleet run on an
existing engine: DuckDB on one machine, Spark on a cluster.

- :mod:`._layout`: the export directory and its manifest (the contract between writer and readers);
- :mod:`._discover`, :mod:`._export`: finding the stores and exporting the changed ones, atomically;
- :mod:`._generate`: a deterministic fleet to try it on;
- :mod:`._dialects`, :mod:`._statistics`: the curated statistics, written once, run on DuckDB or Spark SQL;
- :mod:`._answers`: per-store graph answers as plain functions over pandas frames (Spark, Dask or Ray
  call them); :mod:`._graph`: the Spark side (``applyInPandas`` grouped by store);
- :mod:`._spark`: the optional Spark session (``omega-graph[spark]``).
"""

from __future__ import annotations

from ._answers import store_answers, store_paths
from ._export import ExportResult, export
from ._generate import generate
from ._graph import graph_answers, strongest_paths
from ._layout import TABLES, Manifest, StoreEntry, read_manifest
from ._spark import session
from ._statistics import statistics

__all__ = [
    "TABLES",
    "ExportResult",
    "Manifest",
    "StoreEntry",
    "export",
    "generate",
    "graph_answers",
    "read_manifest",
    "session",
    "statistics",
    "store_answers",
    "store_paths",
    "strongest_paths",
]
