"""Directed acyclic graphs: ``is_directed_acyclic_graph``, ``topological_generations``,
``topological_sort``, ``dag_longest_path`` and ``dag_longest_path_length``.

- ``is_directed_acyclic_graph``: vectorised. No self-loop, and nodes of in-degree 0 peeled off
  round by round in numpy leave nothing; when many rounds leave something, scipy's strongly
  connected components (in C) of what is left decide: acyclic when each is a single node.
- ``topological_generations`` / ``topological_sort``: networkx's Kahn's algorithm by generations,
  exactly: the first generation is the nodes of in-degree 0 in node order; a child joins the next
  generation when the last of its in-edges from the current generation is processed (current
  generation order, then ``G._adj`` order). Wide generations run in numpy (a child's place is the
  position of its last in-edge from the generation), narrow ones in a Python loop over the view's
  arrays; the order is cached on the view. Generators, as networkx's: on a cycle
  ``NetworkXUnfeasible`` is raised after the generations before it are yielded. If the networkx
  graph an :class:`~._view.OmegaGraph` was converted from is changed through its methods while the
  generator runs (networkx then clears the graph's ``__networkx_cache__``, where the generator left
  a token), the rest runs as networkx's own loop on the changed graph, with networkx's errors.
- ``dag_longest_path``: networkx's dynamic programme (per node, the first best of ``G.pred`` order;
  with parallel edges the largest weight of the pair; a negative best restarts the path at the
  node; the end is the first best node of the topological order), generation by generation: wide
  generations in numpy, narrow ones in Python. A ``topo_order`` runs natively when it is a list or
  tuple of every node once in a topological order. ``dag_longest_path_length`` adds the weights
  along that path as networkx does (from the original edge data for a converted networkx graph, so
  ints stay ints).

Run in networkx: a ``topo_order`` that is not a list or tuple, or not a topological order of every
node; weights that are not numbers; NaN weights on parallel edges. NaN weights of a ``DiGraph``, ints
that could overflow int64 and a ``default_weight`` that is not an int or a float run natively in
Python (networkx's comparisons, in its order).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from itertools import pairwise
from typing import Any

import numpy as np

from ._convert import Delegate, view_of
from ._dispatch import native, weight_is_name
from ._view import OmegaGraph, View

__all__ = [
    "dag_longest_path",
    "dag_longest_path_length",
    "is_directed_acyclic_graph",
    "topological_generations",
    "topological_sort",
]

#: Generations with at least this many out-pairs are processed in numpy, smaller ones in Python.
WIDE = 256
#: Generations of at least this many nodes run the longest-path programme in numpy.
WIDE_NODES = 32
#: Rounds of peeling before ``is_directed_acyclic_graph`` hands what is left to scipy.
PEEL_ROUNDS = 100
_TOKEN = "omega:topological_generations"  # the key of a running generator's token in a graph's cache
_CYCLE = "Graph contains a cycle or graph changed during iteration"


def _gather(ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The CSR positions of ``rows``, row after row (``ptr[r]:ptr[r + 1]`` for each r)."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    offsets = np.cumsum(lens) - lens
    positions: np.ndarray = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    return positions


def _memory(a: np.ndarray) -> Any:
    """A memoryview of ``a`` (contiguous): Python reads and writes of its items, without numpy scalars."""
    return memoryview(np.ascontiguousarray(a))  # type: ignore[arg-type]


# ----- acyclicity ---------------------------------------------------------------------------------
def is_acyclic(view: View) -> bool:
    """Whether ``view`` has no cycle (cached on the view)."""

    def build() -> bool:
        if bool((view.src == view.dst).any()):
            return False
        if "kahn" in view._cache:
            return bool(kahn(view)[2] == view.n)
        if ("components", "strong") in view._cache:
            from .components import labels

            return labels(view, "strong")[0] == view.n
        return _peel(view)

    result: bool = view.cached("acyclic", build)
    return result


def _peel(view: View) -> bool:
    """Remove nodes of in-degree 0 round by round; after ``PEEL_ROUNDS``, scipy on what is left."""
    ptr, pdst = view.pairs()[:2]
    remaining = np.bincount(pdst, minlength=view.n).astype(np.int64)
    frontier = np.flatnonzero(remaining == 0)
    for _ in range(PEEL_ROUNDS):
        if not len(frontier):
            return not bool((remaining > 0).any())
        children = pdst[_gather(ptr, frontier)]
        np.subtract.at(remaining, children, 1)
        zero = children[remaining[children] == 0]
        mark = -1 - np.arange(len(zero), dtype=np.int64)
        remaining[zero] = mark  # one mark per child survives: keep that one occurrence
        frontier = zero[remaining[zero] == mark]
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    left = remaining > 0
    index = np.cumsum(left) - 1
    psrc = view.pair_src()
    keep = left[psrc] & left[pdst]
    k = int(left.sum())
    sub = csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), (index[psrc[keep]], index[pdst[keep]])), shape=(k, k)
    )
    return int(connected_components(sub, directed=True, connection="strong")[0]) == k


@native()
def is_directed_acyclic_graph(G: Any) -> bool:
    """networkx's ``is_directed_acyclic_graph`` (backend graphs are directed)."""
    return is_acyclic(view_of(G))


# ----- Kahn's algorithm by generations ------------------------------------------------------------
def kahn(view: View) -> tuple[np.ndarray, np.ndarray, int]:
    """networkx's topological generations as ``(order, bounds, reached)``: generation k is
    ``order[bounds[k]:bounds[k + 1]]``; ``reached < n`` when there is a cycle (cached on the view)."""
    return view.cached("kahn", lambda: _kahn(view))


def _kahn(view: View) -> tuple[np.ndarray, np.ndarray, int]:
    n = view.n
    ptr, pdst = view.pairs()[:2]
    outdeg = np.diff(ptr)
    remaining = np.bincount(pdst, minlength=n).astype(np.int64)  # pairs: 0 when networkx's edges are
    last = np.full(n, -1, dtype=np.int64)
    gen: Any = np.flatnonzero(remaining == 0)
    width = int(outdeg[gen].sum())
    chunks: list[np.ndarray] = []
    pending: list[int] = []
    sizes: list[int] = []
    ptr_m, pdst_m, remaining_m, outdeg_m = (_memory(a) for a in (ptr, pdst, remaining, outdeg))
    while len(gen):
        sizes.append(len(gen))
        if isinstance(gen, list):
            pending.extend(gen)
        else:
            if pending:
                chunks.append(np.array(pending, dtype=np.int64))
                pending = []
            chunks.append(gen)
        if width >= WIDE:  # numpy: the children of the whole generation at once
            positions = np.asarray(_gather(ptr, np.asarray(gen, dtype=np.int64)))
            children = pdst[positions]
            np.subtract.at(remaining, children, 1)
            at = np.flatnonzero(remaining[children] == 0)
            zero = children[at]
            np.maximum.at(last, zero, at)  # a child joins at its last in-edge from the generation
            gen = zero[last[zero] == at]
            width = int(outdeg[gen].sum())
        else:  # Python: networkx's loop
            nxt: list[int] = []
            width = 0
            for u in gen.tolist() if isinstance(gen, np.ndarray) else gen:
                for c in pdst_m[ptr_m[u] : ptr_m[u + 1]]:
                    r = remaining_m[c] - 1
                    remaining_m[c] = r
                    if not r:
                        nxt.append(c)
                        width += outdeg_m[c]
            gen = nxt
    if pending:
        chunks.append(np.array(pending, dtype=np.int64))
    order = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)
    bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    return order, bounds, len(order)


def _watch(G: Any) -> Callable[[], bool] | None:
    """For a converted networkx graph, a test of whether it has been changed since (via the token)."""
    if not isinstance(G, OmegaGraph):
        return None
    cache = getattr(G.to_networkx(), "__networkx_cache__", None)
    if not isinstance(cache, dict):
        return None
    token = cache.setdefault(_TOKEN, object())
    return lambda: cache.get(_TOKEN) is not token


def _networkx_loop(
    G: Any, indegree_map: dict[Hashable, int], zero_indegree: list[Hashable]
) -> Iterator[list[Hashable]]:
    """networkx's own loop from a given state, on the (changed) networkx graph ``G``."""
    import networkx as nx

    multigraph = G.is_multigraph()
    while zero_indegree:
        this_generation = zero_indegree
        zero_indegree = []
        for node in this_generation:
            if node not in G:
                raise RuntimeError("Graph changed during iteration")
            for child in G.neighbors(node):
                try:
                    indegree_map[child] -= len(G[node][child]) if multigraph else 1
                except KeyError as err:
                    raise RuntimeError("Graph changed during iteration") from err
                if indegree_map[child] == 0:
                    zero_indegree.append(child)
                    del indegree_map[child]
        yield this_generation
    if indegree_map:
        raise nx.NetworkXUnfeasible(_CYCLE)


def _networkx_state(view: View, k: int) -> tuple[dict[Hashable, int], list[Hashable]]:
    """networkx's ``(indegree_map, zero_indegree)`` before generation ``k`` is processed."""
    order, bounds, _ = kahn(view)
    done = np.zeros(view.n, dtype=bool)
    done[order[: bounds[k]]] = True
    waiting = ~done
    waiting[order[bounds[k] : bounds[k + 1]]] = False
    remaining = np.bincount(view.dst[~done[view.src]], minlength=view.n)  # edges, not pairs
    left = np.flatnonzero(waiting)
    indegree = dict(zip(view.label(left), remaining[left].tolist(), strict=True))
    return indegree, view.label(order[bounds[k] : bounds[k + 1]])


def _generations(G: Any, view: View, changed: Callable[[], bool] | None) -> Iterator[list[Hashable]]:
    import networkx as nx

    order, bounds, reached = kahn(view)
    for k in range(len(bounds) - 1):
        if changed is not None and changed():
            nxg = G.to_networkx()
            if k == 0:  # changed before the first generation: networkx from the start
                indegree = {v: d for v, d in nxg.in_degree() if d > 0}
                yield from _networkx_loop(nxg, indegree, [v for v, d in nxg.in_degree() if d == 0])
            else:
                yield from _networkx_loop(nxg, *_networkx_state(view, k))
            return
        yield view.label(order[bounds[k] : bounds[k + 1]])
    if reached < view.n:
        raise nx.NetworkXUnfeasible(_CYCLE)


@native()
def topological_generations(G: Any) -> Iterator[list[Hashable]]:
    """networkx's ``topological_generations``: a generator of lists of nodes, in networkx's order."""
    return _generations(G, view_of(G), _watch(G))


@native()
def topological_sort(G: Any) -> Iterator[Hashable]:
    """networkx's ``topological_sort``: a generator of nodes, in networkx's order."""
    generations = _generations(G, view_of(G), _watch(G))
    return (v for generation in generations for v in generation)


# ----- longest paths ------------------------------------------------------------------------------
def _pair_weights(view: View, weight: str | None, default_weight: Any) -> np.ndarray | None:
    """Per pair, networkx's weight of ``u -> v``: the largest over parallel edges (None: the default)."""
    if weight is None:
        return None
    values = view.values(weight, default_weight)  # Delegate when not converted or not numbers
    first = view.pairs()[2]
    if len(first) == len(values):
        return values
    if values.dtype.kind == "f" and bool(np.isnan(values).any()):
        raise Delegate("NaN weights on parallel edges: networkx's max depends on their order")
    reduced: np.ndarray = np.maximum.reduceat(values, first)
    return reduced


def _order_of(view: View, topo_order: Any) -> np.ndarray:
    """``topo_order`` as indices when it is a list or tuple of every node once, in topological order."""
    if not isinstance(topo_order, list | tuple):
        raise Delegate("a topo_order that is not a list or tuple")
    order = np.array([view.find(v) for v in topo_order], dtype=np.int64)
    if len(order) != view.n or int(order.min()) < 0:
        raise Delegate("a topo_order that is not every node once")
    position = np.full(view.n, -1, dtype=np.int64)
    position[order] = np.arange(view.n, dtype=np.int64)
    if bool((position < 0).any()) or bool((position[view.pair_src()] >= position[view.pairs()[1]]).any()):
        raise Delegate("a topo_order that is not a topological order of every node")
    return order


def _dtype(n: int, w: np.ndarray | None, default_weight: Any) -> type | None:
    """The dtype the programme runs in with numpy; None: in Python (NaN, possible overflow, other types)."""
    if w is None:
        if type(default_weight) is float:
            return np.float64
        ok = type(default_weight) is int and abs(default_weight) * (n + 1) < 2**62
        return np.int64 if ok else None
    if w.dtype.kind == "f":
        return None if bool(np.isnan(w).any()) else np.float64
    return np.int64 if not len(w) or int(np.abs(w).max()) * (n + 1) < 2**62 else None


def _longest(
    view: View, weight: str | None, default_weight: Any, topo_order: Any
) -> tuple[list[int], list[Any]]:
    """networkx's longest path as node indices, and the weight of each of its edges (Python numbers)."""
    import networkx as nx

    final = None if topo_order is None else _order_of(view, topo_order)
    pair_w = _pair_weights(view, weight, default_weight)  # first: networkx meets bad weights first
    order, bounds, reached = kahn(view)
    if reached < view.n:
        raise nx.NetworkXUnfeasible(_CYCLE)
    pptr, pred_pairs = view.pred()
    psrc = view.pair_src()[pred_pairs]
    w = None if pair_w is None else pair_w[pred_pairs]
    dtype = _dtype(view.n, w, default_weight)
    if dtype is None:
        dist: Any = [0] * view.n
        via: Any = [-1] * view.n
        _python_step(order.tolist(), pptr, psrc, w, default_weight, dist, via)
        ends = order.tolist() if final is None else final.tolist()
        end = max(ends, key=dist.__getitem__)
    else:
        dist = np.zeros(view.n, dtype=dtype)
        via = np.full(view.n, -1, dtype=np.int64)
        views = (_memory(pptr), _memory(psrc), None if w is None else _memory(w))
        step = _memory(dist), _memory(via)
        for k in range(len(bounds) - 1):
            gen = order[bounds[k] : bounds[k + 1]]
            if len(gen) >= WIDE_NODES:
                _numpy_step(gen, pptr, psrc, w, default_weight, dist, via)
            else:
                _python_step(gen.tolist(), *views, default_weight, *step)
        ends = order if final is None else final
        end = int(ends[int(np.argmax(dist[ends]))])
    path = [end]
    steps: list[Any] = []
    while via[end] >= 0:
        j = int(via[end])
        steps.append(default_weight if w is None else w[j].item())
        end = int(psrc[j])
        path.append(end)
    path.reverse()
    steps.reverse()
    return path, steps


def _python_step(
    gen: list[int], pptr: Any, psrc: Any, w: Any, default_weight: Any, dist: Any, via: Any
) -> None:
    """networkx's programme for the nodes of ``gen``, in Python (lists or memoryviews)."""
    if isinstance(pptr, np.ndarray):
        pptr, psrc = pptr.tolist(), psrc.tolist()
        w = None if w is None else w.tolist()
    for v in gen:
        a, b = pptr[v], pptr[v + 1]
        if a == b:
            continue
        best, at = dist[psrc[a]] + (default_weight if w is None else w[a]), a
        for j in range(a + 1, b):
            length = dist[psrc[j]] + (default_weight if w is None else w[j])
            if length > best:  # max: the first best predecessor stays
                best, at = length, j
        if best >= 0:  # else the path restarts at v (networkx's (0, v))
            dist[v], via[v] = best, at


def _numpy_step(
    gen: np.ndarray,
    pptr: np.ndarray,
    psrc: np.ndarray,
    w: np.ndarray | None,
    default_weight: Any,
    dist: np.ndarray,
    via: np.ndarray,
) -> None:
    """networkx's programme for the nodes of ``gen`` (one generation: their predecessors are done)."""
    nodes = gen[pptr[gen + 1] > pptr[gen]]
    if not len(nodes):
        return
    positions = _gather(pptr, nodes)
    lens = pptr[nodes + 1] - pptr[nodes]
    starts = np.cumsum(lens) - lens
    length = dist[psrc[positions]] + (default_weight if w is None else w[positions])
    best = np.maximum.reduceat(length, starts)
    at = np.where(length == np.repeat(best, lens), np.arange(len(length)), len(length))
    first = np.minimum.reduceat(at, starts)  # the first best predecessor in G.pred order
    ok = best >= 0
    dist[nodes[ok]] = best[ok]
    via[nodes[ok]] = positions[first[ok]]


@native(accepts=weight_is_name())
def dag_longest_path(
    G: Any, weight: str | None = "weight", default_weight: Any = 1, topo_order: Any = None
) -> list[Hashable]:
    """networkx's ``dag_longest_path``: its path, with its tie-breaking (``NetworkXUnfeasible`` on a
    cycle when ``topo_order`` is None)."""
    view = view_of(G)
    if view.n == 0:
        return []
    return view.label(_longest(view, weight, default_weight, topo_order)[0])


@native(accepts=weight_is_name())
def dag_longest_path_length(G: Any, weight: str | None = "weight", default_weight: Any = 1) -> Any:
    """networkx's ``dag_longest_path_length``: the weights along networkx's longest path, added in
    order (0 for a graph without edges)."""
    view = view_of(G)
    if view.n == 0:
        return 0
    path, steps = _longest(view, weight, default_weight, None)
    if isinstance(G, OmegaGraph):  # the original edge data: networkx's own sum, ints stay ints
        return _networkx_length(G.to_networkx(), view.label(path), weight, default_weight)
    total: Any = 0
    for step in steps:
        total += step
    return total


def _networkx_length(G: Any, path: list[Hashable], weight: str | None, default_weight: Any) -> Any:
    """networkx's addition of the weights along ``path`` in the networkx graph ``G``."""
    path_length: Any = 0
    if G.is_multigraph():
        for u, v in pairwise(path):
            i = max(G[u][v], key=lambda x: G[u][v][x].get(weight, default_weight))
            path_length += G[u][v][i].get(weight, default_weight)
    else:
        for u, v in pairwise(path):
            path_length += G[u][v].get(weight, default_weight)
    return path_length
