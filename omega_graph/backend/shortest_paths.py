"""Shortest paths: networkx's breadth-first and Dijkstra families, on the engine.

Native: ``shortest_path`` and ``shortest_path_length`` (every mode: a target alone runs on the
reverse graph and all pairs is a generator, as in networkx), ``single_source_shortest_path[_length]``,
``bidirectional_shortest_path``, ``single_source_dijkstra[_path][_length]``, ``dijkstra_path[_length]``
and ``bidirectional_dijkstra``: networkx's values, dict order, ties, types and exceptions.

How: see :mod:`._searches` (networkx's own algorithm in Python for small searches, C with
networkx's order rebuilt for large ones).

``bidirectional_shortest_path`` and ``bidirectional_dijkstra`` are networkx's algorithms over the
same lists (their length is a sum of two half-sums, their path depends on where the searches meet).
Distances are Python ints when all weights are ints; with some int and some float weights (a
missing weight is the int 1) they are floats where networkx may keep an int (equal values).

Run in networkx (its answers and errors): a weight function, ``method="bellman-ford"`` with a
weight, weights that are negative, NaN, infinite or not numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from heapq import heappop, heappush
from itertools import count
from typing import Any

import networkx as nx

from ._convert import Delegate, view_of
from ._dispatch import native, weight_is_name
from ._searches import adjacency, length_dict, node_index, path_dict, search, to_target, walk
from ._view import View

__all__ = [
    "bidirectional_dijkstra",
    "bidirectional_shortest_path",
    "dijkstra_path",
    "dijkstra_path_length",
    "shortest_path",
    "shortest_path_length",
    "single_source_dijkstra",
    "single_source_dijkstra_path",
    "single_source_dijkstra_path_length",
    "single_source_shortest_path",
    "single_source_shortest_path_length",
]


# ----- networkx's bidirectional searches ---------------------------------------------------------
def _bidirectional_bfs(view: View, s: int, t: int) -> list[int] | None:
    """networkx's ``_bidirectional_pred_succ`` and its path (None: no path)."""
    if s == t:
        return [s]
    rows = (adjacency(view, None).row, adjacency(view, None, True).row)
    found: tuple[dict[int, int], dict[int, int]] = ({s: -1}, {t: -1})  # pred, succ
    fringes = [[s], [t]]
    while fringes[0] and fringes[1]:
        side = 0 if len(fringes[0]) <= len(fringes[1]) else 1
        mine, theirs, this = found[side], found[1 - side], fringes[side]
        fringes[side] = nextlevel = []
        for v in this:
            for w in rows[side](v)[0]:
                if w not in mine:
                    nextlevel.append(w)
                    mine[w] = v
                if w in theirs:
                    return (
                        walk(found[0], w) + walk(found[1], found[1][w])[::-1] if w != t else walk(found[0], w)
                    )
    return None


def _bidirectional_dijkstra(view: View, s: int, t: int, weight: str | None) -> tuple[Any, list[int]] | None:
    """networkx's ``bidirectional_dijkstra`` (None: no path)."""
    rows = (
        adjacency(view, weight, False, weight is None).row,
        adjacency(view, weight, True, weight is None).row,
    )
    dists: tuple[dict[int, Any], dict[int, Any]] = ({}, {})
    preds: tuple[dict[int, int], dict[int, int]] = ({s: -1}, {t: -1})
    seen: tuple[dict[int, Any], dict[int, Any]] = ({s: 0}, {t: 0})
    c = count()
    fringe: tuple[list[Any], list[Any]] = ([(0, next(c), s)], [(0, next(c), t)])
    finaldist: Any = None
    meet, side = -1, 1
    while fringe[0] and fringe[1]:
        side = 1 - side
        dist, _, v = heappop(fringe[side])
        if v in dists[side]:
            continue
        dists[side][v] = dist
        if v in dists[1 - side]:
            after = preds[1][meet]
            return finaldist, walk(preds[0], meet) + (walk(preds[1], after)[::-1] if after >= 0 else [])
        mine, theirs = seen[side], seen[1 - side]
        for w, cost in zip(*rows[side](v), strict=True):
            vw = dist + cost
            if w not in dists[side] and (w not in mine or vw < mine[w]):
                mine[w] = vw
                heappush(fringe[side], (vw, next(c), w))
                preds[side][w] = v
                if w in theirs and (finaldist is None or finaldist > vw + theirs[w]):
                    finaldist, meet = vw + theirs[w], w
    return None


# ----- networkx's functions ----------------------------------------------------------------------
def _weight_name(weight: Any) -> None:
    """A weight function: networkx runs the call."""
    if callable(weight):
        raise Delegate("a weight function")


def _method_accepts(bound: Any) -> bool | str:
    """``accepts`` of ``shortest_path[_length]``: a weight name, and no bellman-ford with a weight."""
    found = weight_is_name()(bound)
    if found is not True or bound.arguments["weight"] is None or bound.arguments["method"] != "bellman-ford":
        return found
    return "bellman-ford runs in networkx"


def _all_pairs(view: View, weight: str | None, dijkstra: bool, paths: bool) -> Iterator[tuple[Hashable, Any]]:
    """networkx's ``all_pairs_*`` generators: one single-source search per node, in node order."""
    for i, node in enumerate(view.nodes):
        found = search(view, i, weight, None, dijkstra)
        yield node, path_dict(view, found) if paths else length_dict(view, found)


def _generic(G: Any, source: Any, target: Any, weight: Any, method: str, paths: bool) -> Any:
    """``shortest_path`` (``paths``) or ``shortest_path_length``, as networkx dispatches its modes."""
    if method not in ("dijkstra", "bellman-ford"):
        raise ValueError(f"method not supported: {method}")
    _weight_name(weight)
    if weight is not None and method == "bellman-ford":
        raise Delegate("bellman-ford")
    view, dijkstra = view_of(G), weight is not None
    if source is not None and target is not None:
        if dijkstra:
            if paths:
                return _bidirectional_dijkstra_impl(G, source, target, weight)[1]
            return _dijkstra_path_length_impl(G, source, target, weight)
        path = _bidirectional_shortest_path_impl(G, source, target)
        return path if paths else len(path) - 1
    if source is None and target is None:
        adjacency(view, weight)  # unusable weights: networkx runs it, before a generator exists
        return _all_pairs(view, weight, dijkstra, paths)
    node = source if target is None else target
    missing = (
        f"Node {node} not found in graph" if dijkstra else f"Source {node} {'' if paths else 'is '}not in G"
    )
    found = search(view, node_index(view, node, missing), weight, None, dijkstra, reverse=source is None)
    return path_dict(view, found, reverse=source is None) if paths else length_dict(view, found)


@native(accepts=_method_accepts)
def shortest_path(
    G: Any,
    source: Hashable | None = None,
    target: Hashable | None = None,
    weight: Any = None,
    method: str = "dijkstra",
) -> Any:
    """networkx's ``shortest_path``: a path, a dict of paths, or a generator of ``(source, paths)``."""
    return _generic(G, source, target, weight, method, True)


@native(accepts=_method_accepts)
def shortest_path_length(
    G: Any,
    source: Hashable | None = None,
    target: Hashable | None = None,
    weight: Any = None,
    method: str = "dijkstra",
) -> Any:
    """networkx's ``shortest_path_length``: a length, a dict of lengths, or a generator of dicts."""
    return _generic(G, source, target, weight, method, False)


def _single_source(G: Any, source: Any, cutoff: Any, weight: Any, dijkstra: bool, paths: bool) -> Any:
    """``single_source_{shortest_path,dijkstra_path}[_length]``, with networkx's message for each."""
    view = view_of(G)
    if dijkstra:
        _weight_name(weight)
        {source}  # noqa: B018  (networkx makes the set {source}: an unhashable source raises TypeError)
    missing = (
        f"Node {source} not found in graph"
        if dijkstra
        else f"Source {source} {'' if paths else 'is '}not in G"
    )
    found = search(view, node_index(view, source, missing), weight, cutoff, dijkstra)
    return (path_dict if paths else length_dict)(view, found)


@native()
def single_source_shortest_path(
    G: Any, source: Hashable, cutoff: Any = None
) -> dict[Hashable, list[Hashable]]:
    """networkx's ``single_source_shortest_path``: BFS paths, in BFS order."""
    return _single_source(G, source, cutoff, None, False, True)


@native()
def single_source_shortest_path_length(G: Any, source: Hashable, cutoff: Any = None) -> dict[Hashable, int]:
    """networkx's ``single_source_shortest_path_length``: hops, in BFS order."""
    return _single_source(G, source, cutoff, None, False, False)


def _bidirectional_shortest_path_impl(G: Any, source: Any, target: Any) -> list[Hashable]:
    view = view_of(G)
    s = node_index(view, source, f"Source {source} is not in G")
    path = _bidirectional_bfs(view, s, node_index(view, target, f"Target {target} is not in G"))
    if path is None:
        raise nx.NetworkXNoPath(f"No path between {source} and {target}.")
    return view.label(path)


@native()
def bidirectional_shortest_path(G: Any, source: Hashable, target: Hashable) -> list[Hashable]:
    """networkx's ``bidirectional_shortest_path`` (its search, so its choice among shortest paths)."""
    return _bidirectional_shortest_path_impl(G, source, target)


def _single_source_dijkstra(G: Any, source: Any, target: Any, cutoff: Any, weight: Any) -> Any:
    view, sources = view_of(G), {source}  # (as networkx: an unhashable source raises TypeError)
    _weight_name(weight)
    s = node_index(view, source, f"Node {source} not found in graph")
    if target in sources:
        return 0, [target]
    if target is None:
        found = search(view, s, weight, cutoff, True)
        return length_dict(view, found), path_dict(view, found)
    found = to_target(view, s, target, weight, cutoff, True)
    if found is None:
        raise nx.NetworkXNoPath(f"No path to {target}.")
    return found[0], view.label(found[1])


@native(accepts=weight_is_name())
def single_source_dijkstra(
    G: Any, source: Hashable, target: Hashable | None = None, cutoff: Any = None, weight: Any = "weight"
) -> tuple[Any, Any]:
    """networkx's ``single_source_dijkstra``: ``(dist, paths)`` dicts in settle order, or to ``target``."""
    return _single_source_dijkstra(G, source, target, cutoff, weight)


@native(accepts=weight_is_name())
def single_source_dijkstra_path(
    G: Any, source: Hashable, cutoff: Any = None, weight: Any = "weight"
) -> dict[Hashable, list[Hashable]]:
    """networkx's ``single_source_dijkstra_path``: paths in settle order."""
    return _single_source(G, source, cutoff, weight, True, True)


@native(accepts=weight_is_name())
def single_source_dijkstra_path_length(
    G: Any, source: Hashable, cutoff: Any = None, weight: Any = "weight"
) -> dict[Hashable, Any]:
    """networkx's ``single_source_dijkstra_path_length``: distances in settle order."""
    return _single_source(G, source, cutoff, weight, True, False)


@native(accepts=weight_is_name())
def dijkstra_path(G: Any, source: Hashable, target: Hashable, weight: Any = "weight") -> Any:
    """networkx's ``dijkstra_path``: ``single_source_dijkstra(G, source, target)[1]``."""
    return _single_source_dijkstra(G, source, target, None, weight)[1]


def _dijkstra_path_length_impl(G: Any, source: Any, target: Any, weight: Any) -> Any:
    view = view_of(G)
    s = node_index(view, source, f"Node {source} not found in graph")
    if source == target:
        return 0
    _weight_name(weight)
    found = to_target(view, s, target, weight, None, False)
    if found is None:
        raise nx.NetworkXNoPath(f"Node {target} not reachable from {source}")
    return found[0]


@native(accepts=weight_is_name())
def dijkstra_path_length(G: Any, source: Hashable, target: Hashable, weight: Any = "weight") -> Any:
    """networkx's ``dijkstra_path_length`` (``NetworkXNoPath`` when ``target`` is unreachable or absent)."""
    return _dijkstra_path_length_impl(G, source, target, weight)


def _bidirectional_dijkstra_impl(G: Any, source: Any, target: Any, weight: Any) -> tuple[Any, Any]:
    view = view_of(G)
    s = node_index(view, source, f"Source {source} is not in G")
    t = node_index(view, target, f"Target {target} is not in G")
    if source == target:
        return 0, [source]
    _weight_name(weight)
    found = _bidirectional_dijkstra(view, s, t, weight)
    if found is None:
        raise nx.NetworkXNoPath(f"No path between {source} and {target}.")
    return found[0], view.label(found[1])


@native(accepts=weight_is_name())
def bidirectional_dijkstra(
    G: Any, source: Hashable, target: Hashable, weight: Any = "weight"
) -> tuple[Any, Any]:
    """networkx's ``bidirectional_dijkstra``: ``(length, path)`` from its two-sided search."""
    return _bidirectional_dijkstra_impl(G, source, target, weight)
