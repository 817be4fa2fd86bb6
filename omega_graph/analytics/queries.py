"""The DuckDB SQL of the curated statistics, as named constants.

The statistics read the ``clean_<table>`` views (see :mod:`omega_graph.analytics.statistics`):
plain views of the attached crate tables while the file is well typed, or tolerant views that turn
values of the wrong SQLite type into NULL once such values were found. Each constant is a single
statement, so DuckDB runs it in one transaction and the SQLite extension reads it through one
SQLite read transaction (one snapshot of the file). ``SQLITE_*`` constants are SQLite SQL, run on
the SQLite side through ``sqlite_query`` where SQLite is the faster engine (B-tree counts, point
lookups by primary key).

Examples
--------
>>> "clean_memories" in TIER_SUMMARY
True
"""

from __future__ import annotations

__all__ = [
    "ACTIVITY",
    "ARCHITECTURE_SUMMARY",
    "BELIEF_CHANGES",
    "BELIEF_TABLES",
    "BELIEF_TABLES_PRESENT",
    "DEGREE_TABLE",
    "EDGE_CHURN",
    "EDGE_TYPE_SUMMARY",
    "IMPORTANCE_HISTOGRAM",
    "INTELLIGENCE_SUMMARY",
    "LINEAGE",
    "OVERVIEW",
    "REFLEXION_OUTCOMES",
    "SKILL_LEADERBOARD",
    "SQLITE_LINEAGE",
    "SQLITE_OVERVIEW",
    "TIER_SUMMARY",
]

#: SQLite side: row counts of the seven tables in one statement (B-tree counts, no row decoding).
SQLITE_OVERVIEW = """
SELECT 0 AS ord, 'memories' AS entity, (SELECT count(*) FROM memories) AS n
UNION ALL SELECT 1, 'skills', (SELECT count(*) FROM skills)
UNION ALL SELECT 2, 'architectures', (SELECT count(*) FROM architectures)
UNION ALL SELECT 3, 'intelligences', (SELECT count(*) FROM intelligences)
UNION ALL SELECT 4, 'causal_edges', (SELECT count(*) FROM causal_edges)
UNION ALL SELECT 5, 'vectors', (SELECT count(*) FROM vectors)
UNION ALL SELECT 6, 'reflexion_episodes', (SELECT count(*) FROM reflexion_episodes)
"""

#: Row counts per entity kind; ``$1`` is :data:`SQLITE_OVERVIEW`.
OVERVIEW = """
SELECT entity, CAST(n AS BIGINT) AS count
FROM sqlite_query('omega', $1)
ORDER BY CAST(ord AS INTEGER)
"""

TIER_SUMMARY = """
SELECT tier,
       count(*) AS memories,
       avg(importance) AS mean_importance,
       median(importance) AS median_importance,
       min(importance) AS min_importance,
       max(importance) AS max_importance,
       count(embedding_blob) AS with_embedding
FROM clean_memories
WHERE tier IS NOT NULL
GROUP BY tier
ORDER BY tier
"""

#: ``$1`` = number of bins. Bin k covers [k/bins, (k+1)/bins); the last bin also holds 1.0. The
#: floor() guess is corrected against the exact edges, so a value sits in the bin its edges say.
#: The extra column ``_outside`` counts memories whose importance is not a number in [0, 1].
IMPORTANCE_HISTOGRAM = """
WITH v AS (
    SELECT importance AS x,
           CASE WHEN importance BETWEEN 0 AND 1
                THEN least(CAST(floor(importance * $1) AS BIGINT), $1 - 1) END AS k0
    FROM clean_memories
), vk AS (
    SELECT CASE
             WHEN k0 IS NULL THEN NULL
             WHEN x < CAST(k0 AS DOUBLE) / $1 THEN k0 - 1
             WHEN k0 < $1 - 1 AND x >= CAST(k0 + 1 AS DOUBLE) / $1 THEN k0 + 1
             ELSE k0
           END AS k
    FROM v
), counts AS (
    SELECT k, count(*) AS n FROM vk GROUP BY k
), bins AS (
    SELECT range AS k, CAST(range AS DOUBLE) / $1 AS bin_start, CAST(range + 1 AS DOUBLE) / $1 AS bin_end
    FROM range($1)
)
SELECT bins.bin_start, bins.bin_end, coalesce(counts.n, 0) AS memories,
       coalesce((SELECT n FROM counts WHERE k IS NULL), 0) AS _outside
FROM bins LEFT JOIN counts ON counts.k = bins.k
ORDER BY bins.k
"""

EDGE_TYPE_SUMMARY = """
SELECT edge_type,
       count(*) AS edges,
       avg(weight) AS mean_weight,
       min(weight) AS min_weight,
       max(weight) AS max_weight
FROM clean_causal_edges
WHERE edge_type IS NOT NULL
GROUP BY edge_type
ORDER BY edge_type
"""

#: One scan of the edges (each edge unnested into its out- and in-end) and one of the memory ids,
#: so memories without edges appear with zeros and edge endpoints missing from ``memories`` too.
#: ``$1`` = row limit.
DEGREE_TABLE = """
WITH ends AS (
    SELECT unnest([from_memory, to_memory]) AS memory_id, unnest([1, 0]) AS is_out, weight
    FROM clean_causal_edges
), d AS (
    SELECT memory_id,
           CAST(sum(is_out) AS BIGINT) AS out_degree,
           CAST(count(*) - sum(is_out) AS BIGINT) AS in_degree,
           coalesce(sum(weight) FILTER (WHERE is_out = 1), 0.0) AS out_weight,
           coalesce(sum(weight) FILTER (WHERE is_out = 0), 0.0) AS in_weight
    FROM ends
    WHERE memory_id IS NOT NULL
    GROUP BY memory_id
), m AS (
    SELECT DISTINCT id AS memory_id FROM clean_memories WHERE id IS NOT NULL
)
SELECT coalesce(m.memory_id, d.memory_id) AS memory_id,
       coalesce(d.out_degree, 0) AS out_degree,
       coalesce(d.in_degree, 0) AS in_degree,
       coalesce(d.out_weight, 0.0) AS out_weight,
       coalesce(d.in_weight, 0.0) AS in_weight
FROM m FULL OUTER JOIN d ON d.memory_id = m.memory_id
ORDER BY out_degree + in_degree DESC, memory_id
LIMIT $1
"""

SKILL_LEADERBOARD = """
SELECT CAST(rank() OVER (ORDER BY success_count DESC NULLS LAST) AS BIGINT) AS rank,
       id AS skill_id,
       name,
       success_count,
       success_count / nullif(sum(success_count) OVER (), 0) AS share,
       last_used,
       created_at
FROM clean_skills
ORDER BY success_count DESC NULLS LAST, name, id
"""

ARCHITECTURE_SUMMARY = """
WITH a AS (
    SELECT id, paradigm,
           CASE WHEN json_valid(fitness_json)
                THEN TRY_CAST(json_extract_string(fitness_json, '$.overall') AS DOUBLE) END AS overall
    FROM clean_architectures
), i AS (
    SELECT arch_id, count(*) AS n FROM clean_intelligences WHERE arch_id IS NOT NULL GROUP BY arch_id
)
SELECT a.paradigm,
       count(*) AS architectures,
       avg(a.overall) AS mean_fitness,
       max(a.overall) AS max_fitness,
       CAST(coalesce(sum(i.n), 0) AS BIGINT) AS intelligences
FROM a LEFT JOIN i ON i.arch_id = a.id
GROUP BY a.paradigm
ORDER BY a.paradigm NULLS LAST
"""

INTELLIGENCE_SUMMARY = """
SELECT i.arch_id,
       a.name AS architecture,
       a.paradigm,
       count(*) AS intelligences,
       avg(i.maturity) AS mean_maturity,
       min(i.maturity) AS min_maturity,
       max(i.maturity) AS max_maturity,
       max(i.updated_at) AS last_updated
FROM clean_intelligences AS i
LEFT JOIN clean_architectures AS a ON a.id = i.arch_id
GROUP BY i.arch_id, a.name, a.paradigm
ORDER BY intelligences DESC, i.arch_id NULLS LAST
"""

REFLEXION_OUTCOMES = """
SELECT outcome,
       count(*) AS episodes,
       count(DISTINCT memory_id) AS memories,
       count(*) / sum(count(*)) OVER () AS share,
       min(created_at) AS first_at,
       max(created_at) AS last_at
FROM clean_reflexion_episodes
GROUP BY outcome
ORDER BY episodes DESC, outcome NULLS LAST
"""

#: The bounds of a usable time: Unix seconds within years 1..9999 (``date_trunc`` needs them).
_USABLE = "BETWEEN -62135596800 AND 253402300799"


def _period(column: str) -> str:
    """The period (start, naive UTC timestamp) of the Unix seconds in ``column``: the bucketing
    rule of every per-period statistic; ``{part}`` is a whitelisted date_trunc part."""
    return "date_trunc('{part}', make_timestamp(" + column + " * 1000000))"


#: ``{part}`` is a whitelisted date_trunc part. Timestamps outside years 1..9999 are skipped and
#: counted in ``_outside``.
ACTIVITY = f"""
WITH ev AS (
    SELECT created_at, 1 AS m, 0 AS e, 0 AS r FROM clean_memories
    UNION ALL SELECT created_at, 0, 1, 0 FROM clean_causal_edges
    UNION ALL SELECT created_at, 0, 0, 1 FROM clean_reflexion_episodes
), ok AS (
    SELECT *, created_at {_USABLE} AS valid FROM ev
)
SELECT {_period("created_at")} AS period,
       CAST(sum(m) AS BIGINT) AS memories,
       CAST(sum(e) AS BIGINT) AS edges,
       CAST(sum(r) AS BIGINT) AS reflexions,
       0 AS _outside
FROM ok WHERE valid
GROUP BY period
UNION ALL
SELECT NULL, 0, 0, 0, count(*) FROM ok WHERE valid IS NOT TRUE
ORDER BY period NULLS LAST
"""

#: ``{part}`` as in :data:`ACTIVITY` (the same periods). Edges by ``created_at``; the invalidation and
#: reinstatement events (``omega_edge_events``) of stored edges by their ``at``. Times outside years
#: 1..9999 are skipped and counted in ``_outside``.
EDGE_CHURN = f"""
WITH edges AS (
    SELECT id, created_at FROM clean_causal_edges
), ev AS (
    SELECT created_at AS t, 1 AS c, 0 AS i, 0 AS r FROM edges
    UNION ALL
    SELECT "at", 0, CAST(event = 'invalidated' AS INTEGER), CAST(event = 'reinstated' AS INTEGER)
    FROM omega_edge_events
    WHERE event IN ('invalidated', 'reinstated') AND edge_id IN (SELECT id FROM edges)
), ok AS (
    SELECT *, t {_USABLE} AS valid FROM ev
)
SELECT {_period("t")} AS period,
       CAST(sum(c) AS BIGINT) AS created,
       CAST(sum(i) AS BIGINT) AS invalidated,
       CAST(sum(r) AS BIGINT) AS reinstated,
       0 AS _outside
FROM ok WHERE valid
GROUP BY period
UNION ALL
SELECT NULL, 0, 0, 0, count(*) FROM ok WHERE valid IS NOT TRUE
ORDER BY period NULLS LAST
"""

#: ``$1`` = row limit. Per stored edge with any change: its belief events (validity settings,
#: invalidations, reinstatements) plus its logged weight changes, and the reason of its latest (as
#: written) invalidation or reinstatement. The side tables, like the crate's, are read unqualified.
BELIEF_CHANGES = """
WITH edges AS (
    SELECT DISTINCT id FROM clean_causal_edges WHERE id IS NOT NULL
), ev AS (
    SELECT edge_id, count(*) AS n,
           arg_max_null(reason, seq) FILTER (WHERE event IN ('invalidated', 'reinstated')) AS last_reason
    FROM omega_edge_events
    WHERE event IN ('validity_set', 'invalidated', 'reinstated')
    GROUP BY edge_id
), w AS (
    SELECT edge_id, count(*) AS n FROM omega_edge_weight_log GROUP BY edge_id
)
SELECT edges.id AS edge_id,
       CAST(coalesce(ev.n, 0) + coalesce(w.n, 0) AS BIGINT) AS changes,
       ev.last_reason
FROM edges
LEFT JOIN ev ON ev.edge_id = edges.id
LEFT JOIN w ON w.edge_id = edges.id
WHERE ev.n IS NOT NULL OR w.n IS NOT NULL
ORDER BY changes DESC, edge_id
LIMIT $1
"""

#: The side tables the belief statistics read (schema migration 5).
BELIEF_TABLES = ("omega_edge_events", "omega_edge_weight_log")

#: The belief tables the attached file holds (a file of the original crate that omega-graph never
#: opened has none).
BELIEF_TABLES_PRESENT = """
SELECT table_name FROM duckdb_tables()
WHERE database_name = 'omega' AND table_name IN ('omega_edge_events', 'omega_edge_weight_log')
ORDER BY table_name
"""

#: SQLite side: the chain of parents from ``lineage_json`` (``{"parent": id or null}``; a
#: ``"parents"`` list is followed through its first element), one primary-key lookup per step.
#: The depth bound stops a cyclic chain; the caller cuts it at the first repeated id.
SQLITE_LINEAGE = """
WITH RECURSIVE chain(id, depth) AS (
    SELECT id, 0 FROM architectures WHERE id = ?
    UNION ALL
    SELECT coalesce(json_extract(a.lineage_json, '$.parent'), json_extract(a.lineage_json, '$.parents[0]')),
           c.depth + 1
    FROM chain AS c JOIN architectures AS a ON a.id = c.id
    WHERE json_valid(a.lineage_json)
      AND coalesce(json_extract(a.lineage_json, '$.parent'), json_extract(a.lineage_json, '$.parents[0]'))
          IS NOT NULL
      AND c.depth <= (SELECT count(*) FROM architectures)
)
SELECT c.id AS architecture_id, c.depth AS depth, a.id IS NOT NULL AS in_store, a.name AS name,
       a.paradigm AS paradigm,
       CASE WHEN json_valid(a.lineage_json) THEN json_extract(a.lineage_json, '$.generation') END
           AS generation,
       CASE WHEN json_valid(a.fitness_json) THEN json_extract(a.fitness_json, '$.overall') END AS fitness,
       a.created_at AS created_at
FROM chain AS c LEFT JOIN architectures AS a ON a.id = c.id
ORDER BY c.depth
"""

#: The chain as typed columns; ``$1`` is :data:`SQLITE_LINEAGE`, ``$2`` the architecture id.
LINEAGE = """
SELECT architecture_id,
       CAST(depth AS BIGINT) AS depth,
       in_store = '1' AS in_store,
       name,
       paradigm,
       TRY_CAST(generation AS BIGINT) AS generation,
       TRY_CAST(fitness AS DOUBLE) AS fitness,
       TRY_CAST(created_at AS BIGINT) AS created_at
FROM sqlite_query('omega', $1, params = row($2))
ORDER BY depth
"""
