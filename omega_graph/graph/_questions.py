"""The faces of :class:`~.causal_graph.CausalGraph` beyond paths and influence, as mixins it inherits:

- :class:`Reach`: ancestors and descendants with their strongest-path strength, and total and
  direct effects (path analysis), thin methods over :mod:`.reach`;
- :class:`Identification`: the causal identification questions (Markov blanket, back-door sets,
  instruments, minimal d-separators), thin methods over :mod:`.identification` and :mod:`.adjustment`;
- :class:`NetworkxFace`: the snapshot as networkx sees it (:meth:`~NetworkxFace.to_networkx`, and
  networkx's read-only graph API answered by the frozen conversion).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from . import adjustment, identification, reach
from .snapshot import MISSING_INT, GraphData

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["Identification", "NetworkxFace", "Reach"]

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


class Reach:
    """What a memory reaches and how strongly: ancestors, descendants, total and direct effects."""

    _data: GraphData

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

    def total_effect(
        self,
        source: str,
        target: str,
        through: str | Iterable[str] | None = None,
        avoiding: str | Iterable[str] | None = None,
    ) -> float:
        """Sum over directed paths source -> target of the product of their weights (path analysis).

        Parallel edges are separate channels and add. With ``through`` and ``avoiding`` only some
        paths count (path-specific effects); for a single memory ``m``, always
        ``total_effect(a, b) == total_effect(a, b, through=m) + total_effect(a, b, avoiding=m)``
        (up to floating-point rounding).

        Parameters
        ----------
        source, target : str
            Memory ids, different from each other.
        through : str or collection of str, optional
            Count only the paths that pass through this memory, or through every member of the
            collection. A path of a DAG meets its memories in topological order, so the members must
            form a chain ``source -> m1 -> m2 -> ... -> target``; the effect is then
            ``E(source, m1) * E(m1, m2) * ... * E(mk, target)``. Members that no single path joins
            (neither reaches the other, or one lies on no source -> target path) give 0.0.
        avoiding : str or collection of str, optional
            Count only the paths that pass through none of these memories: the total effect in the
            graph without them.

            Both together: the paths through every member of ``through`` and no member of
            ``avoiding``; a memory named in both is a ``ValidationError``.

        Returns
        -------
        float
            The sum; 0.0 when no such path exists.

        Raises
        ------
        NotADAGError
            A cycle lies among the memories between source and target (on some directed path from
            one to the other), whatever ``through`` and ``avoiding`` say; it is named. A cycle
            elsewhere does not matter.
        ValidationError
            ``source == target``; an id that is not a ``str``; an empty ``through`` / ``avoiding``
            collection; ``through`` / ``avoiding`` naming the source or the target, or sharing a
            memory; an edge weight outside [0, 1] (the edge is named). The argument and the value
            are named.
        NotFoundError
            An id that is not a memory of the snapshot.

        Notes
        -----
        Exact, never by enumerating paths: one pass of Kahn's algorithm over the memories between
        source and target (see :func:`omega_graph.graph.reach.total_effect`); ``through`` and
        ``avoiding`` cost about as much as the plain total effect.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        4
        >>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
        ...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2),
        ...                           StoredCausalEdge("ac", "a", "c", 0.4, "enables", 3),
        ...                           StoredCausalEdge("ac2", "a", "c", 0.1, "causes", 4),
        ...                           StoredCausalEdge("cd", "c", "d", 0.5, "causes", 5)])
        5
        >>> g = store.causal_graph()
        >>> round(g.total_effect("a", "d"), 6)  # (0.9 * 0.5 + 0.4 + 0.1) * 0.5
        0.475
        >>> round(g.total_effect("a", "d", through="b"), 6), round(g.total_effect("a", "d", avoiding="b"), 6)
        (0.225, 0.25)
        >>> round(g.total_effect("a", "d", through=["b", "c"]), 6)
        0.225
        >>> g.total_effect("a", "d", through="c", avoiding="c")
        Traceback (most recent call last):
        ...
        omega_graph.errors.ValidationError: total_effect.avoiding = 'c' is invalid: expected a memory \
not also named in through (no path both passes through it and avoids it)
        """
        d = self._data
        s, t = reach.lookup(d, source, "source"), reach.lookup(d, target, "target")
        if s == t:
            return reach.total_effect(d, s, t)  # raises, naming the target
        via = reach.member_indices(d, through, "through", s, t)
        avoid = reach.member_indices(d, avoiding, "avoiding", s, t)
        both = sorted(set(via) & set(avoid))
        if both:
            raise ValidationError("total_effect", "avoiding", d.node_ids[both[0]],
                "a memory not also named in through (no path both passes through it and avoids it)")  # fmt: skip
        return reach.total_effect(d, s, t, via, avoid)

    def direct_effect(self, source: str, target: str) -> float:
        """Sum of the weights of the edges source -> target (their direct effect); 0.0 when there are none.

        Parallel edges add, as in :meth:`total_effect`. Defined on any graph (a cycle does not
        matter: no path is followed).

        Raises
        ------
        ValidationError
            ``source == target``, an id that is not a ``str``, or an edge weight outside [0, 1].
        NotFoundError
            An id that is not a memory of the snapshot.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.5, "causes", 1),
        ...                           StoredCausalEdge("ab2", "a", "b", 0.25, "enables", 2),
        ...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 3)])
        3
        >>> g = store.causal_graph()
        >>> g.direct_effect("a", "b"), g.direct_effect("a", "c"), g.total_effect("a", "c")
        (0.75, 0.0, 0.375)
        """
        d = self._data
        s = reach.lookup(d, source, "source", "direct_effect")
        t = reach.lookup(d, target, "target", "direct_effect")
        return reach.direct_effect(d, s, t)


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
