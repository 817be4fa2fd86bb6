"""Per-store graph answers on Spark: ``applyInPandas`` over stores, omega-graph's engine on each.

:func:`graph_answers` and :func:`strongest_paths` read a fleet export's ``memories`` and
``causal_edges`` (the files its manifest lists, :func:`~._spark.read_table`), group both by
``store`` and cogroup them, so that each call gets one store's rows as two pandas frames and runs
the plain per-store functions of :mod:`._answers` on them. The rows travel to the Python workers as
Arrow batches: nothing in a task reads a local path, and a worker needs only omega-graph installed,
so the same job runs on a cluster (``spark-submit`` or ``omega-graph fleet graph --master ...``).
Every store of the manifest is answered, also one without memories or edges (the left side carries
one marker row per store, from the manifest).

The answers equal the engine's on each store file, ``OmegaStore(path).causal_graph(
include_invalidated=True)``: the export holds the crate's tables, not the belief side tables, so the
exported graph holds the edges the store invalidated (see :mod:`._answers`).

Where the time goes beyond a plain loop's work (omega-graph's answers, the same here): the JVM's
Parquet scan, the one shuffle and the rows' conversion to Arrow, then a fixed cost per Python task
(see :data:`STORES_PER_TASK`) and Arrow to pandas.

Examples
--------
A run on a cluster: omega-graph installed on every node (``pip install 'omega-graph[spark]'``),
the export directory at the same path on each (a shared mount: the manifest and the file paths are
read there)::

    from omega_graph.fleet import graph_answers, session

    spark = session("spark://head:7077")
    answers = graph_answers(spark, "/mnt/fleets/run-7", top_k=5)
    answers.write.parquet("/mnt/fleets/run-7-answers")          # or .toPandas() when it is small
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..graph._frames import EDGE_COLUMNS
from ._answers import KIND_MARKER, KIND_MEMORY, KIND_PAIR, answer_group, check_top_k, path_group
from ._layout import Manifest, read_manifest
from ._spark import read_table, require_pyspark

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["ANSWER_SCHEMA", "PATH_SCHEMA", "graph_answers", "strongest_paths"]

ANSWER_SCHEMA = (
    "store string, is_dag boolean, cycle array<string>, scc_count long, top_influence array<string>, "
    "reason string"
)
PATH_SCHEMA = "store string, src string, dst string, nodes array<string>, strength double, reason string"
#: The cogroup's tasks: at least one per core, about this many stores each, at most
#: :data:`TASKS_PER_CORE` per core. A Python task has a fixed cost (measured ~0.1-0.15 CPU s in
#: local mode here, about a small store's answers): fewer tasks than stores; several per core
#: balance stores of different sizes.
STORES_PER_TASK = 25
TASKS_PER_CORE = 8
_EDGE_TYPES = {
    "id": "string",
    "from_memory": "string",
    "to_memory": "string",
    "weight": "double",
    "edge_type": "string",
    "created_at": "long",
}


def _sides(
    spark: SparkSession, out: str | os.PathLike[str], manifest: Manifest, keep: Column | None
) -> tuple[DataFrame, DataFrame]:
    """(memories with a marker row per store, edges), with the columns the tasks use, rows ``keep``s."""
    from pyspark.sql import functions as F

    memories = read_table(spark, out, "memories", manifest).select(
        "store",
        F.lit(KIND_MEMORY).cast("int").alias("kind"),
        F.col("id").cast("string"),
        F.col("tier").cast("long"),
        F.col("importance").cast("double"),
        F.lit(None).cast("string").alias("dst"),
    )
    markers = spark.createDataFrame(
        [(s.store_id, KIND_MARKER) for s in manifest.stores], "store string, kind int"
    )
    left = memories.unionByName(markers, allowMissingColumns=True)
    edges = read_table(spark, out, "causal_edges", manifest).select(
        "store", *(F.col(c).cast(_EDGE_TYPES[c]).alias(c) for c in EDGE_COLUMNS)
    )
    if keep is not None:
        left, edges = left.where(keep), edges.where(keep)
    return left, edges


def _cogroup(
    spark: SparkSession, left: DataFrame, edges: DataFrame, stores: int, task: Any, schema: str
) -> DataFrame:
    """``task`` on each store's (left, edges) frames, both sides hash-partitioned by store alike.

    The explicit partitioning (see :func:`task_count`) is the one shuffle of the job, and the
    cogroup reuses it: left to itself, adaptive execution would coalesce the small shuffle (a
    fleet's rows are few bytes for much work) into one or two tasks and leave cores idle.
    """
    try:
        cores = int(spark.sparkContext.defaultParallelism)
    except Exception:  # e.g. Spark Connect, which has no SparkContext: leave it to Spark
        cores = 0
    if cores > 0:
        parts = task_count(stores, cores)
        left, edges = left.repartition(parts, "store"), edges.repartition(parts, "store")
    return left.groupBy("store").cogroup(edges.groupBy("store")).applyInPandas(task, schema)


def task_count(stores: int, cores: int) -> int:
    """How many tasks answer ``stores`` stores on ``cores`` cores (see :data:`STORES_PER_TASK`).

    >>> task_count(8, 2), task_count(100, 2), task_count(1000, 2), task_count(1000, 200)
    (2, 4, 16, 200)
    """
    wanted = max(cores, stores // STORES_PER_TASK)
    return max(1, min(wanted, TASKS_PER_CORE * cores, stores))


def graph_answers(spark: SparkSession, out: str | os.PathLike[str], top_k: int = 10) -> DataFrame:
    """Each store's graph answers, computed on Spark: one row per store of the export ``out``.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        E.g. :func:`omega_graph.fleet.session` (``master`` local or a cluster's).
    out : str or os.PathLike
        A directory written by ``omega-graph fleet export`` (its manifest says which files to read).
    top_k : int, default 10
        How many memory ids ``top_influence`` lists per store.

    Returns
    -------
    pyspark.sql.DataFrame
        ``store`` (string, the store id), ``is_dag`` (boolean), ``cycle`` (array<string>: one cycle's
        memory ids, the engine's ``find_cycles(limit=1)[0]``; null on a DAG), ``scc_count`` (long:
        strongly connected components, singletons included), ``top_influence`` (array<string>: the
        ``top_k`` memory ids of greatest converged influence, ties by id; null when the engine refuses,
        e.g. a weight stored as text), ``reason`` (string: why an answer is null; null when none is).
        Lazy, as any DataFrame: the job runs when it is collected or written. Per store, equal to
        :func:`~._answers.store_answers` on its frames and to the engine on its file.

    Raises
    ------
    ValidationError
        ``top_k`` not an integer >= 1.
    NotFoundError
        ``out`` holds no manifest, or no store.
    MissingDependencyError
        PySpark or Java is not installed (the message says how to install them).
    """
    top_k = check_top_k(top_k)
    require_pyspark()
    manifest = read_manifest(out, required=True)
    left, edges = _sides(spark, out, manifest, None)
    task = functools.partial(answer_group, top_k)
    return _cogroup(spark, left, edges, len(manifest.stores), task, ANSWER_SCHEMA)


def _pairs(spark: SparkSession, pairs: Any) -> tuple[DataFrame, list[str] | None]:
    """``pairs`` as a Spark DataFrame ``store, id (= src), dst, kind``, and the store ids asked about
    (None for a Spark DataFrame: known only when the job runs)."""
    import pandas as pd
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    if isinstance(pairs, DataFrame):
        store = _store_column(list(pairs.columns))
        types = dict(pairs.dtypes)
        for c in (store, "src", "dst"):
            if types[c] != "string":
                raise ValidationError(
                    "strongest paths", f"pairs.{c}", types[c], "a string column (store id, memory ids)"
                )
        frame = pairs.select(
            F.col(store).alias("store"),
            F.col("src").alias("id"),
            "dst",
            F.lit(KIND_PAIR).cast("int").alias("kind"),
        )
        return frame, None
    if isinstance(pairs, pd.DataFrame):
        store = _store_column(list(pairs.columns))
        rows = list(zip(pairs[store].tolist(), pairs["src"].tolist(), pairs["dst"].tolist(), strict=True))
    elif isinstance(pairs, str | bytes) or not isinstance(pairs, Iterable):
        raise ValidationError("strongest paths", "pairs", pairs, "(store_id, src, dst) rows")
    else:
        rows = [_triple(p) for p in pairs]
    for row in rows:
        bad = [v for v in row if not isinstance(v, str)]
        if bad:
            raise ValidationError(
                "strongest paths", "pair", row, f"(store_id, src, dst) ids as str; {bad[0]!r} is not one"
            )
    frame = spark.createDataFrame(
        [(s, a, b, KIND_PAIR) for s, a, b in rows], "store string, id string, dst string, kind int"
    )
    return frame, sorted({r[0] for r in rows})


def _store_column(columns: list[str]) -> str:
    store = "store_id" if "store_id" in columns else "store"
    missing = [c for c in (store, "src", "dst") if c not in columns]
    if missing:
        raise ValidationError(
            "strongest paths", "pairs", columns, "a frame with the columns store_id (or store), src and dst"
        )
    return store


def _triple(pair: object) -> tuple[Any, Any, Any]:
    if isinstance(pair, str | bytes) or not isinstance(pair, tuple | list) or len(pair) != 3:
        raise ValidationError("strongest paths", "pair", pair, "a (store_id, src, dst) row")
    return pair[0], pair[1], pair[2]


def strongest_paths(spark: SparkSession, out: str | os.PathLike[str], pairs: Any) -> DataFrame:
    """The strongest path of each ``(store_id, src, dst)`` pair, computed on Spark: one row per pair.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    out : str or os.PathLike
        A directory written by ``omega-graph fleet export``.
    pairs : list of (store_id, src, dst), pandas.DataFrame or pyspark.sql.DataFrame
        The questions; a frame has the columns ``store_id`` (or ``store``), ``src`` and ``dst``
        (strings). Only the stores named are read (a list or pandas frame: only their files; a
        Spark DataFrame: a semi-join on the store ids). Every pair gets its row, duplicates included.

    Returns
    -------
    pyspark.sql.DataFrame
        ``store``, ``src``, ``dst``; ``nodes`` (array<string>: the path of greatest strength, the
        product of its weights; null when there is none); ``strength`` (double: the path's, 1.0
        from a memory to itself; 0.0 when no path of positive strength exists; null when the
        question cannot be asked); ``reason`` (string, null when ``nodes`` is given), one of: no
        causal path (the engine's message), a ``src`` / ``dst`` that is not a memory of that store,
        a ``store_id`` the export does not hold, a weight the engine refuses (its message). A bad id
        never fails the job: its row says so. Equal, per store, to :func:`~._answers.store_paths`
        and to ``strongest_path`` on the store file.

    Raises
    ------
    ValidationError
        ``pairs`` not rows of three str ids (a list or pandas frame is checked before the job), or a
        frame without the columns, or a Spark DataFrame whose columns are not strings.
    NotFoundError
        ``out`` holds no manifest, or no store.
    """
    from pyspark.sql import functions as F

    require_pyspark()
    manifest = read_manifest(out, required=True)
    asked, stores = _pairs(spark, pairs)
    if stores is None:
        wanted = asked.select("store").distinct()
        left, edges = _sides(spark, out, manifest, None)
        left = left.join(F.broadcast(wanted), "store", "left_semi")
        edges = edges.join(F.broadcast(wanted), "store", "left_semi")
    else:
        left, edges = _sides(spark, out, manifest, F.col("store").isin(stores))
    left = left.unionByName(asked, allowMissingColumns=True)
    count = len(manifest.stores) if stores is None else len(stores)
    return _cogroup(spark, left, edges, count, path_group, PATH_SCHEMA)
