"""What a memory eventually causes, what drives it, and how much of one reaches another.

``causes`` / ``effects`` are structural: every ancestor / descendant through edges of any weight,
``depth`` the fewest edges, ``strength`` the best path strength (0 when every path crosses a
weight-0 edge), computed with scipy's Dijkstra on ``-ln w`` (strength = ``exp(-distance)``, equal to
the product of the path's weights up to floating-point rounding). ``total_effect`` is path
analysis: the sum over every directed path of the product of its weights, parallel edges being
separate channels; ``through`` / ``avoiding`` restrict it to the paths that pass through given
memories or none of them (path-specific effects), and ``direct_effect`` is the sum of the weights of
the edges between two memories.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NotADAGError, NotFoundError, ValidationError
from ._bfs import bfs_depths, distinct, expand, find_cycle_in, reach_mask
from .snapshot import GraphData

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["direct_effect", "lookup", "member_indices", "reach_frame", "total_effect"]

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


def member_indices(data: GraphData, value: object, role: str, s: int, t: int) -> list[int]:
    """Node indices of ``value`` (one memory id or a non-empty collection of them), sorted, unique.

    ``role`` (``"through"`` or ``"avoiding"``) names the argument in the errors. None is no constraint
    (``[]``). Raises :class:`ValidationError` for a value that is neither an id nor a collection of
    ids, an empty collection, a member that is not a ``str``, or a member that is the source ``s`` or
    the target ``t`` (every path passes through its ends); :class:`NotFoundError` for an unknown id.

    Examples
    --------
    >>> from omega_graph.graph.snapshot import SnapshotState
    >>> d = GraphData.from_rows(
    ...     nodes=[(1, "a", 1, 0.5), (2, "b", 1, 0.5), (3, "c", 1, 0.5)], edges=[],
    ...     state=SnapshotState(0, 0, 3, 3))
    >>> member_indices(d, "b", "through", 0, 2), member_indices(d, None, "through", 0, 2)
    ([1], [])
    >>> member_indices(d, [], "avoiding", 0, 2)
    Traceback (most recent call last):
    ...
    omega_graph.errors.ValidationError: total_effect.avoiding = [] is invalid: expected one memory id \
or a non-empty collection of memory ids (None: no constraint)
    """
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("total_effect", role, value, "a memory id (str) or a collection of memory ids")
    else:
        items = list(value)
        if not items:
            raise ValidationError("total_effect", role, value,
                "one memory id or a non-empty collection of memory ids (None: no constraint)")  # fmt: skip
    out: set[int] = set()
    for m in items:
        i = lookup(data, m, role)
        if i in (s, t):
            end = "source" if i == s else "target"
            raise ValidationError("total_effect", role, m,
                f"memories other than the {end} ({data.node_ids[i]!r}): every path passes through its "
                "source and its target")  # fmt: skip
        out.add(i)
    return sorted(out)


def lookup(data: GraphData, memory_id: object, role: str, entity: str = "total_effect") -> int:
    """Node index of ``memory_id``; errors name ``role`` (the argument) and the value."""
    if not isinstance(memory_id, str):
        raise ValidationError(entity, role, memory_id, "a memory id (str)")
    i = data.find(memory_id)
    if i < 0:
        raise NotFoundError("memory", memory_id,
            f"{entity}'s {role} must be a memory of this graph snapshot; check the id, or call refresh() "
            "if it was stored since")  # fmt: skip
    return i


def direct_effect(data: GraphData, s: int, t: int) -> float:
    """Sum of the weights of the edges ``s -> t`` (0.0 when there are none)."""
    if s == t:
        raise ValidationError(
            "direct_effect", "target", data.node_ids[t], "a memory other than the source (a memory's "
            "effect on itself is not a path-analysis quantity)",
        )  # fmt: skip
    summed = data.sum_matrix()  # checks the weights, as total_effect does
    lo, hi = int(summed.indptr[s]), int(summed.indptr[s + 1])
    k = lo + int(np.searchsorted(summed.indices[lo:hi], t))  # a row's neighbours are ascending
    return float(summed.data[k]) if k < hi and int(summed.indices[k]) == t else 0.0


def total_effect(
    data: GraphData, s: int, t: int, through: Sequence[int] = (), avoiding: Sequence[int] = ()
) -> float:
    """Sum over directed s -> t paths of the product of weights; exact on the DAG between them.

    Only the paths that pass through every node of ``through`` and through no node of ``avoiding``
    count (node indices, neither holding ``s`` or ``t``: see :func:`member_indices`).

    One pass of Kahn's algorithm by levels over the memories between ``s`` and ``t`` (a node is final
    once all its in-edges are in), with ``x[v]`` the effect so far of ``s`` on ``v``:

    - an avoided node's ``x`` is set to 0 when it becomes final, before it passes anything on;
    - when a ``through`` node ``m`` becomes final, ``x[m]`` is the effect over the paths that passed
      the earlier members (in chain order), and every other ``x`` is set to 0. What remains then
      flows only out of ``m``, so ``x[t]`` at the end is ``E(s, m1) E(m1, m2) ... E(mk, t)``, the
      product along the chain (a path of a DAG meets its nodes in topological order, and final order
      is one). Two members final in the same level, or one not between ``s`` and ``t``, are on no
      common path: 0.0.

    The cost is that of the plain pass plus one O(n) reset per ``through`` member.
    """
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
    n = data.n_nodes
    chain = np.zeros(n, dtype=bool)
    chain[np.asarray(through, dtype=np.int64)] = True
    if not between[chain].all():
        return 0.0  # a member on no s -> t path
    shut = np.zeros(n, dtype=bool)
    shut[np.asarray(avoiding, dtype=np.int64)] = True
    shut &= between
    summed = data.sum_matrix()
    indptr, nbr, w = summed.indptr, summed.indices, summed.data
    rows = np.repeat(np.arange(n), np.diff(indptr))
    inside = between[rows] & between[nbr]
    indeg = np.bincount(nbr[inside], minlength=n)
    x = np.zeros(n)
    x[s] = 1.0
    frontier = np.array([s], dtype=np.int64)
    while len(frontier):  # Kahn's algorithm by levels: a node is final once all its in-edges are in
        if len(through):
            hit = frontier[chain[frontier]]
            if len(hit) > 1:
                return 0.0  # members in one level: neither reaches the other
            if len(hit):
                m = int(hit[0])
                kept = x[m]
                x.fill(0.0)
                x[m] = kept
        if len(avoiding):
            x[frontier[shut[frontier]]] = 0.0
        pos, src = expand(indptr, frontier)
        pos, src = pos[inside[pos]], src[inside[pos]]
        heads = nbr[pos]
        np.add.at(x, heads, x[src] * w[pos])
        np.subtract.at(indeg, heads, 1)
        frontier = distinct(heads[indeg[heads] == 0], len(x))
    return float(x[t])
