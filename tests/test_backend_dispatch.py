"""The ``omega`` networkx backend: registration, dispatch, conversion, hand-back to networkx, and the
natively run PageRank, reachability, traversal and components against networkx itself."""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable, Hashable
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _omega_graph_nx import FUNCTIONS, get_info
from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.backend import OmegaGraph, convert_from_nx, convert_to_nx, interface
from tests.test_graph_reference import DAGS, fill_store, read_network

pytestmark = pytest.mark.filterwarnings("ignore:Note. conversions to backend graphs:UserWarning")


def small_store() -> OmegaStore:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcde")
    store.store_causal_edges(
        [
            StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
            StoredCausalEdge("ab2", "a", "b", 0.2, "enables", 2),
            StoredCausalEdge("bc", "b", "c", 0.5, "causes", 3),
            StoredCausalEdge("ac", "a", "c", 0.4, "enables", 4),
            StoredCausalEdge("cb", "c", "b", 0.3, "causes", 5),
        ]
    )
    return store


@pytest.fixture
def graph() -> Any:
    store = small_store()
    yield store.causal_graph()
    store.close()


@pytest.fixture(params=sorted(DAGS))
def real(request: pytest.FixtureRequest) -> Any:
    store = OmegaStore.new_in_memory()
    fill_store(store, *read_network(request.param))
    yield store.causal_graph()
    store.close()


# ----- registration -------------------------------------------------------------------------------
@pytest.mark.parametrize("group", ["networkx.backends", "networkx.backend_info"])
def test_both_entry_points_name_the_backend(group: str) -> None:
    names = {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}
    assert "omega" in names
    assert names["omega"].load() is not None


def test_backend_info_lists_exactly_the_native_functions() -> None:
    info = get_info()
    assert info["backend_name"] == "omega"
    assert set(info["functions"]) == set(FUNCTIONS)  # type: ignore[arg-type]
    assert "omega" in nx.utils.backends.backends
    for name in FUNCTIONS:
        assert name in nx.utils.backends._registered_algorithms, name
        assert callable(getattr(interface, name)), name


def test_native_signatures_mirror_networkx() -> None:
    import inspect

    for name in FUNCTIONS:
        ours = inspect.signature(getattr(interface, name))
        theirs = inspect.signature(nx.utils.backends._registered_algorithms[name].orig_func)
        assert list(ours.parameters) == list(theirs.parameters), name
        for p, q in zip(ours.parameters.values(), theirs.parameters.values(), strict=True):
            assert (p.kind, p.default) == (q.kind, q.default), (name, p.name)


# ----- dispatch on a CausalGraph ------------------------------------------------------------------
def test_causal_graph_dispatches_without_conversion(graph: Any) -> None:
    assert nx.descendants(graph, "a") == {"b", "c"}
    assert nx.ancestors(graph, "c") == {"a", "b"}
    assert nx.has_path(graph, "c", "b") and not nx.has_path(graph, "b", "a")
    pr = nx.pagerank(graph)
    assert list(pr) == graph.memory_ids and math.isclose(sum(pr.values()), 1.0)
    assert "networkx_frozen" not in graph._data._cache  # native: the networkx graph was never built


def test_other_functions_run_in_networkx_on_one_frozen_conversion(graph: Any) -> None:
    ref = graph.to_networkx()
    assert nx.is_semiconnected(graph) == nx.is_semiconnected(ref)
    assert sorted(nx.transitive_closure(graph).edges) == sorted(nx.transitive_closure(ref).edges)
    frozen = graph.to_networkx(frozen=True)
    nx.is_semiconnected(graph)
    assert graph.to_networkx(frozen=True) is frozen  # converted once per snapshot
    assert nx.density(graph) == nx.density(ref)  # not dispatched by networkx: the read API answers
    assert list(graph.successors("a")) == list(ref.successors("a")) and graph["a"] == ref["a"]
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        nx.relabel_nodes(graph, {"a": "z"}, copy=False)
    assert "a" in graph and list(graph) == graph.memory_ids  # nothing changed


def test_refresh_drops_the_conversion_when_the_snapshot_changes() -> None:
    store = small_store()
    g = store.causal_graph()
    before = g.to_networkx(frozen=True)
    assert nx.descendants(g, "d") == set()
    store.store_causal_edge(StoredCausalEdge("de", "d", "e", 0.7, "causes", 9))
    assert nx.descendants(g, "d") == set()  # a snapshot: later writes are not seen
    g.refresh()
    assert nx.descendants(g, "d") == {"e"}
    assert g.to_networkx(frozen=True) is not before
    assert g.to_networkx(frozen=True).has_edge("d", "e")
    store.close()


def test_convert_to_nx_is_to_networkx(graph: Any) -> None:
    a, b = convert_to_nx(graph), graph.to_networkx()
    assert nx.utils.graphs_equal(a, b) and list(a.edges(keys=True, data=True)) == list(
        b.edges(keys=True, data=True)
    )
    assert convert_to_nx({"x": 1}) == {"x": 1}


def test_dispatch_overhead_path_is_cheap(graph: Any) -> None:
    # can_run answers from the argument's class alone for a backend graph (no conversion, no binding)
    assert interface.can_run("descendants", (graph, "a"), {}) is True
    assert interface.can_run("is_semiconnected", (graph,), {}) is True
    assert interface.should_run("descendants", (graph, "a"), {}) is True


# ----- networkx graphs with backend="omega" -------------------------------------------------------
def test_networkx_graph_converts_once_and_is_cached_until_changed() -> None:
    G = nx.DiGraph([(1, 2, {"weight": 2.0}), (2, 3, {"weight": 1.0})])
    assert nx.descendants(G, 1, backend="omega") == {2, 3}
    cache = G.__networkx_cache__["backends"]["omega"]
    (converted,) = cache.values()
    assert isinstance(converted, OmegaGraph)
    nx.descendants(G, 2, backend="omega")
    assert list(cache.values()) == [converted]
    G.add_edge(3, 4)  # networkx clears its cache on change: never a stale answer
    assert nx.descendants(G, 1, backend="omega") == {2, 3, 4}


@pytest.mark.parametrize(
    "graph_class, name, args, reason",
    [
        (nx.Graph, "descendants", (0,), "directed"),
        (nx.DiGraph, "is_semiconnected", (), "does not implement"),
        (nx.DiGraph, "bfs_edges", (0, False, None, sorted), "sort_neighbors"),
    ],
)
def test_can_run_declines_with_a_reason(graph_class: Any, name: str, args: tuple, reason: str) -> None:
    G = graph_class([(0, 1)])
    verdict = interface.can_run(name, (G, *args), {})
    assert isinstance(verdict, str) and reason in verdict


def test_undirected_graphs_run_in_networkx() -> None:
    G = nx.path_graph(4)
    with pytest.raises(NotImplementedError, match="omega"):
        nx.descendants(G, 0, backend="omega")
    assert nx.descendants(G, 0) == {1, 2, 3}


def test_should_run_converts_only_when_it_pays() -> None:
    G = nx.gnp_random_graph(50, 0.1, directed=True, seed=1)
    assert interface.should_run("pagerank", (G,), {}) is True  # many passes: pays from 1,000 edges
    assert isinstance(interface.should_run("descendants", (G, 0), {}), str)  # one pass: it does not
    nx.descendants(G, 0, backend="omega")  # now networkx holds the conversion
    assert interface.should_run("descendants", (G, 0), {}) is True
    with nx.config(backend_priority=["omega"]):
        assert nx.descendants(G, 0) == nx.descendants(G, 0, backend="networkx")


LABELS: list[Callable[[int], Hashable]] = [
    lambda i: i,
    lambda i: (i, "x"),
    lambda i: f"n{i}",
    lambda i: frozenset({i}),
]


@pytest.mark.parametrize("label", LABELS)
def test_non_string_labels_come_back_as_the_same_objects(label: Callable[[int], Hashable]) -> None:
    G = nx.relabel_nodes(nx.gnp_random_graph(30, 0.08, directed=True, seed=3), label)
    for v in list(G)[:5]:
        ours = nx.descendants(G, v, backend="omega")
        assert ours == nx.descendants(G, v)
        assert all(any(u is w for w in G) for u in ours)  # the same objects, not equal copies
    assert nx.pagerank(G, backend="omega").keys() == nx.pagerank(G).keys()


def test_convert_from_nx_keeps_order_attributes_and_predecessors() -> None:
    G = nx.MultiDiGraph()
    G.add_nodes_from(["z", "a", "m"])
    G.add_edge("m", "a", weight=3)
    G.add_edge("z", "a", weight=1)
    G.add_edge("z", "a")  # missing weight: networkx's default 1
    G.add_edge("a", "z", weight=2)
    og = convert_from_nx(G, edge_attrs={"weight": 1})
    v = og.view
    assert list(v.nodes) == ["z", "a", "m"] and og.is_multigraph() and og.graph is G.graph
    assert [(v.nodes[s], v.nodes[d]) for s, d in zip(v.src.tolist(), v.dst.tolist(), strict=True)] == [
        (u, w) for u, w, _ in G.edges(keys=True)
    ]
    assert v.values("weight", 1).tolist() == [1, 1, 2, 3] and v.values("weight", 1).dtype == np.int64
    assert v.pair_min("weight").tolist() == [1, 2, 3] and v.pair_sum("weight").tolist() == [2, 2, 3]
    assert [[v.nodes[u] for u in ps] for ps in v.predecessor_lists()] == [list(G.pred[n]) for n in G]


# ----- PageRank -----------------------------------------------------------------------------------
def exact_pagerank(G: Any, **kwargs: Any) -> dict[Any, float]:
    return nx.pagerank(G, **{**kwargs, "tol": 1e-14, "max_iter": 100_000})


def l1(a: dict[Any, float], b: dict[Any, float]) -> float:
    assert a.keys() == b.keys()
    return sum(abs(a[k] - b[k]) for k in a)


def test_pagerank_on_real_networks_is_converged_and_never_less_accurate(real: Any) -> None:
    ref = real.to_networkx()
    exact = exact_pagerank(ref)
    ours, theirs = nx.pagerank(real), nx.pagerank(ref)
    assert l1(ours, exact) <= 1e-6 and l1(ours, exact) <= l1(theirs, exact) + 1e-12
    p = {m: float(i % 3) for i, m in enumerate(real.memory_ids)}
    for kwargs in [{"alpha": 0.6}, {"personalization": p}, {"tol": 1e-10}, {"weight": None}]:
        exact = exact_pagerank(ref, **kwargs)
        ours = nx.pagerank(real, **kwargs)
        assert l1(ours, exact) <= max(kwargs.get("tol", 1e-6), 1e-13), kwargs  # type: ignore[arg-type]
        assert l1(ours, exact) <= l1(nx.pagerank(ref, **kwargs), exact) + 1e-12, kwargs


def test_pagerank_honours_max_iter_like_networkx() -> None:
    G = nx.gnp_random_graph(40, 0.1, directed=True, seed=2)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(G, max_iter=0, backend="omega")
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(G, max_iter=2, backend="omega")
    for cap in range(3, 40):  # where networkx's own rule is met, so is ours, at the same cap
        try:
            theirs = nx.pagerank(G, max_iter=cap)
        except nx.PowerIterationFailedConvergence:
            continue
        ours = nx.pagerank(G, max_iter=cap, backend="omega")
        exact = exact_pagerank(G)
        assert l1(ours, exact) <= l1(theirs, exact) + 1e-12, cap
        break
    else:
        pytest.fail("networkx never converged")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"personalization": {0: 0.0}}, ZeroDivisionError),
        ({"personalization": {"nope": 1.0}}, ZeroDivisionError),
    ],
)
def test_pagerank_bad_input_gives_networkx_errors(kwargs: dict[str, Any], error: type[Exception]) -> None:
    G = nx.DiGraph([(0, 1), (1, 2)])
    with pytest.raises(error):
        nx.pagerank(G, **kwargs)
    with pytest.raises(error):
        nx.pagerank(G, backend="omega", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"dangling": {0: 1.0}}, {"nstart": {0: 1.0, 1: 2.0}}, {"alpha": 1.0}, {"weight": "w"}],
    ids=["dangling", "nstart", "alpha1", "negative"],
)
def test_pagerank_options_match_networkx(kwargs: dict[str, Any]) -> None:
    G = nx.DiGraph([(0, 1, {"w": -1.0}), (1, 2, {"w": 2.0}), (2, 0, {"w": 1.0}), (2, 3, {"w": 1.0})])
    theirs = nx.pagerank(G, tol=1e-12, max_iter=10_000, **kwargs)
    ours = nx.pagerank(G, tol=1e-12, max_iter=10_000, backend="omega", **kwargs)
    assert l1(ours, theirs) <= 1e-9


# ----- reachability, traversal, components --------------------------------------------------------
@st.composite
def multigraphs(draw: st.DrawFn) -> nx.MultiDiGraph:
    n = draw(st.integers(1, 12))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))
    G = nx.MultiDiGraph()
    G.add_nodes_from(draw(st.permutations(range(n))))  # insertion order differs from label order
    G.add_edges_from(edges)
    return G if draw(st.booleans()) else nx.DiGraph(G)


@settings(max_examples=150, deadline=None)
@given(multigraphs())
def test_reach_traversal_components_match_networkx(G: Any) -> None:
    for v in G:
        assert nx.descendants(G, v, backend="omega") == nx.descendants(G, v)
        assert nx.ancestors(G, v, backend="omega") == nx.ancestors(G, v)
        assert list(nx.bfs_edges(G, v, backend="omega")) == list(nx.bfs_edges(G, v))
        assert list(nx.bfs_edges(G, v, True, 2, backend="omega")) == list(nx.bfs_edges(G, v, True, 2))
    for a in G:
        for b in G:
            assert nx.has_path(G, a, b, backend="omega") == nx.has_path(G, a, b), (a, b)
    assert list(nx.weakly_connected_components(G, backend="omega")) == list(nx.weakly_connected_components(G))
    scc = list(nx.strongly_connected_components(G, backend="omega"))
    assert sorted(map(sorted, scc)) == sorted(map(sorted, nx.strongly_connected_components(G)))
    where = {v: i for i, c in enumerate(scc) for v in c}
    assert all(where[v] <= where[u] for u, v in G.edges())  # a component after those it reaches
    for f in ("number_strongly_connected_components", "is_strongly_connected",
              "number_weakly_connected_components", "is_weakly_connected"):  # fmt: skip
        assert getattr(nx, f)(G, backend="omega") == getattr(nx, f)(G), f


def test_reach_and_components_on_real_networks(real: Any) -> None:
    ref = real.to_networkx()
    for v in real.memory_ids:
        assert nx.descendants(real, v) == nx.descendants(ref, v)
        assert nx.ancestors(real, v) == nx.ancestors(ref, v)
        assert list(nx.bfs_edges(real, v)) == list(nx.bfs_edges(ref, v))
    assert list(nx.weakly_connected_components(real)) == list(nx.weakly_connected_components(ref))
    assert sorted(map(sorted, nx.strongly_connected_components(real))) == sorted(
        map(sorted, nx.strongly_connected_components(ref))
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda G: nx.descendants(G, "zz"), nx.NetworkXError, "The node zz is not in the digraph."),
        (lambda G: nx.ancestors(G, "zz"), nx.NetworkXError, "The node zz is not in the digraph."),
        (lambda G: nx.has_path(G, "zz", "a"), nx.NodeNotFound, "Source zz is not in G"),
        (lambda G: nx.has_path(G, "a", "zz"), nx.NodeNotFound, "Target zz is not in G"),
        (lambda G: list(nx.bfs_edges(G, "zz")), nx.NetworkXError, "The node zz is not in the digraph."),
        (lambda G: nx.is_strongly_connected(nx.subgraph(G, [])), nx.NetworkXPointlessConcept, "null graph"),
    ],
)
def test_unknown_nodes_raise_what_networkx_raises(graph: Any, call: Any, error: Any, match: str) -> None:
    with pytest.raises(error, match=match):
        call(graph)
    with pytest.raises(error, match=match):
        call(graph.to_networkx())


def test_bfs_edges_raises_only_when_iterated(graph: Any) -> None:
    edges = nx.bfs_edges(graph, "zz")  # a generator, as networkx's: nothing raised yet
    with pytest.raises(nx.NetworkXError):
        next(iter(edges))


def test_hits_is_networkx_computation_on_the_same_matrix(real: Any) -> None:
    ref = real.to_networkx()
    for ours, theirs in zip(nx.hits(real), nx.hits(ref), strict=True):
        assert list(ours) == list(theirs)
        assert max(abs(ours[k] - theirs[k]) for k in ours) <= 1e-12
    G = nx.DiGraph([(0, 1), (1, 2)])
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.hits(G, max_iter=0, backend="omega")


@pytest.mark.parametrize("multigraph", [False, True])
def test_graph_views_convert(multigraph: bool) -> None:
    """Subgraph and reverse views hold filtered atlases, not dicts: they convert like graphs."""
    G = nx.gnp_random_graph(30, 0.1, directed=True, seed=5)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = (u + v) % 4
    if multigraph:
        G = nx.MultiDiGraph(G)
    for view in (G.subgraph(range(0, 30, 2)), G.reverse(copy=False), nx.restricted_view(G, [3], [])):
        for v in list(view)[:4]:
            assert nx.descendants(view, v, backend="omega") == nx.descendants(view, v)
        assert l1(nx.pagerank(view, backend="omega"), exact_pagerank(view)) <= 1e-6


def test_pagerank_keeps_a_bounded_number_of_results() -> None:
    from omega_graph.backend._convert import view_of
    from omega_graph.graph.influence import RESULTS_KEPT

    G = nx.gnp_random_graph(40, 0.1, directed=True, seed=7)
    og = convert_from_nx(G, edge_attrs={"weight": 1})
    for i in range(3 * RESULTS_KEPT):
        nx.pagerank(og, personalization={i % 40: 1.0, (i + 1) % 40: float(i + 1)})
    assert len(view_of(og)._cache["pagerank_results"]) == RESULTS_KEPT
