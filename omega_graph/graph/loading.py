"""Reading a snapshot from the store: the full read (:func:`read_full`).

Reading never writes. A file store is read through a private read-only sqlite3 connection
(``file:...?mode=ro``), which also sees other connections' commits; an in-memory store through
``store.connection``, inside ``BEGIN``/``COMMIT`` unless the store has a transaction open.

Bulk load (file stores with at least :data:`DUCKDB_MIN_EDGES` edges): DuckDB's SQLite scanner reads
both tables as columns **in the store's DuckDB worker process** (:mod:`._scan`,
:func:`omega_graph.duck.store_worker`: DuckDB's own SQLite library inside this process would truncate
the store's WAL index and drop its locks); endpoints travel as 64-bit hashes
mapped to node indices here, edge ids as one UTF-8 buffer. The worker's SQLite connections are not
ours and need not read at one state: the store's position (:func:`read_state`) is read first, the
child reads rows up to that position's largest rowids, and what changed meanwhile is in the change
logs, so :func:`omega_graph.graph._refresh.load` catches the result up in one read transaction
(no retry, however busy the writer). In-memory stores, small stores, and files the child cannot
read use sqlite3 in one read transaction.

Typing: SQLite is dynamically typed. A ``tier`` / ``created_at`` that is not an integer becomes
:data:`~.snapshot.MISSING_INT`, an ``importance`` / ``weight`` that is not a number NaN, on both
paths alike; :func:`describe_bad_values` names them and the snapshot warns once
(:class:`~omega_graph.errors.DataQualityWarning`). See :class:`~.causal_graph.CausalGraph` for
what each query then does.

Refresh (edges inserted, updated or deleted since a snapshot): :mod:`._refresh`.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import urllib.parse
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import duck
from ..errors import DatabaseError, DataQualityWarning, warn
from . import _scan
from .beliefs import read_beliefs
from .snapshot import MISSING_INT, BadValues, GraphData, SnapshotState

__all__ = ["Filters", "Source", "read_full", "read_state"]

CHUNK = 500  # parameters per IN (...) list


@dataclass(frozen=True)
class Clause:
    """One condition of the edge filter, stated once; :class:`Filters` renders it for SQLite, DuckDB
    and Python.

    ``op`` is ``"at_least_or_unusable"`` (the value is at least ``bound``, or of the wrong SQLite
    type: kept), ``"one_of"`` (the value is in the tuple ``bound``) or ``"at_most"`` (the value has
    its column's type and is at most ``bound``). ``dtype`` is the column's DuckDB type (see
    :data:`omega_graph.duck.ACCEPTS`; values of another SQLite type read as NULL, None in Python).
    """

    column: str
    dtype: str
    op: str
    bound: Any

    def sqlite(self, alias: str) -> tuple[str, list[Any]]:
        c = f"{alias}.{self.column}"
        if self.op == "at_least_or_unusable":
            return f"({c} >= ? OR NOT {duck.usable(c, self.dtype)})", [self.bound]
        if self.op == "one_of":
            if not self.bound:
                return "0 = 1", []
            return f"{c} IN ({', '.join('?' * len(self.bound))})", list(self.bound)
        return f"({duck.usable(c, self.dtype)} AND {c} <= ?)", [self.bound]

    def duckdb(self, first: int) -> tuple[str, list[Any]]:
        c = f"e.{self.column}"
        if self.op == "at_least_or_unusable":
            return f"({c} >= $p{first} OR {c} IS NULL)", [self.bound]
        if self.op == "one_of":
            if not self.bound:
                return "false", []
            names = ", ".join(f"$p{i}" for i in range(first, first + len(self.bound)))
            return f"{c} IN ({names})", list(self.bound)
        return f"{c} <= $p{first}", [self.bound]

    def python(self, value: Any) -> bool:
        if self.op == "at_least_or_unusable":
            return value is None or bool(value >= self.bound)
        if self.op == "one_of":
            return value in self.bound
        return value is not None and bool(value <= self.bound)


@dataclass(frozen=True)
class Filters:
    """Which edges a snapshot keeps (bounds inclusive).

    A ``weight`` that is not a number passes ``min_weight`` (the edge is kept, its weight unusable
    for strengths: see :class:`~.causal_graph.CausalGraph`); a ``created_at`` that is not an integer
    fails ``as_of``. The predicate is stated once, in :meth:`clauses`; :meth:`where` (SQLite),
    :meth:`duck_where` (DuckDB) and :meth:`keeps` (Python) are derived from it.

    Examples
    --------
    >>> f = Filters(min_weight=0.5, edge_types=("causes",))
    >>> f.where()
    ("(e.weight >= ? OR NOT typeof(e.weight) IN ('integer', 'real')) AND e.edge_type IN (?)", [0.5, 'causes'])
    >>> f.keeps(0.7, "causes", None), f.keeps(0.2, "causes", None), f.keeps(None, "enables", 0)
    (True, False, False)
    """

    min_weight: float = 0.0
    edge_types: tuple[str, ...] | None = None
    as_of: int | None = None

    def clauses(self) -> tuple[Clause, ...]:
        """The predicate: every clause must hold."""
        out = [Clause("weight", "DOUBLE", "at_least_or_unusable", self.min_weight)]
        if self.edge_types is not None:
            out.append(Clause("edge_type", duck.ANY, "one_of", tuple(self.edge_types)))
        if self.as_of is not None:
            out.append(Clause("created_at", "BIGINT", "at_most", self.as_of))
        return tuple(out)

    def where(self, alias: str = "e") -> tuple[str, list[Any]]:
        """SQLite predicate over ``alias`` and its ``?`` parameters."""
        parts = [c.sqlite(alias) for c in self.clauses()]
        return " AND ".join(p for p, _ in parts), [v for _, vs in parts for v in vs]

    def duck_where(self) -> tuple[str, list[Any]]:
        """The same predicate for DuckDB over ``e`` (values of the wrong type are NULL there), with
        ``$p<i>`` parameters."""
        sql: list[str] = []
        params: list[Any] = []
        for clause in self.clauses():
            text, values = clause.duckdb(len(params))
            sql.append(text)
            params.extend(values)
        return " AND ".join(sql), params

    def keeps(self, weight: float | None, edge_type: str, created_at: int | None) -> bool:
        """The same predicate in Python, for rows read as :data:`EDGE_COLS` gives them (None: wrong type)."""
        row = {"weight": weight, "edge_type": edge_type, "created_at": created_at}
        return all(c.python(row[c.column]) for c in self.clauses())


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
    """The store's position: max edge rowid (and its id), last edge log seq, memory count and max rowid,
    last memory log seq.

    ``count_memories=False`` skips the count (a pass over an index; -1 stands for it) for a caller that
    counts the memories it reads.
    """
    edge_max, seq = edge_position(conn)
    if count_memories:
        count, mem_max = conn.execute("SELECT count(*), coalesce(max(rowid), 0) FROM memories").fetchone()
    else:
        count, mem_max = -1, conn.execute("SELECT coalesce(max(rowid), 0) FROM memories").fetchone()[0]
    row = conn.execute("SELECT id FROM causal_edges WHERE rowid = ?", (edge_max,)).fetchone()
    mem_seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'omega_memory_log'").fetchone()
    return SnapshotState(
        edge_max, seq, int(count), int(mem_max), row[0] if row else None, int(mem_seq[0]) if mem_seq else 0
    )


# ----- bulk load -------------------------------------------------------------------------------------
#: Below this many edges (by max rowid) sqlite3 alone is faster than starting the DuckDB child process.
DUCKDB_MIN_EDGES = 200_000
LOADERS = ("auto", "duckdb", "sqlite3")


def read_full(source: Source, filters: Filters, loader: str = "auto") -> GraphData:
    """Every memory and every kept edge (see module doc).

    ``loader``: ``"auto"`` (DuckDB for file stores with at least :data:`DUCKDB_MIN_EDGES` edges),
    ``"duckdb"`` (file stores: always try the DuckDB child first) or ``"sqlite3"``. A snapshot read by
    the DuckDB child (``loader == "duckdb"`` on the result) holds the rows at its ``state`` *or newer*
    ones: the caller catches it up through the logs (:func:`omega_graph.graph._refresh.load`).
    """
    if source.path is not None and loader != "sqlite3":
        with source.connection() as conn:
            if loader == "duckdb" or edge_position(conn)[0] >= DUCKDB_MIN_EDGES:
                with source.read(conn) as c:
                    state = read_state(c, count_memories=False)
                data = _scan.load(duck.store_worker(source.store), source.path, filters.duck_where(), state)
                if data is not None:  # else no DuckDB, no extension, or it cannot read this file
                    # the memory count the snapshot stands for is what it holds; the logs say the rest
                    data.state = dataclasses.replace(state, memory_count=data.n_nodes)
                    return data
    with source.read() as conn:
        return finish(conn, load_sqlite(conn, filters))


# SQLite's dynamic typing, handled deliberately: a value of the wrong storage class becomes NULL here
# (then NaN / MISSING_INT in the arrays, reported by describe_bad_values).
NODE_COLS = f"rowid, id, {duck.sqlite_value('tier', 'BIGINT')}, {duck.sqlite_value('importance', 'DOUBLE')}"
EDGE_COLS = (
    f"rowid, id, from_memory, to_memory, {duck.sqlite_value('weight', 'DOUBLE')}, "
    f"edge_type, {duck.sqlite_value('created_at', 'BIGINT')}"
)


def load_sqlite(conn: sqlite3.Connection, filters: Filters) -> GraphData:
    """Everything through sqlite3, inside the caller's read transaction."""
    state = read_state(conn)
    nodes = conn.execute(f"SELECT {NODE_COLS} FROM memories").fetchall()
    where, params = filters.where()
    rows = conn.execute(f"SELECT {EDGE_COLS} FROM causal_edges e WHERE {where}", params).fetchall()
    data = GraphData.from_rows(nodes, rows, state)
    data.loader = "sqlite3"
    data.beliefs = read_beliefs(conn, state)
    return data


def finish(conn: sqlite3.Connection, data: GraphData, known: tuple[BadValues, ...] = ()) -> GraphData:
    """Describe the snapshot's unusable values; warn when there are more than ``known`` listed."""
    data.bad_values = describe_bad_values(conn, data)
    before = {(b.table, b.column, b.problem): b.count for b in known}
    if any(b.count > before.get((b.table, b.column, b.problem), 0) for b in data.bad_values):
        warn_bad_values(data.bad_values)
    return data


def int_or_missing(value: int | None) -> int:
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
        ("causal_edges", "created_at", "not an integer", data.erowid, data.created_bad),
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
    ("memories", "importance"): "read as None (to_networkx) and otherwise unused",
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
    """One :class:`~omega_graph.errors.DataQualityWarning` listing every column with bad values."""
    if not bad:
        return
    parts = [f"{b.describe()}: {_CONSEQUENCE[(b.table, b.column)]}" for b in bad]
    warn(
        DataQualityWarning(
            "causal graph snapshot: stored values of the wrong type or range; " + "; ".join(parts)
        )
    )
