"""Reading a snapshot from the store: bulk load, incremental refresh, and edge ids for answers.

Reading never writes. A file store is read through a private read-only sqlite3 connection
(``file:...?mode=ro``), which also sees other connections' commits; an in-memory store through
``store.connection``, inside ``BEGIN``/``COMMIT`` unless the store has a transaction open.

Bulk load (file stores with at least :data:`DUCKDB_MIN_EDGES` edges): DuckDB's SQLite scanner reads
both tables as columns **in a child process** (:mod:`._scan`: DuckDB's own SQLite library inside this
process would truncate the store's WAL index and drop its locks); text ids travel as 64-bit hashes
mapped to node indices here, so Python only touches numbers. The child's SQLite connections are not
ours, so the load is bracketed by ``PRAGMA data_version`` on our connection: if anyone committed
meanwhile the load is repeated (twice), then done through sqlite3 in one read transaction.
In-memory stores, small stores, and files the child cannot read use sqlite3.

Typing: SQLite is dynamically typed. A ``tier`` / ``created_at`` that is not an integer becomes
:data:`~.snapshot.MISSING_INT`, an ``importance`` / ``weight`` that is not a number NaN, on both
paths alike; :func:`describe_bad_values` names them and the snapshot warns once
(:class:`~omega_graph.analytics.DataQualityWarning`). See :class:`~.causal_graph.CausalGraph` for
what each query then does.

Refresh: new edge rows have rowids above the snapshot's largest (SQLite picks a new rowid above the
maximum, even for ``INSERT OR REPLACE``); updates and deletes, foreign-key cascades included, are in
``omega_edge_log``. A refresh re-reads the logged rowids and everything above
``min(old max rowid, smallest deleted rowid - 1)`` (a rowid freed at the tail can be reused), drops a
snapshot edge whose id reappears under a new rowid (the crate's ``INSERT OR REPLACE`` deletes without a
log entry), and falls back to a full load when the log was pruned. Memories have no log: a refresh
compares ``count(*)``, ``max(rowid)`` and the id at the old largest rowid; rows above the old maximum
that account for the whole difference are appended, anything else reloads the memory list (one pass
over ``memories``). Not seen by a refresh (no log records them): a memory's ``tier`` / ``importance``
changed in place, and deleting edgeless memories at the tail then re-storing the same last id with the
same count (node attributes and such isolated nodes then lag until a new snapshot).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import urllib.parse
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConflictError, DatabaseError
from . import _scan
from .snapshot import MISSING_INT, BadValues, GraphData, SnapshotState, hash_strings

__all__ = ["Filters", "Source", "edge_labels", "load", "refresh"]

_CHUNK = 500  # parameters per IN (...) list


@dataclass(frozen=True)
class Filters:
    """Which edges a snapshot keeps (bounds inclusive)."""

    min_weight: float = 0.0
    edge_types: tuple[str, ...] | None = None
    as_of: int | None = None

    def where(self, alias: str = "e") -> tuple[str, list[Any]]:
        """SQLite predicate and its parameters.

        A ``weight`` that is not a number passes ``min_weight`` (the edge is kept, its weight unusable
        for strengths: see :class:`~.causal_graph.CausalGraph`); a ``created_at`` that is not an
        integer fails ``as_of``.
        """
        clauses = [f"({alias}.weight >= ? OR typeof({alias}.weight) NOT IN ('integer', 'real'))"]
        params: list[Any] = [self.min_weight]
        if self.edge_types is not None:
            if self.edge_types:
                clauses.append(f"{alias}.edge_type IN ({', '.join('?' * len(self.edge_types))})")
                params.extend(self.edge_types)
            else:
                clauses.append("0 = 1")
        if self.as_of is not None:
            clauses.append(f"(typeof({alias}.created_at) = 'integer' AND {alias}.created_at <= ?)")
            params.append(self.as_of)
        return " AND ".join(clauses), params

    def duck_where(self) -> tuple[str, list[Any]]:
        """The same predicate for DuckDB over ``e`` (values of the wrong type are NULL there)."""
        clauses = ["(e.weight >= $p0 OR e.weight IS NULL)"]
        params: list[Any] = [self.min_weight]
        if self.edge_types is not None:
            if self.edge_types:
                names = [f"$p{i}" for i in range(len(params), len(params) + len(self.edge_types))]
                clauses.append(f"e.edge_type IN ({', '.join(names)})")
                params.extend(self.edge_types)
            else:
                clauses.append("false")
        if self.as_of is not None:
            clauses.append(f"e.created_at <= $p{len(params)}")
            params.append(self.as_of)
        return " AND ".join(clauses), params

    def keeps(self, weight: float | None, edge_type: str, created_at: int | None) -> bool:
        """The same predicate in Python, for rows read as :data:`_EDGE_COLS` gives them (None: wrong type)."""
        return (
            (weight is None or weight >= self.min_weight)
            and (self.edge_types is None or edge_type in self.edge_types)
            and (self.as_of is None or (created_at is not None and created_at <= self.as_of))
        )


class Source:
    """How a snapshot reads its store (see module doc)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.path: str | None = store.path
        self._ro: sqlite3.Connection | None = None
        self._finalizer: weakref.finalize | None = None

    def close(self) -> None:
        """Close the private read-only connection (reopened on the next read)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = self._ro = None

    def _open_ro(self) -> sqlite3.Connection:
        assert self.path is not None
        uri = f"file:{urllib.parse.quote(self.path)}?mode=ro"
        try:
            return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise DatabaseError(f"cannot read {self.path!r} for the causal graph ({err})") from err

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to read from, outside any transaction (file stores: a private read-only one,
        opened once and closed with the graph)."""
        if self.path is None:
            yield self.store.connection
            return
        if self._ro is None:  # kept open: answers fetch edge ids, and a connect costs more than the query
            self._ro = self._open_ro()
            self._finalizer = weakref.finalize(self, self._ro.close)
        yield self._ro

    @contextmanager
    def read(self, conn: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        """One consistent read: ``BEGIN`` ... ``COMMIT`` unless a transaction is already open."""
        with self.connection() if conn is None else _given(conn) as c:
            if c.in_transaction:
                yield c
                return
            c.execute("BEGIN")
            try:
                yield c
            finally:
                c.execute("COMMIT")


@contextmanager
def _given(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    yield conn


def edge_position(conn: sqlite3.Connection) -> tuple[int, int]:
    """(max causal_edges rowid, last omega_edge_log seq): equal values mean no edge changed."""
    edge_max = conn.execute("SELECT coalesce(max(rowid), 0) FROM causal_edges").fetchone()[0]
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'omega_edge_log'").fetchone()
    return int(edge_max), int(row[0]) if row else 0


def read_state(conn: sqlite3.Connection, count_memories: bool = True) -> SnapshotState:
    """The store's position: max edge rowid (and its id), last log seq, memory count and max rowid.

    ``count_memories=False`` skips the count (a pass over an index; -1 stands for it) for a caller that
    counts the memories it reads.
    """
    edge_max, seq = edge_position(conn)
    if count_memories:
        count, mem_max = conn.execute("SELECT count(*), coalesce(max(rowid), 0) FROM memories").fetchone()
    else:
        count, mem_max = -1, conn.execute("SELECT coalesce(max(rowid), 0) FROM memories").fetchone()[0]
    row = conn.execute("SELECT id FROM causal_edges WHERE rowid = ?", (edge_max,)).fetchone()
    return SnapshotState(edge_max, seq, int(count), int(mem_max), row[0] if row else None)


# ----- bulk load -------------------------------------------------------------------------------------
#: Below this many edges (by max rowid) sqlite3 alone is faster than starting the DuckDB child process.
DUCKDB_MIN_EDGES = 200_000
LOADERS = ("auto", "duckdb", "sqlite3")


def load(source: Source, filters: Filters, loader: str = "auto") -> GraphData:
    """A full snapshot of the store (see module doc for how consistency is kept).

    ``loader``: ``"auto"`` (DuckDB for file stores with at least :data:`DUCKDB_MIN_EDGES` edges),
    ``"duckdb"`` (file stores: always try the DuckDB child first) or ``"sqlite3"``.
    """
    if source.path is None or loader == "sqlite3":
        with source.read() as conn:
            return _finish(conn, _load_sqlite(conn, filters))
    with source.connection() as conn:
        if loader == "auto" and edge_position(conn)[0] < DUCKDB_MIN_EDGES:
            with source.read(conn) as c:
                return _finish(c, _load_sqlite(c, filters))
        for _ in range(3):
            before = conn.execute("PRAGMA data_version").fetchone()[0]
            with source.read(conn) as c:
                state = read_state(c, count_memories=False)
            data = _scan.load(source.path, filters.duck_where(), state)
            if data is None:  # no DuckDB, no extension, or it cannot read this file: sqlite3
                break
            if conn.execute("PRAGMA data_version").fetchone()[0] == before:
                # nothing committed meanwhile: the child read every memory, so it counted them
                data.state = dataclasses.replace(state, memory_count=data.n_nodes)
                with source.read(conn) as c:
                    return _finish(c, data)
        with source.read(conn) as c:
            return _finish(c, _load_sqlite(c, filters))


# SQLite's dynamic typing, handled deliberately: a value of the wrong storage class becomes NULL here
# (then NaN / MISSING_INT in the arrays, reported by describe_bad_values).
_NODE_COLS = (
    "rowid, id, CASE WHEN typeof(tier) = 'integer' THEN tier END, "
    "CASE WHEN typeof(importance) IN ('integer', 'real') THEN importance END"
)
_EDGE_COLS = (
    "rowid, id, from_memory, to_memory, CASE WHEN typeof(weight) IN ('integer', 'real') THEN weight END, "
    "edge_type, CASE WHEN typeof(created_at) = 'integer' THEN created_at END"
)


def _load_sqlite(conn: sqlite3.Connection, filters: Filters) -> GraphData:
    """Everything through sqlite3, inside the caller's read transaction."""
    state = read_state(conn)
    nodes = conn.execute(f"SELECT {_NODE_COLS} FROM memories").fetchall()
    where, params = filters.where()
    rows = conn.execute(f"SELECT {_EDGE_COLS} FROM causal_edges e WHERE {where}", params).fetchall()
    hashes = hash_strings([r[1] for r in rows]).tolist()
    edges = [(r[0], h, r[2], r[3], r[4], r[5], r[6]) for r, h in zip(rows, hashes, strict=True)]
    data = GraphData.from_rows(nodes, edges, state)
    data.loader = "sqlite3"
    return data


def _finish(conn: sqlite3.Connection, data: GraphData, known: tuple[BadValues, ...] = ()) -> GraphData:
    """Describe the snapshot's unusable values; warn when there are more than ``known`` listed."""
    data.bad_values = describe_bad_values(conn, data)
    before = {(b.table, b.column, b.problem): b.count for b in known}
    if any(b.count > before.get((b.table, b.column, b.problem), 0) for b in data.bad_values):
        warn_bad_values(data.bad_values)
    return data


def _int(value: int | None) -> int:
    return MISSING_INT if value is None else value


# ----- values of the wrong type ----------------------------------------------------------------------
def describe_bad_values(conn: sqlite3.Connection, data: GraphData) -> tuple[BadValues, ...]:
    """The snapshot's unusable values per column (see :class:`~.snapshot.BadValues`), with examples
    read back from the store (the first few by rowid)."""
    checks = [
        ("memories", "tier", "not an integer", data.node_rowid, data.tier == MISSING_INT),
        ("memories", "importance", "not a number", data.node_rowid, np.isnan(data.importance)),
        ("causal_edges", "weight", "not a number", data.erowid, np.isnan(data.weight)),
        ("causal_edges", "weight", "a number outside [0, 1]", data.erowid,
         (data.weight < 0.0) | (data.weight > 1.0)),
        ("causal_edges", "created_at", "not an integer", data.erowid, data.created == MISSING_INT),
    ]  # fmt: skip
    out = []
    for table, column, problem, rowids, mask in checks:
        count = int(np.count_nonzero(mask))
        if count == 0:
            continue
        first = np.sort(rowids[mask])[:3].tolist()
        rows = conn.execute(
            f"SELECT rowid, id, {column}, typeof({column}) FROM {table} "
            f"WHERE rowid IN ({', '.join('?' * len(first))}) ORDER BY rowid",
            first,
        ).fetchall()
        examples = tuple((int(r), str(i), v, str(t)) for r, i, v, t in rows)
        out.append(BadValues(table, column, problem, count, examples))
    return tuple(out)


_CONSEQUENCE = {
    ("memories", "tier"): "read as None (to_networkx) and otherwise unused",
    ("memories", "importance"): "read as NaN (to_networkx) and otherwise unused",
    ("causal_edges", "weight"): (
        "these edges count for reachability (causes/effects depth, cycles, d-separation, shortest_path), "
        "and strength questions raise ValidationError naming them until the weights are fixed"
    ),
    ("causal_edges", "created_at"): (
        "these edges are left out of as_of snapshots, and time-respecting paths raise ValidationError "
        "naming them until the timestamps are fixed"
    ),
}


def warn_bad_values(bad: tuple[BadValues, ...]) -> None:
    """One :class:`~omega_graph.analytics.DataQualityWarning` listing every column with bad values."""
    if not bad:
        return
    from ..analytics import DataQualityWarning

    parts = [f"{b.describe()}: {_CONSEQUENCE[(b.table, b.column)]}" for b in bad]
    warnings.warn(
        "causal graph snapshot: stored values of the wrong type or range; " + "; ".join(parts),
        DataQualityWarning,
        stacklevel=5,
    )


# ----- refresh ---------------------------------------------------------------------------------------
def refresh(data: GraphData, source: Source, filters: Filters, loader: str = "auto") -> GraphData:  # noqa: C901
    """``data`` brought up to date with the store; a new :class:`GraphData` (``data`` is untouched)."""
    with source.read() as conn:
        state = read_state(conn)
        old = data.state
        same_last = old.memory_max_rowid == 0 or _id_at(conn, old.memory_max_rowid) == _id_at_snapshot(data)
        if state == old and same_last:
            return data
        logged = state.log_seq - old.log_seq
        have = conn.execute("SELECT count(*) FROM omega_edge_log WHERE seq > ?", (old.log_seq,)).fetchone()[0]
        replayable = logged >= 0 and have == logged  # else the log was pruned or reset
        if not replayable and source.path is None:
            return _finish(conn, _load_sqlite(conn, filters), data.bad_values)
        if replayable:
            log = conn.execute(
                "SELECT edge_id, edge_rowid, op FROM omega_edge_log WHERE seq > ? ORDER BY seq",
                (old.log_seq,),
            ).fetchall()
            last_op = {r: op for _, r, op in log}
            cols = _EDGE_COLS
            fresh = conn.execute(
                f"SELECT {cols} FROM causal_edges WHERE rowid > ?", (old.edge_max_rowid,)
            ).fetchall()
            # An id seen in the log or in a new row, held by the snapshot at an unlogged rowid, moved:
            # its old row was deleted without a log entry (INSERT OR REPLACE).
            busy_ids = [e for e, _, _ in log] + [r[1] for r in fresh]
            busy = hash_strings(busy_ids)
            logged_rows = np.fromiter(last_op, np.int64, len(last_op))
            moved = _isin(data.ehash, busy) & ~_isin(data.erowid, logged_rows)
            floor = _stable_floor(conn, data, set(last_op), set(busy_ids), busy, moved)
            touched = sorted(r for r in last_op if r <= floor)
            new_mem = conn.execute(
                f"SELECT {_NODE_COLS} FROM memories WHERE rowid > ?", (old.memory_max_rowid,)
            ).fetchall()
            reload_memories = state.memory_count != old.memory_count + len(new_mem) or not same_last
            if reload_memories:
                new_mem = conn.execute(f"SELECT {_NODE_COLS} FROM memories").fetchall()
            rows = (
                fresh
                + conn.execute(
                    f"SELECT {cols} FROM causal_edges WHERE rowid > ? AND rowid <= ?",
                    (floor, old.edge_max_rowid),
                ).fetchall()
            )
            for i in range(0, len(touched), _CHUNK):
                chunk = touched[i : i + _CHUNK]
                rows += conn.execute(
                    f"SELECT {cols} FROM causal_edges WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
    if not replayable:
        return load(source, filters, loader)
    new = _apply(data, state, new_mem, reload_memories, floor, touched, rows, moved, filters)
    new.loader = data.loader
    with source.read() as conn:
        return _finish(conn, new, data.bad_values)


def _isin(big: np.ndarray, values: Any) -> np.ndarray:
    """``np.isin`` for a few values against a large array: one binary search per element, no sort of E."""
    small = np.unique(np.asarray(values, dtype=big.dtype))
    if len(small) == 0:
        return np.zeros(len(big), dtype=bool)
    at = np.searchsorted(small, big)
    return small[np.minimum(at, len(small) - 1)] == big


def _stable_floor(
    conn: sqlite3.Connection,
    data: GraphData,
    logged: set[int],
    busy_ids: set[str],
    busy: np.ndarray,
    moved: np.ndarray,
) -> int:
    """A rowid that no row inserted since the snapshot can be at or below.

    SQLite gives a new row ``max(rowid) + 1``. A row that existed at the snapshot and is still there,
    never logged and whose id was never re-stored or deleted elsewhere, existed the whole time, so the
    table's maximum never fell below it: rows inserted since lie above it. The snapshot's last row is
    checked first (the usual case: nothing re-read below the old maximum), then the snapshot's kept
    rows from the top. 0 when none qualifies (everything is re-read).
    """
    old = data.state
    if old.edge_max_rowid == 0:
        return 0
    if old.edge_max_rowid not in logged and old.edge_max_id is not None and old.edge_max_id not in busy_ids:
        row = conn.execute("SELECT id FROM causal_edges WHERE rowid = ?", (old.edge_max_rowid,)).fetchone()
        if row is not None and row[0] == old.edge_max_id:
            return old.edge_max_rowid
    ok = ~moved & ~_isin(data.ehash, busy) & ~_isin(data.erowid, np.fromiter(logged, np.int64, len(logged)))
    candidates = np.sort(data.erowid[ok])[::-1]
    want = dict(zip(data.erowid[ok].tolist(), data.ehash[ok].tolist(), strict=True))
    for i in range(0, len(candidates), _CHUNK):
        chunk = candidates[i : i + _CHUNK].tolist()
        found = dict(conn.execute(
            f"SELECT rowid, id FROM causal_edges WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
        ).fetchall())  # fmt: skip
        present = [r for r in chunk if r in found]
        hashes = dict(zip(present, hash_strings([found[r] for r in present]).tolist(), strict=True))
        for r in chunk:  # descending
            if hashes.get(r) == want[r]:
                return r
    return 0


def _filtered(rows: list[tuple], hashes: np.ndarray, f: Filters) -> tuple[list[tuple], np.ndarray]:
    """The rows a snapshot with filters ``f`` keeps (same predicates as :meth:`Filters.where`)."""
    ok = [f.keeps(r[4], r[5], r[6]) for r in rows]
    return [r for r, k in zip(rows, ok, strict=True) if k], hashes[
        np.array(ok, dtype=bool)
    ] if rows else hashes


def _id_at(conn: sqlite3.Connection, rowid: int) -> str | None:
    row = conn.execute("SELECT id FROM memories WHERE rowid = ?", (rowid,)).fetchone()
    return row[0] if row else None


def _id_at_snapshot(data: GraphData) -> str | None:
    """The id the snapshot's largest memory rowid held (None if that memory was not read)."""
    where = np.flatnonzero(data.node_rowid == data.state.memory_max_rowid)
    return data.node_ids[int(where[0])] if len(where) else None


def _apply(
    data: GraphData,
    state: SnapshotState,
    mem_rows: list[tuple],
    reload_memories: bool,
    floor: int,
    touched: Sequence[int],
    rows: list[tuple],
    moved: np.ndarray,
    filters: Filters,
) -> GraphData:
    # 1. nodes, and the (monotone) map from old node index to new node index (-1: gone)
    if reload_memories:
        mem_rows = sorted(mem_rows, key=lambda r: r[1])
        node_ids = [r[1] for r in mem_rows]
        pos = {m: i for i, m in enumerate(node_ids)}
        remap = np.array([pos.get(m, -1) for m in data.node_ids], dtype=np.int64)
        node_rowid = np.array([r[0] for r in mem_rows], dtype=np.int64)
        tier = np.array([_int(r[2]) for r in mem_rows], dtype=np.int64)
        importance = np.array([r[3] for r in mem_rows], dtype=np.float64)  # None -> NaN
    elif mem_rows:
        mem_rows = sorted(mem_rows, key=lambda r: r[1])
        new_ids = [r[1] for r in mem_rows]
        at = np.searchsorted(np.array(data.node_ids, dtype=object), np.array(new_ids, dtype=object))
        remap = np.arange(data.n_nodes, dtype=np.int64) + np.searchsorted(
            at, np.arange(data.n_nodes), "right"
        )
        dest = at + np.arange(len(at))
        n = data.n_nodes + len(new_ids)
        node_ids = [""] * n
        keep_slots = np.ones(n, dtype=bool)
        keep_slots[dest] = False
        for i, j in enumerate(np.flatnonzero(keep_slots).tolist()):
            node_ids[j] = data.node_ids[i]
        for k, j in enumerate(dest.tolist()):
            node_ids[j] = new_ids[k]
        node_rowid, tier, importance = (
            np.empty(n, dtype=a.dtype) for a in (data.node_rowid, data.tier, data.importance)
        )
        for arr, old_arr, col in (
            (node_rowid, data.node_rowid, 0),
            (tier, data.tier, 2),
            (importance, data.importance, 3),
        ):
            arr[keep_slots] = old_arr
            arr[dest] = [_int(r[col]) if col == 2 else r[col] for r in mem_rows]
    else:
        node_ids, node_rowid, tier, importance = data.node_ids, data.node_rowid, data.tier, data.importance
        remap = None

    # 2. old edges that survive: not re-read, not moved, endpoints still present, id nowhere else
    keep = (data.erowid <= floor) & ~moved
    if len(touched):
        keep &= ~_isin(data.erowid, np.asarray(touched, dtype=np.int64))
    row_hash = hash_strings([r[1] for r in rows])
    if len(rows):
        keep &= ~_isin(data.ehash, row_hash)  # an id lives in one row: the re-read one wins
    rows, row_hash = _filtered(rows, row_hash, filters)
    src, dst = data.src, data.dst
    if remap is not None:
        src, dst = remap[src], remap[dst]
        keep &= (src >= 0) & (dst >= 0)

    # 3. the re-read rows, with edge types merged into the sorted name list
    lookup = {m: i for i, m in enumerate(node_ids)} if rows and len(rows) * 20 > len(node_ids) else None

    def find(m: str) -> int:
        if lookup is not None:
            return lookup.get(m, -1)
        from bisect import bisect_left

        i = bisect_left(node_ids, m)
        return i if i < len(node_ids) and node_ids[i] == m else -1

    ends = [(find(r[2]), find(r[3])) for r in rows]
    ok = [a >= 0 and b >= 0 for a, b in ends]
    type_names = sorted(set(data.type_names) | {r[5] for r, good in zip(rows, ok, strict=True) if good})
    code = {t: i for i, t in enumerate(type_names)}
    type_remap = np.array([code[t] for t in data.type_names] or [0], dtype=np.int16)
    new = [(r, e, h) for r, e, h, good in zip(rows, ends, row_hash.tolist(), ok, strict=True) if good]

    old_cols = {
        "src": src.astype(np.int32)[keep],
        "dst": dst.astype(np.int32)[keep],
        "weight": data.weight[keep],
        "created": data.created[keep],
        "etype": (type_remap[data.etype] if len(data.etype) else data.etype)[keep],
        "erowid": data.erowid[keep],
        "ehash": data.ehash[keep],
    }
    new_cols = {
        "src": [e[0] for _, e, _ in new],
        "dst": [e[1] for _, e, _ in new],
        "weight": [r[4] for r, _, _ in new],  # None -> NaN
        "created": [_int(r[6]) for r, _, _ in new],
        "etype": [code[r[5]] for r, _, _ in new],
        "erowid": [r[0] for r, _, _ in new],
        "ehash": [h for _, _, h in new],
    }
    cols = _merge(
        old_cols, {k: np.asarray(v, dtype=old_cols[k].dtype) for k, v in new_cols.items()}, len(node_ids)
    )
    return GraphData(
        node_ids=node_ids, node_rowid=node_rowid, tier=tier, importance=importance,
        type_names=type_names, state=state, **cols,
    )  # fmt: skip


def _merge(old: dict[str, np.ndarray], new: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Insert the (few) new edges into the canonically sorted old ones: O(E) copies, no sort of E."""
    if len(new["src"]) == 0:
        return old
    order = np.lexsort((new["erowid"], -new["weight"], new["dst"], new["src"]))
    new = {k: v[order] for k, v in new.items()}
    key_old = old["src"].astype(np.int64) * n + old["dst"]
    key_new = new["src"].astype(np.int64) * n + new["dst"]
    lo = np.searchsorted(key_old, key_new, "left")
    hi = np.searchsorted(key_old, key_new, "right")
    at = lo.copy()
    w_old, r_old = old["weight"], old["erowid"]
    for i in np.flatnonzero(hi > lo).tolist():  # parallel edges of an existing pair: place by (-w, rowid)
        j, w, r = int(lo[i]), float(new["weight"][i]), int(new["erowid"][i])
        while j < hi[i] and (-w_old[j], r_old[j]) < (-w, r):
            j += 1
        at[i] = j
    return {k: np.insert(old[k], at, new[k]) for k in old}


# ----- edge ids for answers -------------------------------------------------------------------------
def edge_labels(data: GraphData, source: Source, positions: Sequence[int] | None = None) -> list[str]:
    """The ids of the edges at ``positions`` (all edges when None) as they were in the snapshot.

    The current row at each rowid is checked against the snapshot's id hash; a row changed since
    the snapshot is looked up in ``omega_edge_log`` and among rows inserted since. If the store changed
    so much that an id cannot be recovered, :class:`ConflictError` asks for a refresh.
    """
    pos = np.arange(data.n_edges) if positions is None else np.asarray(positions, dtype=np.int64)
    if len(pos) == 0:
        return []
    rowids = data.erowid[pos]
    want = data.ehash[pos]
    out: list[str | None] = [None] * len(pos)
    with source.read() as conn:
        if positions is None:
            current = dict(conn.execute("SELECT rowid, id FROM causal_edges").fetchall())
        else:
            current = {}
            unique = sorted(set(rowids.tolist()))
            for i in range(0, len(unique), _CHUNK):
                chunk = unique[i : i + _CHUNK]
                current.update(
                    conn.execute(
                        f"SELECT rowid, id FROM causal_edges WHERE rowid IN ({', '.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                )
        found = [current.get(r) for r in rowids.tolist()]
        if edge_position(conn) == (data.state.edge_max_rowid, data.state.log_seq):
            return found  # type: ignore[return-value]  # no edge changed: every rowid holds its id
        _match(out, found, want)
        missing = [i for i, v in enumerate(out) if v is None]
        if missing:  # changed since the snapshot: the log holds the id a rowid had, then newer rows
            cands = conn.execute(
                "SELECT edge_rowid, edge_id FROM omega_edge_log WHERE seq > ? ORDER BY seq",
                (data.state.log_seq,),
            ).fetchall()
            cands += conn.execute(
                "SELECT rowid, id FROM causal_edges WHERE rowid > ?", (data.state.edge_max_rowid,)
            ).fetchall()
            by_hash = dict(
                zip(hash_strings([c[1] for c in cands]).tolist(), (c[1] for c in cands), strict=True)
            )
            for i in missing:
                out[i] = by_hash.get(int(want[i]))
    lost = [i for i, v in enumerate(out) if v is None]
    if lost:
        raise ConflictError(
            f"the store changed since this graph snapshot was taken and {len(lost)} edge id(s) "
            f"(e.g. the edge stored at rowid {int(rowids[lost[0]])}) can no longer be recovered; "
            "call refresh() on the graph and ask again"
        )
    return out  # type: ignore[return-value]


def _match(out: list[str | None], found: list[str | None], want: np.ndarray) -> None:
    present = [i for i, v in enumerate(found) if v is not None]
    hashes = hash_strings([found[i] for i in present])  # type: ignore[misc]
    for i, h in zip(present, hashes.tolist(), strict=True):
        if h == int(want[i]):
            out[i] = found[i]
