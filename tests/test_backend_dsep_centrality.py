"""The ``omega`` backend's d-separation and degree centrality against networkx itself: random DAG
multigraphs (parallel edges, self-loops, int / tuple / str labels), a store's ``CausalGraph`` on the
real networks, and bad input (same exception types and messages)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.backend import convert_from_nx
from omega_graph.backend.d_separation import _closure, _mask
from tests.test_graph_reference import DAGS, fill_store, read_network

pytestmark = pytest.mark.filterwarnings("ignore:Note. conversions to backend graphs:UserWarning")

DSEP = ("is_d_separator", "find_minimal_d_separator", "is_minimal_d_separator")
CENTRALITY = ("in_degree_centrality", "out_degree_centrality")


def outcome(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """What a call gives: ``("ok", type, value)`` or ``("raise", type, message)``."""
    try:
        value = func(*args, **kwargs)
    except Exception as err:  # comparing networkx's exceptions with ours
        return "raise", type(err), str(err)
    return "ok", type(value), value


def same(name: str, G: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """networkx's ``name`` on ``G`` natively and with ``backend="omega"`` give the same outcome."""
    func = getattr(nx, name)
    want = outcome(func, G, *args, **kwargs)
    got = outcome(func, G, *args, backend="omega", **kwargs)
    assert got == want, (name, args, kwargs)
    return got


def labelled(kind: str, i: int) -> Hashable:
    return {"int": i, "tuple": (i, "t"), "str": f"n{i}", "mixed": i if i % 2 else f"n{i}"}[kind]


@st.composite
def graphs(draw: st.DrawFn, dag: bool = True) -> nx.DiGraph:
    """A DiGraph or MultiDiGraph (acyclic when ``dag``; then no self-loops), nodes in a random order."""
    n = draw(st.integers(1, 9))
    kind = draw(st.sampled_from(["int", "tuple", "str", "mixed"]))
    order = draw(st.permutations(range(n)))
    G: nx.DiGraph = nx.MultiDiGraph() if draw(st.booleans()) else nx.DiGraph()
    G.add_nodes_from(labelled(kind, i) for i in order)
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    for u, v in draw(st.lists(pair, max_size=3 * n)):
        if dag and u >= v:
            continue  # order by the first-drawn index: acyclic whatever the node order
        w = draw(st.one_of(st.none(), st.integers(-3, 5), st.floats(0, 2)))
        G.add_edge(labelled(kind, u), labelled(kind, v), **({} if w is None else {"weight": w}))
    return G


@st.composite
def node_args(draw: st.DrawFn, G: nx.DiGraph, disjoint: bool) -> list[Any]:
    """Four arguments x, y, z, included: each a node or a set of nodes (disjoint when asked)."""
    nodes = list(G)
    groups = [draw(st.integers(0, 4)) for _ in nodes] if disjoint else None
    args: list[Any] = []
    for k in range(4):
        if disjoint:
            assert groups is not None
            members = {v for v, g in zip(nodes, groups, strict=True) if g == k}
        else:
            members = set(draw(st.lists(st.sampled_from(nodes), max_size=3)))
        if draw(st.integers(0, 24)) == 13:  # (hypothesis favours the bounds)
            members.add(("missing",))  # not a node: NodeNotFound (or a disjointness error first)
        single = len(members) == 1 and draw(st.booleans())
        args.append(next(iter(members)) if single else members)
    return args


@settings(max_examples=60)
@given(data=st.data())
def test_d_separation_matches_networkx(data: st.DataObject) -> None:
    G = data.draw(graphs(dag=data.draw(st.integers(0, 5)) > 0))
    x, y, z, included = data.draw(node_args(G, disjoint=data.draw(st.integers(0, 4)) > 0))
    restricted = data.draw(st.sampled_from([None, "z", "all", "some"]))
    if restricted == "z":
        restricted = (z if isinstance(z, set) else {z}) | (
            included if isinstance(included, set) else {included}
        )
    elif restricted == "all":
        restricted = set(G)
    elif restricted == "some":
        restricted = set(data.draw(st.lists(st.sampled_from(list(G)), max_size=4)))
    same("is_d_separator", G, x, y, z)
    same("is_d_separator", G, x, y, set())
    found = same("find_minimal_d_separator", G, x, y, included=included, restricted=restricted)
    same("is_minimal_d_separator", G, x, y, z, included=included, restricted=restricted)
    if found[0] == "ok" and found[2] is not None:
        sep = found[2]
        assert same("is_d_separator", G, x, y, sep)[2] is True
        assert same("is_minimal_d_separator", G, x, y, sep, included=included, restricted=restricted)[2]


@settings(max_examples=20)
@given(data=st.data())
def test_every_pair_matches_networkx(data: st.DataObject) -> None:
    """Single nodes x, y and a random z of the others: many separated pairs and many connected ones."""
    G = data.draw(graphs())
    nodes = list(G)
    for x, y in list(itertools.combinations(nodes, 2))[:15]:
        others = [v for v in nodes if v not in (x, y)]
        z = set(data.draw(st.lists(st.sampled_from(others), max_size=3))) if others else set()
        same("is_d_separator", G, x, y, z)
        same("is_minimal_d_separator", G, x, y, z)
        same("find_minimal_d_separator", G, x, y)


@settings(max_examples=50)
@given(data=st.data())
def test_bayes_ball_matches_networkx_reachable(data: st.DataObject) -> None:
    """The state-graph walk is networkx's ``_reachable`` for any ``x``, ``a``, ``z``."""
    G = data.draw(graphs())
    nodes = list(G)
    subset = st.lists(st.sampled_from(nodes), max_size=len(nodes)).map(set)
    x, a, z = data.draw(subset), data.draw(subset), data.draw(subset)
    view = convert_from_nx(G).view
    want = nx.algorithms.d_separation._reachable(G, x, a | x, z)
    got = _closure(view, _mask(view, x), _mask(view, a | x), _mask(view, z))
    assert set(view.label(got.nonzero()[0])) == want


@settings(max_examples=50)
@given(G=graphs(dag=False))
def test_degree_centrality_matches_networkx(G: nx.DiGraph) -> None:
    for name in CENTRALITY:
        want = getattr(nx, name)(G)
        got = getattr(nx, name)(G, backend="omega")
        assert list(got.items()) == list(want.items())
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


# ----- worked examples ----------------------------------------------------------------------------
def collider_trek() -> nx.DiGraph:
    return nx.DiGraph([("A", "B"), ("C", "B"), ("C", "D")])


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "want"),
    [
        ("is_d_separator", ("A", "D", set()), {}, True),
        ("is_d_separator", ("A", "D", "B"), {}, False),
        ("is_d_separator", ({"A"}, {"D"}, {"B", "C"}), {}, True),
        ("find_minimal_d_separator", ("A", "D"), {}, set()),
        ("find_minimal_d_separator", ("A", "D"), {"included": "B"}, {"B", "C"}),
        ("find_minimal_d_separator", ("A", "D"), {"included": "B", "restricted": "B"}, None),
        ("find_minimal_d_separator", ("A", "B"), {}, None),
        ("is_minimal_d_separator", ("A", "D", set()), {}, True),
        ("is_minimal_d_separator", ("A", "D", {"B", "C"}), {}, False),
        ("is_minimal_d_separator", ("A", "D", {"B", "C"}), {"included": "B"}, True),
    ],
)
def test_examples(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], want: Any) -> None:
    assert same(name, collider_trek(), *args, **kwargs)[2] == want


def test_restricted_frozenset_gives_a_frozenset() -> None:
    G = nx.DiGraph([(1, 2), (2, 3)])
    kind, typ, value = same("find_minimal_d_separator", G, 1, 3, restricted=frozenset({1, 2, 3}))
    assert typ is frozenset and value == {2}


def test_long_chain_is_vectorised() -> None:
    """A 20 000-node chain: answered by one C traversal per walk (networkx's own walk is quadratic)."""
    n = 20_000
    G = convert_from_nx(nx.path_graph(n, create_using=nx.DiGraph))
    assert nx.is_d_separator(G, 0, n - 1, n // 2)
    assert not nx.is_d_separator(G, 0, n - 1, set())
    assert not nx.is_d_separator(G, {0, 5}, {n - 1}, {3})
    small = nx.path_graph(6, create_using=nx.DiGraph)
    assert nx.find_minimal_d_separator(small, 0, 5) == {1}  # networkx: the one next to x
    assert nx.find_minimal_d_separator(G, 0, n - 1) == {1}
    assert nx.is_minimal_d_separator(G, 0, n - 1, {n // 2})
    assert not nx.is_minimal_d_separator(G, 0, n - 1, {3, n // 2})
    assert nx.in_degree_centrality(G)[0] == 0.0


# ----- bad input ----------------------------------------------------------------------------------
COLLIDER = nx.DiGraph([(0, 2), (1, 2)])


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "match"),
    [
        ("is_d_separator", ({9}, {1}, set()), {}, nx.NodeNotFound, r"The node\(s\) \{9\} are not found"),
        ("is_d_separator", ([0], {1}, set()), {}, nx.NodeNotFound, "One of x, y, or z is not a node"),
        ("is_d_separator", ("zz", {1}, set()), {}, nx.NodeNotFound, "One of x, y, or z is not a node"),
        ("is_d_separator", (5, 6, 9), {}, nx.NetworkXError, "with intersection 4"),  # 5 & 6 == 4
        ("is_d_separator", (0, 1, 0), {}, nx.NetworkXError, r"not disjoint, with intersection \{0\}"),
        ("is_d_separator", (0, {0, 1}, set()), {}, nx.NetworkXError, "not disjoint"),
        ("find_minimal_d_separator", (0, 0), {}, nx.NetworkXError, r"Overlap: \{0\}"),
        ("find_minimal_d_separator", (0, 1), {"included": 0}, nx.NetworkXError, "Overlap"),
        ("find_minimal_d_separator", (0, 1), {"included": 7}, nx.NodeNotFound, "One of x, y, included"),
        ("find_minimal_d_separator", (0, 1), {"included": {7}}, nx.NodeNotFound, r"\{7\} are not found"),
        ("find_minimal_d_separator", (0, 1), {"restricted": {8}}, nx.NodeNotFound, r"\{8\} are not found"),
        (
            "find_minimal_d_separator",
            (0, 1),
            {"included": 2, "restricted": {1}},
            nx.NetworkXError,
            "Included",
        ),
        ("find_minimal_d_separator", ([0], 1), {}, nx.NodeNotFound, "One of x, y, included or restricted"),
        ("is_minimal_d_separator", (0, 1, {9}), {}, nx.NetworkXError, r"Separating set \{9\} must be"),
        ("is_minimal_d_separator", (0, 1, {2}), {"restricted": {0}}, nx.NetworkXError, "restricted set"),
        ("is_minimal_d_separator", (0, 1, set()), {"included": 2}, nx.NetworkXError, "proposed separating"),
        ("is_minimal_d_separator", (0, 1, [2]), {}, TypeError, "not supported"),
        ("is_minimal_d_separator", (0, 0, set()), {}, nx.NetworkXError, "not disjoint"),
        ("is_minimal_d_separator", ({3}, 1, set()), {}, nx.NodeNotFound, r"\{3\} are not found"),
        ("is_minimal_d_separator", ([0], 1, set()), {}, nx.NodeNotFound, "One of x, y, z, included"),
    ],
)
def test_bad_input(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        getattr(nx, name)(COLLIDER, *args, backend="omega", **kwargs)
    same(name, COLLIDER, *args, **kwargs)


@pytest.mark.parametrize("name", DSEP)
@pytest.mark.parametrize("G", [nx.cycle_graph(3, nx.DiGraph), nx.MultiDiGraph([(0, 1), (1, 1), (2, 1)])])
def test_cyclic_graph_raises(name: str, G: nx.DiGraph) -> None:
    args = (0, 2) if name == "find_minimal_d_separator" else (0, 2, set())
    with pytest.raises(nx.NetworkXError, match="graph should be directed acyclic"):
        getattr(nx, name)(G, *args, backend="omega")
    same(name, G, *args)


def test_is_d_separator_validates_before_the_cycle_check() -> None:
    G = nx.cycle_graph(3, nx.DiGraph)
    with pytest.raises(nx.NodeNotFound):
        nx.is_d_separator(G, 0, 9, set(), backend="omega")
    with pytest.raises(nx.NetworkXError, match="acyclic"):  # the others check acyclicity first
        nx.find_minimal_d_separator(G, 0, 9, backend="omega")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_degree_centrality_tiny_graphs(n: int) -> None:
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    if n:
        G.add_edges_from([(0, n - 1), (0, n - 1)])
    for name in CENTRALITY:
        same(name, G)


# ----- a store's CausalGraph ----------------------------------------------------------------------
@pytest.fixture(params=sorted(DAGS))
def real(request: pytest.FixtureRequest) -> Any:
    store = OmegaStore.new_in_memory()
    fill_store(store, *read_network(request.param))
    yield store.causal_graph()
    store.close()


def test_causal_graph_matches_networkx(real: Any) -> None:
    ref = real.to_networkx()
    nodes = list(ref)
    for name in CENTRALITY:
        assert list(getattr(nx, name)(real).items()) == list(getattr(nx, name)(ref).items())
    for i, (x, y) in enumerate(zip(nodes[::3], nodes[1::3][::-1], strict=False)):
        if x == y:
            continue
        z = {nodes[(7 * i + 2) % len(nodes)]} - {x, y}
        assert nx.is_d_separator(real, x, y, z) == nx.is_d_separator(ref, x, y, z), (x, y, z)
        found = nx.find_minimal_d_separator(real, x, y)
        assert found == nx.find_minimal_d_separator(ref, x, y), (x, y)
        assert nx.is_minimal_d_separator(real, x, y, z) == nx.is_minimal_d_separator(ref, x, y, z)
        if found is not None:
            assert nx.is_d_separator(real, x, y, found) and nx.is_minimal_d_separator(real, x, y, found)


def test_causal_graph_bad_input() -> None:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
    store.store_causal_edges(
        [
            StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
            StoredCausalEdge("ab2", "a", "b", 0.1, "causes", 2),
        ]
    )
    g = store.causal_graph()
    ref = g.to_networkx()
    for args in [("a", "zz", set()), ("a", 1, set()), ("a", "a", set()), ("a", "c", "b")]:
        assert outcome(nx.is_d_separator, g, *args) == outcome(nx.is_d_separator, ref, *args)
    assert nx.in_degree_centrality(g) == {"a": 0.0, "b": 1.0, "c": 0.0}  # parallel edges counted
    store.store_causal_edges([StoredCausalEdge("ba", "b", "a", 0.5, "causes", 3)])
    g.refresh()
    with pytest.raises(nx.NetworkXError, match="graph should be directed acyclic"):
        nx.find_minimal_d_separator(g, "a", "c")
    store.close()
