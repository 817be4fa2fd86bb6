"""The single-source searches behind :mod:`.shortest_paths`, in Python and in C, with networkx's order.

How. A search from one node first runs networkx's own algorithm in Python, over the view's neighbours
(networkx's order) and per-pair weights (the minimum of parallel edges), while it has scanned few nodes
and edges (:func:`_budget`); a larger search restarts in C:

- breadth-first: scipy's ``breadth_first_order``, a FIFO search over the rows in networkx's neighbour
  order, so networkx's visiting order and parents exactly; levels from the parents' positions;
- Dijkstra: scipy's ``dijkstra`` for the distances (the same float additions along the same paths:
  networkx's sums bit for bit), then networkx's settle order rebuilt exactly (see :func:`_settle`):
  its heap pops by ``(distance, push count)``, and a node's surviving push is made by its *parent*,
  the first settled node ``p`` with ``d[p] + w == d[u]``, in ``p``'s neighbour order. Paths follow
  those parents. Tie structures needing over ``MAX_ROUNDS`` rounds run the Python search instead.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from heapq import heappop, heappush
from itertools import count
from typing import Any

import networkx as nx
import numpy as np

from ._convert import Delegate
from ._view import View

#: A search in Python that has scanned more nodes and edges than this (or than the graph's size / 200,
#: plus 1000) restarts in C.
PY_BUDGET = 20_000
#: Rounds of the tie rebuild (see :func:`_settle`) beyond which the Python search runs instead.
MAX_ROUNDS = 10_000
INF = math.inf
Found = tuple[Any, list[Any], Any]  # settled node indices in networkx's order, their distances, parents


# ----- adjacency ---------------------------------------------------------------------------------
@dataclass(eq=False)
class _Adj:
    """One direction of the graph: entries grouped by source, in networkx's neighbour order."""

    n: int
    indptr: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    w: np.ndarray | None  # per entry, int64 or float64 (None: unweighted)
    bad: str | None  # why networkx must run it
    exact: bool  # scipy's float64 distances are networkx's sums (else the Python search runs)
    rows: dict[int, tuple[list[int], list[Any]]] = field(default_factory=dict)

    def row(self, v: int) -> tuple[list[int], list[Any]]:
        """Node ``v``'s neighbours and weights as Python lists (made when first asked, then kept)."""
        found = self.rows.get(v)
        if found is None:
            a, b = int(self.indptr[v]), int(self.indptr[v + 1])
            found = self.rows[v] = (self.dst[a:b].tolist(), [] if self.w is None else self.w[a:b].tolist())
        return found

    @cached_property
    def csr(self) -> Any:
        import scipy.sparse as sp

        kind = np.int32 if len(self.dst) < 2**31 else np.int64
        data = np.ones(len(self.dst)) if self.w is None else self.w.astype(np.float64)
        return sp.csr_array((data, self.dst.astype(kind), self.indptr.astype(kind)), shape=(self.n, self.n))


def adjacency(view: View, weight: str | None, reverse: bool = False, unit: bool = False) -> _Adj:
    """The cached adjacency (``reverse``: predecessors in ``G._pred`` order; ``unit``: every weight
    the int 1, networkx's Dijkstra with ``weight=None``)."""

    def build() -> _Adj:
        if reverse:
            ptr, pos = view.pred()
            src, dst = np.repeat(np.arange(view.n, dtype=np.int64), np.diff(ptr)), view.pair_src()[pos]
        else:
            (ptr, dst), src, pos = view.pairs()[:2], view.pair_src(), None
        w, bad, exact = None, None, True
        if unit:
            w = np.ones(len(dst), dtype=np.int64)
        elif weight is not None:
            w = view.pair_min(weight, 1)
            w = w if pos is None else w[pos]
            if w.dtype.kind == "f" and not np.isfinite(w).all():
                bad = "NaN or infinite weights"
            elif len(w) and w.min() < 0:
                bad = "negative weights"
            # scipy's float64 sums are networkx's while no sum can overflow (floats) or pass 2**53 (ints)
            bound = (
                float(w.max(initial=0)) * view.n if w.dtype.kind == "f" else float(w.sum(dtype=np.float64))
            )
            exact = bound < (1e300 if w.dtype.kind == "f" else 2.0**52)
        return _Adj(view.n, ptr, src, dst, w, bad, exact)

    adj: _Adj = view.cached(("shortest_paths", weight, reverse, unit), build)
    if adj.bad is not None:
        raise Delegate(adj.bad)
    return adj


# ----- networkx's searches in Python, over node indices -----------------------------------------
def _py_bfs(adj: _Adj, s: int, cutoff: Any, budget: float) -> Found | None:
    """networkx's level BFS: ``(order, level, parent)``; None once ``budget`` runs out."""
    order, level, parent = [s], [0], {s: -1}
    nextlevel, lev = [s], 0
    cutoff = INF if cutoff is None else cutoff
    while nextlevel and cutoff > lev:
        lev += 1
        thislevel, nextlevel = nextlevel, []
        for v in thislevel:
            nbrs = adj.row(v)[0]
            budget -= len(nbrs) + 1
            if budget < 0:
                return None
            for w in nbrs:
                if w not in parent:
                    parent[w] = v
                    nextlevel.append(w)
                    order.append(w)
                    level.append(lev)
    return order, level, parent


def _py_dijkstra(adj: _Adj, s: int, cutoff: Any, target: int, budget: float) -> Found | None:
    """networkx's ``_dijkstra_multisource`` (stopping at ``target``); None once ``budget`` runs out."""
    dist: dict[int, Any] = {}
    seen: dict[int, Any] = {s: 0}
    parent: dict[int, int] = {s: -1}
    c = count()
    fringe: list[tuple[Any, int, int]] = [(0, next(c), s)]
    while fringe:
        dv, _, v = heappop(fringe)
        if v in dist:
            continue
        dist[v] = dv
        if v == target:
            break
        nbrs, costs = adj.row(v)
        budget -= len(nbrs) + 1
        if budget < 0:
            return None
        for u, cost in zip(nbrs, costs, strict=True):
            vu = dv + cost
            if (cutoff is not None and vu > cutoff) or u in dist:
                continue  # (no negative weights here: networkx's "Contradictory paths" cannot happen)
            if u not in seen or vu < seen[u]:
                seen[u] = vu
                heappush(fringe, (vu, next(c), u))
                parent[u] = v
    return list(dist), list(dist.values()), parent


# ----- the same in C ----------------------------------------------------------------------------
def _c_bfs(adj: _Adj, s: int, cutoff: Any) -> Found:
    from scipy.sparse.csgraph import breadth_first_order

    order, pred = breadth_first_order(adj.csr, s, directed=True, return_predecessors=True)
    pos = np.empty(adj.n, dtype=np.int64)
    pos[order] = np.arange(len(order))
    up = pos[pred[order[1:]]]  # parent positions: nondecreasing (FIFO), so each level is a block
    bounds = [0, 1]
    while bounds[-1] < len(order) and len(bounds) < 1000:
        bounds.append(1 + int(np.searchsorted(up, bounds[-1])))
    if bounds[-1] == len(order):
        level = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    else:  # a deep search: pointer doubling, level = hops to the root
        up, level = np.append(0, up), np.ones(len(order), dtype=np.int64)
        level[0] = 0
        while up.any():
            level, up = level + level[up], up[up]
    if cutoff is not None and cutoff < INF:  # networkx keeps level L while cutoff > L - 1
        keep = int(np.searchsorted(level, max(math.ceil(cutoff), 0), side="right"))
        order, level = order[:keep], level[:keep]
    pred[s] = -1
    return order, level.tolist(), pred


def _c_distances(adj: _Adj, s: int, cutoff: Any) -> np.ndarray:
    from scipy.sparse.csgraph import dijkstra

    limit = INF if cutoff is None else max(float(cutoff), 0.0)
    d: np.ndarray = dijkstra(adj.csr, directed=True, indices=s, limit=limit, min_only=True)
    if cutoff is not None:  # networkx keeps distances <= cutoff, and the source always
        d[d > cutoff] = INF
        d[s] = 0.0
    return d


def _tight(adj: _Adj, d: np.ndarray, s: int, entries: np.ndarray | None = None) -> np.ndarray:
    """The entries ``p -> u`` with ``d[p] + w == d[u]`` (u not s, no self-loops): u's possible parents."""
    assert adj.w is not None
    e = np.arange(len(adj.dst)) if entries is None else entries
    src, dst = adj.src[e], adj.dst[e]
    return e[(d[src] + adj.w[e] == d[dst]) & (src != dst) & (dst != s)]


def _first_per_dst(adj: _Adj, entries: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each destination of ``entries``, the entry of smallest ``key``: ``(destinations, entries)``."""
    dst = adj.dst[entries]
    if 8 * len(entries) < adj.n:  # few: sort them all
        single, several = np.zeros(len(dst), dtype=bool), np.arange(len(dst))
    else:  # most destinations have one candidate: sort the others only
        single = np.bincount(dst, minlength=adj.n)[dst] == 1
        several = np.flatnonzero(~single)
    order = several[np.lexsort((key[several], dst[several]))]
    ds = dst[order]
    first = np.ones(len(ds), dtype=bool)
    first[1:] = ds[1:] != ds[:-1]
    return np.concatenate([dst[single], ds[first]]), np.concatenate([entries[single], entries[order[first]]])


def _rounds(gs: np.ndarray, gd: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, 0 when it needs no other group's order, else 1 + the largest round of those it needs
    (group ``gs[i]``, always before ``gd[i]``)."""
    pairs = np.unique(gd * n_groups + gs)  # by needing group, then needed group
    gd, gs = np.divmod(pairs, n_groups)
    rounds = np.zeros(n_groups, dtype=np.int64)
    for _ in range(32):  # a few vectorised passes settle the usual short chains
        before = rounds.copy()
        np.maximum.at(rounds, gd, rounds[gs] + 1)
        if np.array_equal(before, rounds):
            return rounds
    found = rounds.tolist()
    for g, h in zip(gd.tolist(), gs.tolist(), strict=True):  # one exact pass: h's round is final here
        found[g] = max(found[g], found[h] + 1)
    return np.array(found, dtype=np.int64)


def _settle(adj: _Adj, s: int, d: np.ndarray) -> np.ndarray | None:
    """The reached nodes in networkx's Dijkstra settle order (None: too many rounds of ties).

    By distance; inside a group of equal distances, by the push that put each node on the heap with
    its distance: ``(rank of its parent, position of the edge)``, the parent being its tight
    predecessor settled first. Members with a tight predecessor in a lower group come first (their
    parents settled before the group), in that order; the others are reached by zero-weight edges
    inside the group, in the order of a breadth-first search from those (the heap then works as a
    FIFO queue). A group's order needs the final order of the groups of equal distances it has tight
    edges from: groups are ordered in rounds of that dependency, a round at a time, vectorised.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import breadth_first_order

    reached = np.flatnonzero(d < INF)
    o = reached[np.argsort(d[reached])]
    nr, ds = len(o), d[o]
    new = np.ones(nr, dtype=bool)
    new[1:] = ds[1:] != ds[:-1]
    starts = np.flatnonzero(new)
    if len(starts) == nr:
        return o
    gid = np.full(adj.n, -1, dtype=np.int64)
    gid[o] = np.cumsum(new) - 1
    multi = np.diff(np.append(starts, nr)) > 1
    in_multi = np.zeros(adj.n, dtype=bool)
    in_multi[o] = multi[gid[o]]
    rank = np.full(adj.n, nr, dtype=np.int64)
    rank[o] = np.arange(nr)
    tight = _tight(adj, d, s, np.flatnonzero(in_multi[adj.dst]))
    gs, gd = gid[adj.src[tight]], gid[adj.dst[tight]]
    dep = (gs != gd) & multi[gs]
    rounds = _rounds(gs[dep], gd[dep], len(starts))
    last = int(rounds.max())
    if last >= MAX_ROUNDS:
        return None
    members = o[in_multi[o]]
    by_m = np.argsort(rounds[gid[members]], kind="stable")
    members, m_bounds = members[by_m], np.searchsorted(rounds[gid[members[by_m]]], np.arange(last + 2))
    by_t = np.argsort(rounds[gd], kind="stable")
    tight, inside = tight[by_t], gs[by_t] == gd[by_t]  # inside: zero-weight edges within a group
    t_bounds = np.searchsorted(rounds[gd[by_t]], np.arange(last + 2))
    local = np.zeros(adj.n, dtype=np.int64)
    for r in range(last + 1):
        mem = members[m_bounds[r] : m_bounds[r + 1]]
        ent, zero = tight[t_bounds[r] : t_bounds[r + 1]], inside[t_bounds[r] : t_bounds[r + 1]]
        to, via = _first_per_dst(adj, ent[~zero], rank[adj.src[ent[~zero]]])
        if s in mem:  # the source heads its group
            to, via = np.append(to, s), np.append(via, -1)
        first = to[np.lexsort((via, np.where(via >= 0, rank[adj.src[via]], -1), gid[to]))]
        if zero.any():  # then the others in FIFO order from those, along zero-weight edges: one BFS
            local[mem] = np.arange(1, len(mem) + 1)
            z = ent[zero]
            z = z[np.lexsort((z, local[adj.src[z]]))]  # rows by source, in neighbour order
            counts = np.bincount(local[adj.src[z]], minlength=len(mem) + 1)
            counts[0] = len(first)  # row 0: a root whose neighbours are those first, in order
            ptr = np.zeros(len(mem) + 2, dtype=np.int64)
            np.cumsum(counts, out=ptr[1:])
            cols = np.concatenate([local[first], local[adj.dst[z]]])
            graph = csr_array((np.ones(len(cols)), cols, ptr), shape=(len(mem) + 1, len(mem) + 1))
            first = mem[breadth_first_order(graph, 0, directed=True, return_predecessors=False)[1:] - 1]
        first = first[np.argsort(gid[first], kind="stable")]
        if len(first) != len(mem):
            return None  # (cannot happen) networkx's search instead
        g = gid[first]
        rank[first] = starts[g] + np.arange(len(first)) - np.searchsorted(g, g)
    out = np.empty(nr, dtype=np.int64)
    out[rank[o]] = o
    return out


def _parents(adj: _Adj, s: int, d: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per node, its Dijkstra parent: the earliest settled tight predecessor (-1: s, or not reached)."""
    rank = np.full(adj.n, len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    tight = _tight(adj, d, s)
    to, via = _first_per_dst(adj, tight, rank[adj.src[tight]])
    parent = np.full(adj.n, -1, dtype=np.int64)
    parent[to] = adj.src[via]
    return parent


# ----- one search, whichever way runs it ---------------------------------------------------------
def search(
    view: View, s: int, weight: str | None, cutoff: Any, dijkstra: bool, reverse: bool = False
) -> Found:
    """networkx's BFS or Dijkstra from node index ``s``: ``(order, distances, parents by node)``."""
    adj = adjacency(view, weight, reverse, unit=dijkstra and weight is None)
    budget = _budget(adj, cutoff)
    if adj.w is None:
        return _py_bfs(adj, s, cutoff, budget) or _c_bfs(adj, s, cutoff)
    found = _py_dijkstra(adj, s, cutoff, -1, budget)
    if found is not None:
        return found
    d = _c_distances(adj, s, cutoff)
    settled = _settle(adj, s, d)
    if settled is None:
        found = _py_dijkstra(adj, s, cutoff, -1, INF)
        assert found is not None
        return found
    values = d[settled]
    dist = (values if adj.w.dtype.kind == "f" else values.astype(np.int64)).tolist()
    dist[0] = 0  # networkx's source distance is the int 0
    return settled, dist, _Parents(adj, s, d, settled)


def to_target(view: View, s: int, target: Any, weight: str | None, cutoff: Any, path: bool) -> Any:
    """Dijkstra from ``s`` stopped at ``target``: ``(distance, path indices or None)``; None: no path."""
    adj = adjacency(view, weight, unit=weight is None)
    t = view.find(target)
    if t < 0:
        return None
    found = _py_dijkstra(adj, s, cutoff, t, _budget(adj, cutoff))
    if found is None:
        d = _c_distances(adj, s, cutoff)
        if d[t] == INF:
            return None
        dist = float(d[t]) if adj.w is not None and adj.w.dtype.kind == "f" else int(d[t])
        if not path:
            return dist, None
        settled = _settle(adj, s, d)
        if settled is not None:
            return dist, walk(_parents(adj, s, d, settled), t)
        found = _py_dijkstra(adj, s, cutoff, t, INF)
        assert found is not None
    return (found[1][-1], walk(found[2], t) if path else None) if found[0][-1] == t else None


def _budget(adj: _Adj, cutoff: Any) -> float:
    """How much of a search runs in Python before it restarts in C: about what the C search costs
    (it is linear in the graph's size), at most ``PY_BUDGET``; anything unusual (a cutoff that is not
    a plain number, sums scipy would not add exactly) runs in Python throughout."""
    plain = cutoff is None or (isinstance(cutoff, int | float) and not math.isnan(cutoff))
    return min(PY_BUDGET, 1000 + (adj.n + len(adj.dst)) // 200) if plain and adj.exact else INF


class _Parents:
    """Parents by node, computed when first asked (lengths alone never need them)."""

    def __init__(self, adj: _Adj, s: int, d: np.ndarray, order: np.ndarray) -> None:
        self.args = adj, s, d, order

    @cached_property
    def array(self) -> np.ndarray:
        return _parents(*self.args)

    def __getitem__(self, i: Any) -> Any:
        return self.array[i]


def walk(parent: Any, t: int) -> list[int]:
    """The path from the root to ``t`` along ``parent`` (a root's parent is -1)."""
    out = [t]
    while (t := int(parent[t])) >= 0:
        out.append(t)
    return out[::-1]


def _labels(view: View, indices: Any) -> list[Hashable]:
    """``view.label`` at C speed: the nodes as an object array, made once per view."""
    nodes = view.cached(
        ("shortest_paths", "nodes"), lambda: np.fromiter(view.nodes, dtype=object, count=view.n)
    )
    labels: list[Hashable] = nodes[np.asarray(indices, dtype=np.int64)].tolist()
    return labels


def length_dict(view: View, found: Found) -> dict[Hashable, Any]:
    """networkx's distances dict, in the search's order."""
    return dict(zip(_labels(view, found[0]), found[1], strict=True))


def path_dict(view: View, found: Found, reverse: bool = False) -> dict[Hashable, list[Hashable]]:
    """networkx's paths dict (``reverse``: each path reversed, for a search on the reverse graph)."""
    order, parent = found[0], found[2]
    up = [parent[v] for v in order[1:]] if isinstance(parent, dict) else parent[np.asarray(order[1:])]
    labels, parents = _labels(view, order), _labels(view, up)  # order[0] is the source
    paths = {labels[0]: [labels[0]]}
    if reverse:
        for x, p in zip(labels[1:], parents, strict=True):
            paths[x] = [x, *paths[p]]
    else:
        for x, p in zip(labels[1:], parents, strict=True):
            paths[x] = [*paths[p], x]
    return paths


def node_index(view: View, node: object, message: str) -> int:
    """The index of ``node``, or networkx's ``NodeNotFound(message)``."""
    i = view.find(node)
    if i < 0:
        raise nx.NodeNotFound(message)
    return i
