"""Reachability and breadth-first traversal: ``descendants``, ``ancestors``, ``has_path``, ``bfs_edges``.

``descendants`` and ``ancestors`` are sets: they run as one breadth-first search in C (scipy's
``breadth_first_order``) over the view's CSR. ``bfs_edges`` yields networkx's edges in networkx's
order (its ``generic_bfs_edges`` over the same successor order); a ``sort_neighbors`` function runs
in networkx.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np

from ._convert import Delegate, view_of
from ._dispatch import native
from ._view import View

__all__ = ["ancestors", "bfs_edges", "descendants", "has_path"]


def _node(view: View, node: object) -> int:
    i = view.find(node)
    if i < 0:
        import networkx as nx

        raise nx.NetworkXError(f"The node {node} is not in the digraph.")
    return i


def reached(view: View, source: int, reverse: bool = False) -> np.ndarray:
    """Indices reachable from ``source`` (``source`` first), by one BFS in C."""
    from scipy.sparse.csgraph import breadth_first_order

    order: np.ndarray = breadth_first_order(
        view.structure(reverse), source, directed=True, return_predecessors=False
    )
    return order


def _reach_set(G: Any, source: object, reverse: bool) -> set[Hashable]:
    view = view_of(G)
    order = reached(view, _node(view, source), reverse)
    return set(view.label(order[1:]))


@native()
def descendants(G: Any, source: Hashable) -> set[Hashable]:
    """networkx's ``descendants``: every node reachable from ``source``, ``source`` excluded."""
    return _reach_set(G, source, reverse=False)


@native()
def ancestors(G: Any, source: Hashable) -> set[Hashable]:
    """networkx's ``ancestors``: every node from which ``source`` is reachable, ``source`` excluded."""
    return _reach_set(G, source, reverse=True)


@native()
def has_path(G: Any, source: Hashable, target: Hashable) -> bool:
    """networkx's ``has_path`` (``NodeNotFound`` for a missing source or target)."""
    import networkx as nx

    view = view_of(G)
    s, t = view.find(source), view.find(target)
    if s < 0:
        raise nx.NodeNotFound(f"Source {source} is not in G")
    if t < 0:
        raise nx.NodeNotFound(f"Target {target} is not in G")
    return s == t or _meet(view, s, t)


def _meet(view: View, s: int, t: int) -> bool:
    """Whether t is reachable from s: breadth-first from both ends, a level at a time (vectorised),
    always growing the smaller frontier, until the two searches meet or one runs out."""
    from ..graph._bfs import distinct, expand

    forward, backward = view.structure(False), view.structure(True)
    seen = [np.zeros(view.n, dtype=bool), np.zeros(view.n, dtype=bool)]
    seen[0][s] = seen[1][t] = True
    frontier = [np.array([s]), np.array([t])]
    while len(frontier[0]) and len(frontier[1]):
        side = 0 if len(frontier[0]) <= len(frontier[1]) else 1
        m = forward if side == 0 else backward
        pos, _ = expand(m.indptr, frontier[side])
        nxt = distinct(m.indices[pos], view.n)
        if seen[1 - side][nxt].any():
            return True
        nxt = nxt[~seen[side][nxt]]
        seen[side][nxt] = True
        frontier[side] = nxt
    return False


def _sort_neighbors_is_none(bound: Any) -> bool | str:
    return (
        True
        if bound.arguments.get("sort_neighbors") is None
        else "a sort_neighbors function runs in networkx"
    )


@native(accepts=_sort_neighbors_is_none)
def bfs_edges(
    G: Any,
    source: Hashable,
    reverse: bool = False,
    depth_limit: int | None = None,
    sort_neighbors: Callable[[Any], Any] | None = None,
) -> Iterator[tuple[Hashable, Hashable]]:
    """networkx's ``bfs_edges``: the tree edges of a breadth-first search, in networkx's order."""
    if sort_neighbors is not None:
        raise Delegate("a sort_neighbors function")
    view = view_of(G)
    lists = view.predecessor_lists() if reverse else view.successor_lists()  # before the generator
    return _bfs_edges(view, lists, source, depth_limit)


def _bfs_edges(
    view: View, lists: list[list[int]], source: Hashable, depth_limit: int | None
) -> Iterator[tuple[Hashable, Hashable]]:
    # networkx's generic_bfs_edges, over the same neighbour order (a generator: errors on iteration)
    s = _node(view, source)
    nodes = view.nodes
    n = view.n
    limit = n if depth_limit is None else depth_limit
    seen = np.zeros(n, dtype=bool)
    seen[s] = True
    count = 1
    depth = 0
    parents = [s]
    while parents and depth < limit:
        children_next: list[int] = []
        for parent in parents:
            for child in lists[parent]:
                if not seen[child]:
                    seen[child] = True
                    count += 1
                    children_next.append(child)
                    yield nodes[parent], nodes[child]
            if count == n:
                return
        parents = children_next
        depth += 1
