"""Causal edges between memories."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from ..errors import NotFoundError
from ..models import StoredCausalEdge
from ..validation import edge_row
from ._base import StoreBase, db_errors
from ._memories import BATCH, stream

_EDGE_COLS = "id, from_memory, to_memory, weight, edge_type, created_at"
_INSERT_EDGE = f"INSERT INTO causal_edges ({_EDGE_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
UPSERT_EDGE = f"""
INSERT INTO causal_edges ({_EDGE_COLS}) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET from_memory = excluded.from_memory, to_memory = excluded.to_memory,
    weight = excluded.weight, edge_type = excluded.edge_type, created_at = excluded.created_at
"""


class EdgeOps(StoreBase):
    """Weighted causal edges."""

    def _missing_endpoint(self, rows: list[tuple]) -> NotFoundError | None:
        """After a foreign-key failure: name the first edge whose endpoint memory does not exist."""
        exists = self._conn.execute
        for row in rows:
            for memory_id in (row[1], row[2]):
                if exists("SELECT 1 FROM memories WHERE id = ?", (memory_id,)).fetchone() is None:
                    return NotFoundError(
                        "memory", memory_id, f"store it before causal edge {row[0]!r} that uses it"
                    )
        return None

    @db_errors
    def store_causal_edge(self, edge: StoredCausalEdge) -> None:
        """Insert or update a causal edge; both memories must exist (:class:`NotFoundError`)."""
        row = edge_row(edge)
        try:
            try:  # a plain INSERT is cheaper than the upsert when the id is new, the usual case
                self._conn.execute(_INSERT_EDGE, row)
            except sqlite3.IntegrityError as err:
                if "UNIQUE" not in str(err):
                    raise
                self._conn.execute(UPSERT_EDGE, row)
        except sqlite3.IntegrityError as err:
            raise (self._missing_endpoint([row]) or err) from err

    @db_errors
    def store_causal_edges(self, edges: Iterable[StoredCausalEdge]) -> int:
        """Store many edges in one transaction (all or nothing); return how many were stored.

        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, "", 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("e1", "a", "b", 0.9, "causes", 0),
        ...                           StoredCausalEdge("e2", "b", "c", 0.5, "causes", 0)])
        2
        """
        rows = map(edge_row, edges)
        return self._bulk_write(
            rows, _INSERT_EDGE, UPSERT_EDGE, BATCH, lambda err, batch: self._missing_endpoint(batch)
        )

    @db_errors
    def get_causal_edge(self, id: str) -> StoredCausalEdge:
        """One edge by id, or :class:`NotFoundError`."""
        row = self._conn.execute(f"SELECT {_EDGE_COLS} FROM causal_edges WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFoundError("causal edge", id)
        return StoredCausalEdge(*row)

    @db_errors
    def get_causal_edges_from(self, memory_id: str) -> list[StoredCausalEdge]:
        """Edges leaving a memory, strongest first (ties in insertion order)."""
        sql = f"SELECT {_EDGE_COLS} FROM causal_edges WHERE from_memory = ? ORDER BY weight DESC, rowid"
        return [StoredCausalEdge(*r) for r in self._conn.execute(sql, (memory_id,))]

    @db_errors
    def get_causal_edges_to(self, memory_id: str) -> list[StoredCausalEdge]:
        """Edges entering a memory, strongest first (ties in insertion order)."""
        sql = f"SELECT {_EDGE_COLS} FROM causal_edges WHERE to_memory = ? ORDER BY weight DESC, rowid"
        return [StoredCausalEdge(*r) for r in self._conn.execute(sql, (memory_id,))]

    @db_errors
    def delete_causal_edge(self, id: str) -> None:
        """Delete one edge by id."""
        if self._conn.execute("DELETE FROM causal_edges WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("causal edge", id)

    def iter_causal_edges(self) -> Iterator[StoredCausalEdge]:
        """Stream every causal edge in insertion order."""
        cursor = self._conn.execute(f"SELECT {_EDGE_COLS} FROM causal_edges ORDER BY rowid")
        return stream(cursor, StoredCausalEdge)
