"""Cycles: ``simple_cycles`` and ``find_cycle``, in networkx's order.

- ``simple_cycles``: networkx's algorithm step by step, so its cycles come in networkx's order,
  each in networkx's rotation: self-loops first (node order), then the loop-free simple digraph
  networkx builds (its node order: first appearance in the edge list), its strongly connected
  components found by networkx's own algorithm (so that each component, a Python ``set``, iterates
  as networkx's does: built from the same nodes by the same insertions), and Johnson's search (or
  the bounded search of Gupta and Suzumura with ``length_bound``) from the first node of the last
  component, which is then removed and its component split again (subgraph views iterate their
  nodes as networkx's do). The searches run on node indices; only the components' sets hold the
  nodes themselves. Nodes that cannot reach a cycle (found in C: scipy's strongly connected
  components and one breadth-first search) are left out of the search for components, which does
  not change networkx's order. Parallel edges make no further cycles, as in networkx.
- ``find_cycle``: networkx's depth-first search of edges (``edge_dfs``) and its bookkeeping, over
  edge positions, with every orientation; edges are ``(u, v)``, or ``(u, v, key)`` for multigraphs
  (a ``CausalGraph``'s keys are its edge ids, a converted ``MultiDiGraph``'s are read from it), with
  ``"forward"`` / ``"reverse"`` when an orientation is given. The search does not descend into nodes
  already explored from an earlier start (networkx's search walks them again and skips their edges).

Run in networkx: a ``length_bound`` that is not a number, an unknown ``orientation``, a ``source``
that is neither a node nor a list, tuple or set of nodes.
"""

from __future__ import annotations

import numbers
from collections import defaultdict
from collections.abc import Hashable, Iterator
from itertools import islice
from typing import Any

import numpy as np

from ._convert import Delegate, view_of
from ._dispatch import native
from ._view import OmegaGraph, View

__all__ = ["find_cycle", "simple_cycles"]

Adjacency = dict[int, list[int]]


# ----- simple_cycles ------------------------------------------------------------------------------
def _bound_is_number(bound: Any) -> bool | str:
    b = bound.arguments.get("length_bound")
    return True if b is None or isinstance(b, numbers.Real) else "a length_bound that is not a number"


@native(accepts=_bound_is_number)
def simple_cycles(G: Any, length_bound: int | None = None) -> Iterator[list[Hashable]]:
    """networkx's ``simple_cycles`` for a directed graph: a generator of cycles (lists of nodes), in
    networkx's order and rotation."""
    if length_bound is not None and not isinstance(length_bound, numbers.Real):
        raise Delegate("a length_bound that is not a number")
    return _simple_cycles(view_of(G), length_bound)


def _simple_cycles(view: View, length_bound: Any) -> Iterator[list[Hashable]]:
    if length_bound is not None:
        if length_bound == 0:
            return
        elif length_bound < 0:
            raise ValueError("length bound must be non-negative")
    nodes = view.nodes
    psrc, pdst = view.pair_src(), view.pairs()[1]
    loop = psrc == pdst
    yield from ([nodes[v]] for v in psrc[loop].tolist())
    if length_bound is not None and length_bound == 1:
        return
    hsrc, hdst = psrc[~loop], pdst[~loop]  # networkx's loop-free DiGraph H, edges in its order
    if not len(hsrc):
        return
    sequence = np.empty(2 * len(hsrc), dtype=np.int64)
    sequence[0::2], sequence[1::2] = hsrc, hdst
    members, first = np.unique(sequence, return_index=True)
    horder = members[np.argsort(first, kind="stable")]  # H's nodes: first appearance
    rank = np.full(view.n, -1, dtype=np.int64)
    rank[horder] = np.arange(len(horder), dtype=np.int64)
    if length_bound is not None and length_bound == 2:
        yield from _digons(nodes, horder, hsrc, hdst, rank)
        return
    yield from _directed_cycle_search(view, hsrc, hdst, horder, rank, length_bound)


def _digons(
    nodes: Any, horder: np.ndarray, hsrc: np.ndarray, hdst: np.ndarray, rank: np.ndarray
) -> Iterator[list[Hashable]]:
    """networkx's ``length_bound == 2`` loop: per node u of H, ``visited.intersection(H[u])``."""
    n = len(rank)
    keys = np.sort(hsrc * n + hdst)
    back = keys[np.minimum(np.searchsorted(keys, hdst * n + hsrc), len(keys) - 1)] == hdst * n + hsrc
    earlier = back & (rank[hdst] < rank[hsrc])  # u -> x -> u with x visited before u
    heads = np.unique(hsrc[earlier])
    if not len(heads):
        return
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(hsrc, minlength=n), out=ptr[1:])
    succ = hdst.tolist()
    bounds, ranks = ptr.tolist(), rank.tolist()
    partners: dict[int, set[int]] = defaultdict(set)
    for u, x in zip(hsrc[earlier].tolist(), hdst[earlier].tolist(), strict=True):
        partners[u].add(x)
    for u in heads[np.argsort(rank[heads])].tolist():
        ru = ranks[u]
        index = {nodes[x]: x for x in succ[bounds[u] : bounds[u + 1]] if ranks[x] < ru}
        common = {v for v in index}  # built as set.intersection builds it: the same iteration order
        yield from ([v, nodes[u]] for v in common if index[v] in partners[u])


def _directed_cycle_search(
    view: View, hsrc: np.ndarray, hdst: np.ndarray, horder: np.ndarray, rank: np.ndarray, length_bound: Any
) -> Iterator[list[Hashable]]:
    """networkx's ``_directed_cycle_search`` on H (see the module doc)."""
    from .components import labels

    n, nodes = view.n, view.nodes
    count, label = labels(view, "strong")
    cyclic = np.bincount(label, minlength=count)[label] >= 2
    if not cyclic.any():
        return
    relevant = _reaching(view, np.flatnonzero(cyclic))
    keep = relevant[hsrc] & relevant[hdst]
    adjacency = _lists(n, hsrc[keep], hdst[keep])
    order = horder[relevant[horder]].tolist()
    index = {nodes[i]: i for i in np.flatnonzero(cyclic).tolist()}
    alive = len(horder)  # len(H._node)
    ranks = rank.tolist()
    components = [(c, members, adjacency) for c, members in _scc(order, adjacency, nodes)]
    while components:
        c, members, outer = components.pop()
        inside = {x for x in c}  # the subgraph's show_nodes set, built from c as networkx builds it
        v = index[next(iter(c))]
        member_set = set(members)
        nbrs = {u: [x for x in outer[u] if x in member_set] for u in members}
        if length_bound is None:
            yield from _johnson(nbrs, v, nodes)
        else:
            yield from _bounded(nbrs, v, length_bound, nodes)
        alive -= 1  # G.remove_node(v)
        if 2 * len(inside) < alive:  # the subgraph iterates its set, else H's nodes (FilterAtlas)
            sub_order = [index[x] for x in inside if index[x] != v]
        else:
            member_set.discard(v)
            sub_order = sorted(member_set, key=ranks.__getitem__)
        components.extend((c, members, nbrs) for c, members in _scc(sub_order, nbrs, nodes, v))


def _reaching(view: View, targets: np.ndarray) -> np.ndarray:
    """Mask of the nodes with a path to one of ``targets`` (targets included), one BFS in C."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import breadth_first_order

    rev = view.structure(reverse=True)
    n = view.n
    indptr = np.append(rev.indptr.astype(np.int64), rev.indptr[-1] + len(targets))
    indices = np.concatenate([rev.indices.astype(np.int64), targets])
    kind = np.int32 if len(indices) < 2**31 else np.int64
    graph = csr_array(
        (np.ones(len(indices), dtype=np.int8), indices.astype(kind), indptr.astype(kind)),
        shape=(n + 1, n + 1),
    )
    found = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    mask = np.zeros(n + 1, dtype=bool)
    mask[found] = True
    return mask[:n]


def _lists(n: int, src: np.ndarray, dst: np.ndarray) -> Adjacency:
    """Successor lists (edges grouped by source, in order) of the sources present."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    flat, bounds = dst.tolist(), ptr.tolist()
    return defaultdict(list, {u: flat[bounds[u] : bounds[u + 1]] for u in np.unique(src).tolist()})


def _scc(
    order: list[int], adjacency: Adjacency, nodes: Any, removed: int = -1
) -> Iterator[tuple[set[Hashable], list[int]]]:
    """networkx's ``strongly_connected_components`` over ``order`` and ``adjacency`` (without the node
    ``removed``): the components of two or more nodes as networkx builds them (``{v}``, then the
    others as popped), and their indices."""
    preorder: dict[int, int] = {removed: 0}  # the removed node: as if visited and done
    lowlink: dict[int, int] = {}
    found: set[int] = {removed}
    scc_queue: list[int] = []
    i = 0
    neighbors: dict[int, Iterator[int]] = {}
    for source in order:
        if source in found:
            continue
        queue = [source]
        while queue:
            v = queue[-1]
            if v not in preorder:
                i += 1
                preorder[v] = i
                neighbors[v] = iter(adjacency[v])
            done = True
            for w in neighbors[v]:
                if w not in preorder:
                    queue.append(w)
                    done = False
                    break
            if done:
                low = pv = preorder[v]
                for w in adjacency[v]:
                    if w not in found:
                        pw = preorder[w]
                        if pw > pv:
                            pw = lowlink[w]
                        if pw < low:
                            low = pw
                lowlink[v] = low
                queue.pop()
                if low == pv:
                    if scc_queue and preorder[scc_queue[-1]] > pv:
                        component = {nodes[v]}
                        members = [v]
                        while scc_queue and preorder[scc_queue[-1]] > pv:
                            k = scc_queue.pop()
                            component.add(nodes[k])
                            members.append(k)
                        found.update(members)
                        yield component, members
                    else:
                        found.add(v)
                else:
                    scc_queue.append(v)


def _johnson(nbrs: Adjacency, start: int, nodes: Any) -> Iterator[list[Hashable]]:
    """networkx's ``_johnson_cycle_search`` from ``[start]`` (the cycles through ``start``)."""
    path = [start]
    names = [nodes[start]]  # the path's nodes, kept along: a cycle is yielded as a copy of it
    blocked = {start}
    B: dict[int, set[int]] = defaultdict(set)
    stack = [iter(nbrs[start])]
    closed = [False]
    while stack:
        for w in stack[-1]:
            if w == start:
                yield names[:]
                closed[-1] = True
            elif w not in blocked:
                path.append(w)
                names.append(nodes[w])
                closed.append(False)
                stack.append(iter(nbrs[w]))
                blocked.add(w)
                break
        else:
            stack.pop()
            v = path.pop()
            names.pop()
            if closed.pop():
                if closed:
                    closed[-1] = True
                unblock = {v}
                while unblock:
                    u = unblock.pop()
                    if u in blocked:
                        blocked.remove(u)
                        unblock.update(B[u])
                        B[u].clear()
            else:
                for w in nbrs[v]:
                    B[w].add(v)


def _bounded(nbrs: Adjacency, start: int, length_bound: Any, nodes: Any) -> Iterator[list[Hashable]]:
    """networkx's ``_bounded_cycle_search`` from ``[start]``."""
    path = [start]
    names = [nodes[start]]
    lock = {start: 0}
    B: dict[int, set[int]] = defaultdict(set)
    stack = [iter(nbrs[start])]
    blen = [length_bound]
    while stack:
        for w in stack[-1]:
            if w == start:
                yield names[:]
                blen[-1] = 1
            elif len(path) < lock.get(w, length_bound):
                path.append(w)
                names.append(nodes[w])
                blen.append(length_bound)
                lock[w] = len(path)
                stack.append(iter(nbrs[w]))
                break
        else:
            stack.pop()
            v = path.pop()
            names.pop()
            bl = blen.pop()
            if blen:
                blen[-1] = min(blen[-1], bl)
            if bl < length_bound:
                relax = [(bl, v)]
                while relax:
                    bl, u = relax.pop()
                    if lock.get(u, length_bound) < length_bound - bl + 1:
                        lock[u] = length_bound - bl + 1
                        relax.extend((bl + 1, w) for w in B[u].difference(path))
            else:
                for w in nbrs[v]:
                    B[w].add(v)


def _memory(a: np.ndarray) -> Any:
    """A memoryview of ``a`` (contiguous): Python reads of its items, without converting them all."""
    return memoryview(np.ascontiguousarray(a))  # type: ignore[arg-type]


# ----- find_cycle ---------------------------------------------------------------------------------
_ORIENTATIONS = (None, "original", "reverse", "ignore")


def _orientation_known(bound: Any) -> bool | str:
    o = bound.arguments.get("orientation")
    return True if any(o is x or o == x for x in _ORIENTATIONS) else "an unknown orientation runs in networkx"


def _starts(view: View, source: Any) -> list[int]:
    """networkx's ``G.nbunch_iter(source)`` as indices (Delegate for what networkx must judge)."""
    if source is None:
        return list(range(view.n))
    i = view.find(source)
    if i >= 0:
        return [i]
    if not isinstance(source, list | tuple | set | frozenset):
        raise Delegate("a source that is neither a node nor a list, tuple or set of nodes")
    found = [view.find(v) for v in source]
    if any(i < 0 for i in found):
        raise Delegate("a source list holding something that is not a node")
    return found


def _in_edges(view: View) -> tuple[np.ndarray, np.ndarray]:
    """``(bounds, edges)``: node v's in-edges in ``G.in_edges(v)`` order are ``edges[bounds[v]:bounds[v+1]]``."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        ptr, pairs = view.pred()
        first = view.pairs()[2]
        counts = np.diff(np.append(first, view.n_edges))
        lens = counts[pairs]
        edges = np.repeat(first[pairs] - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        bounds = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)[ptr]
        return bounds, np.ascontiguousarray(edges, dtype=np.int64)

    result: tuple[np.ndarray, np.ndarray] = view.cached("in_edges", build)
    return result


def _edge_keys(G: Any, view: View, edges: list[int]) -> list[Any]:
    """The networkx keys of the multigraph edges at ``edges`` (positions in ``G.edges`` order)."""
    if not isinstance(G, OmegaGraph):  # a CausalGraph: its edge ids
        ids: list[Any] = G._data.edge_ids_at(edges)
        return ids
    nxg = G.to_networkx()
    _, _, first, pair_of = view.pairs()
    keys = []
    for e in edges:
        kd = nxg._adj[view.nodes[int(view.src[e])]][view.nodes[int(view.dst[e])]]
        keys.append(next(islice(kd, e - int(first[pair_of[e]]), None)))
    return keys


@native(accepts=_orientation_known)
def find_cycle(G: Any, source: Any = None, orientation: str | None = None) -> list[tuple[Any, ...]]:
    """networkx's ``find_cycle``: the edges of the cycle its depth-first edge search meets first
    (``NetworkXNoCycle`` when there is none)."""
    import networkx as nx

    if not any(orientation is x or orientation == x for x in _ORIENTATIONS):
        raise Delegate("an unknown orientation")
    view = view_of(G)
    starts = _starts(view, source)
    src, dst, out = _memory(view.src), _memory(view.dst), _memory(view.indptr())
    forward = orientation in (None, "original", "ignore")
    backward = orientation in ("reverse", "ignore")
    in_bounds, in_edges = (_memory(a) for a in _in_edges(view)) if backward else ([], [])

    def edges_from(u: int) -> Iterator[int]:  # an edge e forward, ~e backward
        if forward:
            yield from range(out[u], out[u + 1])
        if backward:
            yield from (~e for e in in_edges[in_bounds[u] : in_bounds[u + 1]])

    def tailhead(e: int) -> tuple[int, int]:
        return (src[e], dst[e]) if e >= 0 else (dst[~e], src[~e])

    explored = bytearray(view.n)
    cycle: list[int] = []
    final_node = -1
    for start in starts:
        if explored[start]:
            continue
        edges: list[int] = []
        seen = {start}
        active = {start}
        previous_head = -1
        for step in _edge_dfs(start, edges_from, tailhead, explored):
            tail, head = tailhead(step)
            if previous_head >= 0 and tail != previous_head:
                while True:  # backtracking: pop to the edge whose head is this tail
                    try:
                        popped = edges.pop()
                    except IndexError:
                        edges = []
                        active = {tail}
                        break
                    else:
                        active.remove(tailhead(popped)[1])
                    if edges and tail == tailhead(edges[-1])[1]:
                        break
            edges.append(step)
            if head in active:
                cycle.extend(edges)
                final_node = head
                break
            seen.add(head)
            active.add(head)
            previous_head = head
        if cycle:
            break
        for v in seen:
            explored[v] = 1
    else:
        raise nx.NetworkXNoCycle("No cycle found.")
    i = next(i for i, e in enumerate(cycle) if tailhead(e)[0] == final_node)
    cycle = cycle[i:]
    positions = [e if e >= 0 else ~e for e in cycle]
    keys = _edge_keys(G, view, positions) if view.multigraph else None
    nodes = view.nodes
    result = []
    for k, (e, p) in enumerate(zip(cycle, positions, strict=True)):
        edge: tuple[Any, ...] = (nodes[src[p]], nodes[dst[p]])
        if keys is not None:
            edge += (keys[k],)
        if orientation is not None:
            edge += ("forward" if e >= 0 else "reverse",)
        result.append(edge)
    return result


def _edge_dfs(start: int, edges_from: Any, tailhead: Any, explored: bytearray) -> Iterator[int]:
    """networkx's ``edge_dfs`` from ``start``, without the edges into ``explored`` nodes (networkx's
    ``find_cycle`` skips those, and nothing reachable from them is unexplored)."""
    visited_edges: set[int] = set()
    visited_nodes: set[int] = set()
    iterators: dict[int, Iterator[int]] = {}
    stack = [start]
    while stack:
        current = stack[-1]
        if current not in visited_nodes:
            iterators[current] = edges_from(current)
            visited_nodes.add(current)
        edge = next(iterators[current], None)
        if edge is None:
            stack.pop()
            continue
        position = edge if edge >= 0 else ~edge
        if position in visited_edges:
            continue
        visited_edges.add(position)
        head = tailhead(edge)[1]
        if explored[head]:
            continue
        stack.append(head)
        yield edge
