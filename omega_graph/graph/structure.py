"""Acyclicity, cycles and d-separation.

``is_dag`` uses scipy's strongly connected components (linear time, in C). ``find_cycles`` lists
short cycles first with bounded work: self-loops and two-node cycles exactly (vectorised), then, per
strongly connected component, an exhaustive depth-first search by length (a component of at most
``max_sources`` nodes: the same cycles as ``networkx.simple_cycles``) or breadth-first searches from
``max_sources`` best-connected roots (a larger component). ``d_separated`` is the Bayes-ball
reachability test (Koller & Friedman, Algorithm 3.1) over the structural graph, and agrees with
``networkx.is_d_separator``.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from ..errors import NotADAGError, ValidationError
from ._bfs import expand, find_cycle_in, reach_mask
from .snapshot import GraphData

__all__ = ["d_separated", "find_cycles", "is_dag"]


def a_cycle(data: GraphData) -> list[int] | None:
    """One cycle of the whole graph (node indices), or None; cached."""
    return data._cached("a_cycle", lambda: find_cycle_in(data.forward(), labels=_components(data)))


def is_dag(data: GraphData) -> bool:
    return a_cycle(data) is None


DEFAULT_CYCLE_LIMIT = 100
DEFAULT_MAX_SOURCES = 128
#: Search steps (edges looked at by the exhaustive search) after which a bounded call stops early.
MAX_SEARCH_STEPS = 5_000_000


class _OutOfSteps(Exception):
    """The exhaustive search used up its step budget."""


def _check_bound(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError("find_cycles", name, value, "None or an integer >= 1")


def find_cycles(
    data: GraphData, limit: int | None, max_length: int | None, max_sources: int | None = DEFAULT_MAX_SOURCES
) -> list[list[str]]:
    """Short simple cycles first, bounded work: see :meth:`CausalGraph.find_cycles` for the contract.

    Examples
    --------
    >>> from omega_graph.graph.snapshot import SnapshotState
    >>> d = GraphData.from_rows(
    ...     nodes=[(i, m, 1, 0.5) for i, m in enumerate("abcd", 1)],
    ...     edges=[(i, u + v, u, v, 0.5, "causes", 0) for i, (u, v) in enumerate(
    ...         ["ab", "bc", "ca", "ac", "cd", "dd"], 1)],
    ...     state=SnapshotState(6, 0, 4, 4))
    >>> find_cycles(d, limit=None, max_length=None)
    [['d'], ['a', 'c'], ['a', 'b', 'c']]
    """
    for name, value in (("limit", limit), ("max_length", max_length), ("max_sources", max_sources)):
        _check_bound(name, value)
    if is_dag(data):
        return []
    fwd = data.forward()
    n = data.n_nodes
    top = n if max_length is None else min(max_length, n)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(fwd.indptr))
    nbr = fwd.nbr.astype(np.int64)
    # length 1 and 2, exactly and vectorised: self-loops, and pairs u < v linked both ways
    short: list[tuple[int, ...]] = [(int(v),) for v in rows[rows == nbr]]
    if top >= 2:
        up = rows < nbr
        both = np.intersect1d(rows[up] * n + nbr[up], nbr[~up] * n + rows[~up], assume_unique=True)
        short += [(int(k // n), int(k % n)) for k in both]
    found = short if limit is None else short[:limit]
    if top >= 3 and (limit is None or len(found) < limit):
        longer = _longer_cycles(
            data, rows, nbr, top, max_sources, None if limit is None else limit - len(found)
        )
        found = found + longer
    return [[data.node_ids[i] for i in c] for c in found]


def _components(data: GraphData) -> np.ndarray:
    """Strongly connected component label of every node (scipy, cached on the snapshot)."""

    def build() -> np.ndarray:
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(data.structure_matrix(False), directed=True, connection="strong")
        return labels

    return data._cached("scc_labels", build)


def _longer_cycles(
    data: GraphData, rows: np.ndarray, nbr: np.ndarray, top: int, max_sources: int | None, want: int | None
) -> list[tuple[int, ...]]:
    """Cycles of 3..``top`` nodes in (length, ids) order, at most ``want`` (None: all that are searched)."""
    labels = _components(data)
    sizes = np.bincount(labels)
    inner = (labels[rows] == labels[nbr]) & (rows != nbr) & (sizes[labels[rows]] >= 3)
    if not inner.any():
        return []
    src, dst = rows[inner], nbr[inner]  # sorted by (src, dst)
    comp_of_edge = labels[src]
    edge_order = np.argsort(comp_of_edge, kind="stable")
    comps = np.unique(comp_of_edge)
    edge_bounds = np.searchsorted(comp_of_edge[edge_order], np.append(comps, comps[-1] + 1))
    node_order = np.argsort(labels, kind="stable")  # nodes ascending within each component
    sorted_labels = labels[node_order]
    node_lo, node_hi = np.searchsorted(sorted_labels, comps), np.searchsorted(sorted_labels, comps, "right")
    streams: list[Iterator[tuple[int, tuple[int, ...]]]] = []
    sampled: set[tuple[int, tuple[int, ...]]] = set()
    budget = [MAX_SEARCH_STEPS if want is not None else -1]
    sampler: _Sampler | None = None
    for i in range(len(comps)):
        nodes = node_order[node_lo[i] : node_hi[i]]
        e = edge_order[edge_bounds[i] : edge_bounds[i + 1]]
        if max_sources is None or len(nodes) <= max_sources:
            streams.extend(_exhaustive_streams(nodes, src[e], dst[e], top, budget))
            continue
        if sampler is None:
            sampler = _Sampler(data, labels, src, dst)
        for root in sampler.roots(nodes, max_sources):
            sampled.update(sampler.shortest_cycles(root, top))
    return [c for _, c in _merge([iter(sorted(sampled)), *streams], want)]


def _merge(
    streams: list[Iterator[tuple[int, tuple[int, ...]]]], want: int | None
) -> list[tuple[int, tuple[int, ...]]]:
    """The first ``want`` cycles of sorted streams, in order; stops early when the step budget runs out.

    A stream may yield a marker ``(L, (v0,))`` (a one-node tuple for a length >= 3): "nothing of
    mine below length L is left", which sorts before every cycle of length L starting at v0. The
    stream is resumed (and searches length L) only when its marker is the smallest item left, so no
    length is searched beyond the one that completes the answer.
    """
    out: list[tuple[int, tuple[int, ...]]] = []
    heap: list[tuple[tuple[int, tuple[int, ...]], int]] = []
    try:
        for k, stream in enumerate(streams):
            item = next(stream, None)
            if item is not None:
                heap.append((item, k))
        heapq.heapify(heap)
        while heap:
            item, k = heap[0]
            if len(item[1]) == item[0]:
                out.append(item)
                if want is not None and len(out) >= want:
                    break  # before resuming the stream: its next item could cost a whole search
            following = next(streams[k], None)
            if following is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (following, k))
    except _OutOfSteps:
        pass  # ``out`` holds the first cycles in order: nothing shorter or smaller is left unseen
    return out


def _exhaustive_streams(
    nodes: np.ndarray, src: np.ndarray, dst: np.ndarray, top: int, budget: list[int]
) -> list[Iterator[tuple[int, tuple[int, ...]]]]:
    """One sorted stream per node v0 of a component: its cycles of >= 3 nodes whose smallest node is v0."""
    out_adj: list[list[int]] = [[] for _ in range(len(nodes))]
    in_adj: list[list[int]] = [[] for _ in range(len(nodes))]
    for a, b in zip(np.searchsorted(nodes, src).tolist(), np.searchsorted(nodes, dst).tolist(), strict=True):
        out_adj[a].append(b)  # ascending: the edges come sorted by (src, dst)
        in_adj[b].append(a)
    names = nodes.tolist()
    return [_rooted_cycles(out_adj, in_adj, v0, top, names, budget) for v0 in range(len(nodes) - 2)]


def _rooted_cycles(
    out_adj: list[list[int]], in_adj: list[list[int]], v0: int, top: int, names: list[int], budget: list[int]
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Simple cycles of 3..``top`` nodes through ``v0`` and nodes above it, by length then ids.

    Before searching length L it yields the marker ``(L, (names[v0],))`` (see :func:`_merge`). The
    search is depth-first over paths of exactly L nodes (lexicographic, as the neighbour lists
    ascend), entering a node only when its distance back to v0 (over the nodes above v0, found by
    one breadth-first search on first use) lets the path close within L nodes.
    """
    yield 3, (names[v0],)
    dist = {v0: 0}
    frontier = [v0]
    while frontier:
        nxt = []
        for x in frontier:
            for p in in_adj[x]:
                if p > v0 and p not in dist:
                    dist[p] = dist[x] + 1
                    nxt.append(p)
        frontier = nxt
    closing = [dist[w] for w in out_adj[v0] if w > v0 and w in dist]
    if not closing:
        return
    for length in range(max(3, min(closing) + 1), min(top, len(dist)) + 1):
        if length > 3:
            yield length, (names[v0],)
        path, on_path = [v0], {v0}
        stack = [iter(out_adj[v0])]
        while stack:
            for w in stack[-1]:
                if budget[0] == 0:
                    raise _OutOfSteps
                budget[0] -= 1
                if w == v0:
                    if len(path) == length:
                        yield length, tuple(names[i] for i in path)
                    continue
                dw = dist.get(w)
                if dw is None or w in on_path or len(path) + dw > length:
                    continue
                path.append(w)
                on_path.add(w)
                stack.append(iter(out_adj[w]))
                break
            else:
                stack.pop()
                on_path.discard(path.pop())


class _Sampler:
    """Shortest cycles through chosen roots of large components (bidirectional breadth-first search).

    Work arrays of the graph's size are allocated once and reset after each search (only the
    entries it touched), so a search costs what it visits.
    """

    def __init__(self, data: GraphData, labels: np.ndarray, src: np.ndarray, dst: np.ndarray) -> None:
        n = data.n_nodes
        self.fwd, self.bwd, self.labels = data.forward(), data.backward(), labels
        self.deg_in = np.bincount(dst, minlength=n)  # inside each node's own component
        self.deg_out = np.bincount(src, minlength=n)
        self.dist = (np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))  # forward, backward
        self.parent = (np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))

    def roots(self, nodes: np.ndarray, k: int) -> list[int]:
        """The ``k`` best-connected nodes: highest in-degree x out-degree in the component, ties by id."""
        score = self.deg_in[nodes].astype(np.float64) * self.deg_out[nodes]
        return nodes[np.lexsort((nodes, -score))[:k]].tolist()

    def shortest_cycles(self, r: int, top: int) -> list[tuple[int, tuple[int, ...]]]:
        """Every shortest cycle of 3..``top`` nodes through ``r`` met by the search (rotated to its min).

        Both searches avoid the nodes linked both ways with ``r`` (their two-node cycles are listed
        already), so the shortest closed walk through ``r`` they can close has >= 3 nodes and is a
        simple cycle. Whole levels are expanded, the side with fewer edges to scan first; at the first
        level where the two searches meet every meeting node closes a cycle of that shortest length.
        """
        comp = self.labels[r]
        sides = (self.fwd, self.bwd)
        out_r, in_r = self.fwd.neighbors(r), self.bwd.neighbors(r)
        blocked = np.intersect1d(out_r, in_r)
        blocked = blocked[blocked != r].astype(np.int64)
        touched = [np.array([r], dtype=np.int64), blocked]
        for side in (0, 1):
            self.dist[side][r] = 0
            self.parent[side][r] = r
            self.dist[side][blocked] = -2  # never entered
        frontier = [np.array([r], dtype=np.int64), np.array([r], dtype=np.int64)]
        level = [0, 0]
        found: list[tuple[int, tuple[int, ...]]] = []
        while len(frontier[0]) and len(frontier[1]) and level[0] + level[1] + 1 <= top:
            work = [
                int((sides[k].indptr[frontier[k] + 1] - sides[k].indptr[frontier[k]]).sum()) for k in (0, 1)
            ]
            side = 0 if work[0] <= work[1] else 1
            adj, dist, parent = sides[side], self.dist[side], self.parent[side]
            pos, from_row = expand(adj.indptr, frontier[side])
            reached = adj.nbr[pos].astype(np.int64)
            # back at r: the path to a frontier node closes (level >= 2: three nodes or more)
            closing = np.unique(from_row[reached == r]) if level[side] >= 2 else reached[:0]
            keep = (self.labels[reached] == comp) & (dist[reached] == -1)
            reached, from_row = reached[keep], from_row[keep]
            new, first = np.unique(reached, return_index=True)  # parent: the smallest frontier node
            level[side] += 1
            dist[new] = level[side]
            parent[new] = from_row[first]
            touched.append(new)
            frontier[side] = new
            meet = new[self.dist[1 - side][new] >= 0]
            if len(meet) or len(closing):
                found = [self._cycle(r, int(x)) for x in meet.tolist()]
                found += [self._closed(r, int(u), side) for u in closing.tolist()]
                break
        for side in (0, 1):
            every = np.concatenate(touched)
            self.dist[side][every] = -1
            self.parent[side][every] = -1
        return found

    def _cycle(self, r: int, x: int) -> tuple[int, tuple[int, ...]]:
        """The cycle r -> .. -> x (forward parents) -> .. -> r (backward parents)."""
        ahead, back = self.parent
        cycle = [x]
        while cycle[-1] != r:
            cycle.append(int(ahead[cycle[-1]]))
        cycle.reverse()
        while (nxt := int(back[cycle[-1]])) != r:
            cycle.append(nxt)
        return _rotated(cycle)

    def _closed(self, r: int, u: int, side: int) -> tuple[int, tuple[int, ...]]:
        """The cycle closed at r by one search alone: its path to ``u``, then the edge to (from) r."""
        parent = self.parent[side]
        chain = [u]
        while chain[-1] != r:
            chain.append(int(parent[chain[-1]]))
        return _rotated(chain[::-1] if side == 0 else chain)


def _rotated(cycle: list[int]) -> tuple[int, tuple[int, ...]]:
    k = cycle.index(min(cycle))
    return len(cycle), tuple(cycle[k:] + cycle[:k])


def _as_set(data: GraphData, nodes: str | Iterable[str] | None, role: str) -> set[int]:
    if nodes is None:
        return set()
    return set(data.indices(nodes, role))


def d_separated(
    data: GraphData, xs: str | Iterable[str], ys: str | Iterable[str], given: str | Iterable[str] | None
) -> bool:
    """True when every path between ``xs`` and ``ys`` is blocked by ``given`` (needs a DAG)."""
    x, y, z = _as_set(data, xs, "xs"), _as_set(data, ys, "ys"), _as_set(data, given, "given")
    for a, b, name in ((x, y, "ys"), (x, z, "given"), (y, z, "given")):
        common = a & b
        if common:
            raise ValidationError(
                "d_separated", name, sorted(data.node_ids[i] for i in common), "sets disjoint from each other"
            )
    cycle = a_cycle(data)
    if cycle is not None:
        raise NotADAGError([data.node_ids[i] for i in cycle], what="d-separation")
    fwd, bwd = data.forward(), data.backward()
    ancestors_z = reach_mask(bwd, np.fromiter(z, dtype=np.int64, count=len(z))) if z else np.zeros(0, bool)
    seen: set[tuple[int, bool]] = set()
    todo: deque[tuple[int, bool]] = deque((v, True) for v in sorted(x))  # True: arrived from a child
    while todo:
        v, up = todo.popleft()
        if (v, up) in seen:
            continue
        seen.add((v, up))
        if v in y:
            return False
        in_z = v in z
        if up and not in_z:
            todo.extend((p, True) for p in bwd.neighbors(v).tolist())
            todo.extend((c, False) for c in fwd.neighbors(v).tolist())
        elif not up:
            if not in_z:
                todo.extend((c, False) for c in fwd.neighbors(v).tolist())
            if len(ancestors_z) and ancestors_z[v]:
                todo.extend((p, True) for p in bwd.neighbors(v).tolist())
    return True
