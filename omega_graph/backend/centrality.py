"""Degree centrality: ``in_degree_centrality`` and ``out_degree_centrality``, both native.

networkx's ``{n: d * s}`` with ``s = 1 / (n - 1)``: the degrees are one ``bincount`` over the view's
edge ends (every parallel edge counted, a self-loop once in each direction, as ``G.in_degree()``
and ``G.out_degree()`` count them), cached per view, and multiplied by ``s`` in float64 (the same
IEEE product as Python's ``int * float``). The dict is in node order with Python floats; a graph of
at most one node gives networkx's ``{n: 1}``. Nothing is delegated.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from ._convert import view_of
from ._dispatch import native
from ._view import View

__all__ = ["degrees", "in_degree_centrality", "out_degree_centrality"]


def degrees(view: View) -> tuple[np.ndarray, np.ndarray]:
    """``(in-degree, out-degree)`` per node, parallel edges counted (cached per view)."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        return np.bincount(view.dst, minlength=view.n), np.bincount(view.src, minlength=view.n)

    found: tuple[np.ndarray, np.ndarray] = view.cached(("centrality", "degrees"), build)
    return found


def _centrality(view: View, degree: np.ndarray) -> dict[Hashable, Any]:
    if view.n <= 1:
        return {v: 1 for v in view.nodes}
    s = 1.0 / (view.n - 1.0)
    return dict(zip(view.nodes, (degree * s).tolist(), strict=True))


@native()
def in_degree_centrality(G: Any) -> dict[Hashable, Any]:
    """networkx's ``in_degree_centrality``: each node's in-degree over ``n - 1``."""
    view = view_of(G)
    return _centrality(view, degrees(view)[0])


@native()
def out_degree_centrality(G: Any) -> dict[Hashable, Any]:
    """networkx's ``out_degree_centrality``: each node's out-degree over ``n - 1``."""
    view = view_of(G)
    return _centrality(view, degrees(view)[1])
