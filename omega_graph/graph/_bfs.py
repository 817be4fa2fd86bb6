"""Vectorised building blocks over CSR arrays: frontier expansion, BFS levels, reachability, cycles."""

from __future__ import annotations

import numpy as np

from .snapshot import Adjacency

__all__ = ["bfs_depths", "distinct", "expand", "find_cycle_in", "reach_mask"]


def expand(indptr: np.ndarray, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into the CSR's entry arrays) of every entry of the ``frontier`` rows, and their row.

    >>> indptr = np.array([0, 2, 3, 3])
    >>> expand(indptr, np.array([0, 1]))
    (array([0, 1, 2]), array([0, 0, 1]))
    """
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=frontier.dtype)
    offsets = np.cumsum(counts) - counts
    pos = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)
    return pos, np.repeat(frontier, counts)


def distinct(values: np.ndarray, size: int) -> np.ndarray:
    """``np.unique`` of node indices below ``size`` (sorted, int64), without hashing.

    A mask when ``values`` is dense against ``size``, a sort otherwise: several times faster than
    ``np.unique`` on search frontiers.

    >>> distinct(np.array([3, 1, 3, 0]), 4), distinct(np.array([7, 2, 7]), 1000)
    (array([0, 1, 3]), array([2, 7]))
    """
    if len(values) * 16 > size:
        mark = np.zeros(size, dtype=bool)
        mark[values] = True
        return np.flatnonzero(mark)
    ordered = np.sort(values).astype(np.int64, copy=False)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def bfs_depths(adj: Adjacency, source: int, max_depth: int | None = None) -> np.ndarray:
    """Fewest-edge distance from ``source`` to every node (-1: unreachable), level by level."""
    depth = np.full(len(adj.indptr) - 1, -1, dtype=np.int64)
    depth[source] = 0
    frontier = np.array([source], dtype=np.int64)
    level = 0
    while len(frontier) and (max_depth is None or level < max_depth):
        pos, _ = expand(adj.indptr, frontier)
        nxt = adj.nbr[pos]
        nxt = distinct(nxt[depth[nxt] < 0], len(depth))
        level += 1
        depth[nxt] = level
        frontier = nxt.astype(np.int64)
    return depth


def reach_mask(
    adj: Adjacency, sources: np.ndarray, blocked: int = -1, within: np.ndarray | None = None
) -> np.ndarray:
    """Boolean mask of the nodes reachable from ``sources`` (sources included), never entering the
    node ``blocked`` (-1: none; it must not be a source) and, when given, only ``within`` nodes."""
    seen = np.zeros(len(adj.indptr) - 1, dtype=bool)
    frontier = np.unique(np.asarray(sources, dtype=np.int64))
    seen[frontier] = True
    if blocked >= 0:
        seen[blocked] = True  # looks visited, so never entered
    while len(frontier):
        pos, _ = expand(adj.indptr, frontier)
        nxt = adj.nbr[pos]
        fresh = ~seen[nxt] if within is None else ~seen[nxt] & within[nxt]
        frontier = distinct(nxt[fresh], len(seen))
        seen[frontier] = True
    if blocked >= 0:
        seen[blocked] = False
    return seen


def find_cycle_in(
    adj: Adjacency, mask: np.ndarray | None = None, labels: np.ndarray | None = None
) -> list[int] | None:
    """One cycle (node indices v0..vk, edges v0->...->vk->v0) among the ``mask`` nodes, or None.

    A self-loop is the cycle ``[v]``. Otherwise the smallest node of a non-trivial strongly connected
    component is v0 and the cycle is a shortest one through it (deterministic). ``labels``: the
    strongly connected components of the whole graph when already known (only used without ``mask``).
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    n = len(adj.indptr) - 1
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    keep = np.ones(len(adj.nbr), dtype=bool) if mask is None else mask[rows] & mask[adj.nbr]
    loops = np.flatnonzero(keep & (rows == adj.nbr))
    if len(loops):
        return [int(rows[loops[0]])]
    if labels is None or mask is not None:
        m = sp.csr_array((np.ones(int(keep.sum())), (rows[keep], adj.nbr[keep])), shape=(n, n))
        _, labels = connected_components(m, directed=True, connection="strong")
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes[labels] > 1)
    if mask is not None:
        big = big[mask[big]]
    if len(big) == 0:
        return None
    v0 = int(big[0])
    comp = labels == labels[v0]
    inner = comp[rows] & comp[adj.nbr] & keep
    sub = sp.csr_array((np.ones(int(inner.sum())), (rows[inner], adj.nbr[inner])), shape=(n, n))
    order, pred = breadth_first_order(sub, v0, directed=True, return_predecessors=True)
    # the predecessor of v0 on the cycle: its in-neighbour in the component reached first by the BFS
    rank = np.full(n, n, dtype=np.int64)
    rank[order] = np.arange(len(order))
    into = rows[inner & (adj.nbr == v0)]
    u = int(into[np.argmin(rank[into])])
    cycle = [u]
    while cycle[-1] != v0:
        cycle.append(int(pred[cycle[-1]]))
    return cycle[::-1]
