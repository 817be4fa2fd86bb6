"""Memories and what hangs off them: vectors, reflexion episodes, full-text and similarity search."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from ..errors import NotFoundError, ValidationError
from ..models import StoredMemory, StoredReflexionEpisode, StoredVector
from ..validation import check_tier, check_timestamp, memory_row, reflexion_row, vector_row
from ._base import StoreBase, db_errors, translate

BATCH = 20_000

_MEMORY_COLS = "id, content, tier, importance, embedding_blob, created_at, last_accessed"
UPSERT_MEMORY = f"""
INSERT INTO memories ({_MEMORY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET content = excluded.content, tier = excluded.tier,
    importance = excluded.importance, embedding_blob = excluded.embedding_blob,
    created_at = excluded.created_at, last_accessed = excluded.last_accessed
"""
_INSERT_MEMORY = f"INSERT INTO memories ({_MEMORY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_GET_MEMORY = f"SELECT {_MEMORY_COLS} FROM memories WHERE id = ?"
_BY_TIER = f"SELECT {_MEMORY_COLS} FROM memories WHERE tier = ? ORDER BY importance DESC, rowid"

_VECTOR_COLS = "id, memory_id, dimensions, data_blob"
_UPSERT_VECTOR = f"""
INSERT INTO vectors ({_VECTOR_COLS}) VALUES (?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET memory_id = excluded.memory_id, dimensions = excluded.dimensions,
    data_blob = excluded.data_blob
"""
_REFLEXION_COLS = "id, memory_id, trigger, context, action, outcome, created_at"
_UPSERT_REFLEXION = f"""
INSERT INTO reflexion_episodes ({_REFLEXION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET memory_id = excluded.memory_id, trigger = excluded.trigger,
    context = excluded.context, action = excluded.action, outcome = excluded.outcome,
    created_at = excluded.created_at
"""
_SEARCH = f"""
SELECT {", ".join("m." + c for c in _MEMORY_COLS.split(", "))}
FROM omega_memory_fts AS f JOIN memories AS m ON m.rowid = f.rowid AND m.content = f.content
WHERE omega_memory_fts MATCH ?
ORDER BY bm25(omega_memory_fts), m.rowid
LIMIT ?
"""
_WORD = re.compile(r"\w+")


def _positive_int(entity: str, field: str, value: object) -> int:
    if type(value) is not int or value < 1:
        raise ValidationError(entity, field, value, "a positive int")
    return value


def _memory_missing(err: sqlite3.IntegrityError, memory_id: str, what: str) -> Exception:
    if "FOREIGN KEY" in str(err):
        return NotFoundError("memory", memory_id, f"store the memory before its {what}")
    return err


class MemoryOps(StoreBase):
    """Memories, vectors, reflexions; full-text and vector search."""

    # ----- memories ------------------------------------------------------------------------------
    @db_errors
    def store_memory(self, memory: StoredMemory) -> None:
        """Insert or update a memory in place (its vectors, reflexions and edges are kept)."""
        row = memory_row(memory)
        try:  # a plain INSERT is cheaper than the upsert when the id is new, the usual case
            self._conn.execute(_INSERT_MEMORY, row)
        except sqlite3.IntegrityError:
            self._conn.execute(UPSERT_MEMORY, row)

    @db_errors
    def store_memories(self, memories: Iterable[StoredMemory]) -> int:
        """Store many memories in one transaction (all or nothing); return how many were stored.

        The iterable is consumed lazily in batches, so a generator of millions of records works.

        >>> from omega_graph import OmegaStore, StoredMemory
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(f"m{i}", "", 1, 0.5, None, i, i) for i in range(3))
        3
        """
        return self._bulk_write(map(memory_row, memories), _INSERT_MEMORY, UPSERT_MEMORY, BATCH)

    @db_errors
    def get_memory(self, id: str) -> StoredMemory:
        """The memory with this id, or :class:`NotFoundError`."""
        row = self._conn.execute(_GET_MEMORY, (id,)).fetchone()
        if row is None:
            raise NotFoundError("memory", id)
        return StoredMemory(*row)

    @db_errors
    def query_memories_by_tier(self, tier: int) -> list[StoredMemory]:
        """Memories of one tier, most important first (ties in insertion order)."""
        check_tier(tier)
        return [StoredMemory(*r) for r in self._conn.execute(_BY_TIER, (tier,))]

    @db_errors
    def update_memory_access(self, id: str, timestamp: int) -> None:
        """Set ``last_accessed``; :class:`NotFoundError` if the memory does not exist."""
        check_timestamp("memory", "last_accessed", timestamp)
        cur = self._conn.execute("UPDATE memories SET last_accessed = ? WHERE id = ?", (timestamp, id))
        if cur.rowcount == 0:
            raise NotFoundError("memory", id)

    @db_errors
    def delete_memory(self, id: str) -> None:
        """Delete a memory with its vectors, reflexions and causal edges (as the foreign keys say)."""
        if self._conn.execute("DELETE FROM memories WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("memory", id)

    def iter_memories(self, tier: int | None = None) -> Iterator[StoredMemory]:
        """Stream memories in insertion order (optionally one tier) without loading them all."""
        if tier is None:
            cursor = self._conn.execute(f"SELECT {_MEMORY_COLS} FROM memories ORDER BY rowid")
        else:
            check_tier(tier)
            cursor = self._conn.execute(
                f"SELECT {_MEMORY_COLS} FROM memories WHERE tier = ? ORDER BY rowid", (tier,)
            )
        return stream(cursor, StoredMemory)

    # ----- vectors -------------------------------------------------------------------------------
    @db_errors
    def store_vector(self, vector: StoredVector) -> None:
        """Insert or update a vector; its memory must exist (:class:`NotFoundError`)."""
        row = vector_row(vector)
        try:
            self._conn.execute(_UPSERT_VECTOR, row)
        except sqlite3.IntegrityError as err:
            raise _memory_missing(err, row[1], "vectors") from err

    @db_errors
    def get_vector_by_memory(self, memory_id: str) -> StoredVector:
        """The first vector stored for a memory, or :class:`NotFoundError`."""
        row = self._conn.execute(
            f"SELECT {_VECTOR_COLS} FROM vectors WHERE memory_id = ? ORDER BY rowid LIMIT 1", (memory_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError("vector for memory", memory_id, "store a vector for it first")
        return StoredVector(*row)

    @db_errors
    def get_vectors_by_memory(self, memory_id: str) -> list[StoredVector]:
        """Every vector of a memory, in insertion order (possibly empty)."""
        sql = f"SELECT {_VECTOR_COLS} FROM vectors WHERE memory_id = ? ORDER BY rowid"
        return [StoredVector(*r) for r in self._conn.execute(sql, (memory_id,))]

    @db_errors
    def delete_vector(self, id: str) -> None:
        """Delete one vector by its id."""
        if self._conn.execute("DELETE FROM vectors WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("vector", id)

    def iter_vectors(self) -> Iterator[StoredVector]:
        """Stream every vector in insertion order."""
        return stream(self._conn.execute(f"SELECT {_VECTOR_COLS} FROM vectors ORDER BY rowid"), StoredVector)

    @db_errors
    def similar_memories(self, vector: Sequence[float], k: int = 10) -> list[tuple[str, float]]:
        """Memories whose stored vectors are closest to ``vector`` by cosine similarity, best first.

        Exact search over every stored vector with the query's dimension; a memory with several
        vectors counts once, with its best score. Zero vectors have no direction and are skipped.

        >>> from omega_graph import OmegaStore, StoredMemory, StoredVector
        >>> store = OmegaStore.new_in_memory()
        >>> for i, v in enumerate([[1, 0], [0, 1], [1, 1]]):
        ...     store.store_memory(StoredMemory(f"m{i}", "", 1, 0.5, None, 0, 0))
        ...     store.store_vector(StoredVector.from_values(f"v{i}", f"m{i}", v))
        >>> [(m, round(s, 3)) for m, s in store.similar_memories([1.0, 0.1], k=2)]
        [('m0', 0.995), ('m2', 0.774)]
        """
        import numpy as np

        _positive_int("similar_memories", "k", k)
        query = np.asarray(vector, dtype=np.float64)
        norm = float(np.linalg.norm(query)) if query.ndim == 1 and query.size else 0.0
        if query.ndim != 1 or not query.size or not np.isfinite(query).all() or norm == 0.0:
            raise ValidationError(
                "similar_memories", "vector", vector, "a non-zero 1-D sequence of finite floats"
            )
        dim = query.size
        rows = self._conn.execute(
            "SELECT memory_id, data_blob FROM vectors WHERE dimensions = ? ORDER BY rowid", (dim,)
        ).fetchall()
        if not rows:
            dims = [r[0] for r in self._conn.execute("SELECT DISTINCT dimensions FROM vectors ORDER BY 1")]
            raise ValidationError(
                "similar_memories", "vector", f"<{dim} dimensions>", f"a dimension of a stored vector {dims}"
            )
        rows = [r for r in rows if isinstance(r[1], bytes) and len(r[1]) == 4 * dim]  # skip damaged rows
        ids = [r[0] for r in rows]
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(-1, dim)
        norms = np.linalg.norm(matrix, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = (matrix.astype(np.float64) @ query) / (norms * norm)
        order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
        best: dict[str, float] = {}
        for i in order:
            if len(best) == k or not np.isfinite(scores[i]):
                break
            best.setdefault(ids[i], float(scores[i]))
        return list(best.items())

    # ----- reflexion episodes --------------------------------------------------------------------
    @db_errors
    def store_reflexion(self, episode: StoredReflexionEpisode) -> None:
        """Insert or update a reflexion episode; its memory must exist."""
        row = reflexion_row(episode)
        try:
            self._conn.execute(_UPSERT_REFLEXION, row)
        except sqlite3.IntegrityError as err:
            raise _memory_missing(err, row[1], "reflexion episodes") from err

    @db_errors
    def get_reflexion(self, id: str) -> StoredReflexionEpisode:
        """One reflexion episode by id."""
        sql = f"SELECT {_REFLEXION_COLS} FROM reflexion_episodes WHERE id = ?"
        row = self._conn.execute(sql, (id,)).fetchone()
        if row is None:
            raise NotFoundError("reflexion", id)
        return StoredReflexionEpisode(*row)

    @db_errors
    def get_reflexions_by_memory(self, memory_id: str) -> list[StoredReflexionEpisode]:
        """Reflexion episodes of a memory, newest first (ties in insertion order)."""
        sql = (
            f"SELECT {_REFLEXION_COLS} FROM reflexion_episodes WHERE memory_id = ? "
            "ORDER BY created_at DESC, rowid"
        )
        return [StoredReflexionEpisode(*r) for r in self._conn.execute(sql, (memory_id,))]

    @db_errors
    def delete_reflexion(self, id: str) -> None:
        """Delete one reflexion episode by its id."""
        if self._conn.execute("DELETE FROM reflexion_episodes WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("reflexion", id)

    def iter_reflexions(self) -> Iterator[StoredReflexionEpisode]:
        """Stream every reflexion episode in insertion order."""
        cursor = self._conn.execute(f"SELECT {_REFLEXION_COLS} FROM reflexion_episodes ORDER BY rowid")
        return stream(cursor, StoredReflexionEpisode)

    # ----- full-text search ----------------------------------------------------------------------
    @db_errors
    def sync_search_index(self) -> int:
        """Bring the full-text index up to date with every change to memories; return rows re-indexed.

        Triggers record which memories changed (also when another program wrote them); this
        indexes them in one bulk pass. :meth:`search_memories` calls it, so the first search after a
        large import pays for indexing it.
        """
        conn = self._conn
        if conn.execute("SELECT 1 FROM omega_memory_fts_dirty LIMIT 1").fetchone() is None:
            return 0
        with self.transaction():
            for statement in _SYNC_SEARCH[:-1]:
                conn.execute(statement)
            return conn.execute(_SYNC_SEARCH[-1]).rowcount

    @db_errors
    def search_memories(self, text: str, limit: int = 10) -> list[StoredMemory]:
        """Memories whose content matches the words of ``text``, best match first (FTS5 bm25).

        Words are matched as plain terms with Porter stemming: memories holding every word come
        first, ranked by bm25, then memories holding only some of them. Punctuation and query
        operators in ``text`` are plain characters, so user text never becomes a query-syntax
        error. Ties keep insertion order.

        >>> from omega_graph import OmegaStore, StoredMemory
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memory(StoredMemory("a", "smoke causes lung cancer", 1, 0.5, None, 0, 0))
        >>> store.store_memory(StoredMemory("b", "a trip to asia", 1, 0.5, None, 0, 0))
        >>> [m.id for m in store.search_memories('lung AND "cancer')]
        ['a']
        """
        if type(text) is not str:
            raise ValidationError("search_memories", "text", text, "text (str)")
        _positive_int("search_memories", "limit", limit)
        words = _WORD.findall(text)
        if not words:
            return []
        self.sync_search_index()
        terms = [f'"{w}"' for w in words]
        found = [StoredMemory(*r) for r in self._conn.execute(_SEARCH, (" AND ".join(terms), limit))]
        if len(found) < limit and len(terms) > 1:  # then memories holding only some of the words
            seen = {m.id for m in found}
            more = self._conn.execute(_SEARCH, (" OR ".join(terms), limit + len(found)))
            found += [m for m in map(StoredMemory._make, more) if m.id not in seen][: limit - len(found)]
        return found


_SYNC_SEARCH = (
    "DELETE FROM omega_memory_fts WHERE rowid IN (SELECT memory_rowid FROM omega_memory_fts_dirty) "
    "AND rowid <= (SELECT max(rowid) FROM omega_memory_fts)",
    "INSERT INTO omega_memory_fts(rowid, content) SELECT rowid, content FROM memories "
    "WHERE rowid IN (SELECT memory_rowid FROM omega_memory_fts_dirty) ORDER BY rowid",
    "DELETE FROM omega_memory_fts_dirty",
)


def stream(cursor: sqlite3.Cursor, record: type) -> Iterator:
    """Yield records from a cursor batch by batch (the cursor steps lazily through SQLite)."""
    try:
        while rows := cursor.fetchmany(1000):
            for row in rows:
                yield record(*row)
    except sqlite3.Error as err:
        raise translate(err, "iterating") from err
    finally:
        cursor.close()


__all__ = ["MemoryOps", "UPSERT_MEMORY", "stream"]
