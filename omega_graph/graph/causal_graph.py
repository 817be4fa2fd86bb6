"""``CausalGraph``: a snapshot of a store's causal edges that answers path and influence questions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from . import influence as _influence
from . import loading, paths, reach, structure
from .paths import CausalPath
from .snapshot import GraphData, path_strength

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["CausalGraph"]


def _filters(min_weight: object, edge_types: object, as_of: object) -> loading.Filters:
    if isinstance(min_weight, bool) or not isinstance(min_weight, int | float) or math.isnan(min_weight):
        raise ValidationError("causal_graph", "min_weight", min_weight, "a number, e.g. 0.0 or 0.2")
    types: tuple[str, ...] | None = None
    if edge_types is not None:
        if isinstance(edge_types, str) or not isinstance(edge_types, Iterable):
            raise ValidationError(
                "causal_graph", "edge_types", edge_types, "a list of edge types, e.g. ['causes']"
            )
        types = tuple(sorted(set(edge_types)))
        if not all(isinstance(t, str) for t in types):
            raise ValidationError("causal_graph", "edge_types", list(edge_types), "edge type strings")
    if as_of is not None and (isinstance(as_of, bool) or not isinstance(as_of, int)):
        raise ValidationError("causal_graph", "as_of", as_of, "a Unix timestamp in seconds (int) or None")
    return loading.Filters(float(min_weight), types, as_of)  # type: ignore[arg-type]


class CausalGraph:
    """A snapshot of the causal edges between a store's memories.

    Built by ``store.causal_graph(min_weight=0.0, edge_types=None, as_of=None)``. Every memory of the
    store is a node (a memory without edges has no causes or effects); the edges kept are those with
    ``weight >= min_weight``, an ``edge_type`` in ``edge_types`` (all when None) and
    ``created_at <= as_of`` (all when None). The snapshot does not follow later writes until
    :meth:`refresh`; it never writes to the store.

    A path's **strength** is the product of its edge weights (in [0, 1]). Parallel edges (same pair,
    several ids or types) are all kept; a path uses the strongest of them (ties: the earliest stored)
    and reports its id. Unknown memory ids raise :class:`~omega_graph.errors.NotFoundError`.

    Examples
    --------
    >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
    >>> store = OmegaStore.new_in_memory()
    >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
    4
    >>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
    ...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2),
    ...                           StoredCausalEdge("ac", "a", "c", 0.4, "enables", 3)])
    3
    >>> g = store.causal_graph()
    >>> p = g.strongest_path("a", "c")
    >>> p.nodes, p.edge_ids, round(p.strength, 6)
    (('a', 'b', 'c'), ('ab', 'bc'), 0.45)
    >>> g.shortest_path("a", "c").nodes
    ('a', 'c')
    >>> g.effects("a")
      memory_id  depth  strength
    0         b      1      0.90
    1         c      1      0.45
    >>> round(g.total_effect("a", "c"), 6)
    0.85
    >>> g.is_dag(), len(g), g.number_of_edges()
    (True, 4, 3)
    """

    def __init__(
        self,
        store: Any,
        min_weight: float = 0.0,
        edge_types: Iterable[str] | None = None,
        as_of: int | None = None,
    ) -> None:
        self._filters = _filters(min_weight, edge_types, as_of)
        self._source = loading.Source(store)
        self._data: GraphData = loading.load(self._source, self._filters)

    # ----- the snapshot -------------------------------------------------------------------------
    @property
    def min_weight(self) -> float:
        return self._filters.min_weight

    @property
    def edge_types(self) -> tuple[str, ...] | None:
        return self._filters.edge_types

    @property
    def as_of(self) -> int | None:
        return self._filters.as_of

    def __len__(self) -> int:
        """Number of memories (nodes)."""
        return self._data.n_nodes

    def __contains__(self, memory_id: object) -> bool:
        return isinstance(memory_id, str) and self._data.find(memory_id) >= 0

    def number_of_edges(self) -> int:
        """Number of causal edges in the snapshot (parallel edges counted separately)."""
        return self._data.n_edges

    @property
    def memory_ids(self) -> list[str]:
        """Every node, sorted (a copy)."""
        return list(self._data.node_ids)

    def nbytes(self) -> int:
        """Approximate bytes held by the snapshot (arrays, node ids and cached structures)."""
        return self._data.nbytes()

    def __repr__(self) -> str:
        return (
            f"<CausalGraph {self._data.n_nodes} memories, {self._data.n_edges} edges, "
            f"min_weight={self.min_weight}, edge_types={self.edge_types}, as_of={self.as_of}>"
        )

    def close(self) -> None:
        """Release the snapshot's private read-only connection (file stores); queries still work."""
        self._source.close()

    def refresh(self) -> CausalGraph:
        """Catch up with edges and memories stored, updated or deleted since the snapshot; return self.

        Reads only what changed (see :mod:`omega_graph.graph.loading`); the result equals a new
        snapshot with the same filters.
        """
        data = loading.refresh(self._data, self._source, self._filters)
        self._data = data if data is not None else loading.load(self._source, self._filters)
        return self

    # ----- paths --------------------------------------------------------------------------------
    def _path(self, nodes: list[int], edges: list[int]) -> CausalPath:
        data = self._data
        ids = loading.edge_labels(data, self._source, edges) if edges else []
        weights = tuple(float(data.weight[e]) for e in edges)
        return CausalPath(tuple(data.node_ids[i] for i in nodes), tuple(ids), weights, path_strength(weights))

    def strongest_path(self, source: str, target: str, *, time_respecting: bool = False) -> CausalPath:
        """The path of greatest strength (product of weights) from ``source`` to ``target``.

        Dijkstra on ``-ln w``; weight-0 edges are never used. With ``time_respecting=True`` only
        paths whose edges' ``created_at`` never decrease along the path count (parallel edges are
        then distinct choices). Raises :class:`~omega_graph.errors.NoPathError` when no path of positive
        strength exists.
        """
        d = self._data
        s, t = d.index(source, "source"), d.index(target, "target")
        if time_respecting:
            return paths.time_respecting_path(d, s, t, self._path)
        return paths.strongest_path(d, s, t, self._path)

    def shortest_path(self, source: str, target: str) -> CausalPath:
        """Fewest edges (weight-0 edges count); among equally short paths the strongest (may be 0)."""
        d = self._data
        return paths.shortest_path(d, d.index(source, "source"), d.index(target, "target"), self._path)

    def top_paths(
        self, source: str, target: str, k: int = 5, max_length: int | None = None
    ) -> list[CausalPath]:
        """The ``k`` strongest simple paths, best first (fewer when fewer exist).

        Only paths of positive strength; ``max_length`` bounds the number of edges.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationError("top_paths", "k", k, "an integer >= 1")
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1
        ):
            raise ValidationError("top_paths", "max_length", max_length, "None or an integer >= 1")
        d = self._data
        s, t = d.index(source, "source"), d.index(target, "target")
        return paths.top_paths(d, s, t, k, max_length, self._path)

    # ----- reach --------------------------------------------------------------------------------
    def causes(self, memory_id: str, max_depth: int | None = None, min_strength: float = 0.0) -> pd.DataFrame:
        """Every ancestor of ``memory_id``: a DataFrame with columns ``memory_id``, ``depth``, ``strength``.

        ``depth`` is the fewest edges to ``memory_id``, ``strength`` the strongest path's strength
        over all paths (0 when every path crosses a weight-0 edge). ``max_depth`` and
        ``min_strength`` keep rows with ``depth <= max_depth`` and ``strength >= min_strength``.
        Sorted by strength descending, then depth, then id; the memory itself is never a row.
        """
        d = self._data
        v = d.index(memory_id)
        return reach.reach_frame(d, v, reverse=True, max_depth=max_depth, min_strength=min_strength)

    def effects(
        self, memory_id: str, max_depth: int | None = None, min_strength: float = 0.0
    ) -> pd.DataFrame:
        """Every descendant of ``memory_id``; same columns and rules as :meth:`causes`."""
        d = self._data
        v = d.index(memory_id)
        return reach.reach_frame(d, v, reverse=False, max_depth=max_depth, min_strength=min_strength)

    def total_effect(self, source: str, target: str) -> float:
        """Sum over all directed paths source -> target of the product of weights (path analysis).

        Parallel edges are separate channels and add. 0.0 when no path exists. Raises
        :class:`~omega_graph.errors.NotADAGError` naming a cycle when one lies between them.
        """
        d = self._data
        return reach.total_effect(d, d.index(source, "source"), d.index(target, "target"))

    # ----- influence ----------------------------------------------------------------------------
    def influence(
        self,
        personalization: Mapping[str, float] | None = None,
        reverse: bool = False,
        alpha: float = 0.85,
        max_iter: int = 100,
        tol: float = 1.0e-6,
    ) -> pd.DataFrame:
        """Weighted PageRank: a DataFrame ``memory_id, score, rank`` (rank 1 = most influential).

        Same definition and result as ``networkx.pagerank(self.to_networkx(), alpha, personalization,
        weight="weight")`` (parallel edges' weights add; dangling nodes follow the personalization).
        ``reverse=True`` ranks on the reversed graph: what drives the memories in ``personalization``.
        Sorted by score descending, then id.
        """
        d = self._data
        scores = _influence.pagerank(d, personalization, reverse, alpha, max_iter, tol)
        return _influence.pagerank_frame(d, scores)

    # ----- structure ----------------------------------------------------------------------------
    def is_dag(self) -> bool:
        """True when the snapshot has no directed cycle (self-loops are cycles)."""
        return structure.is_dag(self._data)

    def find_cycles(self, limit: int | None = 100, max_length: int | None = None) -> list[list[str]]:
        """Up to ``limit`` simple cycles (None: all, which can be exponentially many).

        Each cycle is a list of memory ids ``v0..vk`` with edges v0->v1->...->vk->v0, starting at its
        smallest id; ``max_length`` bounds the number of nodes in a cycle.
        """
        return structure.find_cycles(self._data, limit, max_length)

    def d_separated(
        self, xs: str | Iterable[str], ys: str | Iterable[str], given: str | Iterable[str] | None = None
    ) -> bool:
        """Whether ``xs`` and ``ys`` are d-separated by ``given`` (agrees with ``networkx.is_d_separator``).

        Each argument is a memory id or a collection of them; the three sets must be disjoint.
        Raises :class:`~omega_graph.errors.NotADAGError` on a cyclic snapshot.
        """
        return structure.d_separated(self._data, xs, ys, given)

    # ----- networkx -----------------------------------------------------------------------------
    def to_networkx(self) -> nx.MultiDiGraph:
        """The snapshot as a ``networkx.MultiDiGraph``, built when asked.

        Nodes are memory ids (attributes ``tier``, ``importance``); edge keys are edge ids
        (attributes ``weight``, ``edge_type``, ``created_at``). Nodes and edges in sorted order.
        """
        import networkx as nx

        d = self._data
        g = nx.MultiDiGraph()
        g.add_nodes_from(
            (m, {"tier": t, "importance": w})
            for m, t, w in zip(d.node_ids, d.tier.tolist(), d.importance.tolist(), strict=True)
        )
        ids = loading.edge_labels(d, self._source)
        types = d.type_names
        g.add_edges_from(
            (d.node_ids[u], d.node_ids[v], key, {"weight": w, "edge_type": types[c], "created_at": c_at})
            for u, v, key, w, c, c_at in zip(
                d.src.tolist(),
                d.dst.tolist(),
                ids,
                d.weight.tolist(),
                d.etype.tolist(),
                d.created.tolist(),
                strict=True,
            )
        )
        return g
