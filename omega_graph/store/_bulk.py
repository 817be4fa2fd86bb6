"""Bulk reads for the plots and the report: memory attributes for a set of ids, the edges among a
set of ids, a memory's strongest neighbours. Only the store knows the schema; these are the reads
the drawing and reporting layers need, bounded and in a deterministic order.

SQLite's dynamic typing follows the rule of every reader (:mod:`omega_graph.duck._sql`): a value of
the wrong storage class reads as None.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import schema
from ..duck._sql import sqlite_value
from ..errors import ValidationError
from ._base import StoreBase, db_errors

__all__ = ["BulkReadOps"]

CHUNK = 500  # ids per IN (...) list

_ATTRIBUTES = (
    f"SELECT id, {sqlite_value('tier', 'BIGINT')}, {sqlite_value('importance', 'DOUBLE')}, "
    f"CASE WHEN typeof(content) = 'text' THEN substr(content, 1, ?) ELSE '' END FROM memories WHERE id IN ({{marks}})"
)
_EDGES_AMONG = (
    "SELECT from_memory, to_memory, max(weight), count(*), min(edge_type) FROM causal_edges "
    "WHERE from_memory IN ({marks}) AND to_memory IN ({marks}) AND weight >= ? "
    "GROUP BY from_memory, to_memory"
)
_NEIGHBOURS = (
    "SELECT {far}, max(weight) AS w FROM causal_edges WHERE {near} = ? AND weight >= ? "
    "GROUP BY {far} ORDER BY w DESC, {far} LIMIT ?"
)
_KNOWN = (
    "SELECT 1 FROM memories WHERE id = ? UNION ALL "
    "SELECT 1 FROM causal_edges WHERE from_memory = ? OR to_memory = ? LIMIT 1"
)


def _ids(ids: Iterable[str], what: str) -> list[str]:
    out = list(dict.fromkeys(ids))
    bad = next((i for i in out if not isinstance(i, str)), None)
    if bad is not None:
        raise ValidationError(what, "ids", bad, "memory ids (str)")
    return out


class BulkReadOps(StoreBase):
    """Set-at-a-time reads for the plots and the report."""

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file (``PRAGMA user_version``)."""
        return schema.user_version(self._conn)

    @db_errors
    def memory_attributes(
        self, ids: Iterable[str], *, content_chars: int = 80
    ) -> dict[str, tuple[int | None, float | None, str]]:
        """``{id: (tier, importance, start of content)}`` for the stored memories among ``ids``.

        Ids that are no memory are left out. A tier or importance of the wrong SQLite type is None,
        content that is not text is ``""``; the content is cut to ``content_chars`` characters.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memory(StoredMemory("m1", "saw smoke", 3, 0.9, None, 0, 0))
        >>> store.memory_attributes(["m1", "nope"], content_chars=3)
        {'m1': (3, 0.9, 'saw')}
        """
        wanted = _ids(ids, "memory_attributes")
        out: dict[str, tuple[int | None, float | None, str]] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            sql = _ATTRIBUTES.format(marks=",".join("?" * len(chunk)))
            for mid, tier, importance, content in self._conn.execute(sql, (int(content_chars), *chunk)):
                out[mid] = (tier, None if importance is None else float(importance), content)
        return out

    @db_errors
    def edges_among(
        self, ids: Iterable[str], min_weight: float = 0.0
    ) -> list[tuple[str, str, float, int, str]]:
        """The causal edges between memories of ``ids`` (both ends in ``ids``), weight at least
        ``min_weight``, parallel edges merged: ``(from, to, strongest weight, edges, an edge type)``
        sorted by ``(from, to)``. Bounded by ``ids``: meant for a few hundred ids.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, "", 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("e1", "a", "b", 0.9, "causes", 0),
        ...                           StoredCausalEdge("e2", "a", "b", 0.4, "enables", 0),
        ...                           StoredCausalEdge("e3", "b", "c", 0.5, "causes", 0)])
        3
        >>> store.edges_among(["a", "b"])
        [('a', 'b', 0.9, 2, 'causes')]
        """
        wanted = _ids(ids, "edges_among")
        if len(wanted) > CHUNK:
            raise ValidationError("edges_among", "ids", f"{len(wanted)} ids", f"at most {CHUNK} ids")
        if not wanted:
            return []
        sql = _EDGES_AMONG.format(marks=",".join("?" * len(wanted)))
        rows = self._conn.execute(sql, (*wanted, *wanted, float(min_weight))).fetchall()
        return sorted((str(f), str(t), float(w), int(n), str(k)) for f, t, w, n, k in rows)

    @db_errors
    def strongest_neighbours(
        self, memory_id: str, *, effects: bool = True, min_weight: float = 0.0, limit: int = 10
    ) -> list[tuple[str, float]]:
        """The memories ``memory_id`` has edges to (``effects``) or from (causes), strongest first:
        ``(memory id, strongest weight)``, at most ``limit``, ties by id.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, "", 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("e1", "a", "b", 0.2, "causes", 0),
        ...                           StoredCausalEdge("e2", "a", "c", 0.7, "causes", 0)])
        2
        >>> store.strongest_neighbours("a"), store.strongest_neighbours("c", effects=False)
        ([('c', 0.7), ('b', 0.2)], [('a', 0.7)])
        """
        near, far = ("from_memory", "to_memory") if effects else ("to_memory", "from_memory")
        rows = self._conn.execute(
            _NEIGHBOURS.format(near=near, far=far), (memory_id, float(min_weight), int(limit))
        ).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    @db_errors
    def is_known_memory(self, memory_id: str) -> bool:
        """True when ``memory_id`` is a stored memory or the endpoint of a causal edge.

        >>> from omega_graph import OmegaStore
        >>> OmegaStore.new_in_memory().is_known_memory("m1")
        False
        """
        return self._conn.execute(_KNOWN, (memory_id, memory_id, memory_id)).fetchone() is not None
