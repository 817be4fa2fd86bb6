"""d-separation: ``is_d_separator``, ``find_minimal_d_separator``, ``is_minimal_d_separator``.

All three run natively; nothing is delegated. The answers are sets and booleans, so they are
reachability questions, answered by one breadth-first search in C (scipy's ``breadth_first_order``):

- The arguments are read exactly as networkx reads them (a node of ``G`` becomes ``{node}``, anything
  else is used as a set), with the same set arithmetic, so the same ``NodeNotFound`` /
  ``NetworkXError`` / ``TypeError`` come with the same messages, in the same order (``is_d_separator``
  validates before checking acyclicity, the other two after).
- Acyclicity (no self-loop, every strongly connected component a single node) is computed once per
  view and cached.
- Ancestral sets: one BFS over the reversed CSR from a super-source joined to every start node.
- networkx's walks (the two-deque walk of ``is_d_separator``, the modified Bayes-ball ``_reachable``
  of the minimal-separator functions) are reachability in a graph of ``2 n`` states (a node and the
  direction the walk entered it). Each edge ``u -> v`` gives four possible state transitions; which
  of them are open depends on the call's sets (``z``, the ancestral set) and is one vectorised mask
  over each node's parents and children (cached per view); the open ones make the CSR the BFS runs on.
  Only the states that can matter get transitions: those of the ancestors of ``x | y | z`` for
  ``is_d_separator``, those of the nodes of ``a`` for ``_reachable``, so a call costs the size of
  the ancestral subgraph, not of the graph.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np

from ..graph._bfs import expand
from ._convert import view_of
from ._dispatch import native
from ._view import View
from .centrality import degrees
from .components import labels

__all__ = ["find_minimal_d_separator", "is_d_separator", "is_minimal_d_separator"]


# ----- networkx's view of the arguments -----------------------------------------------------------
class _Nodes(AbstractSet[Hashable]):
    """``G.nodes`` as networkx's set arithmetic sees it (``NodeView``: a Set whose results are sets)."""

    def __init__(self, view: View) -> None:
        self._view = view

    def __contains__(self, node: object) -> bool:
        return self._view.find(node) >= 0

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._view.nodes)

    def __len__(self) -> int:
        return self._view.n

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> set[Any]:
        return set(it)


def _as_set(view: View, arg: Any) -> Any:
    """networkx's ``{arg} if arg in G else arg``."""
    return {arg} if view.find(arg) >= 0 else arg


def _mask(view: View, nodes: Iterable[Hashable]) -> np.ndarray:
    """Boolean mask of ``nodes`` (each a node of the view)."""
    mask = np.zeros(view.n, dtype=bool)
    found = np.fromiter((view.find(v) for v in nodes), dtype=np.int64)
    mask[found] = True
    return mask


def _not_dag(view: View) -> None:
    """networkx's ``NetworkXError`` when the graph has a cycle (cached per view)."""

    def build() -> bool:
        if view.n == 0:
            return True
        if bool((view.src == view.dst).any()):
            return False
        return labels(view, "strong")[0] == view.n

    if not view.cached(("d_separation", "is_dag"), build):
        import networkx as nx

        raise nx.NetworkXError("graph should be directed acyclic")


# ----- reachability in C --------------------------------------------------------------------------
def _index_kind(size: int, entries: int) -> type[np.signedinteger[Any]]:
    return np.int32 if max(size, entries) < 2**31 - 1 else np.int64


def _reached(indptr: np.ndarray, indices: np.ndarray, size: int, starts: np.ndarray) -> np.ndarray:
    """Mask of the ``size`` states reachable from ``starts`` (included) in the CSR ``(indptr, indices)``."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    mask = np.zeros(size, dtype=bool)
    if len(starts) == 0:
        return mask
    kind = _index_kind(size + 1, len(indices) + len(starts))
    if len(starts) == 1:
        graph = sp.csr_array(
            (np.ones(len(indices)), indices.astype(kind, copy=False), indptr.astype(kind, copy=False)),
            shape=(size, size),
        )
        source = int(starts[0])
    else:  # a super-source (state `size`) joined to every start
        all_indices = np.concatenate([indices.astype(kind, copy=False), starts.astype(kind)])
        all_indptr = np.append(indptr.astype(kind, copy=False), kind(len(all_indices)))
        graph = sp.csr_array((np.ones(len(all_indices)), all_indices, all_indptr), shape=(size + 1, size + 1))
        source = size
    order = breadth_first_order(graph, source, directed=True, return_predecessors=False)
    mask[order[order < size]] = True
    return mask


def _ancestral(view: View, members: np.ndarray) -> np.ndarray:
    """Mask of ``members`` and all their ancestors."""
    rev = view.structure(True)
    return _reached(rev.indptr, rev.indices, view.n, np.flatnonzero(members))


def _incidence(view: View) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each node's neighbours, its parents then its children (one per pair): ``(indptr, node, other,
    is_child)`` per entry, merged from the two CSRs without sorting. Cached per view."""

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = view.n
        rev = view.structure(True)
        in_ptr, parents = rev.indptr.astype(np.int64), rev.indices
        out_ptr, children = view.pairs()[:2]
        indptr = in_ptr + out_ptr
        other = np.empty(int(indptr[-1]), dtype=np.int64)
        is_child = np.zeros(len(other), dtype=bool)
        in_pos = np.arange(len(parents)) + np.repeat(out_ptr[:-1], np.diff(in_ptr))
        out_pos = np.arange(len(children)) + np.repeat(in_ptr[1:], np.diff(out_ptr))
        other[in_pos] = parents
        other[out_pos] = children
        is_child[out_pos] = True
        node = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        return indptr, node, other, is_child

    found: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = view.cached(("d_separation", "inc"), build)
    return found


def _walk(
    view: View,
    walk: str,
    pos: np.ndarray,
    neg: np.ndarray,
    starts: np.ndarray,
    within: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of the ``2 n`` states reached from ``starts`` in networkx's ``walk``, leaving only the
    states of the ``within`` nodes (all when None).

    States: ``w`` and ``n + w`` per node ``w``; each entry (``w``, its parent or child ``t``) gives a
    transition from each of the two states of ``w``, open or not by the call's sets:

    - "dsep" (``pos``: ancestors of x, and z; ``neg``: z), ``w`` entered backwards (from a child, or a
      start), ``n + w`` forwards: backwards to a parent ``t`` or forwards to a child ``n + t`` unless
      ``w`` in z; from ``n + w`` to a parent if ``w`` in ``pos``, to a child ``n + t`` unless ``w`` in z.
    - "ball" (networkx's ``_reachable``; ``pos``: its ``a``, ``neg``: z), ``w`` is ``(True, w)`` and
      ``n + w`` is ``(False, w)``: to a parent ``(False, t)`` or a child ``(True, t)`` if ``t`` in
      ``a``, unless ``w`` in z, except from ``(True, w)`` to a parent.
    """
    n = view.n
    indptr, node, other, is_child = _incidence(view)
    if within is not None:
        entries = expand(indptr, np.flatnonzero(within))[0]
        node, other, is_child = node[entries], other[entries], is_child[entries]
    blocked = neg[node]
    if walk == "dsep":
        target = other + n * is_child
        keep = np.concatenate([~blocked, np.where(is_child, ~blocked, pos[node])])
    else:
        target = other + n * ~is_child
        open_t = pos[other]
        keep = np.concatenate([open_t & ~(is_child & blocked), open_t & ~blocked])
    rows = np.concatenate([node, node + n])[keep]  # grouped by state: node-grouped, twice
    state_ptr = np.zeros(2 * n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=2 * n), out=state_ptr[1:])
    return _reached(state_ptr, np.concatenate([target, target])[keep], 2 * n, starts)


def _closure(view: View, x: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """networkx's ``_reachable(G, x, a, z)`` as a node mask (the modified Bayes-ball)."""
    n = view.n
    indeg, outdeg = degrees(view)
    starts = np.concatenate([np.flatnonzero(x & (indeg > 0)), n + np.flatnonzero(x & (outdeg > 0))])
    states = _walk(view, "ball", a, z, starts, within=a)  # every reached state is of a node of a
    closure: np.ndarray = states[:n] | states[n:]
    return closure


def _labels(view: View, mask: np.ndarray) -> list[Hashable]:
    return view.label(np.flatnonzero(mask))


# ----- the functions ------------------------------------------------------------------------------
@native()
def is_d_separator(G: Any, x: Any, y: Any, z: Any) -> bool:
    """networkx's ``is_d_separator``: whether ``z`` blocks every path between ``x`` and ``y``."""
    import networkx as nx

    view = view_of(G)
    try:
        x = _as_set(view, x)
        y = _as_set(view, y)
        z = _as_set(view, z)
        intersection = x & y or x & z or y & z
        if intersection:
            raise nx.NetworkXError(f"The sets are not disjoint, with intersection {intersection}")
        set_v = x | y | z
        if set_v - _Nodes(view):
            raise nx.NodeNotFound(f"The node(s) {set_v - _Nodes(view)} are not found in G")
    except TypeError:
        raise nx.NodeNotFound("One of x, y, or z is not a node or a set of nodes in G") from None
    _not_dag(view)
    xm, ym, zm = _mask(view, x), _mask(view, y), _mask(view, z)
    ancestors_or_z = _ancestral(view, xm) | zm
    # Only the states of An(x | y | z) (the set included) need transitions: a backward state is
    # entered at a parent of a backward node or of a forward node of `ancestors_or_z`, so (from x) all
    # of them lie in the set; a forward node outside it is not in `ancestors_or_z` and its children
    # are outside too, so from there the walk only goes down, outside, never meeting y.
    within = _ancestral(view, xm | ym | zm)
    states = _walk(view, "dsep", ancestors_or_z, zm, np.flatnonzero(xm), within=within)
    return not bool((ym & (states[: view.n] | states[view.n :])).any())


def _read_constraints(view: View, x: Any, y: Any, included: Any, restricted: Any, message: str) -> Any:
    """networkx's reading of ``x, y, included, restricted`` (``restricted=None`` stays None: all nodes)."""
    import networkx as nx

    nodes = _Nodes(view)
    try:
        x = _as_set(view, x)
        y = _as_set(view, y)
        if included is None:
            included = set()
        elif view.find(included) >= 0:
            included = {included}
        if restricted is not None and view.find(restricted) >= 0:
            restricted = {restricted}
        set_y = x | y | included | (set() if restricted is None else restricted)
        if set_y - nodes:
            if restricted is None:  # networkx's message, from its own set
                set_y = x | y | included | set(view.nodes)
            raise nx.NodeNotFound(f"The node(s) {set_y - nodes} are not found in G")
    except TypeError:
        raise nx.NodeNotFound(message) from None
    return x, y, included, restricted


@native()
def find_minimal_d_separator(
    G: Any, x: Any, y: Any, *, included: Any = None, restricted: Any = None
) -> set[Hashable] | frozenset[Hashable] | None:
    """networkx's ``find_minimal_d_separator`` (van der Zander and Liśkiewicz): a minimal set that
    d-separates ``x`` and ``y``, contains ``included`` and lies in ``restricted``; None if none exists."""
    import networkx as nx

    view = view_of(G)
    _not_dag(view)
    x, y, included, restricted = _read_constraints(
        view, x, y, included, restricted,
        "One of x, y, included or restricted is not a node or set of nodes in G",
    )  # fmt: skip
    if not included <= (_Nodes(view) if restricted is None else restricted):
        raise nx.NetworkXError(f"Included nodes {included} must be in restricted nodes {restricted}")
    intersection = x & y or x & included or y & included
    if intersection:
        raise nx.NetworkXError(f"The sets x, y, included are not disjoint. Overlap: {intersection}")
    xm, ym, im = _mask(view, x), _mask(view, y), _mask(view, included)
    rm = np.ones(view.n, dtype=bool) if restricted is None else _mask(view, restricted)
    ancestral = _ancestral(view, xm | ym | im)
    z_init = rm & ancestral & ~(xm | ym)
    x_closure = _closure(view, xm, ancestral, z_init)
    if bool((x_closure & ym).any()):
        return None
    z_updated = z_init & (x_closure | im)
    y_closure = _closure(view, ym, ancestral, z_updated)
    found = _labels(view, z_updated & (y_closure | im))
    return frozenset(found) if isinstance(restricted, frozenset) else set(found)


@native()
def is_minimal_d_separator(
    G: Any, x: Any, y: Any, z: Any, *, included: Any = None, restricted: Any = None
) -> bool:
    """networkx's ``is_minimal_d_separator``: whether ``z`` d-separates ``x`` and ``y`` and no proper
    subset containing ``included`` does (criteria (a), (b), (c) of van der Zander and Liśkiewicz)."""
    import networkx as nx

    view = view_of(G)
    _not_dag(view)
    z = _as_set(view, z)  # (`z in G` never raises)
    x, y, included, restricted = _read_constraints(
        view, x, y, included, restricted,
        "One of x, y, z, included or restricted is not a node or set of nodes in G",
    )  # fmt: skip
    if not included <= z:
        raise nx.NetworkXError(f"Included nodes {included} must be in proposed separating set z {x}")
    if not z <= (_Nodes(view) if restricted is None else restricted):
        shown = set(view.nodes) if restricted is None else restricted
        raise nx.NetworkXError(f"Separating set {z} must be contained in restricted set {shown}")
    intersection = x.intersection(y) or x.intersection(z) or y.intersection(z)
    if intersection:
        raise nx.NetworkXError(f"The sets are not disjoint, with intersection {intersection}")
    xm, ym, zm, im = _mask(view, x), _mask(view, y), _mask(view, z), _mask(view, included)
    ancestral = _ancestral(view, xm | ym | im)
    x_closure = _closure(view, xm, ancestral, zm)  # (a): z separates
    if bool((x_closure & ym).any()):
        return False
    if bool((zm & ~ancestral).any()):  # (b): z within the ancestors of x, y, included
        return False
    y_closure = _closure(view, ym, ancestral, zm)  # (c): every node of z - included is needed
    return not bool((zm & ~im & ~(x_closure & y_closure)).any())
