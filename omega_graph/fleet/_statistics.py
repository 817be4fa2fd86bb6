"""Statistics over a fleet export, on DuckDB (one machine) or Spark SQL (a cluster), from one definition.

:func:`statistics` runs the SQL of :mod:`._dialects` (each statistic written once, rendered for the
engine) over the Parquet files the export's manifest lists: DuckDB reads them with ``read_parquet``
in a private connection and returns pandas DataFrames; Spark reads them with
:func:`~._spark.read_table` and returns Spark DataFrames. Both give the same columns and values.

Examples
--------
>>> import os, tempfile
>>> from omega_graph.fleet._layout import Manifest, write_manifest
>>> out = tempfile.mkdtemp()
>>> write_manifest(out, Manifest())
>>> frames = statistics(None, out)
>>> list(frames)
['overview', 'tier_summary', 'edge_type_summary', 'degree_table', 'activity']
>>> list(frames["tier_summary"].columns)[:3], len(frames["tier_summary"])
(['store', 'tier', 'memories'], 0)
>>> statistics(None, out, per_store=False)["overview"]["count"].tolist()
[0, 0, 0, 0, 0, 0, 0]
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..analytics._curated import _MAX_PERIODS, FREQUENCIES
from ..duck import literal
from ..errors import DatabaseError, DataQualityWarning, NotFoundError, ValidationError, warn
from ._dialects import DUCKDB, SPARK, STATISTICS, Dialect, activity_bounds_sql, empty_table_sql, statistic_sql
from ._layout import TABLES, Manifest, read_manifest, table_files

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "statistics"]

#: The columns of each statistic's frame, per store (``store`` first), with the pandas dtypes of the
#: per-store statistics (``str`` is the string dtype pandas infers: ``str`` in pandas 3, ``object`` before).
COLUMNS: dict[str, dict[str, str]] = {
    "overview": {"store": "str", "entity": "str", "count": "int64"},
    "tier_summary": {"store": "str", "tier": "int64", "memories": "int64", "mean_importance": "float64",
                     "median_importance": "float64", "min_importance": "float64",
                     "max_importance": "float64", "with_embedding": "int64"},
    "edge_type_summary": {"store": "str", "edge_type": "str", "edges": "int64", "mean_weight": "float64",
                          "min_weight": "float64", "max_weight": "float64"},
    "degree_table": {"store": "str", "memory_id": "str", "out_degree": "int64", "in_degree": "int64",
                     "out_weight": "float64", "in_weight": "float64"},
    "activity": {"store": "str", "period": "datetime64[us]", "memories": "int64", "edges": "int64",
                 "reflexions": "int64"},
}  # fmt: skip

_HINT = "export the fleet again (omega-graph fleet export) or give the directory it wrote"


def statistics(
    spark_or_none: Any,
    out: str | os.PathLike[str],
    *,
    freq: str = "day",
    stores: Iterable[str] | None = None,
    per_store: bool = True,
) -> dict[str, Any]:
    """The curated statistics of every store of fleet export ``out``, on DuckDB or on Spark.

    Parameters
    ----------
    spark_or_none : SparkSession or None
        None runs DuckDB on this machine and returns pandas DataFrames; a SparkSession runs Spark
        SQL and returns Spark DataFrames (lazy, except for one small job that checks activity's
        timestamps, below).
    out : str or os.PathLike
        A directory written by :func:`omega_graph.fleet.export` (it has ``manifest.json``).
    freq : str, default "day"
        Activity's period: hour, day, week (from Monday), month, quarter or year, in UTC.
    stores : iterable of str, optional
        Only these store ids (of the manifest); default every store.
    per_store : bool, default True
        True: each statistic per store, as ``OmegaStore(path).analytics().<statistic>()`` gives it
        on the store's file, with a ``store`` column (the store id) first; rows ordered by store,
        then as the per-store statistic. False: over the whole fleet, each statistic computed on
        the union of the stores' rows, without the ``store`` column: ``overview`` sums the counts
        (seven rows, zeros included, also for an empty fleet); ``tier_summary`` and
        ``edge_type_summary`` group all memories (edges) of the fleet by tier (edge type), the
        median over them all; ``activity`` counts the fleet's records per period, every period
        from the fleet's first to its last activity. ``degree_table`` keeps ``store``: a memory
        is a (store, memory id) pair (two agents' ``m1`` are different memories), and the rows
        are ranked over the fleet (degree descending, then store, then memory id).

    Returns
    -------
    dict
        ``{"overview", "tier_summary", "edge_type_summary", "degree_table", "activity"}`` to frames
        with the per-store statistic's columns (see :data:`COLUMNS`) and dtypes: ``overview``:
        store, entity, count (every store of the manifest, every entity in the crate's order,
        zero counts included); ``tier_summary``: store, tier, memories, mean/median/min/max
        importance, with_embedding; ``edge_type_summary``: store, edge_type, edges,
        mean/min/max weight; ``degree_table``: store, memory_id, out/in degree, out/in weight
        (every row, memories without edges and edge endpoints missing from memories included);
        ``activity``: store, period, memories, edges, reflexions (empty periods filled per store
        from its first to its last activity). An empty fleet gives these columns and no rows.

    Values of the wrong SQLite type were exported as NULL and are left out as the per-store
    statistics leave them out. Records whose ``created_at`` is NULL or outside years 1..9999 are
    not in activity, with one :class:`~omega_graph.errors.DataQualityWarning` naming the stores.

    Raises
    ------
    ValidationError
        An unknown ``freq``, a bad ``stores`` or ``per_store``, or an activity of more than
        5,000,000 periods for a store (or the fleet): choose a coarser ``freq``.
    NotFoundError
        ``out`` has no manifest, or a store id of ``stores`` is not in it.
    DatabaseError
        A file the manifest lists cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from omega_graph.fleet._layout import Manifest, write_manifest
    >>> out = tempfile.mkdtemp()
    >>> write_manifest(out, Manifest())
    >>> list(statistics(None, out)["activity"].columns)
    ['store', 'period', 'memories', 'edges', 'reflexions']
    """
    if not isinstance(freq, str) or freq not in FREQUENCIES:
        raise ValidationError("fleet statistics", "freq", freq, f"one of {', '.join(FREQUENCIES)}")
    if not isinstance(per_store, bool):
        raise ValidationError("fleet statistics", "per_store", per_store, "True or False")
    manifest = _select(read_manifest(out, required=True), stores)
    if spark_or_none is None:
        return _on_duckdb(out, manifest, freq, per_store)
    return _on_spark(_check_spark(spark_or_none), out, manifest, freq, per_store)


def _select(manifest: Manifest, stores: Iterable[str] | None) -> Manifest:
    """The manifest restricted to ``stores`` (checked), or as it is."""
    if stores is None:
        return manifest
    if isinstance(stores, str | bytes) or not isinstance(stores, Iterable):
        raise ValidationError("fleet statistics", "stores", stores, "None or an iterable of store ids")
    wanted = list(stores)
    known = manifest.by_id()
    for store_id in wanted:
        if not isinstance(store_id, str):
            raise ValidationError("fleet statistics", "stores", wanted, "store ids (str)")
        if store_id not in known:
            raise NotFoundError("store", store_id, "give store ids of the export's manifest (read_manifest)")
    keep = set(wanted)
    return replace(manifest, stores=tuple(s for s in manifest.stores if s.store_id in keep))


def _check_spark(spark: Any) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:  # pragma: no cover - a session implies pyspark
        raise ValidationError(
            "fleet statistics", "spark_or_none", spark, "None (DuckDB) or a SparkSession"
        ) from err
    if not isinstance(spark, SparkSession):
        raise ValidationError("fleet statistics", "spark_or_none", spark, "None (DuckDB) or a SparkSession")
    return spark


def columns(name: str, per_store: bool) -> dict[str, str]:
    """The columns and dtypes of statistic ``name`` (over the fleet: without ``store``, except the
    degree table's)."""
    cols = dict(COLUMNS[name])
    if not per_store and name != "degree_table":
        del cols["store"]
    return cols


# ----- the common driver -----------------------------------------------------------------------------
def _run(
    d: Dialect,
    query: Callable[[str, str], Any],
    rows: Callable[[str], list[Sequence[Any]]],
    freq: str,
    per_store: bool,
) -> dict[str, Any]:
    """Every statistic through ``query(name, sql)``; activity's bounds first through ``rows(sql)``."""
    frames = {name: query(name, statistic_sql(name, d, per_store=per_store)) for name in STATISTICS[:-1]}
    _check_activity(rows(activity_bounds_sql(d, freq)), freq, per_store)
    frames["activity"] = query("activity", statistic_sql("activity", d, per_store=per_store, freq=freq))
    return frames


def _check_activity(bounds: list[Sequence[Any]], freq: str, per_store: bool) -> None:
    """Warn of the records without a usable ``created_at``; refuse a grid of too many periods.

    ``bounds``: (store, first period, last period, records outside) per store with any record.
    """
    bad = [(str(s), int(n)) for s, _, _, n in bounds if n]
    if bad:
        shown = ", ".join(s for s, _ in bad[:3]) + (", ..." if len(bad) > 3 else "")
        warn(DataQualityWarning(
            f"{sum(n for _, n in bad)} records of {len(bad)} store(s) ({shown}) have no usable "
            "created_at (wrong type, or outside years 1..9999) and are not counted"
        ))  # fmt: skip
    spans = [(str(s), a, b) for s, a, b, _ in bounds if a is not None]
    if not per_store and spans:
        spans = [("the fleet", min(a for _, a, _ in spans), max(b for _, _, b in spans))]
    for who, first, last in spans:
        n = _periods(first, last, freq)
        if n > _MAX_PERIODS:
            where = who if who == "the fleet" else f"store {who!r}"
            raise ValidationError(
                "fleet statistics", "freq", freq,
                f"a coarser period: {where} has {n} periods from {first} to {last}",
            )  # fmt: skip


def _periods(first: dt.datetime, last: dt.datetime, freq: str) -> int:
    """How many periods of ``freq`` from period start ``first`` to period start ``last``."""
    months = (last.year - first.year) * 12 + last.month - first.month
    if freq in ("month", "quarter", "year"):
        return months // {"month": 1, "quarter": 3, "year": 12}[freq] + 1
    step = {"hour": 3600, "day": 86_400, "week": 7 * 86_400}[freq]
    return int((last - first).total_seconds()) // step + 1


# ----- DuckDB ------------------------------------------------------------------------------------------
def _on_duckdb(out: str | os.PathLike[str], manifest: Manifest, freq: str, per_store: bool) -> dict[str, Any]:
    """The statistics as pandas DataFrames, DuckDB reading the manifest's Parquet files."""
    import duckdb
    import pandas as pd

    string = pd.Series(["a"]).dtype  # the string dtype the per-store frames have

    def query(name: str, sql: str) -> pd.DataFrame:
        df = con.execute(sql).df()
        dtypes = {c: (string if t == "str" else t) for c, t in columns(name, per_store).items()}
        return df.astype(dtypes)

    def rows(sql: str) -> list[Sequence[Any]]:
        return list(con.execute(sql).fetchall())

    con = duckdb.connect()
    try:
        for table in TABLES:
            files = table_files(out, table, manifest)
            if files:
                listed = ", ".join(literal(f) for f in files)
                source = (f"SELECT * FROM read_parquet([{listed}], hive_partitioning = true, "
                          "hive_types = {'store': 'VARCHAR'})")  # fmt: skip
            else:
                source = empty_table_sql(DUCKDB, table)
            con.execute(f"CREATE VIEW {table} AS {source}")
        ids = [s.store_id for s in manifest.stores]
        con.execute("CREATE TABLE fleet_stores AS SELECT unnest(CAST($1 AS VARCHAR[])) AS store", [ids])
        return _run(DUCKDB, query, rows, freq, per_store)
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DatabaseError(f"cannot read the fleet export {os.fspath(out)!r} ({first}); {_HINT}") from err
    finally:
        con.close()


# ----- Spark -------------------------------------------------------------------------------------------
_NO_INFERENCE = "spark.sql.sources.partitionColumnTypeInference.enabled"


def _on_spark(
    spark: Any, out: str | os.PathLike[str], manifest: Manifest, freq: str, per_store: bool
) -> dict[str, Any]:
    """The statistics as Spark DataFrames over temporary views of the manifest's files.

    The views get a fresh prefix and are dropped before returning: ``spark.sql`` resolves them
    when it analyses a statement, so the DataFrames do not need them afterwards.
    """
    from pyspark.errors import PySparkException

    from ._spark import read_table

    d = replace(SPARK, prefix=f"omega_fleet_{uuid.uuid4().hex[:12]}_")
    views: list[str] = []

    def view(name: str, df: Any) -> None:
        df.createOrReplaceTempView(d.table(name))
        views.append(d.table(name))

    inference = spark.conf.get(_NO_INFERENCE, None)
    spark.conf.set(_NO_INFERENCE, "false")  # store ids are text, even all-digit ones
    try:
        for table in TABLES:
            if not manifest.stores:
                view(table, spark.sql(empty_table_sql(SPARK, table)))
                continue
            try:
                view(table, read_table(spark, out, table, manifest))
            except PySparkException as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise DatabaseError(
                    f"cannot read the fleet export {os.fspath(out)!r} ({first}); {_HINT}"
                ) from err
        ids = [(s.store_id,) for s in manifest.stores]
        view("fleet_stores", spark.createDataFrame(ids, "store string"))
        return _run(
            d, lambda _name, sql: spark.sql(sql), lambda sql: spark.sql(sql).collect(), freq, per_store
        )
    finally:
        if inference is None:
            spark.conf.unset(_NO_INFERENCE)
        else:
            spark.conf.set(_NO_INFERENCE, inference)
        for name in views:
            spark.catalog.dropTempView(name)
