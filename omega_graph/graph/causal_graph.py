"""``CausalGraph``: a snapshot of a store's causal edges that answers path and influence questions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from . import _cache, _diff, _options, _refresh, beliefs, loading, paths, structure
from . import influence as _influence
from ._diff import SnapshotDiff
from ._questions import Identification, NetworkxFace, Reach
from .paths import CausalPath
from .snapshot import BadValues, GraphData, path_strength

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CausalGraph"]


class CausalGraph(Reach, Identification, NetworkxFace):
    """A snapshot of the causal edges between a store's memories.

    Built by ``store.causal_graph(min_weight=0.0, edge_types=None, as_of=None, valid_at=None,
    known_at=None, include_invalidated=False)``. Every memory of the store is a node (a memory
    without edges has no causes or effects); the edges kept are those with ``weight >= min_weight``,
    an ``edge_type`` in ``edge_types`` (all when None) and ``created_at <= as_of`` (all when None),
    and, by what the store believes about them (:mod:`omega_graph.graph.beliefs`): not invalidated
    (unless ``include_invalidated``); with ``known_at=t``, what the store believed at ``t`` (created
    by ``t`` and not invalidated at ``t``); with ``valid_at=t``, valid at ``t``. All of these compose
    by intersection; weights are the current ones. The snapshot does not follow later writes until
    :meth:`refresh`; it never writes to the store.

    A path's **strength** is the product of its edge weights (in [0, 1]). Parallel edges (same pair,
    several ids or types) are all kept; a path uses the strongest of them (ties: the earliest stored)
    and reports its id. Unknown memory ids raise :class:`~omega_graph.errors.NotFoundError`.

    Stored values of the wrong type or range (SQLite is dynamically typed: a file written by another
    tool can hold text in ``weight``) are handled deliberately, never silently:

    - an edge whose ``weight`` is not a number, or a number outside [0, 1], stays in the snapshot
      (it passes any ``min_weight``: its strength is unknown, not small) and counts for structure
      (``causes``/``effects`` rows and depths, ``shortest_path`` nodes, ``is_dag``, ``find_cycles``,
      ``d_separated``); every question about strengths (``strongest_path``, ``top_paths``,
      ``causes``/``effects``, ``total_effect``, ``influence``) raises
      :class:`~omega_graph.errors.ValidationError` naming the edge id, its stored value and the fix.
      An answer that silently left such an edge out would not be exact.
    - an edge whose ``created_at`` is not an integer is left out of ``as_of`` snapshots (its time is
      unknown), and ``strongest_path(..., time_respecting=True)`` raises ``ValidationError`` naming it.
    - a memory whose ``importance`` is not a number or whose ``tier`` is not an integer keeps its
      place in the graph; ``to_networkx`` gives ``None`` for that attribute.

    Taking the snapshot warns once with :class:`~omega_graph.errors.DataQualityWarning` (table,
    column, count, an example id and value); :attr:`bad_values` lists them.

    ``loader`` chooses how a file store is read: ``"auto"`` (DuckDB's SQLite scanner, in a child
    process, for large stores; sqlite3 otherwise), ``"duckdb"`` or ``"sqlite3"``; the answers are
    the same, :attr:`loader` says which one was used.

    Snapshot isolation: the snapshot holds everything it answers from (ids, endpoints, weights, types,
    times, tiers, importances). Until :meth:`refresh`, writes through any connection, the original
    crate's ``INSERT OR REPLACE`` included, never change an answer or make one fail.

    ``cache`` (file stores of 100,000 edges or more): reopen from the persisted
    snapshot in the user's cache folder and catch up through the change logs, instead of a full read;
    the entry is validated first and rewritten after a full read (see :mod:`omega_graph.graph._cache`
    for what is checked and where it lives). ``cache=False`` neither reads nor writes it. The answers
    are the same either way.

    networkx: a CausalGraph is a graph of the ``omega`` networkx backend (:mod:`omega_graph.backend`).
    ``nx.pagerank(g)``, ``nx.descendants(g, m)``, ``nx.shortest_path(g, a, b, weight="weight")`` and
    the other functions listed there run on the snapshot's arrays with networkx's semantics, the
    answers networkx gives on :meth:`to_networkx`: ``weight`` is additive there (a cost), while this
    class's own methods multiply strengths. Every other networkx function, and the read-only graph API
    (``g.nodes``, ``g.edges``, ``g.successors(m)``, ``g[m]``...), runs on ``to_networkx(frozen=True)``,
    built once per snapshot.

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

    #: networkx dispatches its functions on this graph to the ``omega`` backend (:mod:`omega_graph.backend`).
    __networkx_backend__ = "omega"

    def __init__(
        self,
        store: Any,
        min_weight: float = 0.0,
        edge_types: Iterable[str] | None = None,
        as_of: int | None = None,
        *,
        valid_at: int | None = None,
        known_at: int | None = None,
        include_invalidated: bool = False,
        loader: str = "auto",
        cache: bool = True,
    ) -> None:
        self._as_of, self._filters, self._beliefs = _options.checked(
            min_weight, edge_types, as_of, valid_at, known_at, include_invalidated
        )
        if loader not in loading.LOADERS:
            raise ValidationError("causal_graph", "loader", loader, f"one of {', '.join(loading.LOADERS)}")
        self._loader = loader
        self._source = loading.Source(store)
        if not isinstance(cache, bool):
            raise ValidationError("causal_graph", "cache", cache, "True or False")
        self._base = _cache.open_snapshot(self._source, self._filters, loader, cache)
        self._data: GraphData = beliefs.apply(self._base, self._beliefs).prepare()

    @classmethod
    def from_frames(cls, memories: pd.DataFrame, edges: pd.DataFrame) -> CausalGraph:
        """A snapshot of one store's ``memories`` and ``causal_edges`` rows given as pandas frames,
        with no store behind it (a fleet export's worker): every edge, as ``include_invalidated=True``;
        ``refresh()`` is refused. The columns and what the snapshot holds: :mod:`._frames`."""
        from ._frames import NoStore, data_from_frames

        graph = cls.__new__(cls)
        graph._as_of, graph._filters, graph._beliefs = _options.checked(0.0, None, None, None, None, True)
        graph._loader, graph._source = "frames", NoStore()  # type: ignore[assignment]
        graph._base = data_from_frames(memories, edges)
        graph._data = graph._base.prepare()
        return graph

    # ----- the snapshot -------------------------------------------------------------------------
    @property
    def min_weight(self) -> float:
        return self._filters.min_weight

    @property
    def edge_types(self) -> tuple[str, ...] | None:
        return self._filters.edge_types

    @property
    def as_of(self) -> int | None:
        return self._as_of

    @property
    def valid_at(self) -> int | None:
        return self._beliefs.valid_at

    @property
    def known_at(self) -> int | None:
        return self._beliefs.known_at

    @property
    def include_invalidated(self) -> bool:
        return self._beliefs.include_invalidated

    @property
    def loader(self) -> str:
        """How the snapshot was read: ``"duckdb"`` (the scanner, in a child process), ``"sqlite3"``, or
        ``"cache"`` (the persisted snapshot, caught up through the change logs)."""
        return self._data.loader

    @property
    def bad_values(self) -> tuple[BadValues, ...]:
        """Stored values of the wrong type or range, one entry per column and problem (see class doc)."""
        return self._data.bad_values

    def __len__(self) -> int:
        """Number of memories (nodes)."""
        return self._data.n_nodes

    def __contains__(self, memory_id: object) -> bool:
        return isinstance(memory_id, str) and self._data.find(memory_id) >= 0

    def is_directed(self) -> bool:
        """True: causal edges have a direction (networkx asks this of the graphs it is given)."""
        return True

    def is_multigraph(self) -> bool:
        """True: parallel edges (same pair, several ids) are kept, as in :meth:`to_networkx`."""
        return True

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

        Reads only what changed (see :mod:`omega_graph.graph._refresh`); the result equals a new
        snapshot with the same filters.
        """
        self._base = _refresh.refresh(self._base, self._source, self._filters, self._loader)
        self._data = beliefs.apply(self._base, self._beliefs)
        return self

    def diff(self, other: CausalGraph) -> SnapshotDiff:
        """The edges added, removed and reweighted from this snapshot to ``other``.

        For example what the store believed last week against now:
        ``store.causal_graph(known_at=last_week).diff(store.causal_graph())``. Edges are matched by
        id; see :class:`~._diff.SnapshotDiff` for the columns.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 100),
        ...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 100)])
        2
        >>> before = store.causal_graph()
        >>> store.invalidate_causal_edge("bc", at=200, reason="refuted")
        >>> store.store_causal_edge(StoredCausalEdge("ab", "a", "b", 0.6, "causes", 100))
        >>> change = before.diff(store.causal_graph())
        >>> change.summary(), change.removed.edge_id.tolist(), change.reweighted.new_weight.tolist()
        ('0 added, 1 removed, 1 reweighted', ['bc'], [0.6])
        """
        if not isinstance(other, CausalGraph):
            raise ValidationError("CausalGraph.diff", "other", other, "another CausalGraph snapshot")
        return _diff.diff(self._data, other._data)

    # ----- paths --------------------------------------------------------------------------------
    def _path(self, nodes: list[int], edges: list[int]) -> CausalPath:
        data = self._data
        ids = data.edge_ids_at(edges)
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
            d.check_created()
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

    # ----- influence ----------------------------------------------------------------------------
    def influence(
        self,
        personalization: Mapping[str, float] | None = None,
        reverse: bool = False,
        alpha: float = 0.85,
        tol: float = _influence.DEFAULT_TOL,
        max_iter: int | None = None,
    ) -> pd.DataFrame:
        """Weighted PageRank, converged: a DataFrame ``memory_id, score, rank`` (rank 1 = most influential).

        The definition is networkx's, ``networkx.pagerank(self.to_networkx(), alpha, personalization,
        weight="weight")``: parallel edges' weights add, a node without positive out-weight (dangling)
        hands its score out along the personalization, the walk restarts along it with probability
        ``1 - alpha``. Unlike networkx, which stops when the L1 step is below ``N * tol`` (far from
        converged on large graphs), the answer is within ``tol`` of the exact scores in L1 distance,
        and it agrees with networkx run to convergence. See :mod:`omega_graph.graph.influence`.

        Parameters
        ----------
        personalization : mapping of memory id to weight, optional
            Where the walk restarts (and dangling nodes send their score), normalised to sum to 1;
            missing memories get 0. Default: every memory alike.
        reverse : bool, default False
            Rank on the reversed graph: what drives the others (the memories in ``personalization``).
        alpha : float, default 0.85
            Damping factor, in [0, 1). 1 is refused: no error bound exists there, and the scores need
            not be unique.
        tol : float, default 1e-10
            L1 error bound: ``sum(|score - exact score|) <= tol``. **Stopping rule**: the iteration
            stops when ``alpha / (1 - alpha)`` times the L1 change of its last (full) step is at most
            ``tol``; as each step is an ``alpha``-contraction, that bounds the distance to the exact
            scores. Tolerances below about ``1e-16 * alpha / (1 - alpha)`` times the average
            in-degree meet float64 rounding (about 1e-14 at ``alpha = 0.85``).
        max_iter : int, optional
            Cap on the power iterations. By default, the count that always suffices, on any graph:
            ``1 + ceil(log(tol (1 - alpha) / (2 alpha)) / log(alpha))`` (158 at the defaults, 2,819
            at ``alpha = 0.99``); most graphs need far fewer (about 50 on a random graph of a
            million memories). A smaller cap bounds the work and may raise ``ConvergenceError``.

        Returns
        -------
        pandas.DataFrame
            ``memory_id``, ``score`` (sums to 1), ``rank`` (1, 2, ...); sorted by score descending,
            then id. ``attrs``: ``error_bound`` (the L1 bound met, at most ``tol``), ``iterations``
            (0 when a cached result of this snapshot already met ``tol``), ``alpha``, ``tol``.

        Raises
        ------
        ValidationError
            ``alpha``, ``tol``, ``max_iter`` or a personalization value out of range, or all
            personalization values 0, or an edge weight that is not a number in [0, 1].
        NotFoundError
            A personalization key that is not a memory of this snapshot.
        ConvergenceError
            The bound was not reached within ``max_iter`` iterations, or rounding stopped the
            progress; it names the iterations done, the bound reached and what to change.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        4
        >>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
        ...                           StoredCausalEdge("ac", "a", "c", 0.3, "causes", 2),
        ...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 3),
        ...                           StoredCausalEdge("cb", "c", "b", 0.2, "causes", 4)])
        4
        >>> g = store.causal_graph()
        >>> frame = g.influence()
        >>> frame.round(6).values.tolist()
        [['b', 0.457851, 1], ['c', 0.446911, 2], ['a', 0.047619, 3], ['d', 0.047619, 4]]
        >>> frame.attrs["error_bound"] <= 1e-10
        True
        >>> g.influence(personalization={"c": 1.0}, reverse=True).memory_id.tolist()  # what drives c
        ['c', 'a', 'b', 'd']
        """
        d = self._data
        result = _influence.pagerank(d, personalization, reverse, alpha, tol, max_iter)
        return _influence.pagerank_frame(d, result, alpha, tol)

    # ----- structure ----------------------------------------------------------------------------
    def is_dag(self) -> bool:
        """True when the snapshot has no directed cycle (self-loops are cycles)."""
        return structure.is_dag(self._data)

    def find_cycles(
        self,
        limit: int | None = structure.DEFAULT_CYCLE_LIMIT,
        max_length: int | None = None,
        max_sources: int | None = structure.DEFAULT_MAX_SOURCES,
    ) -> list[list[str]]:
        """Short directed cycles first, with bounded work.

        Each cycle is a list of memory ids ``v0..vk`` with edges v0 -> v1 -> ... -> vk -> v0 in the
        snapshot (its filters applied), rotated to start at its smallest id, ``v0`` not repeated; a
        self-loop is ``[v0]``. No cycle is listed twice (parallel edges do not make distinct cycles).

        Parameters
        ----------
        limit
            Most cycles returned (default 100; None: no cap).
        max_length
            Most memories in a cycle (None: no bound).
        max_sources
            A strongly connected component of at most this many memories is searched exhaustively,
            a larger one from this many roots (default 128; None: every component exhaustively,
            which can take exponential time on a large tangled graph).

        Returns
        -------
        list of list of str
            Ordered by length, then by the ids (lexicographically). Empty exactly when there is no
            cycle within ``max_length``; with no bound, empty exactly when :meth:`is_dag`.

        Notes
        -----
        What is searched:

        * every self-loop and every two-memory cycle, exactly (vectorised, linear time);
        * a component of at most ``max_sources`` memories exhaustively, by length: its cycles are
          those of ``networkx.simple_cycles(G, length_bound=max_length)`` in it. When every component
          is that small, the answer is exactly that whole list sorted by (length, ids) and cut at
          ``limit``: the ``limit`` shortest cycles;
        * a larger component by sampling: from each of its ``max_sources`` best-connected memories
          (highest in-degree x out-degree inside the component, ties by id), one bidirectional
          breadth-first search that returns every shortest cycle of three or more memories through
          that root it meets (avoiding the root's two-memory cycles, listed already). These are short
          cycles, and every listed cycle is real, but a shorter one may exist elsewhere in the
          component: raise ``max_sources`` to look further.

        Work: linear passes over the edges (components, self-loops, two-memory cycles), at most
        ``max_sources`` bidirectional searches per large component, and the exhaustive search. The
        exhaustive search is lazy (a length is searched only when the answer needs it) and, unless
        ``limit`` is None, stops after 5 million edge visits (a few seconds), returning the cycles found
        so far: still in order, and the shortest of the components searched exhaustively. On 1,000,000
        memories and 3,000,000 edges (one component of 684,399 memories) the defaults take 1.5-2 s
        (half of it the component pass that :meth:`is_dag` shares) and list cycles of 2 to 9
        memories; ``networkx.simple_cycles`` took 60 s for its first cycle there, of 165,147 memories.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        4
        >>> store.store_causal_edges(StoredCausalEdge(u + v, u, v, 0.5, "causes", 0)
        ...                          for u, v in ["ab", "bc", "cd", "da", "ca", "bb"])
        6
        >>> g = store.causal_graph()
        >>> g.find_cycles()
        [['b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]
        >>> g.find_cycles(limit=1), g.find_cycles(max_length=3)
        ([['b']], [['b'], ['a', 'b', 'c']])
        >>> g.find_cycles(max_sources=1)  # one root ('a'): the 4-cycle through it is not the shortest
        [['b'], ['a', 'b', 'c']]
        >>> store.causal_graph(edge_types=["enables"]).find_cycles()
        []
        """
        return structure.find_cycles(self._data, limit, max_length, max_sources)

    def d_separated(
        self, xs: str | Iterable[str], ys: str | Iterable[str], given: str | Iterable[str] | None = None
    ) -> bool:
        """Whether ``xs`` and ``ys`` are d-separated by ``given`` (agrees with ``networkx.is_d_separator``).

        Each argument is a memory id or a collection of them; the three sets must be disjoint.
        Raises :class:`~omega_graph.errors.NotADAGError` on a cyclic snapshot.
        """
        return structure.d_separated(self._data, xs, ys, given)
