"""The ``omega`` networkx backend: networkx's functions on a ``CausalGraph``, run by the engine.

Installing omega-graph registers the backend with networkx (the ``networkx.backends`` and
``networkx.backend_info`` entry points). Then:

- ``nx.pagerank(g)``, ``nx.descendants(g, "m1")``, ``nx.shortest_path(g, a, b, weight="weight")`` ...
  on a :class:`~omega_graph.graph.CausalGraph` ``g`` run on the snapshot's arrays, no conversion and
  no setting needed. The answers are networkx's answers for ``g.to_networkx()`` (a
  ``MultiDiGraph``): additive ``weight``, the minimum of parallel edges for shortest paths and their
  sum for PageRank, networkx's return types, exceptions and tie-breaking. (``CausalGraph``'s own
  methods keep their own meaning: path strength is a product of weights.)
- Any other networkx function on a ``CausalGraph`` runs in networkx on ``g.to_networkx()``, made once
  per snapshot (frozen, kept until :meth:`~omega_graph.graph.CausalGraph.refresh` changes the
  snapshot).
- ``nx.pagerank(G, backend="omega")`` on a networkx ``DiGraph`` or ``MultiDiGraph`` converts it
  (networkx caches the conversion on ``G`` until ``G`` changes) and runs on the engine.

The functions run natively are listed in :data:`_omega_graph_nx.FUNCTIONS`.

Examples
--------
>>> import networkx as nx
>>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
>>> store = OmegaStore.new_in_memory()
>>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
4
>>> store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
...                           StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2),
...                           StoredCausalEdge("ac", "a", "c", 0.4, "enables", 3)])
3
>>> g = store.causal_graph()
>>> sorted(nx.descendants(g, "a"))
['b', 'c']
>>> nx.shortest_path(g, "a", "c", weight="weight")  # additive weights: 0.4 < 0.9 + 0.5
['a', 'c']
>>> g.strongest_path("a", "c").nodes  # the product of strengths: 0.45 > 0.4
('a', 'b', 'c')
>>> nx.is_directed_acyclic_graph(g), nx.number_weakly_connected_components(g)
(True, 2)
"""

from ._convert import convert_from_nx, convert_to_nx
from ._dispatch import BackendInterface
from ._view import OmegaGraph

#: What the ``networkx.backends`` entry point names.
interface = BackendInterface()

__all__ = ["BackendInterface", "OmegaGraph", "convert_from_nx", "convert_to_nx", "interface"]
