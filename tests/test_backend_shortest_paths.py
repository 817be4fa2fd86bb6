"""The ``omega`` backend's shortest paths against networkx itself: the same values, dict order, ties,
types and exceptions, in networkx's Python search (small searches) and in C (``PY_BUDGET = 0``), on
random (multi)graphs with parallel edges, self-loops, zero, int, float and missing weights and int /
tuple / str labels, on tie-heavy graphs, and on a store's ``CausalGraph`` for the real networks."""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_graph.backend._dispatch as dispatch
import omega_graph.backend._searches as searches
import omega_graph.backend.shortest_paths as sp
from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.backend import convert_from_nx
from tests.test_graph_reference import DAGS, fill_store, read_network

pytestmark = pytest.mark.filterwarnings("ignore:Note. conversions to backend graphs:UserWarning")

NAMES = sorted(name for name in sp.__all__)
MISSING = ("missing",)


def canon(x: Any, numbers: bool = True) -> Any:
    """A value with its order and types made comparable (dicts by items, NaN as a word); with
    ``numbers`` False, ints and floats compare by value only."""
    if isinstance(x, dict):
        return "dict", [(type(k), k, canon(v, numbers)) for k, v in x.items()]
    if isinstance(x, list | tuple):
        return type(x).__name__, [canon(v, numbers) for v in x]
    if isinstance(x, Iterator):
        return "iterator", [canon(v, numbers) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return float, "nan"
    if not numbers and type(x) in (int, float):
        return "number", x
    return type(x), x


def outcome(func: Callable[..., Any], *args: Any, numbers: bool = True, **kwargs: Any) -> tuple[Any, ...]:
    """What a call gives, generators consumed: ``("ok", value)`` or ``("raise", type, message)``."""
    try:
        return "ok", canon(func(*args, **kwargs), numbers)
    except Exception as err:  # comparing networkx's exceptions with ours
        return "raise", type(err), str(err)


def mixed(G: nx.DiGraph) -> bool:
    """Some weights (missing ones are the int 1) ints and others floats: networkx may give an int where
    the engine's distance (float64) is the equal float."""
    kinds = {type(d.get("weight", 1)) for *_, d in G.edges(data=True)}
    return {int, float} <= kinds


def same(name: str, G: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """networkx's ``name`` on ``G`` natively and with ``backend="omega"`` give the same outcome."""
    func = getattr(nx, name)
    numbers = not mixed(G)
    want = outcome(func, G, *args, numbers=numbers, **kwargs)
    got = outcome(func, G, *args, backend="omega", numbers=numbers, **kwargs)
    assert got == want, (name, args, kwargs)
    return got


@contextmanager
def budget(value: int) -> Iterator[None]:
    """Searches in Python up to ``value`` (0: every search in C)."""
    before = searches.PY_BUDGET
    searches.PY_BUDGET = value
    try:
        yield
    finally:
        searches.PY_BUDGET = before


BUDGETS = (searches.PY_BUDGET, 3, 0)  # Python, a switch to C mid-search, C


def calls(s: Any, t: Any, cutoff: Any) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Every native function in every mode, for a source, a target and a cutoff."""
    out: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for name in ("shortest_path", "shortest_path_length"):
        for weight in (None, "weight"):
            out += [
                (name, (), {"source": s, "weight": weight}),
                (name, (), {"target": t, "weight": weight}),
                (name, (), {"source": s, "target": t, "weight": weight}),
                (name, (), {"weight": weight}),
            ]
    return out + [
        ("single_source_shortest_path", (s,), {"cutoff": cutoff}),
        ("single_source_shortest_path_length", (s,), {"cutoff": cutoff}),
        ("bidirectional_shortest_path", (s, t), {}),
        ("single_source_dijkstra", (s,), {"cutoff": cutoff}),
        ("single_source_dijkstra", (s, t), {"cutoff": cutoff}),
        ("single_source_dijkstra", (s,), {"weight": None, "cutoff": cutoff}),
        ("single_source_dijkstra_path", (s,), {"cutoff": cutoff}),
        ("single_source_dijkstra_path_length", (s,), {"cutoff": cutoff}),
        ("bidirectional_dijkstra", (s, t), {}),
        ("bidirectional_dijkstra", (s, t), {"weight": None}),
        ("dijkstra_path", (s, t), {}),
        ("dijkstra_path_length", (s, t), {}),
    ]


def labelled(kind: str, i: int) -> Hashable:
    return {"int": i, "tuple": (i, "t"), "str": f"n{i}", "mixed": i if i % 2 else f"n{i}"}[kind]


@st.composite
def graphs(draw: st.DrawFn) -> nx.DiGraph:
    """A DiGraph or MultiDiGraph with self-loops and ties; weights all ints, or mixed with floats and
    missing ones, rarely negative; nodes in a random order."""
    n = draw(st.integers(1, 9))
    kind = draw(st.sampled_from(["int", "tuple", "str", "mixed"]))
    G: nx.DiGraph = nx.MultiDiGraph() if draw(st.booleans()) else nx.DiGraph()
    G.add_nodes_from(labelled(kind, i) for i in draw(st.permutations(range(n))))
    ints = st.integers(0, 3)
    weights = ints if draw(st.booleans()) else st.one_of(st.none(), ints, st.sampled_from([0.0, 0.5, 1.5]))
    if draw(st.integers(0, 9)) == 0:
        weights = st.one_of(weights, st.integers(-2, -1))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    for u, v in draw(st.lists(pair, max_size=3 * n)):
        w = draw(weights)
        G.add_edge(labelled(kind, u), labelled(kind, v), **({} if w is None else {"weight": w}))
    return G


@settings(max_examples=40)
@given(data=st.data())
def test_every_mode_matches_networkx(data: st.DataObject) -> None:
    G = data.draw(graphs())
    nodes = [*G, MISSING]
    s, t = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
    cutoff = data.draw(st.sampled_from([None, 0, 1, 1.5, 2, -1, math.inf]))
    for value in BUDGETS:
        with budget(value):
            for name, args, kwargs in calls(s, t, cutoff):
                same(name, G, *args, **kwargs)


# ----- ties: equal distances, zero weights, many rounds --------------------------------------------------
def tie_graph(seed: int, kind: str, n: int = 150) -> nx.DiGraph:
    rng = random.Random(seed)
    G: nx.DiGraph = nx.MultiDiGraph() if seed % 2 else nx.DiGraph()
    nodes = list(range(n))
    rng.shuffle(nodes)
    G.add_nodes_from(nodes)
    draw: dict[str, Callable[[], Any]] = {
        "unit": lambda: 1,
        "01": lambda: rng.randint(0, 1),
        "012": lambda: rng.randint(0, 2),
        "zeros": lambda: rng.choice([0, 0, 0, 1]),
        "tenths": lambda: rng.choice([0.0, 0.1, 0.2, 0.3, 0.7]),
        "float": lambda: rng.random(),
        "sixdigits": lambda: 0.0 if rng.random() < 0.1 else round(rng.random(), 6),
    }
    for _ in range(4 * n):
        G.add_edge(rng.randrange(n), rng.randrange(n), weight=draw[kind]())
    return G


def python_searches(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The budgets of the Dijkstra searches in Python from now on (``inf``: the whole search)."""
    budgets: list[float] = []
    real = searches._py_dijkstra

    def spy(*args: Any) -> Any:
        budgets.append(args[-1])
        return real(*args)

    monkeypatch.setattr(searches, "_py_dijkstra", spy)
    return budgets


@pytest.fixture
def no_python_search(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails a test in which a search falls back to networkx's Python search for all of it."""
    budgets = python_searches(monkeypatch)
    yield
    assert math.inf not in budgets


@pytest.mark.parametrize("kind", ["unit", "01", "012", "zeros", "tenths", "float", "sixdigits"])
@pytest.mark.parametrize("seed", [1, 2])
def test_ties_in_c_match_networkx(kind: str, seed: int, no_python_search: None) -> None:
    G = tie_graph(seed, kind)
    rng = random.Random(seed)
    with budget(0):
        for s in rng.sample(list(G), 3):
            t = rng.choice(list(G))
            same("single_source_dijkstra", G, s)
            same("single_source_dijkstra_path_length", G, s, cutoff=1)
            same("shortest_path", G, target=t, weight="weight")
            same("shortest_path_length", G, s)
            same("single_source_shortest_path", G, s)
            same("dijkstra_path", G, s, t)


@pytest.mark.parametrize("weights", ["unit", "01", "zero"])
def test_grid_with_long_tie_chains(weights: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid (tuple nodes, shuffled): each distance a large group of ties, the groups a long chain;
    then the same with the tie rebuild refused (networkx's search in Python instead)."""
    rng = random.Random(3)
    grid = nx.grid_2d_graph(18, 18).to_directed()
    G = nx.DiGraph()
    G.add_nodes_from(rng.sample(list(grid), len(grid)))
    for u, v in rng.sample(list(grid.edges), grid.number_of_edges()):
        G.add_edge(u, v, weight={"unit": 1, "01": rng.randint(0, 1), "zero": 0}[weights])
    budgets = python_searches(monkeypatch)
    with budget(0):
        same("single_source_dijkstra", G, (0, 0))
        same("single_source_dijkstra", G, (9, 9))
        assert math.inf not in budgets  # solved in C
        monkeypatch.setattr(searches, "MAX_ROUNDS", 0)
        same("single_source_dijkstra", G, (9, 9))
        assert math.inf in budgets


def test_float_distances_are_networkx_sums_bit_for_bit() -> None:
    rng = random.Random(5)
    G = nx.DiGraph()
    for _ in range(6000):
        G.add_edge(rng.randrange(1500), rng.randrange(1500), weight=rng.random() * 10 ** rng.randint(-3, 3))
    with budget(0):
        for s in rng.sample(list(G), 3):
            want = nx.single_source_dijkstra_path_length(G, s)
            got = nx.single_source_dijkstra_path_length(G, s, backend="omega")
            assert list(got.items()) == list(want.items())  # floats compared exactly


@pytest.mark.parametrize(
    ("weights", "last"),
    [((2**60 + 1, 40 * 2**60), (int, 40 * 2**60 + 40)), ((1e307, 1.0), (float, math.inf))],
)
def test_sums_scipy_would_round_run_in_python(weights: tuple[Any, Any], last: Any) -> None:
    """Int sums past 2**53 (inexact in float64) and float sums that overflow (scipy's inf means
    unreached, networkx's is a distance) run in Python: networkx's exact values."""
    G = nx.DiGraph()
    nx.add_path(G, range(40), weight=weights[0])
    G.add_edge(0, 39, weight=weights[1])
    G.add_edge(39, "end", weight=weights[0])
    with budget(0):
        got = same("single_source_dijkstra_path_length", G, 0)
        same("dijkstra_path", G, 0, "end")
    assert got[1][1][-1][2] == last


@pytest.mark.parametrize("cutoff", [0, 1, 1.5, 2, 2.0, -1, -0.5, math.inf, math.nan, True])
def test_cutoffs(cutoff: Any) -> None:
    G = nx.DiGraph()
    G.add_weighted_edges_from([(0, 1, 1), (1, 2, 1), (2, 3, 0), (0, 4, 2), (4, 5, 0.5), (3, 6, 1)])
    for value in BUDGETS:
        with budget(value):
            same("single_source_shortest_path", G, 0, cutoff=cutoff)
            same("single_source_shortest_path_length", G, 0, cutoff=cutoff)
            same("single_source_dijkstra", G, 0, cutoff=cutoff)
            same("single_source_dijkstra", G, 0, 6, cutoff=cutoff)
            same("single_source_dijkstra_path_length", G, 0, cutoff=cutoff)


# ----- a store's CausalGraph ---------------------------------------------------------------------------
def causal_calls(g: Any, rng: random.Random) -> None:
    """``nx.f(g)`` (native) against ``nx.f(g.to_networkx())`` (networkx) for every mode."""
    h = g.to_networkx()
    nodes = [*h, "missing"]
    for s in rng.sample(nodes, min(3, len(nodes))):
        t = rng.choice(nodes)
        for name, args, kwargs in calls(s, t, rng.choice([None, 1, 0.5])):
            func = getattr(nx, name)
            assert outcome(func, g, *args, **kwargs) == outcome(func, h, *args, **kwargs), (
                name,
                args,
                kwargs,
            )


@pytest.mark.parametrize("name", DAGS)
def test_causal_graph_on_real_networks(name: str, mem_store: OmegaStore) -> None:
    fill_store(mem_store, *read_network(name))
    g = mem_store.causal_graph()
    for value in BUDGETS:
        with budget(value):
            causal_calls(g, random.Random(name))


def test_causal_graph_with_ties_and_parallel_edges(mem_store: OmegaStore) -> None:
    rng = random.Random(11)
    ids = [f"m{i:02d}" for i in range(30)]
    mem_store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in ids)
    mem_store.store_causal_edges(
        StoredCausalEdge(f"e{k}", rng.choice(ids), rng.choice(ids), rng.choice([0.0, 0.5, 1.0]), "causes", k)
        for k in range(120)
    )
    g = mem_store.causal_graph()
    for value in BUDGETS:
        with budget(value):
            causal_calls(g, random.Random(value))
    # a weight the snapshot does not hold runs in networkx, on the frozen conversion
    assert nx.shortest_path(g, "m00", weight="cost") == nx.shortest_path(
        g.to_networkx(), "m00", weight="cost"
    )


# ----- bad input, delegation, laziness -------------------------------------------------------------------
G1 = nx.DiGraph([(1, 2), (2, 3)])


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "match"),
    [
        ("shortest_path", (9,), {}, nx.NodeNotFound, "^Source 9 not in G$"),
        ("shortest_path", (), {"target": 9}, nx.NodeNotFound, "^Source 9 not in G$"),
        ("shortest_path", (9, 1), {}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("shortest_path", (1, 9), {}, nx.NodeNotFound, "^Target 9 is not in G$"),
        ("shortest_path", (9,), {"weight": "weight"}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("shortest_path", (), {"target": 9, "weight": "w"}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("shortest_path", (3, 1), {}, nx.NetworkXNoPath, r"^No path between 3 and 1\.$"),
        ("shortest_path", (3, 1), {"weight": "weight"}, nx.NetworkXNoPath, r"^No path between 3 and 1\.$"),
        ("shortest_path", (1,), {"method": "a*"}, ValueError, r"^method not supported: a\*$"),
        ("shortest_path_length", (9,), {}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("shortest_path_length", (), {"target": 9}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("shortest_path_length", (9,), {"weight": "w"}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("shortest_path_length", (3, 1), {}, nx.NetworkXNoPath, r"^No path between 3 and 1\.$"),
        ("shortest_path_length", (3, 1), {"weight": "w"}, nx.NetworkXNoPath, "^Node 1 not reachable from 3$"),
        ("shortest_path_length", (1, 9), {"weight": "w"}, nx.NetworkXNoPath, "^Node 9 not reachable from 1$"),
        ("shortest_path_length", (), {"method": "x"}, ValueError, "^method not supported: x$"),
        ("single_source_shortest_path", (9,), {}, nx.NodeNotFound, "^Source 9 not in G$"),
        ("single_source_shortest_path_length", (9,), {}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("bidirectional_shortest_path", (9, 1), {}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("bidirectional_shortest_path", (1, 9), {}, nx.NodeNotFound, "^Target 9 is not in G$"),
        ("bidirectional_shortest_path", (2, 1), {}, nx.NetworkXNoPath, r"^No path between 2 and 1\.$"),
        ("single_source_dijkstra", (9,), {}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("single_source_dijkstra", (3, 1), {}, nx.NetworkXNoPath, r"^No path to 1\.$"),
        ("single_source_dijkstra", (1, 9), {}, nx.NetworkXNoPath, r"^No path to 9\.$"),
        ("single_source_dijkstra", (1, 3), {"cutoff": 1}, nx.NetworkXNoPath, r"^No path to 3\.$"),
        ("single_source_dijkstra", ([1],), {}, TypeError, "unhashable"),
        ("single_source_dijkstra_path", (9,), {}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("single_source_dijkstra_path_length", (9,), {}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("bidirectional_dijkstra", (9, 1), {}, nx.NodeNotFound, "^Source 9 is not in G$"),
        ("bidirectional_dijkstra", (1, 9), {}, nx.NodeNotFound, "^Target 9 is not in G$"),
        ("bidirectional_dijkstra", (2, 1), {}, nx.NetworkXNoPath, r"^No path between 2 and 1\.$"),
        ("dijkstra_path", (9, 1), {}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("dijkstra_path", (2, 1), {}, nx.NetworkXNoPath, r"^No path to 1\.$"),
        ("dijkstra_path_length", (9, 1), {}, nx.NodeNotFound, "^Node 9 not found in graph$"),
        ("dijkstra_path_length", (2, 1), {}, nx.NetworkXNoPath, "^Node 1 not reachable from 2$"),
        ("dijkstra_path_length", (2, 9), {}, nx.NetworkXNoPath, "^Node 9 not reachable from 2$"),
    ],
)
def test_errors_are_networkx_errors(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    G = convert_from_nx(G1, edge_attrs={"weight": 1, "w": 1})
    for value in BUDGETS:
        with budget(value):
            with pytest.raises(error, match=match):
                getattr(nx, name)(G, *args, **kwargs)
            with pytest.raises(error, match=match):
                getattr(nx, name)(G1, *args, **kwargs)


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "handed"),
    [
        ("shortest_path", (0,), {"weight": lambda u, v, d: 2}, True),
        ("shortest_path", (0, 3), {"weight": "weight", "method": "bellman-ford"}, True),
        ("shortest_path_length", (), {"target": 3, "weight": "weight", "method": "bellman-ford"}, True),
        ("shortest_path_length", (0,), {"weight": None, "method": "bellman-ford"}, False),  # unweighted
        ("single_source_dijkstra", (0,), {"weight": lambda u, v, d: None if u == 1 else 1}, True),
        ("dijkstra_path_length", (0, 3), {"weight": lambda u, v, d: 3}, True),
        ("bidirectional_dijkstra", (0, 3), {"weight": lambda u, v, d: 1}, True),
        ("single_source_dijkstra", (0,), {"weight": "weight"}, False),
    ],
)
def test_networkx_runs_what_the_engine_does_not(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], handed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a backend graph, networkx itself answers those calls (on the original graph)."""
    G = nx.MultiDiGraph([(0, 1), (1, 2), (0, 2), (2, 3), (1, 3)])
    handed_to: list[str] = []
    real_delegate = dispatch.delegate

    def spy(fname: str, *rest: Any) -> Any:
        handed_to.append(fname)
        return real_delegate(fname, *rest)

    monkeypatch.setattr(dispatch, "delegate", spy)
    func = getattr(nx, name)
    ours = convert_from_nx(G, edge_attrs={"weight": 1})
    assert outcome(func, ours, *args, **kwargs) == outcome(func, G, *args, **kwargs)
    assert handed_to == ([name] if handed else [])
    # a networkx graph with backend="omega": the engine declines before converting it
    if handed:
        with pytest.raises(NotImplementedError, match="not implemented by 'omega' backend for the given"):
            func(G, *args, backend="omega", **kwargs)


@pytest.mark.parametrize("weight", [-1, math.nan, math.inf, "heavy"])
def test_unusable_weights_run_in_networkx(weight: Any) -> None:
    G = nx.DiGraph()
    G.add_weighted_edges_from([(0, 1, 1), (1, 2, weight), (0, 2, 5), (2, 3, 1)])
    for name, args, kwargs in calls(0, 3, None):
        same(name, G, *args, **kwargs)
    all_pairs = nx.shortest_path_length(convert_from_nx(G, edge_attrs={"weight": 1}), weight="weight")
    assert inspect.isgenerator(all_pairs)  # handed to networkx before any generator was made


def test_all_pairs_is_a_lazy_generator() -> None:
    G = convert_from_nx(nx.DiGraph([(0, 1), (1, 2)]), edge_attrs={"weight": 1})
    for name in ("shortest_path", "shortest_path_length"):
        for weight in (None, "weight"):
            found: Any = getattr(nx, name)(G, weight=weight)
            assert inspect.isgenerator(found)
            first: Any = next(found)
            assert first[0] == 0
    assert dict(nx.shortest_path_length(G)) == {0: {0: 0, 1: 1, 2: 2}, 1: {1: 0, 2: 1}, 2: {2: 0}}


@pytest.mark.parametrize("name", NAMES)
def test_signatures_are_networkx_signatures(name: str) -> None:
    theirs = inspect.signature(getattr(nx, name))
    params = [p for p in theirs.parameters.values() if p.name not in ("backend", "backend_kwargs")]
    ours = inspect.signature(getattr(sp, name))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == [
        (p.name, p.default, p.kind) for p in params
    ]


def test_worked_example() -> None:
    """Ties as networkx breaks them: equal distances in the order they were pushed (y by s, before c by
    b; x, behind a zero-weight edge, right after a), the parent the first settled (b, before a)."""
    G = nx.DiGraph()
    G.add_weighted_edges_from([("s", "b", 1), ("s", "a", 1), ("a", "c", 1), ("b", "c", 1), ("c", "z", 0)])
    G.add_weighted_edges_from([("s", "y", 2), ("a", "x", 0)])
    with budget(0):
        got = nx.single_source_dijkstra(G, "s", backend="omega")
    assert list(got[0].items()) == [("s", 0), ("b", 1), ("a", 1), ("x", 1), ("y", 2), ("c", 2), ("z", 2)]
    assert got[1]["z"] == ["s", "b", "c", "z"]
    # the bidirectional search meets at c's first predecessor, a
    assert nx.shortest_path(G, "s", "c", backend="omega") == nx.shortest_path(G, "s", "c") == ["s", "a", "c"]
