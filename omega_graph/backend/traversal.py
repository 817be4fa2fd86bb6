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
    if s == t:
        return True
    return bool((reached(view, s) == t).any())


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
    return _bfs_edges(view, source, bool(reverse), depth_limit)


def _bfs_edges(
    view: View, source: Hashable, reverse: bool, depth_limit: int | None
) -> Iterator[tuple[Hashable, Hashable]]:
    # networkx's generic_bfs_edges, over the same neighbour order (a generator: errors on iteration)
    s = _node(view, source)
    lists = view.predecessor_lists() if reverse else view.successor_lists()
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
