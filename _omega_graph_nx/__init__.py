"""What networkx reads about the ``omega`` backend before loading it (the ``networkx.backend_info``
entry point).

networkx calls :func:`get_info` while it is being imported, so this package is kept apart from
``omega_graph`` and imports nothing: a user who never dispatches a call pays nothing for it.
"""

from __future__ import annotations

#: The networkx functions the backend runs on the engine, by the module of ``omega_graph.backend``
#: that implements them. Every other networkx function called on a ``CausalGraph`` runs in networkx
#: on the graph converted once per snapshot.
FUNCTIONS: dict[str, str] = {
    # link analysis
    "pagerank": "link_analysis",
    "hits": "link_analysis",
    # reachability and traversal
    "descendants": "traversal",
    "ancestors": "traversal",
    "has_path": "traversal",
    "bfs_edges": "traversal",
    # shortest paths
    "shortest_path": "shortest_paths",
    "shortest_path_length": "shortest_paths",
    "single_source_shortest_path": "shortest_paths",
    "single_source_shortest_path_length": "shortest_paths",
    "single_source_dijkstra": "shortest_paths",
    "single_source_dijkstra_path": "shortest_paths",
    "single_source_dijkstra_path_length": "shortest_paths",
    "bidirectional_shortest_path": "shortest_paths",
    "bidirectional_dijkstra": "shortest_paths",
    "dijkstra_path": "shortest_paths",
    "dijkstra_path_length": "shortest_paths",
    # DAGs
    "is_directed_acyclic_graph": "dag",
    "topological_sort": "dag",
    "topological_generations": "dag",
    "dag_longest_path": "dag",
    "dag_longest_path_length": "dag",
    # cycles
    "simple_cycles": "cycles",
    "find_cycle": "cycles",
    # components
    "strongly_connected_components": "components",
    "number_strongly_connected_components": "components",
    "is_strongly_connected": "components",
    "weakly_connected_components": "components",
    "number_weakly_connected_components": "components",
    "is_weakly_connected": "components",
    # d-separation
    "is_d_separator": "d_separation",
    "find_minimal_d_separator": "d_separation",
    "is_minimal_d_separator": "d_separation",
    # degree centrality
    "in_degree_centrality": "centrality",
    "out_degree_centrality": "centrality",
}

_NOTES: dict[str, str] = {
    "pagerank": (
        "Stops when the L1 distance to the exact scores is provably at most `tol` (networkx stops when "
        "the L1 step is below N * tol), within networkx's `max_iter`: never less accurate than networkx "
        "for the same arguments. A `dangling` distribution other than the personalization runs in "
        "networkx."
    ),
}


def get_info() -> dict[str, object]:
    """The backend's description for networkx (names, docs links, the functions it implements)."""
    return {
        "backend_name": "omega",
        "project": "omega-graph",
        "package": "omega_graph",
        "url": "https://github.com/omega-graph/omega-graph",
        "short_summary": "Directed (multi)graphs as compact arrays: converged PageRank, fast reachability, "
        "shortest paths, components and d-separation; runs a store's CausalGraph without conversion.",
        "default_config": {},
        "functions": {
            name: ({"additional_docs": _NOTES[name]} if name in _NOTES else {}) for name in FUNCTIONS
        },
    }
