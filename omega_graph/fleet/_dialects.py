"""The fleet statistics' SQL, written once, and the dialect table that renders it for DuckDB or Spark.

Each statistic is one template (a ``*_sql`` builder below) over the export's tables, which both
engines present as views with the Hive partition column ``store``. The few pieces the two SQL
dialects spell differently come from a :class:`Dialect`: the interpolated median, Unix seconds to a
naive UTC timestamp, the period truncation, and the series of periods that fills activity's empty
periods. Everything else (grouping, NULL handling, ordering) is the same text on both engines, so
the two cannot drift apart.

The templates follow the per-store statistics of :mod:`omega_graph.analytics.queries` clause by
clause; ``per_store`` adds ``store`` to the keys (first in the output and in the ordering), and
without it the statistic is computed on the union of the fleet's rows (see :func:`statistic_sql`).

Examples
--------
>>> "median(importance) AS median_importance" in tier_summary_sql(DUCKDB, per_store=True)
True
>>> "percentile(importance, 0.5)" in tier_summary_sql(SPARK, per_store=True)
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..analytics.statistics import FREQUENCIES

__all__ = [
    "COLUMNS",
    "DUCKDB",
    "SPARK",
    "STATISTICS",
    "STEPS",
    "Dialect",
    "activity_bounds_sql",
    "activity_sql",
    "degree_table_sql",
    "edge_type_summary_sql",
    "empty_table_sql",
    "overview_sql",
    "statistic_sql",
    "tier_summary_sql",
]

#: The statistics, in the order :func:`omega_graph.fleet.statistics` returns them.
STATISTICS: tuple[str, ...] = ("overview", "tier_summary", "edge_type_summary", "degree_table", "activity")

#: ``freq`` -> the interval between two periods (the same literal in both dialects).
STEPS: dict[str, str] = {
    "hour": "INTERVAL 1 HOUR",
    "day": "INTERVAL 1 DAY",
    "week": "INTERVAL 7 DAY",
    "month": "INTERVAL 1 MONTH",
    "quarter": "INTERVAL 3 MONTH",
    "year": "INTERVAL 1 YEAR",
}
assert set(STEPS) == set(FREQUENCIES)

#: The columns the statistics read, per table, with their generic types: an empty fleet's views
#: (no Parquet file to read) have exactly these, so the statistics still return typed, empty frames.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "memories": (("id", "VARCHAR"), ("tier", "BIGINT"), ("importance", "DOUBLE"),
                 ("embedding_blob", "BLOB"), ("created_at", "BIGINT")),
    "skills": (("id", "VARCHAR"),),
    "architectures": (("id", "VARCHAR"),),
    "intelligences": (("id", "VARCHAR"),),
    "causal_edges": (("id", "VARCHAR"), ("from_memory", "VARCHAR"), ("to_memory", "VARCHAR"),
                     ("weight", "DOUBLE"), ("edge_type", "VARCHAR"), ("created_at", "BIGINT")),
    "vectors": (("id", "VARCHAR"),),
    "reflexion_episodes": (("id", "VARCHAR"), ("created_at", "BIGINT")),
}  # fmt: skip

#: The bounds of a usable time: Unix seconds within years 1..9999 (as the per-store statistics).
USABLE = "BETWEEN -62135596800 AND 253402300799"


@dataclass(frozen=True)
class Dialect:
    """How one engine spells the pieces the two dialects do not share.

    Each piece is a format string: ``median_of`` of ``{x}`` (interpolated, as pandas' median);
    ``period_of[part]`` of Unix seconds ``{x}`` (the start of the UTC period holding them as a naive
    timestamp, for each date_trunc ``part`` hour ... year; weeks start on Monday); ``series_of``
    the periods from ``{lo}`` to ``{hi}`` by ``{step}`` (a select-list generator, one row each).
    ``types`` maps the generic column types to the engine's. ``prefix`` goes before the table
    names (Spark's temporary views live in a shared session).
    """

    name: str
    median_of: str
    period_of: Mapping[str, str]
    series_of: str
    types: Mapping[str, str]
    prefix: str = field(default="")

    def median(self, x: str) -> str:
        return self.median_of.format(x=x)

    def period(self, seconds: str, part: str) -> str:
        """The start of the period ``part`` (hour ... year) that holds Unix seconds ``seconds``."""
        return self.period_of[part].format(x=seconds)

    def series(self, lo: str, hi: str, step: str) -> str:
        return self.series_of.format(lo=lo, hi=hi, step=step)

    def table(self, name: str) -> str:
        return self.prefix + name


_PARTS = tuple(part for part, _ in FREQUENCIES.values())

DUCKDB = Dialect(
    name="duckdb",
    median_of="median({x})",
    period_of={part: f"date_trunc('{part}', make_timestamp({{x}} * 1000000))" for part in _PARTS},
    series_of="unnest(generate_series({lo}, {hi}, {step}))",
    types={"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BLOB": "BLOB"},
)

# Spark: TIMESTAMP_NTZ and DATE arithmetic only, so the periods do not depend on the session's time
# zone (Spark's date_trunc returns a zoned TIMESTAMP, truncated in the session's zone, and a
# DataFrame is evaluated later, under whatever zone is set then).
_EPOCH = "TIMESTAMP_NTZ '1970-01-01 00:00:00'"
_SPARK_DATE = f"CAST(timestampadd(SECOND, {{x}}, {_EPOCH}) AS DATE)"
SPARK = Dialect(
    name="spark",
    median_of="percentile({x}, 0.5)",
    period_of={
        "hour": f"timestampadd(SECOND, {{x}} - pmod({{x}}, 3600), {_EPOCH})",
        "day": f"CAST({_SPARK_DATE} AS TIMESTAMP_NTZ)",
        **{
            p: f"CAST(trunc({_SPARK_DATE}, '{p}') AS TIMESTAMP_NTZ)"
            for p in ("week", "month", "quarter", "year")
        },
    },
    series_of="explode(sequence({lo}, {hi}, {step}))",
    types={"VARCHAR": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BLOB": "BINARY"},
)
assert set(SPARK.period_of) == set(_PARTS)


def empty_table_sql(d: Dialect, table: str) -> str:
    """A query of no rows with ``store`` and the :data:`COLUMNS` of ``table`` (an empty fleet's view)."""
    cols = [("store", "VARCHAR"), *COLUMNS[table]]
    return "SELECT " + ", ".join(f"CAST(NULL AS {d.types[t]}) AS {c}" for c, t in cols) + " WHERE 1 = 0"


def _key(per_store: bool) -> str:
    return "store, " if per_store else ""


_ENTITIES = ("memories", "skills", "architectures", "intelligences", "causal_edges", "vectors",
             "reflexion_episodes")  # fmt: skip


def overview_sql(d: Dialect, per_store: bool) -> str:
    """Rows per entity kind: per store, every store of ``fleet_stores`` with every entity (zero
    counts included); over the fleet, the sums (seven rows, also for an empty fleet)."""
    counts = "\n    UNION ALL ".join(
        f"SELECT store, {i} AS ord, count(*) AS n FROM {d.table(t)} GROUP BY store"
        for i, t in enumerate(_ENTITIES)
    )
    entities = " UNION ALL ".join(f"SELECT {i} AS ord, '{t}' AS entity" for i, t in enumerate(_ENTITIES))
    if per_store:
        return f"""
WITH n AS (
    {counts}
), e AS ({entities})
SELECT s.store, e.entity, CAST(coalesce(n.n, 0) AS BIGINT) AS count
FROM {d.table("fleet_stores")} AS s CROSS JOIN e
LEFT JOIN n ON n.store = s.store AND n.ord = e.ord
ORDER BY s.store, e.ord
"""
    return f"""
WITH n AS (
    {counts}
), e AS ({entities})
SELECT e.entity, CAST(coalesce(sum(n.n), 0) AS BIGINT) AS count
FROM e LEFT JOIN n ON n.ord = e.ord
GROUP BY e.ord, e.entity
ORDER BY e.ord
"""


def tier_summary_sql(d: Dialect, per_store: bool) -> str:
    """Memories per tier (NULL tiers left out; NULL importance left out of the importance columns)."""
    k = _key(per_store)
    return f"""
SELECT {k}tier,
       count(*) AS memories,
       avg(importance) AS mean_importance,
       {d.median("importance")} AS median_importance,
       min(importance) AS min_importance,
       max(importance) AS max_importance,
       count(embedding_blob) AS with_embedding
FROM {d.table("memories")}
WHERE tier IS NOT NULL
GROUP BY {k}tier
ORDER BY {k}tier
"""


def edge_type_summary_sql(d: Dialect, per_store: bool) -> str:
    """Causal edges per edge type (NULL types left out)."""
    k = _key(per_store)
    return f"""
SELECT {k}edge_type,
       count(*) AS edges,
       avg(weight) AS mean_weight,
       min(weight) AS min_weight,
       max(weight) AS max_weight
FROM {d.table("causal_edges")}
WHERE edge_type IS NOT NULL
GROUP BY {k}edge_type
ORDER BY {k}edge_type
"""


def degree_table_sql(d: Dialect, per_store: bool) -> str:
    """Degree and summed weight of every memory and every edge endpoint; a memory is a
    (store, memory id) pair in both forms, ``per_store`` only changes the order (stores first)."""
    order = "store, out_degree + in_degree DESC, memory_id" if per_store else (
        "out_degree + in_degree DESC, store, memory_id"
    )  # fmt: skip
    edges, zero = d.table("causal_edges"), "CAST(0 AS DOUBLE)"
    return f"""
WITH ends AS (
    SELECT store, from_memory AS memory_id, 1 AS is_out, weight FROM {edges}
    UNION ALL SELECT store, to_memory, 0, weight FROM {edges}
), d AS (
    SELECT store, memory_id,
           CAST(sum(is_out) AS BIGINT) AS out_degree,
           CAST(count(*) - sum(is_out) AS BIGINT) AS in_degree,
           coalesce(sum(weight) FILTER (WHERE is_out = 1), {zero}) AS out_weight,
           coalesce(sum(weight) FILTER (WHERE is_out = 0), {zero}) AS in_weight
    FROM ends
    WHERE memory_id IS NOT NULL
    GROUP BY store, memory_id
), m AS (
    SELECT DISTINCT store, id AS memory_id FROM {d.table("memories")} WHERE id IS NOT NULL
)
SELECT store, memory_id,
       coalesce(out_degree, 0) AS out_degree,
       coalesce(in_degree, 0) AS in_degree,
       coalesce(out_weight, {zero}) AS out_weight,
       coalesce(in_weight, {zero}) AS in_weight
FROM m FULL OUTER JOIN d USING (store, memory_id)
ORDER BY {order}
"""


def _events(d: Dialect, per_store: bool, part: str) -> str:
    """The ``ev`` and ``ok`` CTEs of activity: every record's creation, its period when usable."""
    k = _key(per_store)
    return f"""ev AS (
    SELECT {k}created_at, 1 AS m, 0 AS e, 0 AS r FROM {d.table("memories")}
    UNION ALL SELECT {k}created_at, 0, 1, 0 FROM {d.table("causal_edges")}
    UNION ALL SELECT {k}created_at, 0, 0, 1 FROM {d.table("reflexion_episodes")}
), ok AS (
    SELECT {k}m, e, r,
           CASE WHEN created_at {USABLE} THEN {d.period("created_at", part)} END AS period
    FROM ev
)"""


def activity_bounds_sql(d: Dialect, freq: str) -> str:
    """Per store with any record: its first and last period and how many of its records have no
    usable ``created_at`` (``outside``). The fleet's bounds are the extremes of the stores'."""
    return f"""
WITH {_events(d, True, FREQUENCIES[freq][0])}
SELECT store, min(period) AS first_period, max(period) AS last_period,
       CAST(count(*) - count(period) AS BIGINT) AS outside
FROM ok
GROUP BY store
ORDER BY store
"""


def activity_sql(d: Dialect, per_store: bool, freq: str) -> str:
    """Records created per period, every period from the first to the last activity (per store, or
    over the fleet), empty ones with zeros; records without a usable time are left out."""
    k = _key(per_store)
    group = "GROUP BY store" if per_store else ""
    return f"""
WITH {_events(d, per_store, FREQUENCIES[freq][0])}, counted AS (
    SELECT {k}period,
           CAST(sum(m) AS BIGINT) AS memories,
           CAST(sum(e) AS BIGINT) AS edges,
           CAST(sum(r) AS BIGINT) AS reflexions
    FROM ok
    WHERE period IS NOT NULL
    GROUP BY {k}period
), bounds AS (
    SELECT {k}min(period) AS lo, max(period) AS hi FROM counted {group}
), grid AS (
    SELECT {k}{d.series("lo", "hi", STEPS[freq])} AS period FROM bounds WHERE lo IS NOT NULL
)
SELECT {k}period,
       coalesce(memories, 0) AS memories,
       coalesce(edges, 0) AS edges,
       coalesce(reflexions, 0) AS reflexions
FROM grid LEFT JOIN counted USING ({k}period)
ORDER BY {k}period
"""


_BUILDERS: dict[str, Callable[[Dialect, bool], str]] = {
    "overview": overview_sql,
    "tier_summary": tier_summary_sql,
    "edge_type_summary": edge_type_summary_sql,
    "degree_table": degree_table_sql,
}


def statistic_sql(name: str, d: Dialect, *, per_store: bool = True, freq: str = "day") -> str:
    """The SQL of statistic ``name`` (one of :data:`STATISTICS`) in dialect ``d``.

    The views it reads: the seven tables (with ``store``) and, for the per-store overview,
    ``fleet_stores`` (one row per store of the fleet), each named ``d.prefix + name``.

    Examples
    --------
    >>> "GROUP BY store, edge_type" in statistic_sql("edge_type_summary", SPARK)
    True
    >>> "store" in statistic_sql("edge_type_summary", SPARK, per_store=False)
    False
    """
    if name == "activity":
        return activity_sql(d, per_store, freq)
    return _BUILDERS[name](d, per_store)
