"""The arrays a backend call runs on, in networkx's order: :class:`View`, and :class:`OmegaGraph`.

networkx's answers depend on the order of its dicts: which of two equally short paths is returned,
the order of a topological sort, the cycle ``find_cycle`` meets first. A :class:`View` keeps that
order, so the backend's answers are networkx's answers exactly:

- ``nodes``: the nodes in ``G``'s order (``list(G)``);
- ``src``, ``dst``: every edge in ``G.edges`` order (for each node, its successors in ``G._adj``
  order, parallel edges of a multigraph in key order);
- *pairs*: one entry per ``(u, v)`` with at least one edge, in the same order (``pair_of`` maps each
  edge to its pair); a ``DiGraph`` has one edge per pair;
- the predecessors of each node in ``G._pred`` order, as pair positions (:meth:`View.pred`).

A store's :class:`~omega_graph.graph.CausalGraph` has a view over its own arrays, in the order of
:meth:`~omega_graph.graph.CausalGraph.to_networkx` (nodes and edges sorted), without copying them; a
networkx graph gets one from :func:`~omega_graph.backend.convert_from_nx` (an :class:`OmegaGraph`).

Edge values (weights) are float64 arrays per ``(attribute, default)``, read once: networkx's
``d.get(weight, default)``. Parallel edges combine per pair as networkx does: their minimum for
shortest paths (:meth:`View.pair_min`), their sum for PageRank (:meth:`View.pair_sum`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OmegaGraph", "View"]


@dataclass(eq=False)
class View:
    """A directed (multi)graph as arrays in networkx's iteration order (see module doc)."""

    nodes: Sequence[Hashable]
    src: np.ndarray  # int64 per edge
    dst: np.ndarray  # int64 per edge
    multigraph: bool
    find: Callable[[object], int]  # node -> index, -1 when not a node
    values: Callable[[str, object], np.ndarray]  # (attribute, default) -> float64 per edge
    pred_pairs: Callable[[View], tuple[np.ndarray, np.ndarray]]  # -> (indptr, pair positions)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    # ----- sizes and lookups ----------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def __contains__(self, node: object) -> bool:
        return self.find(node) >= 0

    # ----- edges and pairs ------------------------------------------------------------------------
    def indptr(self) -> np.ndarray:
        """Out-CSR over edge positions: node u's edges are ``indptr[u]:indptr[u + 1]``."""

        def build() -> np.ndarray:
            ptr = np.zeros(self.n + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.src, minlength=self.n), out=ptr[1:])
            return ptr

        return self.cached("indptr", build)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(pair_indptr, pair_dst, pair_first_edge, pair_of_edge)``: the collapsed out-adjacency."""

        def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            src, dst = self.src, self.dst
            m = len(src)
            if not self.multigraph:
                first = np.arange(m, dtype=np.int64)
                return self.indptr(), dst, first, first
            start = np.ones(m, dtype=bool)
            if m > 1:
                start[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
            first = np.flatnonzero(start)
            pair_of = np.cumsum(start) - 1
            ptr = np.zeros(self.n + 1, dtype=np.int64)
            np.cumsum(np.bincount(src[first], minlength=self.n), out=ptr[1:])
            return ptr, dst[first], first, pair_of

        return self.cached("pairs", build)

    def pair_src(self) -> np.ndarray:
        ptr = self.pairs()[0]
        return self.cached("pair_src", lambda: np.repeat(np.arange(self.n, dtype=np.int64), np.diff(ptr)))

    def pred(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, pairs)``: node v's predecessors are ``pair_src()[pairs[indptr[v]:indptr[v+1]]]``,
        in ``G._pred[v]`` order."""
        return self.cached("pred", lambda: self.pred_pairs(self))

    def pair_min(self, attr: str, default: object = 1) -> np.ndarray:
        """Per pair, the smallest value of ``attr`` over its parallel edges (networkx's shortest paths)."""
        return self.cached(("min", attr, default), lambda: self._reduce(np.minimum, attr, default))

    def pair_sum(self, attr: str | None, default: object = 1) -> np.ndarray:
        """Per pair, the sum over its parallel edges (networkx's ``to_scipy_sparse_array``); with
        ``attr=None`` the number of parallel edges."""
        return self.cached(("sum", attr, default), lambda: self._reduce(np.add, attr, default))

    def _reduce(self, ufunc: np.ufunc, attr: str | None, default: object) -> np.ndarray:
        values = np.ones(self.n_edges) if attr is None else self.values(attr, default)
        first = self.pairs()[2]
        if not self.multigraph or len(first) == len(values):
            return values
        return ufunc.reduceat(values, first) if len(first) else values[:0]

    def matrix(self, attr: str | None, default: object = 1) -> Any:
        """scipy CSR ``A[u, v]`` = the sum of ``attr`` over the edges u -> v (networkx's
        ``to_scipy_sparse_array(G, weight=attr)``), 32-bit indices when they fit."""

        def build() -> Any:
            import scipy.sparse as sp

            ptr, pdst = self.pairs()[:2]
            kind = np.int32 if self.n_edges < 2**31 else np.int64
            data = self.pair_sum(attr, default)
            return sp.csr_array((data, pdst.astype(kind), ptr.astype(kind)), shape=(self.n, self.n))

        return self.cached(("matrix", attr, default), build)

    def structure(self, reverse: bool = False) -> Any:
        """scipy CSR with an entry per pair (u -> v; v -> u when ``reverse``), for C-speed traversals."""

        def build() -> Any:
            a = self.matrix(None)
            return a.T.tocsr() if reverse else a

        return self.cached(("structure", reverse), build)

    def successor_lists(self) -> list[list[int]]:
        """Per node, its successors (one per pair) in networkx's order, as Python lists (for the
        algorithms whose answer depends on visiting order; built once per view)."""

        def build() -> list[list[int]]:
            ptr, pdst = self.pairs()[:2]
            flat = pdst.tolist()
            bounds = ptr.tolist()
            return [flat[bounds[u] : bounds[u + 1]] for u in range(self.n)]

        return self.cached("succ_lists", build)

    def predecessor_lists(self) -> list[list[int]]:
        """Per node, its predecessors in ``G._pred`` order, as Python lists."""

        def build() -> list[list[int]]:
            ptr, pairs = self.pred()
            flat = self.pair_src()[pairs].tolist()
            bounds = ptr.tolist()
            return [flat[bounds[v] : bounds[v + 1]] for v in range(self.n)]

        return self.cached("pred_lists", build)

    def label(self, indices: Any) -> list[Hashable]:
        """The nodes at ``indices`` (Python ints or an integer array)."""
        nodes = self.nodes
        return [nodes[i] for i in (indices.tolist() if isinstance(indices, np.ndarray) else indices)]


class OmegaGraph:
    """A networkx ``DiGraph`` or ``MultiDiGraph`` converted for the ``omega`` backend.

    Made by :func:`~omega_graph.backend.convert_from_nx` (networkx calls it, and caches the result
    on the graph until the graph is changed through its methods); it holds the requested edge
    attributes as arrays, and the original graph for the calls the backend hands back to networkx.
    """

    __networkx_backend__ = "omega"

    def __init__(self, view: View, graph: Any) -> None:
        self.view = view
        self.graph = graph.graph
        self._nx = graph

    def is_directed(self) -> bool:
        return True

    def is_multigraph(self) -> bool:
        return self.view.multigraph

    def __len__(self) -> int:
        return self.view.n

    def __iter__(self) -> Any:
        return iter(self.view.nodes)

    def __contains__(self, node: object) -> bool:
        return node in self.view

    def number_of_nodes(self) -> int:
        return self.view.n

    def number_of_edges(self) -> int:
        return self.view.n_edges

    def to_networkx(self) -> Any:
        """The networkx graph this was converted from."""
        return self._nx

    def __repr__(self) -> str:
        kind = "MultiDiGraph" if self.view.multigraph else "DiGraph"
        return f"<OmegaGraph of a {kind}: {self.view.n} nodes, {self.view.n_edges} edges>"
