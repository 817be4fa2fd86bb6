"""Causal paths: the strongest chain, the shortest chain, the k strongest chains, time-respecting chains.

A path's strength is the product of its edge weights (weights in [0, 1]). Strongest paths minimise
``sum(-ln w)`` with Dijkstra; an edge of weight 0 carries no influence and is never part of one.
Between two memories linked by parallel edges a path uses the strongest of them (ties: the earliest
stored) and reports that edge's id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import NoPathError
from ._bfs import expand
from .snapshot import GraphData

__all__ = ["CausalPath", "shortest_path", "strongest_path", "time_respecting_path", "top_paths"]

#: Turns node indices and edge positions into a CausalPath (the graph resolves edge ids).
Builder = Callable[[list[int], list[int]], "CausalPath"]
_FIRST = -(2**63)  # "every out-edge already opened" (the source)


@dataclass(frozen=True, slots=True)
class CausalPath:
    """A directed chain of memories.

    ``nodes`` are memory ids from cause to effect, ``edge_ids`` / ``weights`` the edges between
    consecutive nodes (one fewer than nodes), ``strength`` the product of the weights (1.0 for a
    single node).

    Examples
    --------
    >>> p = CausalPath(("a", "b", "c"), ("e1", "e2"), (0.5, 0.4), 0.2)
    >>> len(p), p.source, p.target
    (2, 'a', 'c')
    """

    nodes: tuple[str, ...]
    edge_ids: tuple[str, ...]
    weights: tuple[float, ...]
    strength: float

    def __len__(self) -> int:
        """Number of edges."""
        return len(self.edge_ids)

    @property
    def source(self) -> str:
        return self.nodes[0]

    @property
    def target(self) -> str:
        return self.nodes[-1]


def _edge_between(data: GraphData, u: int, v: int) -> int:
    """Position of the strongest u -> v edge (the collapsed adjacency's choice)."""
    adj = data.forward()
    lo, hi = int(adj.indptr[u]), int(adj.indptr[u + 1])
    k = lo + int(np.searchsorted(adj.nbr[lo:hi], v))
    assert k < hi and adj.nbr[k] == v
    return int(adj.edge[k])


def edges_of(data: GraphData, nodes: list[int]) -> list[int]:
    return [_edge_between(data, u, v) for u, v in zip(nodes, nodes[1:], strict=False)]


# ----- strongest -------------------------------------------------------------------------------------
def strongest_nodes(data: GraphData, s: int, t: int) -> list[int]:
    """Node indices of a strongest s -> t path: bidirectional Dijkstra on ``-ln w`` (positive edges)."""
    if s == t:
        return [s]
    fwd, bwd = data.cost_matrix(False), data.cost_matrix(True)
    csr = ((fwd.indptr, fwd.indices, fwd.data), (bwd.indptr, bwd.indices, bwd.data))
    dists: tuple[dict[int, float], dict[int, float]] = ({}, {})
    seen: tuple[dict[int, float], dict[int, float]] = ({s: 0.0}, {t: 0.0})
    preds: tuple[dict[int, int], dict[int, int]] = ({s: -1}, {t: -1})
    fringe: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([(0.0, s)], [(0.0, t)])
    best, meet = math.inf, -1
    side = 1
    while fringe[0] and fringe[1]:
        side = 1 - side
        d, v = heapq.heappop(fringe[side])
        done = dists[side]
        if v in done:
            continue
        done[v] = d
        if v in dists[1 - side]:
            break
        indptr, indices, costs = csr[side]
        lo, hi = indptr[v], indptr[v + 1]
        mine, other, pred, heap = seen[side], seen[1 - side], preds[side], fringe[side]
        for w, c in zip(indices[lo:hi].tolist(), costs[lo:hi].tolist(), strict=True):
            vw = d + c
            if w in done:
                continue
            if vw < mine.get(w, math.inf):
                mine[w] = vw
                heapq.heappush(heap, (vw, w))
                pred[w] = v
                if w in other:
                    total = vw + other[w]
                    if total < best:
                        best, meet = total, w
    if meet < 0:
        raise NoPathError(data.node_ids[s], data.node_ids[t], "of positive strength")
    path = [meet]
    while preds[0][path[-1]] >= 0:
        path.append(preds[0][path[-1]])
    path.reverse()
    while preds[1][path[-1]] >= 0:
        path.append(preds[1][path[-1]])
    return path


def strongest_path(data: GraphData, s: int, t: int, build: Builder) -> CausalPath:
    nodes = strongest_nodes(data, s, t)
    return build(nodes, edges_of(data, nodes))


# ----- shortest --------------------------------------------------------------------------------------
def shortest_path(data: GraphData, s: int, t: int, build: Builder) -> CausalPath:
    """Fewest edges (weight-0 edges count); among those, the strongest (ties: smallest ids)."""
    if s == t:
        return build([s], [])
    adj = data.forward()
    n = data.n_nodes
    with np.errstate(divide="ignore"):
        logw = np.log(np.clip(adj.weight, 0.0, None))
    depth = np.full(n, -1, dtype=np.int64)
    score = np.full(n, -np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    depth[s], score[s] = 0, 0.0
    frontier = np.array([s], dtype=np.int64)
    level = 0
    while len(frontier) and depth[t] < 0:
        pos, rows = expand(adj.indptr, frontier)
        heads = adj.nbr[pos].astype(np.int64)
        new = depth[heads] < 0
        pos, rows, heads = pos[new], rows[new], heads[new]
        if len(heads) == 0:
            break
        val = score[rows] + logw[pos]
        order = np.lexsort((rows, -val, heads))  # per head: best value first, then smallest pred
        heads, rows, val = heads[order], rows[order], val[order]
        first = np.ones(len(heads), dtype=bool)
        first[1:] = heads[1:] != heads[:-1]
        level += 1
        won = heads[first]
        depth[won], score[won], pred[won] = level, val[first], rows[first]
        frontier = won
    if depth[t] < 0:
        raise NoPathError(data.node_ids[s], data.node_ids[t])
    nodes = [t]
    while nodes[-1] != s:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    return build(nodes, edges_of(data, nodes))


# ----- k strongest simple paths -------------------------------------------------------------------
def top_paths(
    data: GraphData, s: int, t: int, k: int, max_length: int | None, build: Builder
) -> list[CausalPath]:
    """The ``k`` strongest simple paths, best first (ties: lexicographic by node id).

    Best-first search over partial simple paths with an exact A* bound: extending a path never
    raises its strength (weights <= 1), and the strongest unconstrained strength from a node to
    ``t`` bounds what any extension can reach. Complete paths therefore leave the queue in order of
    strength, and only partial paths that could still beat the k-th answer are expanded.
    """
    from scipy.sparse.csgraph import dijkstra

    if s == t:
        return [build([s], [])]
    to_t = dijkstra(data.cost_matrix(True), indices=t)  # -ln(best strength) from each node to t
    if not np.isfinite(to_t[s]):
        raise NoPathError(data.node_ids[s], data.node_ids[t], "of positive strength")
    fwd = data.cost_matrix(False)
    indptr, indices, costs = fwd.indptr, fwd.indices, fwd.data
    h = to_t.tolist()
    heap: list[tuple[float, tuple[int, ...], float]] = [(h[s], (s,), 0.0)]
    out: list[list[int]] = []
    while heap and len(out) < k:
        _, path, g = heapq.heappop(heap)
        v = path[-1]
        if v == t:
            out.append(list(path))
            continue
        if max_length is not None and len(path) - 1 >= max_length:
            continue
        on_path = set(path)
        lo, hi = indptr[v], indptr[v + 1]
        for w, c in zip(indices[lo:hi].tolist(), costs[lo:hi].tolist(), strict=True):
            if w in on_path or math.isinf(h[w]):
                continue
            gw = g + c
            heapq.heappush(heap, (gw + h[w], (*path, w), gw))
    if not out:
        raise NoPathError(
            data.node_ids[s], data.node_ids[t], f"of positive strength within {max_length} edges"
        )
    return [build(p, edges_of(data, p)) for p in out]


# ----- time-respecting -------------------------------------------------------------------------------
def time_respecting_path(data: GraphData, s: int, t: int, build: Builder) -> CausalPath:
    """Strongest path whose edges' ``created_at`` never decrease along it (parallel edges distinct).

    Dijkstra over edges: an edge is settled with the best cost of any time-respecting path ending
    with it. When an edge into v settles at time ``c``, the out-edges of v created at or after ``c``
    that no earlier-settled edge opened are relaxed; each edge is relaxed once.
    """
    data.check_strength_weights()
    if s == t:
        return build([s], [])
    src, dst, weight, created = data.src, data.dst, data.weight, data.created
    indptr = data.forward_edge_index()  # all edges by source (canonical order is source-major)
    by_time = data.out_edges_by_time()
    opened: dict[int, int] = {}  # node -> smallest created_at already opened from it
    best: dict[int, float] = {}
    prev: dict[int, int] = {}
    heap: list[tuple[float, int]] = []

    def open_from(v: int, since: int | None, d: float, via: int) -> None:
        lo, hi = int(indptr[v]), int(indptr[v + 1])
        order = by_time[lo:hi]
        times = created[order]
        limit = opened.get(v)
        a = 0 if since is None else int(np.searchsorted(times, since, "left"))
        b = len(order) if limit is None else int(np.searchsorted(times, limit, "left"))
        for e in order[a:b].tolist():
            w = float(weight[e])
            if w <= 0.0:
                continue
            de = d - math.log(w)
            if de < best.get(e, math.inf):
                best[e] = de
                prev[e] = via
                heapq.heappush(heap, (de, e))
        opened[v] = _FIRST if since is None else (since if limit is None else min(limit, since))

    open_from(s, None, 0.0, -1)
    settled: set[int] = set()
    while heap:
        d, e = heapq.heappop(heap)
        if e in settled:
            continue
        settled.add(e)
        v = int(dst[e])
        if v == t:
            chain = [e]
            while prev[chain[-1]] >= 0:
                chain.append(prev[chain[-1]])
            chain.reverse()
            nodes, kept = [int(src[chain[0]])], list[int]()
            for x in chain:  # erase loops (only weight-1 cycles can tie): still time-respecting
                head = int(dst[x])
                if head in nodes:
                    cut = nodes.index(head)
                    del nodes[cut + 1 :], kept[cut:]
                else:
                    nodes.append(head)
                    kept.append(x)
            return build(nodes, kept)
        lim = opened.get(v)
        if lim is None or int(created[e]) < lim:
            open_from(v, int(created[e]), d, e)
    raise NoPathError(
        data.node_ids[s], data.node_ids[t], "of positive strength with non-decreasing created_at"
    )
