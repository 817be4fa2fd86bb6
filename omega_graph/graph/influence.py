"""Weighted PageRank run to convergence: networkx's definition, an answer within a stated L1 error bound.

Definition
----------
``influence`` is ``networkx.pagerank(G, alpha, personalization, weight="weight")`` on the
``MultiDiGraph`` of :meth:`~.causal_graph.CausalGraph.to_networkx`, solved exactly rather than
stopped early. The weights of parallel edges add (networkx's ``to_scipy_sparse_array``); out-weights
are normalised per node; a node whose out-weights sum to 0 (no out-edges, or only weight-0 ones) is
*dangling* and hands its score out along the personalization vector ``p`` (uniform by default); the
walk restarts along ``p`` with probability ``1 - alpha``. The scores ``x*`` are the fixed point of

    G(x) = alpha * (P^T x + (d . x) p) + (1 - alpha) p

with ``P`` the row-normalised weight matrix (zero rows for dangling nodes) and ``d`` the indicator of
the dangling nodes. ``x*`` is positive where ``p`` reaches, and sums to 1.

Stopping rule and error bound
-----------------------------
``G`` is an ``alpha``-contraction in the L1 norm, on every vector (the columns of
``alpha * (P^T + p d^T)`` sum to ``alpha``). So for any vector ``x`` and its image ``x' = G(x)``,

    ||x' - x*||_1 <= alpha * ||x - x*||_1 <= alpha / (1 - alpha) * ||x' - x||_1.

The returned vector is always such an ``x'``, and it is returned only when
``alpha / (1 - alpha) * ||x' - x||_1 <= tol`` (default ``1e-10``): the rule bounds the distance to the
exact scores, not just the last step. (networkx stops when the step is below ``N * tol``: at a million
nodes and its default ``tol=1e-6`` that is 1.0, and the vectors it returns on the benchmark graphs
are 0.29 to 0.39 away from the exact ones in L1, sharing 6 to 21 of their top 100.) The bound reached
is reported in the result's ``attrs["error_bound"]``.

How many iterations: the L1 step shrinks by at least ``alpha`` per iteration and the first one is at
most 2, so :func:`iterations_needed` ``= 1 + ceil(log(tol (1 - alpha) / (2 alpha)) / log(alpha))``
always suffice (158 at ``alpha = 0.85, tol = 1e-10``; 894 at 0.97; 2,819 at 0.99; 30,612 at 0.999).
Most graphs need far fewer, as the step shrinks by about ``alpha * |lambda_2|`` (50 on a random graph
of a million memories); a periodic structure (a cycle whose edges are each the only way out of
their node) makes it shrink by ``alpha`` exactly, and then the a-priori count is nearly used up.
No fixed cap can be enough for every graph as ``alpha`` nears 1, so the default ``max_iter=None``
*is* that count: the bound is always reached, in exact arithmetic, at a cost that grows like
``log(1 / tol) / (1 - alpha)``. A given ``max_iter`` caps the work instead; when it is not enough,
:class:`~omega_graph.errors.ConvergenceError` names the iterations done, the bound reached and the
count that suffices. ``alpha = 1`` is refused: the factor ``alpha / (1 - alpha)`` is infinite, no
bound follows from a step, and the stationary vector need not even be unique (a graph with two
closed cycles has a line of them); use e.g. 0.99.

Rounding: the bound holds exactly for the vectors computed; evaluating ``G`` in float64 adds an error
of about ``1e-16`` times the average in-degree in L1, and the step cannot shrink below that, so the
smallest reachable ``tol`` is about ``alpha / (1 - alpha)`` times it: around ``1e-14`` at
``alpha = 0.85``, ``1e-13`` to ``1e-12`` at 0.99 (a small graph with heavy nodes has met 1.5e-12). In exact arithmetic the step over the non-dangling
nodes halves at least every ``ceil(log 4 / log(1 / alpha))`` iterations; when it has not shrunk at all
over such a window, rounding dominates and ``ConvergenceError`` is raised at once (with the bound that
was reached and a ``tol`` to ask for) instead of running on to ``max_iter``.

Solver
------
Power iteration. Krylov solvers (scipy's GMRES, LGMRES and BiCGSTAB on ``(I - alpha P^T) y = p``) were
measured and needed as many matrix products on large random graphs: the spectrum of ``P`` spreads over
a disc, where the power step is already the best polynomial. Each step is made cheaper instead:

- *dangling nodes are lumped* (Lee, Golub & Zenios 2003; Ipsen & Selee 2007). They feed the others
  nothing but their total mass, which is ``1 - sum(x_N)``, so the iterates on the non-dangling nodes
  ``N`` follow ``x_N <- alpha P_NN^T x_N + (1 - alpha sum(x_N)) p_N`` exactly (the same iterates as the
  full power iteration), and the dangling scores are filled in at the end;
- the nodes are renumbered once per snapshot and direction (non-dangling first, then by in-degree,
  for cache locality), weight-0 entries dropped, the matrices kept with 32-bit indices;
- on large graphs each product is split by rows over two threads (scipy's product and numpy's
  arithmetic release the GIL); partial sums are added in a fixed order, so results are reproducible.

The lumped step has no bound of its own: when ``alpha / (1 - alpha)`` times its L1 change, scaled up
by an estimate of the dangling nodes' share of the step, reaches ``tol``, the current iterate ``x`` is
completed and *certified* by one full step ``x' = G(x)`` on all nodes; its L1 change gives the bound
above. If that bound is still above ``tol``, the estimate is corrected and the iteration goes on from
``x'``.

Caching
-------
The renumbered matrices are cached on the snapshot (one set per direction). Results are cached too,
per ``(reverse, alpha, personalization)``, the 8 most recent: a call whose ``tol``
a cached result's bound already meets returns that result at once (``attrs["iterations"] == 0``); a
call asking for more starts from it (a warm start). Either way the result meets the bound of the call,
so a call may return a vector more accurate than it asked for, and its last bits may depend on earlier
calls; a new snapshot (or :meth:`~.causal_graph.CausalGraph.refresh`, which builds a new one when
anything changed) starts afresh.

Examples
--------
>>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
>>> store = OmegaStore.new_in_memory()
>>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
3
>>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2)])
2
>>> frame = store.causal_graph().influence()
>>> frame.round(6).values.tolist()
[['c', 0.474412, 1], ['b', 0.341171, 2], ['a', 0.184417, 3]]
>>> frame.attrs["error_bound"] <= 1e-10
True
>>> iterations_needed(0.85, 1e-10)  # a priori, for any graph; this one took far fewer
158
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConvergenceError, NotFoundError, ValidationError
from .snapshot import GraphData

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_TOL", "PageRank", "chain_of", "iterations_needed", "pagerank", "pagerank_frame", "solve"]

#: Default L1 error bound of :func:`pagerank` (and ``CausalGraph.influence``).
DEFAULT_TOL = 1.0e-10
#: Results kept per snapshot for reuse and warm starts (each holds one float per node).
RESULTS_KEPT = 8
#: Matrices with at least this many entries are multiplied by row blocks on two threads.
_THREADED_NNZ = 1 << 19


@dataclass(frozen=True)
class PageRank:
    """The scores by node index, the L1 error bound they meet and the iterations spent on them."""

    scores: np.ndarray
    error_bound: float
    iterations: int


# ----- the renumbered transition matrices ---------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    """A CSR matrix as row blocks (two of about equal entries when large) that threads multiply."""

    blocks: tuple[tuple[int, int, Any], ...]

    @classmethod
    def of(cls, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n_cols: int) -> _Rows:
        import scipy.sparse as sp

        n_rows = len(indptr) - 1
        cuts = [0, n_rows]
        if indptr[-1] - indptr[0] >= _THREADED_NNZ and _threads() > 1:
            cuts = [0, int(np.searchsorted(indptr, (indptr[0] + indptr[-1]) // 2)), n_rows]
        blocks = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            lo, hi = int(indptr[a]), int(indptr[b])
            ptr = (indptr[a : b + 1] - lo).astype(indptr.dtype, copy=False)
            m = sp.csr_array((data[lo:hi], indices[lo:hi], ptr), shape=(b - a, n_cols))
            blocks.append((a, b, m))
        return cls(tuple(blocks))

    def affine(
        self,
        x: np.ndarray,
        alpha: float,
        c: float,
        p: np.ndarray,
        out: np.ndarray,
        tmp: np.ndarray,
        prev: np.ndarray | None,
        pool: Executor | None,
    ) -> tuple[float, float]:
        """``out = alpha * (M @ x) + c * p``; returns ``(||out - prev||_1, sum(out))`` (0 without prev)."""

        def run(block: tuple[int, int, Any]) -> tuple[float, float]:
            a, b, m = block
            o, t = out[a:b], tmp[a:b]
            np.multiply(m @ x, alpha, out=o)
            np.multiply(p[a:b], c, out=t)
            o += t
            if prev is None:
                return 0.0, float(o.sum())
            np.subtract(o, prev[a:b], out=t)
            np.abs(t, out=t)
            return float(t.sum()), float(o.sum())

        if pool is None or len(self.blocks) == 1:
            parts = [run(block) for block in self.blocks]
        else:
            parts = list(pool.map(run, self.blocks))
        return math.fsum(s for s, _ in parts), math.fsum(t for _, t in parts)


@dataclass(frozen=True)
class _Chain:
    """The transition matrix renumbered: ``perm[i]`` is the node at position i; positions ``< k`` are
    the non-dangling nodes. ``nn`` holds the rows of ``P^T`` for those, ``dn`` for the dangling ones;
    both have ``k`` columns (only non-dangling nodes have out-weight)."""

    perm: np.ndarray
    k: int
    nn: _Rows
    dn: _Rows
    threaded: bool


def _threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(2, cpus)


def chain_of(a: Any) -> _Chain:
    """The renumbered transition matrices of the weight matrix ``a`` (scipy CSR, ``a[u, v]`` the summed
    weight of the edges u -> v, all >= 0)."""
    n = a.shape[0]
    out = np.asarray(a.sum(axis=1)).ravel()  # networkx's S: the out-weight of each node
    dangling = out == 0
    counts = np.diff(a.indptr)
    index_type = np.int32 if n < 2**31 else np.int64
    src = np.repeat(np.arange(n, dtype=index_type), counts)
    # w / S rather than networkx's w * (1 / S): equal up to one rounding, and finite for tiny S
    with np.errstate(invalid="ignore"):  # 0/0 for a dangling node's weight-0 edges: dropped below
        values = a.data / np.repeat(out, counts)
    dst = a.indices
    keep = a.data > 0
    if not keep.all():
        src, dst, values = src[keep], dst[keep], values[keep]
    in_degree = np.bincount(dst, minlength=n)
    perm = np.lexsort((-in_degree, dangling))  # non-dangling first, then busiest targets first
    inv = np.empty(n, dtype=index_type)
    inv[perm] = np.arange(n, dtype=inv.dtype)
    k = int(n - dangling.sum())
    pt = _csr(values, inv[dst], inv[src], n, k)
    ptr = pt.indptr
    nn = _Rows.of(pt.data, pt.indices, ptr[: k + 1], k)
    dn = _Rows.of(pt.data, pt.indices, ptr[k:], k)
    return _Chain(perm, k, nn, dn, threaded=len(nn.blocks) > 1 or len(dn.blocks) > 1)


def _chain(data: GraphData, reverse: bool) -> _Chain:
    """The renumbered transition matrices of one direction, cached on the snapshot."""

    def build() -> _Chain:
        a = data.sum_matrix()
        return chain_of(a.T.tocsr() if reverse else a)

    chain: _Chain = data._cached(f"pagerank_chain_{reverse}", build)
    return chain


def _csr(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> Any:
    """CSR with sorted column indices (32-bit when they fit) from coordinates without duplicates."""
    import scipy.sparse as sp

    m = sp.coo_array((values, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
    m.sort_indices()
    return m


# ----- validation ---------------------------------------------------------------------------------
def _check_options(alpha: object, tol: object, max_iter: object) -> tuple[float, float, int | None]:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 <= alpha < 1.0:
        raise ValidationError(
            "influence", "alpha", alpha,
            "a damping factor in [0, 1), e.g. 0.85 (at 1 no error bound exists and the scores need not "
            "be unique; use e.g. 0.99)",
        )  # fmt: skip
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0.0 < tol < math.inf:
        raise ValidationError("influence", "tol", tol, "a finite L1 error bound > 0, e.g. 1e-10")
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1
    ):
        raise ValidationError(
            "influence",
            "max_iter",
            max_iter,
            "a positive integer, or None for the count that always suffices",
        )
    return float(alpha), float(tol), None if max_iter is None else int(max_iter)


def _personalization(data: GraphData, personalization: object) -> np.ndarray | None:
    """The restart distribution by node index (None: uniform), checked as networkx would."""
    if personalization is None:
        return None
    if not isinstance(personalization, Mapping):
        raise ValidationError(
            "influence", "personalization", personalization, "a mapping memory id -> weight"
        )
    p = np.zeros(data.n_nodes)
    for key, value in personalization.items():
        i = data.find(key) if isinstance(key, str) else -1
        if i < 0:
            raise NotFoundError("memory", key, "personalization keys must be memories of this graph")
        if not isinstance(value, int | float) or not 0 <= value < math.inf:
            raise ValidationError("influence", f"personalization[{key!r}]", value, "a finite number >= 0")
        p[i] = value
    total = p.sum()
    if total == 0:
        raise ValidationError(
            "influence", "personalization", dict(personalization), "at least one positive value"
        )
    p /= total
    return p


def iterations_needed(alpha: float, tol: float) -> int:
    """Power iterations that reach the L1 bound ``tol`` on any graph (in exact arithmetic).

    The first step is at most 2 in L1 and each one shrinks by ``alpha`` at least; the bound of the
    ``m``-th iterate is ``alpha / (1 - alpha)`` times its step.

    Examples
    --------
    >>> [iterations_needed(a, 1e-10) for a in (0.0, 0.5, 0.85, 0.99)]
    [1, 36, 158, 2819]
    """
    if alpha == 0.0:
        return 1
    return 1 + max(0, math.ceil(math.log(tol * (1.0 - alpha) / (2.0 * alpha)) / math.log(alpha)))


# ----- the solver ---------------------------------------------------------------------------------
def pagerank(
    data: GraphData,
    personalization: Mapping[str, float] | None = None,
    reverse: bool = False,
    alpha: float = 0.85,
    tol: float = DEFAULT_TOL,
    max_iter: int | None = None,
) -> PageRank:
    """PageRank scores by node index, within L1 distance ``tol`` of the exact ones (see module doc).

    Raises :class:`~omega_graph.errors.ValidationError` for a bad option or weight,
    :class:`~omega_graph.errors.NotFoundError` for a personalization key that is not a memory of the
    snapshot, and :class:`~omega_graph.errors.ConvergenceError` when the bound is not reached.
    """
    alpha, tol, cap = _check_options(alpha, tol, max_iter)
    max_iter = iterations_needed(alpha, tol) if cap is None else cap
    n = data.n_nodes
    p = _personalization(data, personalization)
    if n == 0:
        return PageRank(np.empty(0), 0.0, 0)
    data.check_strength_weights()
    chain = _chain(data, bool(reverse))
    key = (bool(reverse), alpha, None if p is None else hashlib.sha1(p.tobytes()).hexdigest())
    results: dict[tuple[bool, float, str | None], tuple[np.ndarray, float]]
    results = data._cached("pagerank_results", dict)
    cached = results.pop(key, None)
    if cached is not None and cached[1] <= tol:
        results[key] = cached  # most recent last
        return PageRank(_unpermute(chain, cached[0]), cached[1], 0)
    p_perm = np.full(n, 1.0 / n) if p is None else p[chain.perm]
    start = p_perm if cached is None else cached[0]
    x, bound, iterations = solve(chain, p_perm, start, alpha, tol, max_iter, cap is None)
    results[key] = (x, bound)
    while len(results) > RESULTS_KEPT:
        del results[next(iter(results))]
    return PageRank(_unpermute(chain, x), bound, iterations)


def _unpermute(chain: _Chain, x: np.ndarray) -> np.ndarray:
    scores = np.empty(len(x))
    scores[chain.perm] = x
    return scores


def solve(
    chain: _Chain,
    p: np.ndarray,
    start: np.ndarray,
    alpha: float,
    tol: float,
    max_iter: int,
    auto: bool,
    accept: float = 0.0,
) -> tuple[np.ndarray, float, int]:
    """Lumped power iteration from ``start`` (positions in ``chain`` order), certified by a full step.

    Returns ``(x, bound, iterations)``: ``x`` in chain order, ``||x - x*||_1 <= bound``, with
    ``bound <= tol``, or ``bound <= accept`` when ``max_iter`` iterations (or rounding) did not reach ``tol``
    (networkx's ``pagerank`` arguments through the backend: its own stopping rule is accepted at
    its ``max_iter``). ``auto``: ``max_iter`` is the count that suffices (for the error message).
    """
    if chain.threaded:
        with ThreadPoolExecutor(2) as pool:
            return _solve(chain, p, start, alpha, tol, max_iter, auto, accept, pool)
    return _solve(chain, p, start, alpha, tol, max_iter, auto, accept, None)


def _solve(
    chain: _Chain,
    p: np.ndarray,
    start: np.ndarray,
    alpha: float,
    tol: float,
    max_iter: int,
    auto: bool,
    accept: float,
    pool: Executor | None,
) -> tuple[np.ndarray, float, int]:
    k = chain.k
    p_n, p_d = p[:k], p[k:]
    factor = alpha / (1.0 - alpha)
    # In exact arithmetic the step on the non-dangling nodes is at most 2 alpha^m times the one m steps
    # before; over this window that is at most half, so no shrinking at all means rounding dominates.
    window = 1 if alpha <= 0.25 else math.ceil(math.log(4.0) / -math.log(alpha))
    # x_n: the non-dangling part of the current iterate; its dangling part is x_d when known, else
    # alpha * P_DN^T prev + c_prev * p_d, from the iterate before. c: the restart coefficient of x_n.
    x_n = start[:k].copy()
    x_d: np.ndarray | None = start[k:]
    prev, c_prev = x_n, math.nan
    c = alpha * float(start[k:].sum()) + (1.0 - alpha)
    free, tmp, tmp_d = np.empty(k), np.empty(k), np.empty(len(p_d))
    share = 1.0  # estimate of the dangling nodes' step over the non-dangling nodes' step
    steps: list[float] = []
    bound = math.inf
    iterations = 0
    stalled = False
    while True:
        last = iterations + 1 >= max_iter
        if not last:
            step, total = chain.nn.affine(x_n, alpha, c, p_n, free, tmp, x_n, pool)
            iterations += 1
            steps.append(step)
            prev, c_prev, x_n, free = x_n, c, free, x_n  # prev's buffer is free after the next step
            c = 1.0 - alpha * total  # alpha * (dangling mass = 1 - total) + 1 - alpha
            x_d = None
            stalled = len(steps) > window and 0.0 < steps[-1] >= steps[-1 - window]
            if not stalled and factor * step * (1.0 + share) > tol:
                continue
        # certify: complete the iterate x = (x_n, x_d), take one full step x' = G(x), bound x' by it
        if x_d is None:
            x_d = np.empty(len(p_d))
            chain.dn.affine(prev, alpha, c_prev, p_d, x_d, tmp_d, None, pool)
        c_full = alpha * float(x_d.sum()) + (1.0 - alpha)
        out_n, out_d = np.empty(k), np.empty(len(p_d))
        step_n, _ = chain.nn.affine(x_n, alpha, c_full, p_n, out_n, tmp, x_n, pool)
        step_d, total_d = chain.dn.affine(x_n, alpha, c_full, p_d, out_d, tmp_d, x_d, pool)
        iterations += 1
        bound = factor * (step_n + step_d)
        if bound <= tol or ((last or stalled) and bound <= accept):
            return np.concatenate([out_n, out_d]), bound, iterations
        if last or stalled:
            break
        share = 1.25 * step_d / step_n if step_n > 0.0 else 2.0 * share
        steps.append(step_n)
        prev, c_prev, x_n, x_d = x_n, c_full, out_n, out_d
        c = alpha * total_d + (1.0 - alpha)
    if stalled or auto:  # auto: the count that suffices in exact arithmetic did not
        ask = 10.0 ** math.ceil(math.log10(bound * 2.0))
        fix = f"the step stopped shrinking at the rounding level of float64; ask for tol >= {ask:g}"
    else:
        fix = (
            f"raise max_iter ({iterations_needed(alpha, tol)} iterations suffice for any graph at "
            f"alpha={alpha:g} and tol={tol:g}), loosen tol or lower alpha"
        )
    raise ConvergenceError(f"influence (PageRank, alpha={alpha:g})", iterations, bound, tol, fix)


def pagerank_frame(data: GraphData, result: PageRank, alpha: float, tol: float) -> pd.DataFrame:
    """``memory_id, score, rank`` sorted by score descending, then id; rank 1 is the most influential.

    ``attrs`` carries ``error_bound`` (the L1 distance to the exact scores is at most this),
    ``iterations``, ``alpha`` and ``tol``.
    """
    import pandas as pd

    scores = result.scores
    order = np.argsort(-scores, kind="stable")  # ties: by index, i.e. by id
    ids = np.array(data.node_ids, dtype=object)[order]  # a gather of pointers, not a Python loop
    frame = pd.DataFrame(
        {"memory_id": pd.Series(ids, dtype=object),
         "score": scores[order],
         "rank": np.arange(1, len(order) + 1, dtype=np.int64)},
        columns=["memory_id", "score", "rank"],
    )  # fmt: skip
    frame.attrs.update(error_bound=result.error_bound, iterations=result.iterations, alpha=alpha, tol=tol)
    return frame
