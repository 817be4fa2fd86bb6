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

- :func:`minimal_adjustment_set`: a minimum vertex cut (augmenting paths on the node-split graph,
  as many as the cut has members, each one vectorised search); among the minimum cuts, the one
  with the lexicographically smallest sorted ids, read off the residual network (Picard and
  Queyranne, 1980) one member at a time.
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
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LimitWarning, ValidationError, warn
from ._bfs import distinct, expand, reach_mask
from .identification import _pair, _require_acyclic
from .snapshot import GraphData
from .structure import a_cycle

__all__ = ["adjustment_sets", "adjustment_sets_and_more", "minimal_adjustment_set"]


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
        self,
        start: np.ndarray,
        avoid: np.ndarray,
        through: np.ndarray | None = None,
        grow_from: np.ndarray | None = None,
    ) -> np.ndarray:
        """Mask of the nodes reached from the ``start`` mask, never entering ``avoid`` nodes, and
        entering only ``through`` nodes when given. ``grow_from``: the only ``start`` nodes whose
        neighbours need a look (the others' are known to be in ``start`` or ``avoid``)."""
        seen = start.copy()
        frontier = np.flatnonzero(start if grow_from is None else grow_from)
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
    fwd, bwd = data.forward(), data.backward()
    if a_cycle(data) is not None:
        _require_acyclic(data, reach_mask(bwd, np.array([i, j])), method)
    region = reach_mask(bwd, np.array([i])) | reach_mask(bwd, np.array([j]), blocked=i)
    # the region is ancestral in G', so x's descendants in it are reached within it
    desc = reach_mask(fwd, np.array([i]), within=region)
    nodes = np.flatnonzero(region)
    m = len(nodes)
    local = np.empty(data.n_nodes, dtype=np.int64)
    local[nodes] = np.arange(m)
    pos, child = expand(bwd.indptr, nodes)
    parent, child = local[bwd.nbr[pos]], local[child]  # every parent of the region is in it
    s, t = int(local[i]), int(local[j])
    keep = parent != s  # G': x's outgoing edges removed
    parent, child = parent[keep], child[keep]
    has_hub = np.bincount(child, minlength=m) >= 2
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
    allowed[:m] = ~desc[nodes]
    allowed[[s, t]] = False
    return MoralGraph(nodes, indptr, cols[order], allowed, s, t)


def _blocked(h: MoralGraph) -> bool:
    """No valid set: ``y`` is a parent of ``x`` (x's only moral neighbours are its parents)."""
    return bool(np.any(h.nbr[h.indptr[h.s] : h.indptr[h.s + 1]] == h.t))


# ----- the minimum set -------------------------------------------------------------------------------
class _UnitFlow:
    """A maximum flow from x to y through the moral graph, each allowed node carrying at most one unit.

    The node-split network: state ``2v`` enters node v, ``2v + 1`` leaves it; the split edge
    ``2v -> 2v + 1`` has capacity 1 for allowed nodes, unbounded otherwise, and every moral edge
    ``{u, v}`` gives ``2u + 1 -> 2v`` and ``2v + 1 -> 2u`` unbounded. The flow is at most the number
    of x's parents (they are a cut), so it takes that many vectorised searches of the moral graph
    (augmenting paths, Ford and Fulkerson), and the flow on the few used edges lives in a dict.
    """

    def __init__(self, h: MoralGraph) -> None:
        self.h = h
        self.through = np.zeros(h.size, dtype=np.int64)  # flow on each split edge
        self.edges: dict[tuple[int, int], int] = {}  # flow on moral edge u -> v, when positive

    def search(
        self, start: int, reverse: bool = False, stop: int = -1, avoid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """States reached from ``start`` in the residual network (``reverse``: states that reach it),
        never entering ``avoid``, stopping once ``stop`` is reached; and each one's predecessor."""
        h = self.h
        n = 2 * h.size
        seen = np.zeros(n, dtype=bool)
        pred = np.full(n, -1, dtype=np.int64)
        seen[start] = True
        frontier = np.array([start], dtype=np.int64)
        used = np.array(list(self.edges), dtype=np.int64).reshape(-1, 2)
        tail, head = (used[:, 1], used[:, 0]) if reverse else (used[:, 0], used[:, 1])
        open_split = ~h.allowed | (self.through == 0)  # the split edge has residual capacity
        while len(frontier) and not (stop >= 0 and seen[stop]):
            ins, outs = frontier[frontier % 2 == 0] // 2, frontier[frontier % 2 == 1] // 2
            fwd_side, back_side = (ins, outs) if reverse else (outs, ins)
            # moral edges, always open: leave a node into its neighbours (reverse: enter from them)
            pos, src = expand(h.indptr, fwd_side)
            hop = 1 if reverse else 0
            steps = [(2 * h.nbr[pos] + hop, 2 * src + 1 - hop)]
            # a split edge backwards where flow runs through it, forwards where capacity is left
            flowing = fwd_side[self.through[fwd_side] > 0]
            steps.append((2 * flowing + hop, 2 * flowing + 1 - hop))
            cross = back_side[open_split[back_side]]
            steps.append((2 * cross + 1 - hop, 2 * cross + hop))
            # a used moral edge u -> v backwards: from v's entry back to u's exit (reverse: the converse)
            mark = np.zeros(h.size, dtype=bool)
            mark[back_side] = True
            sel = mark[head]
            steps.append((2 * tail[sel] + 1 - hop, 2 * head[sel] + hop))
            cand = np.concatenate([c for c, _ in steps])
            frm = np.concatenate([f for _, f in steps])
            ok = ~seen[cand] if avoid is None else ~seen[cand] & ~avoid[cand]
            cand, frm = cand[ok], frm[ok]
            pred[cand] = frm
            frontier = distinct(cand, n)
            seen[frontier] = True
        return seen, pred

    def augment(self, pred: np.ndarray, sink: int) -> None:
        """Push one unit along the search tree's path to ``sink``."""
        v = sink
        while pred[v] >= 0:
            u = int(pred[v])
            a, b = u // 2, v // 2
            if a == b:
                self.through[a] += 1 if u % 2 == 0 else -1
            elif u % 2 == 1:  # a's exit -> b's entry: flow on a -> b
                self.edges[(a, b)] = self.edges.get((a, b), 0) + 1
            else:  # b's exit <- a's entry: cancel flow on b -> a
                self.edges[(b, a)] -= 1
                if not self.edges[(b, a)]:
                    del self.edges[(b, a)]
            v = u


def _minimum_cut(h: MoralGraph) -> np.ndarray:
    """Local indices of the minimum x-y vertex cut with the smallest sorted ids (``h`` not blocked).

    After the maximum flow, the minimum cuts are the closed sets of the residual network between
    the source and the sink (Picard and Queyranne, 1980). A node can join the cut with the members
    chosen so far when its entry is not forced to the sink's side, its exit not to the source's side,
    and its entry cannot reach its exit; taking the smallest such node k times gives the cut whose
    sorted ids come first.
    """
    flow = _UnitFlow(h)
    source, sink = 2 * h.s + 1, 2 * h.t
    k = 0
    while True:
        seen, pred = flow.search(source, stop=sink)
        if not seen[sink]:
            break
        flow.augment(pred, sink)
        k += 1
    source_side = seen
    sink_side = flow.search(sink, reverse=True)[0]
    candidates = np.flatnonzero(h.allowed & (flow.through == 1)).tolist()  # ascending: id order
    chosen: list[int] = []
    for _ in range(k):
        for v in candidates:
            if v in chosen or sink_side[2 * v] or source_side[2 * v + 1]:
                continue
            if not source_side[2 * v]:
                reached = flow.search(2 * v, stop=2 * v + 1, avoid=source_side)[0]
                if reached[2 * v + 1]:
                    continue  # its entry reaches its exit: in no minimum cut with these
                source_side |= reached
            if not sink_side[2 * v + 1]:
                sink_side |= flow.search(2 * v + 1, reverse=True, avoid=sink_side)[0]
            chosen.append(v)
            break
    return np.array(sorted(chosen), dtype=np.int64)


def minimal_adjustment_set(data: GraphData, x: object, y: object) -> frozenset[str] | None:
    """The valid back-door set with the fewest members, ties by sorted ids; None when none exists."""
    i, j = _pair(data, x, y, "minimal_adjustment_set")
    h = moral_graph(data, i, j, "minimal_adjustment_set")
    return None if _blocked(h) else h.ids(data, _minimum_cut(h))


# ----- every minimal set -----------------------------------------------------------------------------
def _nearest(
    h: MoralGraph, c: np.ndarray, z: np.ndarray, v: int, off: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The minimal separator nearest ``c`` plus ``v``, with them on x's side and ``off`` not on it.

    ``c`` is x's full component of a separator found before and ``z`` that separator (``v`` one of
    its members); the root is ``c`` and ``z`` empty, ``v`` x itself. Returns ``(C, Z)`` (x's full
    component and the separator, masks), or None when no minimal separator has ``c`` and ``v``
    within and ``off`` outside x's component. Incremental: x's side grows from ``c`` (its
    neighbours are ``z``), so the work is what changes, and the search from y's side.
    """
    start = _single(h, v)
    grown = h.component(start, c, through=~h.allowed | start)  # what cannot separate joins x's side
    if grown[h.t]:
        return None
    closed = c | grown
    around = (z & ~grown) | (h.neighbours(grown) & ~closed)
    y_side = h.component(_single(h, h.t), closed | around)
    z_new = h.neighbours(y_side) & around
    joining = around & ~z_new  # touches x's side but no longer separates: x's side grows from it
    x_side = h.component(closed | joining, z_new, grow_from=joining)
    if (x_side & off).any():
        return None
    return x_side, z_new


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
    heap: list[tuple[int, tuple[int, ...], int, np.ndarray, np.ndarray, np.ndarray]] = []
    tie = itertools.count()

    def push(c: np.ndarray, z: np.ndarray, v: int, off: np.ndarray) -> None:
        found = _nearest(h, c, z, v, off)
        if found is not None:
            c, z = found
            members = tuple(np.flatnonzero(z).tolist())
            heapq.heappush(heap, (len(members), members, next(tie), c, z, off))

    out: list[tuple[int, ...]] = []
    by_size = lambda s: (len(s), s)  # noqa: E731
    nothing = np.zeros(h.size, dtype=bool)
    push(nothing, nothing, h.s, nothing)
    while heap and len(out) < cap:
        _, members, _, c, z, off = heapq.heappop(heap)
        out.append(members)
        off = off.copy()
        for v in members:
            if off[v]:
                continue
            push(c, z, v, off.copy())
            off[v] = True
    if heap:
        best = tuple(_minimum_cut(h).tolist())
        if best not in out:
            out = sorted(out, key=by_size)[:-1] + [best]  # keep the true minimum among the ones returned
        warn(
            LimitWarning(
                f"{method}({x!r}, {y!r}) stopped at limit={cap}: more minimal adjustment sets exist. "
                "The list holds the smallest set and the others found first, not necessarily "
                "the smallest ones; raise limit to see more"
            )
        )
    ordered = sorted(out, key=by_size)
    return [h.ids(data, np.array(s, dtype=np.int64)) for s in ordered]


def adjustment_sets_and_more(graph: Any, x: str, y: str, limit: int) -> tuple[list[frozenset[str]], bool]:
    """``graph.adjustment_sets(x, y, limit)`` and whether more exist, its LimitWarning consumed.

    For callers that report the cut themselves (the CLI, the report); any other warning raised
    meanwhile is passed on unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sets = graph.adjustment_sets(x, y, limit=limit)
    more = False
    for w in caught:
        if issubclass(w.category, LimitWarning):
            more = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return sets, more
