"""Back-door adjustment sets: the smallest one (a minimum vertex cut) and every minimal one (polynomial delay).

Both questions reduce to vertex separators in one small undirected graph, the *moral back-door
graph* of the pair: take ``G'``, the snapshot without ``x``'s outgoing edges, keep the ancestral set
``A = An_G'({x, y})``, and join each node to its parents and its parents to each other (moralise).
For a set ``Z`` within ``A``, ``Z`` d-separates ``x`` and ``y`` in ``G'`` exactly when it separates
them in that graph (Lauritzen et al., 1990); every minimal separator lies within ``A`` (Tian, Paz
and Pearl, 1998). So the valid back-door sets that are minimal are exactly the minimal
``x``-``y`` vertex separators of the moral graph that avoid the descendants of ``x`` (the
construction of van der Zander, Liśkiewicz and Textor, 2019). Co-parents are joined through one
uncuttable hub per child instead of a clique, so the graph has O(|edges of A|) entries.

- :func:`minimal_adjustment_set`: a minimum vertex cut (scipy's maximum flow on the node-split
  graph); among the minimum cuts, the one with the lexicographically smallest sorted ids, read off
  the residual graph (Picard and Queyranne, 1980) one forced member at a time.
- :func:`adjustment_sets`: Takata's (2010) enumeration of minimal separators, best first. A state is
  a set ``S`` on ``x``'s side and a set ``T`` kept off it; its answer is the separator nearest ``S``;
  its children move one separator node to ``x``'s side while keeping the earlier ones off it, so
  every minimal set is produced exactly once, each after O(|Z| · |A|) work (polynomial delay).

No valid set exists exactly when ``y`` is a parent of ``x`` (otherwise the parents of ``x`` are one).
The cost of both grows with the ancestral set of the pair, not with the graph.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import LimitWarning, ValidationError, warn
from ._bfs import distinct, expand, reach_mask
from .identification import _pair, _require_acyclic
from .snapshot import GraphData

__all__ = ["adjustment_sets", "minimal_adjustment_set"]


@dataclass(frozen=True)
class MoralGraph:
    """The moral back-door graph of ``(x, y)`` over the ancestral set, in local indices.

    Local ``0..m-1`` are the real nodes (``nodes``: their snapshot indices, ascending, so local
    order is id order); ``m..`` are hubs. ``indptr``/``nbr``: symmetric CSR. ``allowed``: the nodes
    an adjustment set may contain (not ``x``, ``y``, a descendant of ``x`` or a hub).
    """

    nodes: np.ndarray
    indptr: np.ndarray
    nbr: np.ndarray
    allowed: np.ndarray
    s: int
    t: int

    @property
    def size(self) -> int:
        return len(self.indptr) - 1

    def neighbours(self, mask: np.ndarray) -> np.ndarray:
        """Mask of the neighbours of the ``mask`` nodes (not excluding them)."""
        pos, _ = expand(self.indptr, np.flatnonzero(mask))
        out = np.zeros(self.size, dtype=bool)
        out[self.nbr[pos]] = True
        return out

    def component(
        self, start: np.ndarray, avoid: np.ndarray, through: np.ndarray | None = None
    ) -> np.ndarray:
        """Mask of the nodes reached from the ``start`` mask, never entering ``avoid`` nodes, and
        entering only ``through`` nodes when given."""
        seen = start.copy()
        frontier = np.flatnonzero(start)
        while len(frontier):
            pos, _ = expand(self.indptr, frontier)
            nxt = self.nbr[pos]
            ok = ~seen[nxt] & ~avoid[nxt]
            if through is not None:
                ok &= through[nxt]
            frontier = distinct(nxt[ok], self.size)
            seen[frontier] = True
        return seen

    def ids(self, data: GraphData, local: np.ndarray) -> frozenset[str]:
        return frozenset(data.node_ids[i] for i in self.nodes[local].tolist())


def moral_graph(data: GraphData, i: int, j: int, method: str) -> MoralGraph:
    """Build the moral back-door graph of ``(i, j)`` (see the module docstring)."""
    bwd = data.backward()
    _require_acyclic(data, reach_mask(bwd, np.array([i, j], dtype=np.int64)), method)
    region = reach_mask(bwd, np.array([i])) | reach_mask(bwd, np.array([j]), blocked=i)
    nodes = np.flatnonzero(region)
    m = len(nodes)
    pos, child = expand(bwd.indptr, nodes)
    parent = np.searchsorted(nodes, bwd.nbr[pos])  # the region is ancestral: every parent is in it
    child = np.searchsorted(nodes, child)
    s, t = int(np.searchsorted(nodes, i)), int(np.searchsorted(nodes, j))
    # descendants of x within the region: the region is ancestral in G', so they are reached within it
    fwd_order = np.argsort(parent, kind="stable")
    f_indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=m), out=f_indptr[1:])
    f_nbr = child[fwd_order]
    desc = np.zeros(m, dtype=bool)
    frontier = np.array([s])
    while len(frontier):
        p, _ = expand(f_indptr, frontier)
        nxt = f_nbr[p]
        frontier = distinct(nxt[~desc[nxt]], m)
        desc[frontier] = True
    keep = parent != s  # G': x's outgoing edges removed
    parent, child = parent[keep], child[keep]
    n_parents = np.bincount(child, minlength=m)
    has_hub = n_parents >= 2
    hub_of = np.full(m, -1, dtype=np.int64)
    hub_of[has_hub] = m + np.arange(int(has_hub.sum()))
    hubbed = has_hub[child]
    a = np.concatenate((parent, parent[hubbed]))
    b = np.concatenate((child, hub_of[child[hubbed]]))
    size = m + int(has_hub.sum())
    rows, cols = np.concatenate((a, b)), np.concatenate((b, a))
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=size), out=indptr[1:])
    allowed = np.zeros(size, dtype=bool)
    allowed[:m] = ~desc
    allowed[[s, t]] = False
    return MoralGraph(nodes, indptr, cols[order], allowed, s, t)


def _blocked(h: MoralGraph) -> bool:
    """No valid set: ``y`` is a parent of ``x`` (x's only moral neighbours are its parents)."""
    return bool(np.any(h.nbr[h.indptr[h.s] : h.indptr[h.s + 1]] == h.t))


# ----- the minimum set -------------------------------------------------------------------------------
def _minimum_cut(h: MoralGraph) -> np.ndarray:
    """Local indices of the minimum x-y vertex cut with the smallest sorted ids (``h`` not blocked)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

    size = h.size
    inf = int(h.allowed.sum()) + 1  # no flow exceeds the allowed nodes (x's parents are a cut)
    edge_rows = np.repeat(np.arange(size), np.diff(h.indptr))
    rows = np.concatenate((2 * np.arange(size), 2 * edge_rows + 1))  # v_in -> v_out, u_out -> v_in
    cols = np.concatenate((2 * np.arange(size) + 1, 2 * h.nbr))
    caps = np.concatenate((np.where(h.allowed, 1, inf), np.full(len(h.nbr), inf))).astype(np.int32)
    cap = sp.csr_array((caps, (rows, cols)), shape=(2 * size, 2 * size))
    result = maximum_flow(cap, 2 * h.s + 1, 2 * h.t)
    k = int(result.flow_value)
    if k == 0:
        return np.empty(0, dtype=np.int64)
    flow = result.flow
    residual = (cap - flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    back = residual.T.tocsr()
    _, labels = connected_components(residual, directed=True, connection="strong")
    split = np.arange(size)
    saturated = np.asarray(flow[2 * split, 2 * split + 1]).ravel() == 1
    candidate = h.allowed & saturated & (labels[2 * split] != labels[2 * split + 1])

    def reach(graph: sp.csr_array, start: int) -> np.ndarray:
        out = np.zeros(2 * size, dtype=bool)
        out[breadth_first_order(graph, start, directed=True, return_predecessors=False)] = True
        return out

    source_side, sink_side = reach(residual, 2 * h.s + 1), reach(back, 2 * h.t)
    chosen: list[int] = []
    for _ in range(k):
        # v can join the cut with the members chosen so far: v_in not forced to the sink's side,
        # v_out not forced to the source's side (and v_in cannot reach v_out: different components)
        feasible = candidate & ~sink_side[2 * split] & ~source_side[2 * split + 1]
        feasible[chosen] = False
        v = int(np.flatnonzero(feasible)[0])
        chosen.append(v)
        source_side |= reach(residual, 2 * v)
        sink_side |= reach(back, 2 * v + 1)
    return np.array(sorted(chosen), dtype=np.int64)


def minimal_adjustment_set(data: GraphData, x: object, y: object) -> frozenset[str] | None:
    """The valid back-door set with the fewest members, ties by sorted ids; None when none exists."""
    i, j = _pair(data, x, y, "minimal_adjustment_set")
    h = moral_graph(data, i, j, "minimal_adjustment_set")
    return None if _blocked(h) else h.ids(data, _minimum_cut(h))


# ----- every minimal set -----------------------------------------------------------------------------
def _nearest(h: MoralGraph, side: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The minimal separator nearest ``side`` with ``side`` on x's side and ``off`` not on it.

    Returns ``(C, Z)`` (x's full component and the separator, masks) or None when no minimal
    separator has ``side`` within and ``off`` outside x's component.
    """
    # nodes that cannot be in a separator and touch x's side are on it
    closed = h.component(side, np.zeros(h.size, dtype=bool), through=~h.allowed | side)
    if closed[h.t] or (closed & off).any():
        return None
    around = h.neighbours(closed) & ~closed
    y_side = h.component(_single(h, h.t), closed | around)
    z = h.neighbours(y_side) & around
    c = h.component(_single(h, h.s), z)
    if (c & off).any():
        return None
    return c, z


def _single(h: MoralGraph, v: int) -> np.ndarray:
    m = np.zeros(h.size, dtype=bool)
    m[v] = True
    return m


def check_limit(limit: object, method: str) -> int:
    if type(limit) is not int or limit < 1:
        raise ValidationError(method, "limit", limit, "a positive int")
    return limit


def adjustment_sets(data: GraphData, x: object, y: object, limit: object = 100) -> list[frozenset[str]]:
    """Every minimal valid back-door set, up to ``limit``, by size then sorted members."""
    method = "adjustment_sets"
    i, j = _pair(data, x, y, method)
    cap = check_limit(limit, method)
    h = moral_graph(data, i, j, method)
    if _blocked(h):
        return []
    heap: list[tuple[int, tuple[int, ...], int, np.ndarray, np.ndarray]] = []
    tie = itertools.count()

    def push(side: np.ndarray, off: np.ndarray) -> None:
        found = _nearest(h, side, off)
        if found is not None:
            c, z = found
            members = tuple(np.flatnonzero(z).tolist())
            heapq.heappush(heap, (len(members), members, next(tie), c, off))

    out: list[tuple[int, ...]] = []
    by_size = lambda s: (len(s), s)  # noqa: E731
    push(_single(h, h.s), np.zeros(h.size, dtype=bool))
    while heap and len(out) < cap:
        _, members, _, c, off = heapq.heappop(heap)
        out.append(members)
        off = off.copy()
        for v in members:
            if off[v]:
                continue
            side = c.copy()
            side[v] = True
            push(side, off.copy())
            off[v] = True
    if heap:
        best = tuple(_minimum_cut(h).tolist())
        if best not in out:
            out = sorted(out, key=by_size)[:-1] + [best]  # keep the true minimum among the ones returned
        warn(
            LimitWarning(
                f"{method}({x!r}, {y!r}) stopped at limit={cap}: more minimal adjustment sets exist. "
                "The list holds the smallest set and the others found first (best first); "
                "raise limit to see more"
            )
        )
    ordered = sorted(out, key=by_size)
    return [h.ids(data, np.array(s, dtype=np.int64)) for s in ordered]
