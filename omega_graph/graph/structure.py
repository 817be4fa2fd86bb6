"""Acyclicity, cycles and d-separation.

``is_dag`` uses scipy's strongly connected components (linear time, in C). ``find_cycles`` runs
networkx's ``simple_cycles`` (Johnson's algorithm, lazy) only on the strongly connected components
that hold a cycle, and stops after ``limit`` cycles, so a large cyclic graph never makes it
enumerate an exponential number of cycles unasked. ``d_separated`` is the Bayes-ball reachability
test (Koller & Friedman, Algorithm 3.1) over the structural graph, and agrees with
``networkx.is_d_separator``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import islice

import numpy as np

from ..errors import NotADAGError, ValidationError
from ._bfs import find_cycle_in, reach_mask
from .snapshot import GraphData

__all__ = ["d_separated", "find_cycles", "is_dag"]


def a_cycle(data: GraphData) -> list[int] | None:
    """One cycle of the whole graph (node indices), or None; cached."""
    return data._cached("a_cycle", lambda: find_cycle_in(data.forward()))


def is_dag(data: GraphData) -> bool:
    return a_cycle(data) is None


def find_cycles(data: GraphData, limit: int | None, max_length: int | None) -> list[list[str]]:
    """Up to ``limit`` simple cycles, each rotated to start at its smallest memory id."""
    import networkx as nx
    from scipy.sparse.csgraph import connected_components

    for name, value in (("limit", limit), ("max_length", max_length)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValidationError("find_cycles", name, value, "None or an integer >= 1")
    if is_dag(data) or limit == 0:
        return []
    adj = data.forward()
    n = data.n_nodes
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    _, labels = connected_components(data.structure_matrix(False), directed=True, connection="strong")
    sizes = np.bincount(labels)
    cyclic = sizes[labels] > 1
    cyclic[rows[rows == adj.nbr]] = True
    inner = cyclic[rows] & cyclic[adj.nbr] & (labels[rows] == labels[adj.nbr])
    g = nx.DiGraph()
    g.add_nodes_from(np.flatnonzero(cyclic).tolist())
    g.add_edges_from(zip(rows[inner].tolist(), adj.nbr[inner].tolist(), strict=True))
    out: list[list[str]] = []
    for cycle in islice(nx.simple_cycles(g, length_bound=max_length), limit):
        k = cycle.index(min(cycle))
        out.append([data.node_ids[i] for i in cycle[k:] + cycle[:k]])
    return out


def _as_set(data: GraphData, nodes: str | Iterable[str] | None, role: str) -> set[int]:
    if nodes is None:
        return set()
    return set(data.indices(nodes, role))


def d_separated(
    data: GraphData, xs: str | Iterable[str], ys: str | Iterable[str], given: str | Iterable[str] | None
) -> bool:
    """True when every path between ``xs`` and ``ys`` is blocked by ``given`` (needs a DAG)."""
    x, y, z = _as_set(data, xs, "xs"), _as_set(data, ys, "ys"), _as_set(data, given, "given")
    for a, b, name in ((x, y, "ys"), (x, z, "given"), (y, z, "given")):
        common = a & b
        if common:
            raise ValidationError(
                "d_separated", name, sorted(data.node_ids[i] for i in common), "sets disjoint from each other"
            )
    cycle = a_cycle(data)
    if cycle is not None:
        raise NotADAGError([data.node_ids[i] for i in cycle], what="d-separation")
    fwd, bwd = data.forward(), data.backward()
    ancestors_z = reach_mask(bwd, np.fromiter(z, dtype=np.int64, count=len(z))) if z else np.zeros(0, bool)
    seen: set[tuple[int, bool]] = set()
    todo: deque[tuple[int, bool]] = deque((v, True) for v in sorted(x))  # True: arrived from a child
    while todo:
        v, up = todo.popleft()
        if (v, up) in seen:
            continue
        seen.add((v, up))
        if v in y:
            return False
        in_z = v in z
        if up and not in_z:
            todo.extend((p, True) for p in bwd.neighbors(v).tolist())
            todo.extend((c, False) for c in fwd.neighbors(v).tolist())
        elif not up:
            if not in_z:
                todo.extend((c, False) for c in fwd.neighbors(v).tolist())
            if len(ancestors_z) and ancestors_z[v]:
                todo.extend((p, True) for p in bwd.neighbors(v).tolist())
    return True
