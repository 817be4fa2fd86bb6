"""The report's own SQL, as named constants (the curated statistics come from the analytics layer).

``DUCK_*`` run through ``Analytics.sql`` over the ``clean_<table>`` views (values of the wrong
SQLite type read as NULL there); point lookups are the store's own bulk reads (``memory_attributes``, ...).
Every list has a deterministic order and a row limit, so the report stays bounded on any store.

Examples
--------
>>> "LIMIT" in DUCK_TOP_MEMORIES
True
"""

from __future__ import annotations

__all__ = [
    "DUCK_ARCHITECTURE_IDS",
    "DUCK_BELIEF_FACTS",
    "DUCK_EDGE_FACTS",
    "DUCK_JOINT_DEGREES",
    "DUCK_RECENT_REFLEXIONS",
    "DUCK_REFLECTED_MEMORIES",
    "DUCK_REVISED_EDGES",
    "DUCK_TIME_SPAN",
    "DUCK_TOP_INTELLIGENCES",
    "DUCK_TOP_MEMORIES",
]

#: ``$1`` = rows. The most important memories, content cut to 100 characters.
DUCK_TOP_MEMORIES = """
SELECT id AS memory_id, tier, importance, created_at, left(content, 100) AS content
FROM clean_memories
ORDER BY importance DESC NULLS LAST, id
LIMIT $1
"""

#: Memories per (in-degree, out-degree) pair, memories without edges included: one scan of the edges
#: gives the degree distributions, roots, sinks and isolated memories.
DUCK_JOINT_DEGREES = """
WITH o AS (SELECT from_memory AS id, count(*) AS n FROM clean_causal_edges GROUP BY from_memory),
     i AS (SELECT to_memory AS id, count(*) AS n FROM clean_causal_edges GROUP BY to_memory),
     ids AS (SELECT id FROM clean_memories UNION SELECT id FROM o UNION SELECT id FROM i)
SELECT CAST(coalesce(i.n, 0) AS BIGINT) AS in_degree, CAST(coalesce(o.n, 0) AS BIGINT) AS out_degree,
       count(*) AS memories
FROM ids LEFT JOIN o ON o.id = ids.id LEFT JOIN i ON i.id = ids.id
GROUP BY ALL
ORDER BY in_degree, out_degree
"""

#: One row: edge counts that matter for path questions.
DUCK_EDGE_FACTS = """
SELECT count(*) AS edges,
       count(*) FILTER (WHERE from_memory = to_memory) AS self_loops,
       count(*) FILTER (WHERE weight = 0) AS zero_weight,
       count(*) - (SELECT count(*) FROM (SELECT DISTINCT from_memory, to_memory FROM clean_causal_edges))
           AS parallel,
       avg(weight) AS mean_weight
FROM clean_causal_edges
"""

#: One row: first and last ``created_at`` over memories, edges and reflexion episodes.
DUCK_TIME_SPAN = """
WITH t AS (
    SELECT created_at FROM clean_memories
    UNION ALL SELECT created_at FROM clean_causal_edges
    UNION ALL SELECT created_at FROM clean_reflexion_episodes
)
SELECT min(created_at) AS first, max(created_at) AS last
FROM t WHERE created_at BETWEEN -62135596800 AND 253402300799
"""

#: ``$1`` = rows. Architectures newest first: whose lineage the report follows.
DUCK_ARCHITECTURE_IDS = """
SELECT id FROM clean_architectures WHERE id IS NOT NULL ORDER BY created_at DESC NULLS LAST, id LIMIT $1
"""

#: ``$1`` = rows. The most mature intelligences.
DUCK_TOP_INTELLIGENCES = """
SELECT i.id AS intelligence_id, i.name, i.arch_id, a.paradigm, i.maturity,
       CASE WHEN json_valid(i.capabilities_json) AND json_type(i.capabilities_json) = 'ARRAY'
            THEN json_array_length(i.capabilities_json) END AS capabilities,
       i.updated_at
FROM clean_intelligences AS i LEFT JOIN clean_architectures AS a ON a.id = i.arch_id
ORDER BY i.maturity DESC NULLS LAST, i.id
LIMIT $1
"""

#: ``$1`` = rows. The newest reflexion episodes.
DUCK_RECENT_REFLEXIONS = """
SELECT created_at, memory_id, outcome, left(trigger, 60) AS trigger, left(action, 90) AS action
FROM clean_reflexion_episodes
ORDER BY created_at DESC NULLS LAST, id
LIMIT $1
"""

#: One row: distinct memories with at least one reflexion episode.
DUCK_REFLECTED_MEMORIES = "SELECT count(DISTINCT memory_id) AS n FROM clean_reflexion_episodes"

#: One row over the stored edges' belief side tables: event counts, the edges whose latest
#: invalidation or reinstatement is an invalidation, and the edges with any change at all.
DUCK_BELIEF_FACTS = """
WITH edges AS (
    SELECT DISTINCT id FROM clean_causal_edges WHERE id IS NOT NULL
), ev AS (
    SELECT edge_id, event, seq FROM omega_edge_events WHERE edge_id IN (SELECT id FROM edges)
), w AS (
    SELECT edge_id FROM omega_edge_weight_log WHERE edge_id IN (SELECT id FROM edges)
), latest AS (
    SELECT edge_id, arg_max_null(event, seq) AS event
    FROM ev WHERE event IN ('invalidated', 'reinstated') GROUP BY edge_id
)
SELECT (SELECT count(*) FROM ev WHERE event = 'invalidated') AS invalidations,
       (SELECT count(*) FROM ev WHERE event = 'reinstated') AS reinstatements,
       (SELECT count(*) FROM ev WHERE event = 'validity_set') AS validity_settings,
       (SELECT count(*) FROM w) AS weight_changes,
       (SELECT count(*) FROM latest WHERE event = 'invalidated') AS invalidated_now,
       (SELECT count(DISTINCT edge_id) FROM (SELECT edge_id FROM ev UNION ALL SELECT edge_id FROM w)) AS revised
"""

#: ``$1`` = edge ids. Their ends, weight and whether the store believes them now.
DUCK_REVISED_EDGES = """
SELECT e.id AS edge_id, e.from_memory, e.to_memory, e.weight,
       coalesce((SELECT arg_max_null(b.event, b.seq) FROM omega_edge_events AS b
                 WHERE b.edge_id = e.id AND b.event IN ('invalidated', 'reinstated')), '') = 'invalidated'
           AS invalidated
FROM clean_causal_edges AS e
WHERE e.id IN (SELECT unnest($1::VARCHAR[]))
"""
