"""The two faces of :class:`~.causal_graph.CausalGraph` beyond paths and influence, as mixins it inherits:

- :class:`Identification`: the causal identification questions (Markov blanket, back-door sets,
  instruments, minimal d-separators), thin methods over :mod:`.identification` and :mod:`.adjustment`;
- :class:`NetworkxFace`: the snapshot as networkx sees it (:meth:`~NetworkxFace.to_networkx`, and
  networkx's read-only graph API answered by the frozen conversion).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import adjustment, identification
from .snapshot import MISSING_INT, GraphData

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Identification", "NetworkxFace"]

#: networkx's read-only graph API, answered for a CausalGraph by its frozen networkx graph.
_NETWORKX_READ_API = frozenset(
    {
        "adj", "adjacency", "degree", "edges", "get_edge_data", "graph", "has_edge", "has_node",
        "has_predecessor", "has_successor", "in_degree", "in_edges", "name", "nbunch_iter",
        "neighbors", "nodes", "number_of_nodes", "order", "out_degree", "out_edges", "pred",
        "predecessors", "reverse", "size", "subgraph", "edge_subgraph", "succ", "successors",
        "to_directed", "to_undirected", "copy",
    }
)  # fmt: skip


class Identification:
    """Causal identification on the snapshot (defined on DAGs; see :mod:`.identification`)."""

    _data: GraphData

    def markov_blanket(self, memory_id: str) -> frozenset[str]:
        """The memory's parents, its children and its children's other parents (itself excluded).

        Raises :class:`~omega_graph.errors.NotADAGError` when a cycle lies among the ancestors of the
        memory and of its children (a cycle elsewhere does not matter).

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcde")
        5
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["ab", "bc", "dc", "ce"])
        4
        >>> sorted(store.causal_graph().markov_blanket("b"))
        ['a', 'c', 'd']
        """
        return identification.markov_blanket(self._data, memory_id)

    def is_valid_adjustment_set(self, x: str, y: str, z: Iterable[str]) -> bool:
        """Whether adjusting for ``z`` identifies the effect of ``x`` on ``y`` (Pearl's back-door criterion).

        True when no member of ``z`` is a descendant of ``x`` and ``z`` d-separates ``x`` and ``y``
        in the graph with ``x``'s outgoing edges removed. ``x`` and ``y`` are single memory ids,
        ``z`` a collection of them (empty: the empty set; a str is one id). ``x == y`` and a ``z``
        naming ``x`` or ``y`` raise :class:`~omega_graph.errors.ValidationError`; a cycle among the
        ancestors of ``x``, ``y`` and ``z`` raises :class:`~omega_graph.errors.NotADAGError`.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "xymc")
        4
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["cx", "cy", "xm", "my"])
        4
        >>> g = store.causal_graph()
        >>> g.is_valid_adjustment_set("x", "y", ["c"]), g.is_valid_adjustment_set("x", "y", [])
        (True, False)
        >>> g.is_valid_adjustment_set("x", "y", ["c", "m"])  # m is a descendant of x
        False
        """
        return identification.is_valid_adjustment_set(self._data, x, y, z)

    def minimal_adjustment_set(self, x: str, y: str) -> frozenset[str] | None:
        """The valid back-door adjustment set for ``x`` -> ``y`` with the fewest members, or None.

        Among the valid sets of that size, the one whose sorted ids come first. None exactly when no
        valid set exists, which happens when ``y`` is a parent of ``x`` (otherwise the parents of ``x``
        are one); ``frozenset()`` when the empty set is valid. A minimum vertex cut in the moralised
        back-door graph of the ancestors of ``x`` and ``y`` (see :mod:`omega_graph.graph.adjustment`):
        polynomial, and its cost grows with that ancestral set, not with the graph. Errors as for
        :meth:`is_valid_adjustment_set`.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcxy")
        5
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["ax", "bx", "ac", "bc", "cy", "xy"])
        6
        >>> g = store.causal_graph()
        >>> sorted(g.minimal_adjustment_set("x", "y"))
        ['c']
        >>> g.minimal_adjustment_set("y", "x") is None  # x -> y: a back-door path nothing blocks
        True
        """
        return adjustment.minimal_adjustment_set(self._data, x, y)

    def adjustment_sets(self, x: str, y: str, limit: int = 100) -> list[frozenset[str]]:
        """Every minimal valid back-door adjustment set for ``x`` -> ``y`` (no valid proper subset).

        Sorted by size, then by sorted members; ``[]`` when none exists (``y`` is a parent of ``x``).
        The enumeration has polynomial delay (best first, each set after work proportional to its
        size times the ancestral set of ``x`` and ``y``). When more than ``limit`` exist it stops,
        warns :class:`~omega_graph.errors.LimitWarning`, and the list still starts with
        :meth:`minimal_adjustment_set`. ``limit`` must be a positive int; other errors as for
        :meth:`is_valid_adjustment_set`.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcxy")
        5
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["ax", "bx", "ac", "bc", "cy", "xy"])
        6
        >>> [sorted(z) for z in store.causal_graph().adjustment_sets("x", "y")]
        [['c'], ['a', 'b']]
        """
        return adjustment.adjustment_sets(self._data, x, y, limit)

    def instruments(self, x: str, y: str) -> list[str]:
        """Unconditional instrumental variables for ``x`` -> ``y``, sorted.

        A memory ``z`` (neither ``x`` nor ``y``) is one when it is not a descendant of ``x``, it is
        d-connected to ``x`` given the empty set, and it is d-separated from ``y`` (given the empty
        set) in the graph with ``x``'s outgoing edges removed. A cycle among the ancestors of ``x``
        and ``y`` raises :class:`~omega_graph.errors.NotADAGError`.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "xyuz")
        4
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["zx", "xy", "ux", "uy"])
        4
        >>> store.causal_graph().instruments("x", "y")
        ['z']
        """
        return identification.instruments(self._data, x, y)

    def minimal_d_separator(
        self,
        xs: str | Iterable[str],
        ys: str | Iterable[str],
        included: str | Iterable[str] | None = (),
        restricted: str | Iterable[str] | None = None,
    ) -> frozenset[str] | None:
        """A minimal set that d-separates ``xs`` from ``ys``, or None when none exists.

        Agrees with ``networkx.find_minimal_d_separator(G, xs, ys, included=, restricted=)`` on
        :meth:`to_networkx` (van der Zander and Liśkiewicz, 2020): the set contains ``included``, lies
        within ``restricted`` (None: every memory) and no member can be dropped. Each argument is a
        memory id or a collection of them; ``xs`` and ``ys`` must not be empty, ``xs``, ``ys`` and
        ``included`` must be disjoint and ``included`` within ``restricted``
        (:class:`~omega_graph.errors.ValidationError`). Only the ancestors of ``xs``, ``ys`` and
        ``included`` need to be acyclic (:class:`~omega_graph.errors.NotADAGError`).

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        4
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["ab", "bc", "dc"])
        3
        >>> g = store.causal_graph()
        >>> sorted(g.minimal_d_separator("a", "c")), g.minimal_d_separator("a", "c", restricted=["d"])
        (['b'], None)
        """
        return identification.minimal_d_separator(self._data, xs, ys, included, restricted)


class NetworkxFace:
    """The snapshot as a networkx graph: built on demand, or frozen once per snapshot."""

    _data: GraphData

    def __iter__(self) -> Iterator[str]:
        """The memory ids, sorted (networkx's ``iter(G)``)."""
        return iter(self._data.node_ids)

    def __getitem__(self, memory_id: str) -> Any:
        """networkx's ``G[u]``: the edges out of ``memory_id`` (a read-only view, by target, then edge id)."""
        return self.to_networkx(frozen=True)[memory_id]

    def __getattr__(self, name: str) -> Any:
        # networkx's read-only graph API (G.nodes, G.edges, G.degree, G.successors, ...), answered by
        # the snapshot's frozen networkx graph: functions networkx does not dispatch take a
        # CausalGraph too. Only reached for names the class does not define.
        if name in _NETWORKX_READ_API:
            return getattr(self.to_networkx(frozen=True), name)
        raise AttributeError(f"'CausalGraph' object has no attribute {name!r}")

    def to_networkx(self, *, frozen: bool = False) -> nx.MultiDiGraph:
        """The snapshot as a ``networkx.MultiDiGraph``.

        Nodes are memory ids (attributes ``tier``, ``importance``); edge keys are edge ids
        (attributes ``weight``, ``edge_type``, ``created_at``). Nodes and edges in sorted order.

        By default a new graph, built when asked, yours to change. ``frozen=True`` returns the
        snapshot's own read-only copy (``networkx.freeze``d; changing it raises
        ``NetworkXError``), built once per snapshot and kept until :meth:`refresh` changes the
        snapshot: networkx functions that the ``omega`` backend does not run natively use it (see
        :mod:`omega_graph.backend`).
        """
        import networkx as nx

        if frozen:
            frozen_graph: nx.MultiDiGraph = self._data._cached(
                "networkx_frozen", lambda: nx.freeze(self.to_networkx())
            )
            return frozen_graph

        d = self._data
        g = nx.MultiDiGraph()
        g.add_nodes_from(
            (m, {"tier": None if t == MISSING_INT else t, "importance": None if w != w else w})
            for m, t, w in zip(d.node_ids, d.tier.tolist(), d.importance.tolist(), strict=True)
        )
        ids = d.edge_ids_at()
        types = d.type_names
        g.add_edges_from(
            (
                d.node_ids[u],
                d.node_ids[v],
                key,
                {"weight": w, "edge_type": types[c], "created_at": None if bad else c_at},
            )
            for u, v, key, w, c, c_at, bad in zip(
                d.src.tolist(),
                d.dst.tolist(),
                ids,
                d.weight.tolist(),
                d.etype.tolist(),
                d.created.tolist(),
                d.created_bad.tolist(),
                strict=True,
            )
        )
        return g
