"""Weighted PageRank, with networkx's definition and result.

``influence`` equals ``networkx.pagerank(G, alpha, personalization, weight="weight")`` on the
``MultiDiGraph`` that :meth:`CausalGraph.to_networkx` returns: networkx sums the weights of parallel
edges (``to_scipy_sparse_array``), so the transition matrix here is built from those sums. The power
iteration is networkx's, step for step: start uniform, out-weights normalised per row, a node whose
out-weights sum to 0 (no out-edges, or only weight-0 ones) is dangling and redistributes its score
along the personalization vector, stop when the L1 change is below ``N * tol``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NotFoundError, OmegaGraphError, ValidationError
from .snapshot import GraphData

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["pagerank", "pagerank_frame"]


def _transition(data: GraphData, reverse: bool) -> tuple[object, np.ndarray]:
    """(A^T with rows normalised before transposing, dangling mask), cached on the snapshot."""

    def build() -> tuple[object, np.ndarray]:
        a = data.sum_matrix()
        if reverse:
            a = a.T.tocsr()
        out = np.asarray(a.sum(axis=1)).ravel()
        dangling = out == 0
        p = a.copy()
        row_sum = np.repeat(out, np.diff(p.indptr))
        # w / S rather than networkx's w * (1 / S): equal up to one rounding, and finite for tiny S
        p.data = np.divide(p.data, row_sum, out=np.zeros_like(p.data), where=row_sum > 0)
        return p.T.tocsr(), dangling

    return data._cached(f"pagerank_{reverse}", build)


def pagerank(
    data: GraphData,
    personalization: Mapping[str, float] | None = None,
    reverse: bool = False,
    alpha: float = 0.85,
    max_iter: int = 100,
    tol: float = 1.0e-6,
) -> np.ndarray:
    """PageRank scores by node index (see module doc)."""
    if not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
        raise ValidationError("influence", "alpha", alpha, "a damping factor in [0, 1], e.g. 0.85")
    n = data.n_nodes
    if n == 0:
        return np.empty(0)
    data.check_strength_weights()
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        if not isinstance(personalization, Mapping):
            raise ValidationError(
                "influence", "personalization", personalization, "a mapping memory id -> weight"
            )
        p = np.zeros(n)
        for key, value in personalization.items():
            i = data.find(key) if isinstance(key, str) else -1
            if i < 0:
                raise NotFoundError("memory", key, "personalization keys must be memories of this graph")
            if not isinstance(value, int | float) or not value >= 0:
                raise ValidationError("influence", f"personalization[{key!r}]", value, "a number >= 0")
            p[i] = value
        if p.sum() == 0:
            raise ValidationError(
                "influence", "personalization", dict(personalization), "at least one positive value"
            )
        p /= p.sum()
    pt, dangling = _transition(data, reverse)
    dangling_idx = np.flatnonzero(dangling)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        xlast = x
        x = alpha * (pt @ x + x[dangling_idx].sum() * p) + (1 - alpha) * p
        if np.abs(x - xlast).sum() < n * tol:
            return x
    raise OmegaGraphError(
        f"PageRank did not converge in {max_iter} iterations (tol={tol}); raise max_iter or tol"
    )


def pagerank_frame(data: GraphData, scores: np.ndarray) -> pd.DataFrame:
    """``memory_id, score, rank`` sorted by score descending, then id; rank 1 is the most influential."""
    import pandas as pd

    order = np.lexsort((np.arange(len(scores)), -scores))
    ids = data.node_ids
    return pd.DataFrame(
        {"memory_id": pd.Series([ids[i] for i in order.tolist()], dtype=object),
         "score": scores[order],
         "rank": np.arange(1, len(order) + 1, dtype=np.int64)},
        columns=["memory_id", "score", "rank"],
    )  # fmt: skip
