"""Fleets of stores: Parquet export, statistics on DuckDB or Spark, per-store graph answers on Spark.

- :mod:`._layout`: the export directory and its manifest (the contract between writer and readers);
- :mod:`._spark`: the optional Spark session and the export's tables as Spark DataFrames.
"""

from __future__ import annotations

from ._layout import TABLES, Manifest, StoreEntry, read_manifest
from ._spark import session

__all__ = ["TABLES", "Manifest", "StoreEntry", "read_manifest", "session"]
