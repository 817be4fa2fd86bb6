"""What a memory eventually causes, what drives it, and how much of one reaches another.

``causes`` / ``effects`` are structural: every ancestor / descendant through edges of any weight,
``depth`` the fewest edges, ``strength`` the best path strength (0 when every path crosses a
weight-0 edge), computed with scipy's Dijkstra on ``-ln w`` (strength = ``exp(-distance)``, equal to
the product of the path's weights up to floating-point rounding). ``total_effect`` is path
analysis: the sum over every directed path of the product of its weights, parallel edges being
separate channels.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NotADAGError, ValidationError
from ._bfs import bfs_depths, expand, find_cycle_in, reach_mask
from .snapshot import GraphData

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["reach_frame", "total_effect"]

COLUMNS = ["memory_id", "depth", "strength"]


def _check_bounds(max_depth: int | None, min_strength: float) -> None:
    if max_depth is not None and (
        isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0
    ):
        raise ValidationError("causal graph query", "max_depth", max_depth, "None or an integer >= 0")
    if not isinstance(min_strength, int | float) or not (0.0 <= min_strength <= 1.0):
        raise ValidationError("causal graph query", "min_strength", min_strength, "a number in [0, 1]")


def reach_frame(
    data: GraphData, v: int, *, reverse: bool, max_depth: int | None, min_strength: float
) -> pd.DataFrame:
    """Rows ``memory_id, depth, strength`` for every node reachable from ``v`` (or reaching it)."""
    import pandas as pd
    from scipy.sparse.csgraph import dijkstra

    _check_bounds(max_depth, min_strength)
    depth = bfs_depths(data.adjacency(reverse), v, max_depth)
    depth[v] = -1  # never a row of its own causes or effects
    hit = np.flatnonzero(depth > 0)
    strength = np.zeros(len(hit))
    if len(hit):
        limit = np.inf if min_strength <= 0.0 else -math.log(min_strength) * (1 + 1e-12) + 1e-300
        dist, pred = dijkstra(data.cost_matrix(reverse), indices=v, limit=limit, return_predecessors=True)
        strength = tree_strengths(data, reverse, v, pred)[hit]
    keep = strength >= min_strength
    hit, strength = hit[keep], strength[keep]
    d = depth[hit]
    order = np.lexsort((hit, d, -strength))
    hit, d, strength = hit[order], d[order], strength[order]
    ids = data.node_ids
    return pd.DataFrame(
        {"memory_id": pd.Series([ids[i] for i in hit.tolist()], dtype=object),
         "depth": d.astype(np.int64), "strength": strength.astype(np.float64)},
        columns=COLUMNS,
    )  # fmt: skip


def tree_strengths(data: GraphData, reverse: bool, root: int, pred: np.ndarray) -> np.ndarray:
    """Exact products of weights along a shortest-path tree (``pred`` from scipy), root = 1.0.

    Level by level from the root, so each value is the product along its tree path, multiplied
    outward from the root; nodes outside the tree get 0.0.
    """
    adj = data.adjacency(reverse)
    n = data.n_nodes
    keys = data._cached(
        f"pair_keys_{reverse}",
        lambda: np.repeat(np.arange(n, dtype=np.int64), np.diff(adj.indptr)) * n + adj.nbr,
    )
    out = np.zeros(n)
    out[root] = 1.0
    members = np.flatnonzero(pred >= 0)
    if len(members) == 0:
        return out
    parents = pred[members].astype(np.int64)
    weight = adj.weight[np.searchsorted(keys, parents * n + members)]
    order = np.argsort(parents, kind="stable")
    members, parents, weight = members[order], parents[order], weight[order]
    starts = np.searchsorted(parents, np.arange(n + 1))  # children of p: members[starts[p]:starts[p+1]]
    indptr = starts
    frontier = np.array([root], dtype=np.int64)
    while len(frontier):
        pos, _ = expand(indptr, frontier)
        kids = members[pos]
        out[kids] = out[parents[pos]] * weight[pos]
        frontier = kids.astype(np.int64)
    return out


def total_effect(data: GraphData, s: int, t: int) -> float:
    """Sum over all directed s -> t paths of the product of weights; exact on the DAG between them."""
    if s == t:
        raise ValidationError(
            "total_effect", "target", data.node_ids[t], "a memory other than the source (a memory's "
            "effect on itself is not a path-analysis quantity)",
        )  # fmt: skip
    data.check_strength_weights()
    fwd = data.forward()
    between = reach_mask(fwd, np.array([s])) & reach_mask(data.backward(), np.array([t]))
    if not between[t]:
        return 0.0
    cycle = find_cycle_in(fwd, between)
    if cycle is not None:
        raise NotADAGError([data.node_ids[i] for i in cycle], what="total_effect")
    summed = data.sum_matrix()
    indptr, nbr, w = summed.indptr, summed.indices, summed.data
    rows = np.repeat(np.arange(data.n_nodes), np.diff(indptr))
    inside = between[rows] & between[nbr]
    indeg = np.bincount(nbr[inside], minlength=data.n_nodes)
    x = np.zeros(data.n_nodes)
    x[s] = 1.0
    frontier = np.array([s], dtype=np.int64)
    while len(frontier):  # Kahn's algorithm by levels: a node is final once all its in-edges are in
        pos, src = expand(indptr, frontier)
        pos, src = pos[inside[pos]], src[inside[pos]]
        heads = nbr[pos]
        np.add.at(x, heads, x[src] * w[pos])
        np.subtract.at(indeg, heads, 1)
        frontier = np.unique(heads)
        frontier = frontier[indeg[frontier] == 0].astype(np.int64)
    return float(x[t])
