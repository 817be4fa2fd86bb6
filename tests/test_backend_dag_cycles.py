"""The ``omega`` backend's DAG and cycle functions against networkx itself, exactly (values, types,
order, errors, and what a generator yields before it raises): random directed multigraphs
(parallel edges, self-loops, int / float / missing weights, int / tuple / str labels), the numpy and
Python branches of each algorithm, graphs changed while a generator runs, a store's ``CausalGraph``
on the real networks, and bad input."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from itertools import islice
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_graph.backend._dispatch as dispatch
from omega_graph import OmegaStore
from omega_graph.backend import convert_from_nx
from omega_graph.backend import dag as dag_module
from tests.test_graph_reference import DAGS, fill_store, read_network

pytestmark = pytest.mark.filterwarnings("ignore:Note. conversions to backend graphs:UserWarning")

DAG_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("is_directed_acyclic_graph", {}),
    ("topological_sort", {}),
    ("topological_generations", {}),
    ("dag_longest_path", {}),
    ("dag_longest_path", {"default_weight": 3}),
    ("dag_longest_path", {"weight": None, "default_weight": 2.5}),
    ("dag_longest_path", {"weight": "cost", "default_weight": -1}),
    ("dag_longest_path_length", {}),
    ("dag_longest_path_length", {"default_weight": 0.5}),
    ("dag_longest_path_length", {"weight": None}),
]
CYCLE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("simple_cycles", {}),
    *(("simple_cycles", {"length_bound": b}) for b in (0, 1, 2, 3, 2.5, 5, -1)),
    *(("find_cycle", {"orientation": o}) for o in (None, "original", "reverse", "ignore")),
]


def outcome(func: Callable[..., Any], *args: Any, limit: int = 2000, **kwargs: Any) -> tuple[Any, ...]:
    """What a call gives: ``("ok", type, value)`` or ``("raise", type, message, yielded before)``."""
    got: list[Any] = []
    try:
        value = func(*args, **kwargs)
        if isinstance(value, Iterator):
            kind = type(value)
            got.extend(islice(value, limit))
            return "ok", kind, got
    except Exception as err:  # comparing networkx's exceptions with ours
        return "raise", type(err), str(err), got
    return "ok", type(value), value


def native_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, a call handed back to networkx fails the test."""

    def refuse(name: str, args: Any, kwargs: Any) -> Any:
        raise AssertionError(f"{name} was handed to networkx")

    monkeypatch.setattr(dispatch, "delegate", refuse)


def same(name: str, G: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """networkx's ``name`` on ``G`` natively and with ``backend="omega"`` give the same outcome."""
    func = getattr(nx, name)
    want = outcome(func, G, *args, **kwargs)
    got = outcome(func, G, *args, backend="omega", **kwargs)
    assert got == want, (name, args, kwargs)
    if want[0] == "ok" and isinstance(want[2], int | float):
        assert type(got[2]) is type(want[2])
    return got


def labelled(kind: str, i: int) -> Hashable:
    return {"int": i, "tuple": (i, "t"), "str": f"n{i}", "mixed": i if i % 2 else f"n{i}"}[kind]


@st.composite
def graphs(draw: st.DrawFn, dag: bool = False, max_nodes: int = 9) -> nx.DiGraph:
    """A DiGraph or MultiDiGraph, nodes in a random order (acyclic when ``dag``: no self-loops)."""
    n = draw(st.integers(0, max_nodes))
    kind = draw(st.sampled_from(["int", "tuple", "str", "mixed"]))
    G: nx.DiGraph = nx.MultiDiGraph() if draw(st.booleans()) else nx.DiGraph()
    G.add_nodes_from(labelled(kind, i) for i in draw(st.permutations(range(n))))
    if n == 0:
        return G
    ints = draw(st.booleans())
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    for u, v in draw(st.lists(pair, max_size=3 * n)):
        if dag and u >= v:
            continue  # order by the drawn index: acyclic whatever the node order
        w = draw(st.one_of(st.none(), st.integers(-3, 5) if ints else st.floats(-1, 2)))
        cost = draw(st.one_of(st.none(), st.integers(-2, 4)))
        data = ({} if w is None else {"weight": w}) | ({} if cost is None else {"cost": cost})
        G.add_edge(labelled(kind, u), labelled(kind, v), **data)
    return G


# ----- networkx graphs, converted -----------------------------------------------------------------
@settings(max_examples=80)
@given(graphs(dag=True))
def test_dag_functions_on_dags(G: nx.DiGraph) -> None:
    for name, kwargs in DAG_CALLS:
        same(name, G, **kwargs)


@settings(max_examples=80)
@given(graphs())
def test_dag_functions_on_any_graph(G: nx.DiGraph) -> None:
    for name, kwargs in DAG_CALLS:
        same(name, G, **kwargs)


@pytest.mark.parametrize(("wide", "wide_nodes", "rounds"), [(0, 0, 0), (0, 1, 1), (2, 2, 2)])
@settings(max_examples=40)
@given(G=graphs(max_nodes=14))
def test_numpy_branches(wide: int, wide_nodes: int, rounds: int, G: nx.DiGraph) -> None:
    """Every generation through numpy (Kahn, the longest-path programme), and the peeling handing
    over to scipy after a few rounds, give networkx's answers too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dag_module, "WIDE", wide)
        mp.setattr(dag_module, "WIDE_NODES", wide_nodes)
        mp.setattr(dag_module, "PEEL_ROUNDS", rounds)
        for name, kwargs in DAG_CALLS:
            same(name, G, **kwargs)
        assert dag_module.is_acyclic(convert_from_nx(G).view) == nx.is_directed_acyclic_graph(G)


@settings(max_examples=80)
@given(graphs(max_nodes=10), st.data())
def test_cycle_functions(G: nx.DiGraph, data: st.DataObject) -> None:
    for name, kwargs in CYCLE_CALLS:
        same(name, G, **kwargs)
    if len(G):
        nodes = list(G)
        one = data.draw(st.sampled_from(nodes))
        some = data.draw(st.lists(st.sampled_from(nodes), max_size=3))
        for orientation in (None, "reverse", "ignore"):
            same("find_cycle", G, source=one, orientation=orientation)
            same("find_cycle", G, source=some, orientation=orientation)


def test_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ordinary calls run on the engine: nothing is handed back to networkx."""
    G = nx.MultiDiGraph([(1, 2), (2, 3), (1, 3), (1, 3), (3, 4), (4, 2), (5, 5)])
    D = nx.MultiDiGraph([(1, 2, {"weight": 4}), (1, 2, {"weight": 7}), (2, 3), (1, 3, {"weight": 2})])
    native_only(monkeypatch)
    for name, kwargs in DAG_CALLS + CYCLE_CALLS:
        same(name, G, **kwargs)
        same(name, D, **kwargs)
    same("dag_longest_path", D, topo_order=[1, 2, 3])
    same("find_cycle", G, source=[5, 1], orientation="ignore")


def test_larger_graphs_in_networkx_order() -> None:
    """Bigger sparse graphs: many components, nested strongly connected components (networkx's
    subgraph views iterate their node sets there), the same cycles in the same order."""
    import random

    for seed in range(12):
        rng = random.Random(seed)
        n = rng.randint(20, 70)
        G = nx.DiGraph() if seed % 2 else nx.MultiDiGraph()
        G.add_nodes_from(rng.sample(range(n), n))
        G.add_edges_from((rng.randrange(n), rng.randrange(n)) for _ in range(int(rng.uniform(1, 2.2) * n)))
        for name, kwargs in CYCLE_CALLS + DAG_CALLS:
            same(name, G, **kwargs)


def test_parallel_edges_make_no_extra_cycles() -> None:
    G = nx.MultiDiGraph([(0, 1), (0, 1), (1, 0), (2, 2), (2, 2)])
    assert same("simple_cycles", G)[2] == [[2], [0, 1]]
    assert same("find_cycle", G)[2] == [(0, 1, 0), (1, 0, 0)]


def test_multigraph_keys_of_a_converted_graph() -> None:
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", key="first")
    G.add_edge("a", "b", key=("second", 2))
    G.add_edge("b", "a", key=7)
    assert same("find_cycle", G, orientation="ignore")[2] == [
        ("a", "b", "first", "forward"),
        ("b", "a", 7, "forward"),
    ]
    G.remove_edge("a", "b", key="first")
    assert same("find_cycle", G)[2] == [("a", "b", ("second", 2)), ("b", "a", 7)]


def test_longest_path_types() -> None:
    """networkx's sums: ints stay ints (also when other edges hold floats), bools add as ints."""
    G = nx.DiGraph([(1, 2, {"weight": 2}), (2, 3, {"weight": 3}), (1, 4, {"weight": 1.5})])
    assert same("dag_longest_path_length", G)[2] == 5
    G = nx.MultiDiGraph([(1, 2, {"weight": True}), (1, 2, {"weight": False}), (2, 3, {"weight": True})])
    assert same("dag_longest_path_length", G)[2] == 2
    G = nx.DiGraph([(1, 2, {"weight": float("nan")}), (2, 3, {"weight": 1.0}), (1, 3, {"weight": 0.5})])
    same("dag_longest_path", G)
    same("dag_longest_path_length", G)
    G = nx.DiGraph([(1, 2, {"weight": 2**62}), (2, 3, {"weight": 2**62}), (1, 3)])  # beyond int64: Python
    assert same("dag_longest_path_length", G)[2] == 2**63
    same("dag_longest_path_length", nx.DiGraph([(1, 2)]), weight=None, default_weight=True)


def test_topo_order() -> None:
    G = nx.DiGraph([(0, 1), (0, 2)])
    assert same("dag_longest_path", G, topo_order=[0, 1, 2])[2] == [0, 1]
    assert same("dag_longest_path", G, topo_order=(0, 2, 1))[2] == [0, 2]
    # not native (networkx answers, with its own errors): not a list, not every node, not an order
    og = convert_from_nx(G, edge_attrs={"weight": 1})
    assert nx.dag_longest_path(og, topo_order=iter([0, 2, 1])) == [0, 2]
    assert nx.dag_longest_path(og, topo_order=[0, 1]) == [0, 1]
    with pytest.raises(KeyError):
        nx.dag_longest_path(og, topo_order=[1, 0, 2])
    with pytest.raises(KeyError):
        nx.dag_longest_path(og, topo_order=[0, 1, 2, 9])


# ----- errors -------------------------------------------------------------------------------------
def test_cycles_where_a_dag_is_needed() -> None:
    G = nx.DiGraph([(0, 1), (1, 2), (2, 1), (0, 3)])
    for name in ("topological_sort", "topological_generations"):
        generator = getattr(nx, name)(G, backend="omega")  # lazy, as networkx's generators
        with pytest.raises(nx.NetworkXUnfeasible, match="Graph contains a cycle or graph changed"):
            list(generator)
        assert same(name, G)[3]  # what networkx yields before raising is yielded too
    for name in ("dag_longest_path", "dag_longest_path_length"):
        with pytest.raises(nx.NetworkXUnfeasible, match="Graph contains a cycle or graph changed"):
            getattr(nx, name)(G, backend="omega")
    assert not nx.is_directed_acyclic_graph(nx.DiGraph([(0, 0)]), backend="omega")


def test_no_cycle_and_bad_arguments() -> None:
    G = nx.DiGraph([(0, 1), (1, 2), (0, 2)])
    with pytest.raises(nx.NetworkXNoCycle, match="No cycle found."):
        nx.find_cycle(G, backend="omega")
    og = convert_from_nx(G)
    with pytest.raises(nx.NetworkXError, match="Node 99 is not in the graph."):
        nx.find_cycle(og, source=99)
    with pytest.raises(nx.NetworkXError, match="invalid orientation argument."):
        nx.find_cycle(og, orientation="sideways")
    with pytest.raises(nx.NetworkXNoCycle, match="No cycle found."):
        nx.find_cycle(og, source=[0, "not a node"])
    assert len(nx.find_cycle(og, source=[0, "not a node"], orientation="ignore")) == 3
    cycles = nx.simple_cycles(G, length_bound=-1, backend="omega")  # raises when iterated
    with pytest.raises(ValueError, match="length bound must be non-negative"):
        next(cycles)
    with pytest.raises(TypeError):
        list(nx.simple_cycles(og, length_bound="2"))
    assert nx.dag_longest_path(nx.DiGraph(), backend="omega") == []
    assert nx.dag_longest_path_length(nx.DiGraph(), backend="omega") == 0


def _run(
    name: str, G: nx.DiGraph, change: Callable[[nx.DiGraph, Any], None], backend: str | None
) -> tuple[Any, ...]:
    def iterate() -> list[Any]:
        first = True
        seen = []
        for x in getattr(nx, name)(G, backend=backend):
            seen.append(x)
            if first:
                first = False
                change(G, x)
        return seen

    return outcome(iterate)


@pytest.mark.parametrize("name", ["topological_sort", "topological_generations"])
@pytest.mark.parametrize(
    "change",
    [
        lambda G, x: G.add_edge(5 - x if isinstance(x, int) else 4, 5),
        lambda G, x: G.remove_node(4),
        lambda G, x: G.remove_node(2),
        lambda G, x: G.add_edge(4, 1),
        lambda G, x: G.add_edge(3, 10),
        lambda G, x: None,
    ],
)
def test_graph_changed_while_iterating(name: str, change: Callable[[nx.DiGraph, Any], None]) -> None:
    """As networkx's test_topological_sort6: the rest runs on the changed graph, as networkx's would."""
    want = _run(name, nx.DiGraph([(1, 2), (2, 3), (3, 4)]), change, None)
    got = _run(name, nx.DiGraph([(1, 2), (2, 3), (3, 4)]), change, "omega")
    assert got == want


# ----- a store's CausalGraph ----------------------------------------------------------------------
def _check_causal(g: Any) -> None:
    ref = g.to_networkx()
    for name, kwargs in DAG_CALLS + CYCLE_CALLS:
        if kwargs.get("weight") == "cost":
            continue  # a CausalGraph holds no such numbers: networkx answers (tested elsewhere)
        func = getattr(nx, name)
        assert outcome(func, g, **kwargs) == outcome(func, ref, **kwargs), (name, kwargs)


@pytest.mark.parametrize("name", DAGS)
def test_causal_graph_real_networks(name: str, mem_store: OmegaStore) -> None:
    nodes, edges = read_network(name)
    fill_store(mem_store, nodes, edges)
    g = mem_store.causal_graph()
    assert nx.is_directed_acyclic_graph(g)
    _check_causal(g)


def test_causal_graph_with_cycles(mem_store: OmegaStore) -> None:
    """alarm with back edges, a parallel edge and a self-loop: the keys of find_cycle are edge ids."""
    nodes, edges = read_network("alarm")
    back = [
        (
            f"back-{i}",
            edges[(3 * i + 1) % len(edges)][2],
            edges[(5 * i) % len(edges)][1],
            0.25 + i / 100,
            "causes",
            1,
        )
        for i in range(12)
    ]
    extra = [
        ("parallel", edges[0][1], edges[0][2], 0.125, "enables", 2),
        ("loop", nodes[7], nodes[7], 0.5, "causes", 3),
    ]
    fill_store(mem_store, nodes, edges + back + extra)
    g = mem_store.causal_graph()
    assert not nx.is_directed_acyclic_graph(g)
    _check_causal(g)
    found = nx.find_cycle(g, source=[v for v in nodes if v != nodes[7]])
    assert all(len(e) == 3 and isinstance(e[2], str) for e in found)
    with pytest.raises(nx.NetworkXUnfeasible, match="Graph contains a cycle"):
        nx.dag_longest_path(g)
