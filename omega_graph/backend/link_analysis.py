"""``pagerank`` through networkx, on the engine's converged solver (:mod:`omega_graph.graph.influence`);
``hits`` as networkx computes it (one singular vector by ARPACK), on the view's matrix.

networkx's definition: ``to_scipy_sparse_array(G, weight=weight)`` (parallel edges add, a missing
weight is 1), rows normalised, dangling nodes (out-weight 0) and restarts along the personalization
(uniform by default), missing personalization keys 0 and keys that are not nodes ignored.

Stopping rule: networkx stops when the L1 step is below ``N * tol``, which at a million nodes is
far from converged. Here the iteration stops when the L1 distance to the exact scores is provably at
most ``min(tol, alpha / (1 - alpha) * N * tol)`` (the second term is networkx's own rule, when it is
the stricter one). If ``max_iter`` iterations are not enough, the result is still returned when it
meets networkx's own rule, as networkx would return it, after as many iterations as networkx's
``max_iter`` allows; otherwise ``PowerIterationFailedConvergence`` is raised, as networkx raises it.
So the answer is never less accurate than networkx's for the same arguments, and it agrees with
networkx run to convergence.

Run in networkx instead (same answers, its own speed): a ``dangling`` distribution, weights that
are negative, NaN or not numbers, ``alpha`` outside [0, 1), ``tol <= 0``, a ``personalization`` or
``nstart`` with negative values, or an ``nstart`` that sums to 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..graph import influence
from ._convert import Delegate, view_of
from ._dispatch import native, weight_is_name
from ._view import View

__all__ = ["hits", "pagerank"]


def _by_node(view: View, values: Mapping[Any, Any], what: str) -> np.ndarray:
    """networkx's ``np.array([values.get(n, 0) for n in G], dtype=float)``: keys not nodes ignored."""
    x = np.zeros(view.n)
    for key, value in values.items():
        i = view.find(key)
        if i >= 0:
            x[i] = value
    if (x < 0).any() or np.isnan(x).any():
        raise Delegate(f"{what} with negative or NaN values")
    return x


@native(accepts=weight_is_name())
def pagerank(
    G: Any,
    alpha: float = 0.85,
    personalization: Mapping[Any, float] | None = None,
    max_iter: int = 100,
    tol: float = 1.0e-06,
    nstart: Mapping[Any, float] | None = None,
    weight: str | None = "weight",
    dangling: Mapping[Any, float] | None = None,
) -> dict[Any, float]:
    """networkx's ``pagerank``, converged (see module doc)."""
    import networkx as nx

    view = view_of(G)
    n = view.n
    if n == 0:
        return {}
    if dangling is not None:
        raise Delegate("a dangling distribution other than the personalization")
    if not (
        isinstance(alpha, int | float) and 0.0 <= alpha < 1.0 and isinstance(tol, int | float) and tol > 0
    ):
        raise Delegate("alpha outside [0, 1) or tol <= 0")
    if not isinstance(weight, str | None):
        raise Delegate("a weight function")
    a = view.matrix(weight, 1)
    if a.nnz and not (a.data >= 0).all():  # negative or NaN
        raise Delegate("negative or NaN weights")
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        p = _by_node(view, personalization, "personalization")
        if p.sum() == 0:
            raise ZeroDivisionError("float division by zero")  # networkx's own error
        p /= p.sum()
    if nstart is None:
        start = np.full(n, 1.0 / n)
    else:
        start = _by_node(view, nstart, "nstart")
        if start.sum() == 0:
            raise Delegate("nstart summing to 0")
        start /= start.sum()
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise nx.PowerIterationFailedConvergence(max_iter)
    factor = alpha / (1.0 - alpha) if alpha > 0 else 0.0
    networkx_rule = factor * n * tol  # networkx stops when the step is below n * tol
    target = min(float(tol), networkx_rule) if alpha > 0 else float(tol)
    chain = view.cached(("pagerank_chain", weight), lambda: influence.chain_of(a))
    key = (weight, float(alpha), hashlib.sha1(p.tobytes()).hexdigest())
    results: dict[Any, tuple[np.ndarray, float]] = view.cached("pagerank_results", dict)
    cached = results.get(key) if nstart is None else None
    if cached is not None and cached[1] <= target:
        x = cached[0]
    else:
        begin = start[chain.perm] if cached is None else cached[0]
        try:
            x, bound, _ = influence.solve(
                chain, p[chain.perm], begin, float(alpha), target, max_iter, False, networkx_rule
            )
        except ArithmeticError as err:
            raise nx.PowerIterationFailedConvergence(max_iter) from err
        if nstart is None:
            results.pop(key, None)
            results[key] = (x, bound)  # most recent last; as many kept as the engine keeps
            while len(results) > influence.RESULTS_KEPT:
                del results[next(iter(results))]
    scores = np.empty(n)
    scores[chain.perm] = x
    return dict(zip(view.nodes, scores.tolist(), strict=True))


@native()
def hits(
    G: Any,
    max_iter: int = 100,
    tol: float = 1.0e-08,
    nstart: Mapping[Any, float] | None = None,
    normalized: bool = True,
) -> tuple[dict[Any, float], dict[Any, float]]:
    """networkx's ``hits``: the leading singular vectors of the weight matrix (networkx's computation,
    ``scipy.sparse.linalg.svds`` with ``k=1``, on the same matrix without building a networkx graph)."""
    import networkx as nx
    import scipy as sp

    view = view_of(G)
    if view.n == 0:
        return {}, {}
    start = None if nstart is None else np.array(list(nstart.values()))  # networkx: nstart's own order
    if max_iter <= 0:
        raise nx.PowerIterationFailedConvergence(max_iter)
    a_matrix = view.matrix("weight", 1).astype(float)
    try:
        _, _, vt = sp.sparse.linalg.svds(a_matrix, k=1, v0=start, maxiter=max_iter, tol=tol)
    except sp.sparse.linalg.ArpackNoConvergence as exc:
        raise nx.PowerIterationFailedConvergence(max_iter) from exc
    a = vt.flatten().real
    h = a_matrix @ a
    if normalized:
        h /= h.sum()
        a /= a.sum()
    return dict(zip(view.nodes, h.tolist(), strict=True)), dict(zip(view.nodes, a.tolist(), strict=True))
