"""The snapshot's data: memories and causal edges as compact integer-indexed numpy arrays.

Layout
------
Nodes are the store's memories in id order (``node_ids`` is sorted, so an id is found by bisection
and "ties broken by id" is "ties broken by index"). Edges are parallel arrays kept sorted by
``(src, dst, -weight, rowid)``: the edges leaving a node are contiguous (a CSR without a copy), and
the first edge of each ``(src, dst)`` run is the strongest of its parallel edges (ties: the earliest
stored, lowest rowid).

A snapshot owns its data: node ids, edge ids, endpoints, weights, types, ``created_at``, tier and
importance are all held, so no answer reads the store and no write elsewhere changes or fails an
answer until :meth:`~.causal_graph.CausalGraph.refresh`. Edge ids live in a compact
:class:`~._strings.StringStore` (UTF-8 bytes plus an offset each) in the order they were read; ``eid``
maps each edge to its slot there, so sorting edges never moves strings. Each edge also keeps its
SQLite rowid and, once a refresh needs it, a 64-bit hash of its id (DuckDB's ``hash``) for fast
membership tests against the change logs.

Memory per edge, by array size: endpoints 8 B, weight 8 B, created_at 8 B, type 2 B, rowid 8 B, id
hash 8 B, id slot 4 B, id offset 8 B and the id's UTF-8 bytes plus one; then the derived structures
(both directions' collapsed adjacency and cost matrices, the reverse order) about 60-70 B more.

Derived structures (collapsed adjacency both ways, scipy matrices) are cached; a new snapshot builds
the ones most questions share at once (:meth:`GraphData.prepare`), the rest on first use.

Examples
--------
>>> import numpy as np
>>> d = GraphData.from_rows(
...     nodes=[(1, "a", 1, 0.5), (2, "b", 2, 0.1), (3, "c", 3, 0.9)],
...     edges=[(1, "ab1", "a", "b", 0.9, "causes", 0), (2, "ab2", "a", "b", 0.4, "causes", 0),
...            (3, "bc", "b", "c", 0.5, "enables", 0)],
...     state=SnapshotState(3, 0, 3, 3))
>>> d.n_nodes, d.n_edges
(3, 3)
>>> fwd = d.forward()
>>> fwd.neighbors(0).tolist(), fwd.weights(0).tolist()
([1], [0.9])
>>> d.edge_ids_at([int(fwd.edge[0])]), d.edge_ids_at()
(['ab1'], ['ab1', 'ab2', 'bc'])
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NotFoundError, ValidationError
from ._keys import hash_strings, pair_order, unpack_pairs
from ._strings import StringStore

if TYPE_CHECKING:
    from .beliefs import Beliefs

__all__ = [
    "MISSING_INT",
    "Adjacency",
    "BadValues",
    "GraphData",
    "SnapshotState",
    "hash_strings",
    "pair_order",
    "unpack_pairs",
]

#: Fewer edges than this: build in this thread (starting threads costs more than they save).
PARALLEL_MIN = 200_000
#: Stands for a ``tier`` or ``created_at`` that was not stored as an integer (SQLite is dynamically typed).
MISSING_INT = -(2**63)


@dataclass(frozen=True)
class SnapshotState:
    """Where the snapshot stands in the store: what a refresh compares against.

    ``edge_max_rowid`` is the largest ``causal_edges`` rowid (filtered or not), ``log_seq`` the
    last ``omega_edge_log`` sequence number, ``memory_count`` / ``memory_max_rowid`` describe the
    ``memories`` table, ``edge_max_id`` the id of the edge at ``edge_max_rowid``, ``memory_log_seq``
    the last ``omega_memory_log`` sequence number.
    """

    edge_max_rowid: int
    log_seq: int
    memory_count: int
    memory_max_rowid: int
    edge_max_id: str | None = None  # the id held by the row at edge_max_rowid
    memory_log_seq: int = 0  # the last omega_memory_log sequence number


@dataclass(frozen=True)
class Adjacency:
    """A collapsed CSR adjacency: one entry per linked ``(u, v)`` pair, the strongest parallel edge.

    ``nbr[indptr[u]:indptr[u + 1]]`` are u's neighbours (ascending), ``weight`` the strongest
    parallel weight and ``edge`` that edge's position in the snapshot's edge arrays.
    """

    indptr: np.ndarray
    nbr: np.ndarray
    weight: np.ndarray
    edge: np.ndarray

    def neighbors(self, u: int) -> np.ndarray:
        return self.nbr[self.indptr[u] : self.indptr[u + 1]]

    def weights(self, u: int) -> np.ndarray:
        return self.weight[self.indptr[u] : self.indptr[u + 1]]


@dataclass(frozen=True)
class BadValues:
    """Stored values of one column that a snapshot cannot use as they are.

    ``problem`` says what is wrong (``"not a number"``, ``"not an integer"``, ``"a number outside
    [0, 1]"``), ``count`` how many rows, ``examples`` the first few ``(rowid, record id, stored value,
    SQLite storage class)`` by rowid.

    >>> b = BadValues("memories", "importance", "not a number", 2, ((7, "m7", "high", "text"),))
    >>> b.describe()
    "memories.importance: 2 value(s) not a number (e.g. memory 'm7' holds 'high' (text))"
    """

    table: str
    column: str
    problem: str
    count: int
    examples: tuple[tuple[int, str, object, str], ...]

    def describe(self) -> str:
        what = "memory" if self.table == "memories" else "edge"
        eg = ", ".join(f"{what} {i!r} holds {v!r} ({t})" for _, i, v, t in self.examples[:1])
        return f"{self.table}.{self.column}: {self.count} value(s) {self.problem}" + (
            f" (e.g. {eg})" if eg else ""
        )


_PLURAL = {"weight": "weights", "created_at": "timestamps"}


def _ints(values: Sequence[int | None]) -> np.ndarray:
    """int64 array; None (a value of the wrong type) becomes :data:`MISSING_INT`."""
    try:
        return np.array(values, dtype=np.int64)
    except TypeError:  # some None
        return np.array([MISSING_INT if v is None else v for v in values], dtype=np.int64)


def _lookup(index: dict[str, int], keys: Sequence[str]) -> np.ndarray:
    """``index[key]`` for each key, -1 for a key it lacks."""
    try:
        return np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
    except KeyError:  # an endpoint that is no memory (foreign keys off)
        return np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))


def _columns(rows: Sequence[tuple], width: int) -> list[Sequence[Any]]:
    """The rows' columns (each one pass in C)."""
    from operator import itemgetter

    return [list(map(itemgetter(i), rows)) for i in range(width)]


@dataclass(eq=False)
class GraphData:
    """Arrays of one snapshot. Edges are sorted by ``(src, dst, -weight, rowid)`` (see module doc)."""

    node_ids: list[str]
    node_rowid: np.ndarray  # int64 memory rowid per node
    tier: np.ndarray  # int64
    importance: np.ndarray  # float64
    src: np.ndarray  # int32
    dst: np.ndarray  # int32
    weight: np.ndarray  # float64
    created: np.ndarray  # int64
    etype: np.ndarray  # int16 code into type_names
    erowid: np.ndarray  # int64
    eid: np.ndarray  # int32 (int64 past 2**31) slot of each edge's id in edge_ids
    created_bad: np.ndarray  # bool: the stored created_at is not an integer (``created`` is then MISSING_INT)
    edge_ids: StringStore
    type_names: list[str]
    state: SnapshotState
    ehash: np.ndarray | None = None  # uint64 DuckDB hash of each edge's id; see edge_hashes()
    bad_values: tuple[BadValues, ...] = ()  # stored values of the wrong type or range, by column
    loader: str = "sqlite3"  # how the snapshot was read: "sqlite3" or "duckdb"
    beliefs: Beliefs | None = None  # the belief events at ``state`` (see .beliefs), read with the edges
    _cache: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    # ----- construction ---------------------------------------------------------------------------
    @classmethod
    def from_rows(
        cls,
        nodes: Iterable[tuple[int, str, int | None, float | None]],
        edges: Iterable[tuple[int, str, str, str, float | None, str, int | None]],
        state: SnapshotState,
    ) -> GraphData:
        """Build from plain rows: nodes ``(rowid, id, tier, importance)``, edges ``(rowid, id,
        from_id, to_id, weight, edge_type, created_at)``. Edges whose endpoint is not a node are left out
        (only files written with foreign keys off can hold them). None stands for a value of the wrong
        type: NaN for ``importance`` and ``weight``, :data:`MISSING_INT` for ``tier`` and ``created_at`` (with
        ``created_bad`` set: every int64 is a valid ``created_at``, -2**63 included)."""
        import pandas as pd

        node_rows = sorted(nodes, key=lambda r: r[1])
        rowid, ids, tier, importance = _columns(node_rows, 4)
        node_ids = list(ids)
        index = dict(zip(node_ids, range(len(node_ids)), strict=True))
        erow, eids, ends_from, ends_to, weight, types, created = _columns(
            edges if isinstance(edges, Sequence) else list(edges), 7
        )
        src, dst = _lookup(index, ends_from), _lookup(index, ends_to)
        keep = np.flatnonzero((src >= 0) & (dst >= 0))
        codes, names = pd.factorize(pd.Series(types, dtype=object).iloc[keep], sort=True)
        data = cls(
            node_ids=node_ids,
            node_rowid=np.array(rowid, dtype=np.int64),
            tier=_ints(tier),
            importance=np.array(importance, dtype=np.float64),  # None -> NaN
            src=src[keep].astype(np.int32),
            dst=dst[keep].astype(np.int32),
            weight=np.array(weight, dtype=np.float64)[keep],
            created=_ints(created)[keep],
            etype=codes.astype(np.int16),
            erowid=np.array(erow, dtype=np.int64)[keep],
            eid=np.arange(len(keep), dtype=np.int32),
            created_bad=np.array([v is None for v in created], dtype=bool)[keep],
            edge_ids=StringStore.from_strings(
                [eids[i] for i in keep.tolist()] if len(keep) < len(eids) else eids
            ),
            type_names=[str(t) for t in names],
            state=state,
        )
        return data.sorted_edges()

    def subset_edges(self, keep: np.ndarray) -> GraphData:
        """A new snapshot with the same memories and the ``keep`` edges (a boolean mask), in order."""
        used = np.unique(self.etype[keep])
        code = np.zeros(max(len(self.type_names), 1), dtype=self.etype.dtype)
        code[used] = np.arange(len(used), dtype=self.etype.dtype)
        return dataclasses.replace(
            self,
            src=self.src[keep], dst=self.dst[keep], weight=self.weight[keep], created=self.created[keep],
            created_bad=self.created_bad[keep], etype=code[self.etype[keep]], erowid=self.erowid[keep],
            eid=self.eid[keep], type_names=[self.type_names[i] for i in used.tolist()],
            ehash=None if self.ehash is None else self.ehash[keep],
            _cache={},
        )  # fmt: skip

    def sorted_edges(self) -> GraphData:
        """Put the edge arrays in canonical ``(src, dst, -weight, rowid)`` order (in place).

        A large snapshot also sorts by ``(dst, src, -weight, rowid)`` at once in a second thread: the
        reverse order (see :meth:`_reverse`) then costs an inverse permutation instead of a sort.
        """
        large = self.n_edges >= PARALLEL_MIN
        if large:
            with ThreadPoolExecutor(2) as pool:
                ahead = pool.submit(self._pair_sort, self.dst, self.src)
                order, key = self._pair_sort(self.src, self.dst)
                r_order, r_key = ahead.result()
        else:
            order, key = self._pair_sort(self.src, self.dst)
        names = [
            "weight",
            "created",
            "created_bad",
            "etype",
            "erowid",
            "eid",
        ]  # new arrays, also when in order
        if self.ehash is not None:
            names.append("ehash")
        if not large:
            taken = [np.take(getattr(self, name), order) for name in names]
        else:
            with ThreadPoolExecutor(2) as pool:  # random gathers, memory-bound: numpy's take releases the GIL
                taken = list(pool.map(lambda name: np.take(getattr(self, name), order), names))
        for name, values in zip(names, taken, strict=True):
            setattr(self, name, values)
        self.src, self.dst = unpack_pairs(key, self.n_nodes)  # sorted already: no gather
        self._cache.clear()
        if large:  # the reverse order in canonical positions: through the inverse of `order`
            canonical = np.empty(len(order), dtype=np.int64)
            canonical[order] = np.arange(len(order), dtype=np.int64)
            self._cache["reverse"] = (canonical[r_order], *unpack_pairs(r_key, self.n_nodes))
        return self

    def _pair_sort(self, major: np.ndarray, minor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions sorted by ``(major, minor, -weight, rowid)`` and their pair keys: a pair sort, then
        parallel edges strongest first, then the earliest stored."""
        order, key = pair_order(major, minor, self.n_nodes, with_keys=True)
        tie = np.flatnonzero(key[1:] == key[:-1]) if len(key) > 1 else np.empty(0, dtype=np.int64)
        if len(tie):
            slots = np.unique(np.concatenate([tie, tie + 1]))
            sub = order[slots]
            order[slots] = sub[np.lexsort((self.erowid[sub], -self.weight[sub], key[slots]))]
        return order, key

    # ----- sizes and lookups ----------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def edge_ids_at(self, positions: Iterable[int] | None = None) -> list[str]:
        """The ids of the edges at ``positions`` (every edge, in canonical order, when None)."""
        if positions is None:
            everything = self.edge_ids.tolist()
            return [everything[i] for i in self.eid.tolist()]
        slots = self.eid[
            np.asarray(positions if isinstance(positions, np.ndarray) else list(positions), dtype=np.int64)
        ]
        if len(slots) > 1000:  # one gather of their bytes and one decode
            return self.edge_ids.take(slots).tolist()
        return self.edge_ids.at(slots.tolist())

    def edge_hashes(self) -> np.ndarray:
        """DuckDB's 64-bit hash of each edge's id (computed on first use when the loader gave none)."""
        if self.ehash is None:
            every = hash_strings(self.edge_ids.tolist())
            self.ehash = every[self.eid] if len(self.eid) else np.empty(0, dtype=np.uint64)
        return self.ehash

    def find(self, memory_id: str) -> int:
        """Node index of ``memory_id``, or -1."""
        i = bisect_left(self.node_ids, memory_id)
        return i if i < len(self.node_ids) and self.node_ids[i] == memory_id else -1

    def index(self, memory_id: object, role: str = "memory") -> int:
        """Node index of ``memory_id``; :class:`NotFoundError` naming it when it is not in the snapshot."""
        if not isinstance(memory_id, str):
            raise ValidationError("causal graph", role, memory_id, "a memory id (str)")
        i = self.find(memory_id)
        if i < 0:
            raise NotFoundError(
                "memory",
                memory_id,
                "it is not in this graph snapshot; check the id, or call refresh() if it was stored since",
            )
        return i

    def indices(self, memory_ids: Iterable[object], role: str = "memory") -> list[int]:
        if isinstance(memory_ids, str):
            memory_ids = [memory_ids]
        return [self.index(m, role) for m in memory_ids]

    # ----- derived structures (cached) ------------------------------------------------------------
    def _cached(self, key: Hashable, build: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _reverse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge positions sorted by ``(dst, src, -weight, rowid)`` (a stable sort of canonical order),
        with the ``dst`` and ``src`` in that order (unpacked from the sort's keys, no gather)."""

        def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            order, keys = pair_order(self.dst, self.src, self.n_nodes, with_keys=True)
            return (order, *unpack_pairs(keys, self.n_nodes))

        return self._cached("reverse", build)

    def _collapse(self, order: np.ndarray | None, a: np.ndarray, b: np.ndarray) -> Adjacency:
        """One entry per ``(a, b)`` run of edges sorted by pair (``order``: their positions, None: 0..E-1)."""
        n = self.n_nodes
        first = np.ones(len(a), dtype=bool)
        if len(a) > 1:
            np.not_equal(a[1:], a[:-1], out=first[1:])
            first[1:] |= b[1:] != b[:-1]
        pos = np.flatnonzero(first)
        edge = pos if order is None else order[pos]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(a[pos], minlength=n), out=indptr[1:])
        return Adjacency(indptr, b[pos].astype(np.int32), self.weight[edge], edge.astype(np.int64))

    def forward(self) -> Adjacency:
        """Collapsed out-adjacency (strongest parallel edge per pair)."""
        return self._cached("forward", lambda: self._collapse(None, self.src, self.dst))

    def backward(self) -> Adjacency:
        """Collapsed in-adjacency: ``nbr`` are the sources of the edges into each node."""
        return self._cached("backward", lambda: self._collapse(*self._reverse()))

    def adjacency(self, reverse: bool) -> Adjacency:
        return self.backward() if reverse else self.forward()

    def prepare(self) -> GraphData:
        """Build what path, reach and influence questions share, both directions at once.

        The forward side (collapsed out-adjacency, its cost matrix) and the backward side (reverse
        order, in-adjacency, its cost matrix) are independent; numpy releases the GIL in the sorts and
        gathers, so two threads take about half the time of building them on first use. Cost matrices
        are left for first use when some weight is unusable (they raise, naming the edge).
        """
        try:
            self.check_strength_weights()
            usable = True
        except ValidationError:
            usable = False

        def side(reverse: bool) -> None:
            self.adjacency(reverse)
            if usable:
                self.cost_matrix(reverse)

        if self.n_edges < PARALLEL_MIN:
            side(False)
            side(True)
            return self
        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(side, False), pool.submit(side, True)]:
                done.result()
        return self

    def forward_edge_index(self) -> np.ndarray:
        """indptr over all edges by source (canonical order is source-major): a CSR without a copy."""

        def build() -> np.ndarray:
            indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.src, minlength=self.n_nodes), out=indptr[1:])
            return indptr

        return self._cached("edge_index", build)

    def out_edges_by_time(self) -> np.ndarray:
        """Edge positions sorted by ``(src, created_at, rowid)``, aligned with :meth:`forward_edge_index`."""
        return self._cached("by_time", lambda: np.lexsort((self.erowid, self.created, self.src)))

    def check_strength_weights(self) -> None:
        """Strength questions need weights that are numbers in [0, 1]; name an offending edge otherwise."""

        def check() -> bool:
            bad = np.flatnonzero(~((self.weight >= 0.0) & (self.weight <= 1.0)))  # NaN included
            if len(bad):
                raise self._bad_edge_error(bad, "weight", self.weight, "a number in [0, 1]",
                    "strengths are products of weights in [0, 1]")  # fmt: skip
            return True

        self._cached("weights_ok", check)

    def check_created(self) -> None:
        """Time-respecting questions need every ``created_at`` to be an integer; name an edge otherwise."""

        def check() -> bool:
            bad = np.flatnonzero(self.created_bad)
            if len(bad):
                raise self._bad_edge_error(bad, "created_at", None, "an integer Unix timestamp",
                    "time-respecting paths compare the edges' created_at")  # fmt: skip
            return True

        self._cached("created_ok", check)

    def _bad_edge_error(
        self, bad: np.ndarray, column: str, values: np.ndarray | None, expected: str, why: str
    ) -> ValidationError:
        """ValidationError naming the first offending edge (by rowid): its id and stored value, and the fix."""
        rowids = self.erowid[bad]
        first = int(rowids.min())
        value: object = None if values is None else float(values[bad[int(np.argmin(rowids))]])
        edge = f"the edge at rowid {first}"
        for b in self.bad_values:
            if b.table == "causal_edges" and b.column == column:
                for rowid, record_id, stored, stored_type in b.examples:
                    if rowid == first:
                        edge, value = f"edge {record_id!r} at rowid {first} (stored as {stored_type})", stored
        more = f", and {len(bad) - 1} more edge(s)" if len(bad) > 1 else ""
        return ValidationError(
            "causal edge",
            column,
            value,
            f"{expected} for {edge}{more}; {why}: fix the stored {_PLURAL[column]} (store the edge "
            f"again with a valid {column}: store.store_causal_edge, or delete it: store.delete_causal_edge), "
            "then refresh() the graph",
        )

    def cost_matrix(self, reverse: bool) -> Any:
        """scipy CSR of the positive-weight collapsed edges with data ``-ln(weight)`` (0 kept explicit)."""

        def build() -> Any:
            self.check_strength_weights()
            adj = self.adjacency(reverse)
            keep = adj.weight > 0.0
            if keep.all():
                indptr, nbr, weight = adj.indptr, adj.nbr, adj.weight
            else:  # row starts among the kept entries: count the kept ones before each old start
                kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
                np.cumsum(keep, out=kept_before[1:])
                indptr, nbr, weight = kept_before[adj.indptr], adj.nbr[keep], adj.weight[keep]
            with np.errstate(divide="ignore"):
                data = -np.log(weight)
            data[data == 0.0] = 0.0  # -0.0 -> 0.0
            return self._csr(data, nbr, indptr)

        return self._cached(f"cost_{reverse}", build)

    def structure_matrix(self, reverse: bool) -> Any:
        """scipy CSR of every collapsed edge (data 1.0), for reachability and components."""

        def build() -> Any:
            adj = self.adjacency(reverse)
            return self._csr(np.ones(len(adj.nbr)), adj.nbr, adj.indptr)

        return self._cached(f"structure_{reverse}", build)

    def sum_matrix(self) -> Any:
        """scipy CSR ``A[u, v]`` = sum of the weights of all parallel edges u -> v."""

        def build() -> Any:
            self.check_strength_weights()
            adj = self.forward()
            first = adj.edge
            sums = np.add.reduceat(self.weight, first) if len(first) else np.empty(0)
            return self._csr(sums, adj.nbr, adj.indptr)

        return self._cached("sum", build)

    def _csr(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> Any:
        """An n x n scipy CSR array over these arrays; 32-bit indices when they fit (scipy keeps them
        without a copy, and its graph routines work in 32 bits)."""
        import scipy.sparse as sp

        if len(indices) < 2**31:
            indptr = indptr.astype(np.int32)
            indices = indices.astype(np.int32, copy=False)
        n = self.n_nodes
        return sp.csr_array((data, indices, indptr), shape=(n, n))

    def nbytes(self) -> int:
        """Bytes held by the arrays (node id strings included, cached structures included)."""
        import sys

        total = sum(
            a.nbytes
            for a in (self.node_rowid, self.tier, self.importance, self.src, self.dst, self.weight,
                      self.created, self.created_bad, self.etype, self.erowid, self.eid)
        )  # fmt: skip
        total += self.edge_ids.nbytes + (0 if self.ehash is None else self.ehash.nbytes)
        total += sys.getsizeof(self.node_ids) + sum(sys.getsizeof(s) for s in self.node_ids)
        for value in self._cache.values():
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, Adjacency):
                total += sum(a.nbytes for a in (value.indptr, value.nbr, value.weight, value.edge))
            elif hasattr(value, "data") and hasattr(value, "indices"):
                total += value.data.nbytes + value.indices.nbytes + value.indptr.nbytes
        return total


def path_strength(weights: Sequence[float]) -> float:
    """Product of the weights, left to right (1.0 for the empty path)."""
    return math.prod(weights, start=1.0)
