"""Path-specific effects (``total_effect(..., through=, avoiding=)``) and ``direct_effect`` against
references written from the definition: every simple path, enumerated by networkx on the
MultiDiGraph (each choice of parallel edges its own path), the products of weights summed."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_reference import DAGS, fill_store, read_network

from omega_graph.errors import NotADAGError, NotFoundError, ValidationError
from omega_graph.graph import CausalGraph
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

REL = 1e-9


# ----- the reference ---------------------------------------------------------------------------------
def ref_effect(
    g: nx.MultiDiGraph, s: str, t: str, through: Iterable[str] = (), avoiding: Iterable[str] = ()
) -> float:
    """Sum over the simple s -> t paths through all of ``through`` and none of ``avoiding``.

    ``all_simple_edge_paths`` on the MultiDiGraph yields each choice of parallel edges as its own path
    (``all_simple_paths`` yields the node sequence once per choice, without telling which).
    """
    need, ban = set(through), set(avoiding)
    total = 0.0
    for path in nx.all_simple_edge_paths(g, s, t):
        nodes = {s} | {v for _, v, _ in path}
        if need <= nodes and not ban & nodes:
            total += math.prod((g.edges[e]["weight"] for e in path), start=1.0)
    return total


def ref_direct(g: nx.MultiDiGraph, s: str, t: str) -> float:
    return sum(d["weight"] for d in (g.get_edge_data(s, t) or {}).values())


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=REL, abs=1e-12)


def check_pair(graph: CausalGraph, g: nx.MultiDiGraph, s: str, t: str, rng: random.Random) -> None:
    """Every single-member constraint, the identity, and a few multi-member ones, for one pair."""
    total = graph.total_effect(s, t)
    assert close(total, ref_effect(g, s, t))
    assert graph.direct_effect(s, t) == pytest.approx(ref_direct(g, s, t), rel=REL)
    others = [m for m in sorted(g) if m not in (s, t)]
    for m in others:
        via, avoid = graph.total_effect(s, t, through=m), graph.total_effect(s, t, avoiding=m)
        assert close(via, ref_effect(g, s, t, through=[m]))
        assert close(avoid, ref_effect(g, s, t, avoiding=[m]))
        assert close(total, via + avoid)  # the decomposition identity
    for _ in range(3):
        if len(others) < 3:
            break
        a, b, c = rng.sample(others, 3)
        assert close(graph.total_effect(s, t, through=[a, b]), ref_effect(g, s, t, through=[a, b]))
        assert close(graph.total_effect(s, t, avoiding={a, b}), ref_effect(g, s, t, avoiding=[a, b]))
        assert close(
            graph.total_effect(s, t, through=(a,), avoiding=[b, c]), ref_effect(g, s, t, [a], [b, c])
        )


def on_some_path_pairs(g: nx.MultiDiGraph, limit: int, rng: random.Random) -> list[tuple[str, str]]:
    """Up to ``limit`` connected pairs (several paths preferred) and a few unconnected ones."""
    nodes = sorted(g)
    connected = [(s, t) for s in nodes for t in sorted(nx.descendants(g, s))]
    rng.shuffle(connected)
    unconnected = [(s, t) for s, t in itertools.permutations(nodes, 2) if not nx.has_path(g, s, t)]
    return connected[:limit] + unconnected[:2]


# ----- the real networks ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def networks() -> Iterator[dict[str, tuple[CausalGraph, nx.MultiDiGraph]]]:
    stores, out = [], {}
    for name in DAGS:
        nodes, edges = read_network(name)
        store = OmegaStore.new_in_memory()
        fill_store(store, nodes, edges)
        stores.append(store)
        g = nx.MultiDiGraph()
        g.add_nodes_from(nodes)
        for eid, u, v, w, _, _ in edges:
            g.add_edge(u, v, key=eid, weight=w)
        out[name] = (store.causal_graph(), g)
    yield out
    for store in stores:
        store.close()


@pytest.mark.parametrize("name", DAGS)
def test_real_dag_path_specific_effects_match_enumeration(
    name: str, networks: dict[str, tuple[CausalGraph, nx.MultiDiGraph]]
) -> None:
    graph, g = networks[name]
    assert nx.is_directed_acyclic_graph(g)
    rng = random.Random(name)
    # the bigger networks have many paths per pair: pairs with few paths between them keep it fast
    pairs = [
        (s, t)
        for s, t in on_some_path_pairs(g, 400, rng)
        if len(g) <= 11 or sum(1 for _ in itertools.islice(nx.all_simple_edge_paths(g, s, t), 60)) < 60
    ][:12]
    assert pairs
    for s, t in pairs:
        check_pair(graph, g, s, t, rng)


def test_real_dag_through_a_chain(networks: dict[str, tuple[CausalGraph, nx.MultiDiGraph]]) -> None:
    """Members along one path (the chain case) and members no path joins (0.0)."""
    graph, g = networks["sachs"]
    path = max(nx.all_simple_paths(g, "PKC", "Akt"), key=len)  # the longest one
    inner = path[1:-1]
    assert len(inner) >= 2
    got = graph.total_effect("PKC", "Akt", through=list(reversed(inner)))  # order of the argument: none
    assert close(got, ref_effect(g, "PKC", "Akt", through=inner)) and got > 0
    siblings = [(u, v) for u, v in itertools.combinations(sorted(g), 2) if not nx.has_path(g, u, v)
                and not nx.has_path(g, v, u)]  # fmt: skip
    u, v = siblings[0]
    for s, t in itertools.permutations(sorted(g), 2):
        if u not in (s, t) and v not in (s, t):
            assert graph.total_effect(s, t, through=[u, v]) == 0.0


# ----- generated DAGs ------------------------------------------------------------------------------
WEIGHTS = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)
)


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], list[tuple]]:
    """Up to 10 memories; edges go forward in a drawn topological order (so ids are not in it);
    repeated pairs are parallel edges."""
    n = draw(st.integers(3, 10))
    order = draw(st.permutations([f"m{i}" for i in range(n)]))
    pairs = st.tuples(st.integers(0, n - 2), st.integers(1, n - 1)).filter(lambda p: p[0] < p[1])
    raw = draw(st.lists(st.tuples(pairs, WEIGHTS), max_size=22))
    edges = [(f"e{k:02d}", order[i], order[j], w, "causes", k) for k, ((i, j), w) in enumerate(raw)]
    return sorted(order), edges


def build(nodes: list[str], edges: list[tuple]) -> tuple[OmegaStore, nx.MultiDiGraph]:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in nodes)
    store.store_causal_edges(StoredCausalEdge(*e) for e in edges)
    g = nx.MultiDiGraph()
    g.add_nodes_from(nodes)
    for eid, u, v, w, _, _ in edges:
        g.add_edge(u, v, key=eid, weight=w)
    return store, g


@settings(max_examples=40)
@given(dags(), st.randoms(use_true_random=False))
def test_generated_dag_path_specific_effects_match_enumeration(data: tuple, rng: random.Random) -> None:
    store, g = build(*data)
    with store:
        graph = store.causal_graph()
        for s, t in on_some_path_pairs(g, 5, rng):
            check_pair(graph, g, s, t, rng)


# ----- cycles ----------------------------------------------------------------------------------------
@pytest.fixture
def cyclic() -> Iterator[CausalGraph]:
    """a -> b -> c -> d, a -> c, c -> w -> d; a cycle b <-> x between a and c (upstream of c) and a
    cycle y <-> z after d (d -> y)."""
    edges = [("a", "b", 0.5), ("b", "c", 0.5), ("c", "d", 0.5), ("a", "c", 0.25), ("c", "w", 0.5),
             ("w", "d", 0.5), ("b", "x", 0.5), ("x", "b", 0.5), ("y", "z", 0.5), ("z", "y", 0.5),
             ("d", "y", 0.5)]  # fmt: skip
    with OmegaStore.new_in_memory() as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcdwxyz")
        store.store_causal_edges(StoredCausalEdge(f"{u}{v}", u, v, w, "causes", 0) for u, v, w in edges)
        yield store.causal_graph()


@pytest.mark.parametrize(
    "kw", [{}, {"through": "c"}, {"avoiding": "b"}, {"avoiding": "x"}, {"through": "x"}, {"through": "w"}]
)
def test_a_cycle_between_the_ends_is_named(cyclic: CausalGraph, kw: dict) -> None:
    """Whatever through / avoiding say (even when every counted path misses the cycle)."""
    with pytest.raises(NotADAGError, match="total_effect needs an acyclic") as info:
        cyclic.total_effect("a", "d", **kw)
    assert sorted(info.value.cycle) == ["b", "x"]
    with pytest.raises(NotADAGError, match="the cycle y -> z -> y"):
        cyclic.total_effect("d", "z", **{k: "y" for k in kw})


def test_a_cycle_elsewhere_does_not_matter(cyclic: CausalGraph) -> None:
    """c -> d has a cycle upstream (b <-> x) and one downstream (y <-> z), none between."""
    assert cyclic.total_effect("c", "d") == 0.75
    assert cyclic.total_effect("c", "d", through="w") == 0.25
    assert cyclic.total_effect("c", "d", avoiding="w") == 0.5
    assert cyclic.total_effect("c", "d", through="b") == 0.0  # upstream: on no c -> d path
    assert cyclic.total_effect("c", "d", avoiding=["y", "z"]) == 0.75
    assert cyclic.direct_effect("y", "z") == 0.5  # no path followed: cycles never matter


# ----- direct effects ----------------------------------------------------------------------------------
def test_direct_effect_adds_parallel_edges_and_ignores_paths() -> None:
    store, g = build(["a", "b", "c"], [("e1", "a", "b", 0.5, "causes", 0), ("e2", "a", "b", 0.25, "x", 0),
                                       ("e3", "b", "c", 1.0, "causes", 0)])  # fmt: skip
    with store:
        graph = store.causal_graph()
        assert graph.direct_effect("a", "b") == 0.75
        assert graph.direct_effect("b", "a") == 0.0
        assert graph.direct_effect("a", "c") == 0.0 and graph.total_effect("a", "c") == 0.75
        assert graph.total_effect("a", "c", avoiding="b") == 0.0


def test_bad_weights_raise_as_total_effect_does(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "bad.db"
    with OmegaStore(path) as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.5, "causes", 0),
                                  StoredCausalEdge("bc", "b", "c", 0.5, "causes", 0)])  # fmt: skip
    with sqlite3.connect(path) as con:
        con.execute("UPDATE causal_edges SET weight = 2.5 WHERE id = 'bc'")
    with OmegaStore(path) as store, pytest.warns(Warning):
        graph = store.causal_graph()
    calls: list[Callable[[], object]] = [
        lambda: graph.total_effect("a", "c"),
        lambda: graph.total_effect("a", "c", through="b"),
        lambda: graph.total_effect("a", "c", avoiding="b"),
        lambda: graph.direct_effect("a", "b"),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match=r"causal edge\.weight = 2\.5 .*'bc'"):
            call()


# ----- bad input -------------------------------------------------------------------------------------
BAD: list[tuple[Callable[[CausalGraph], object], type[Exception], str]] = [
    (lambda g: g.total_effect(1, "d"), ValidationError, r"total_effect\.source = 1 is invalid"),
    (lambda g: g.total_effect("a", b"d"), ValidationError, r"total_effect\.target = b'd' is invalid"),
    (lambda g: g.total_effect("a", "a"), ValidationError, r"total_effect\.target = 'a' is invalid"),
    (lambda g: g.total_effect("nope", "d"), NotFoundError, r"memory 'nope' not found; total_effect's source"),
    (lambda g: g.total_effect("a", "nope"), NotFoundError, r"memory 'nope' not found; total_effect's target"),
    (lambda g: g.total_effect("a", "d", through="nope"), NotFoundError, r"'nope' not found; total_effect's through"),
    (lambda g: g.total_effect("a", "d", avoiding=["b", "nope"]), NotFoundError, r"'nope' not found; .*avoiding"),
    (lambda g: g.total_effect("a", "d", through=3), ValidationError, r"total_effect\.through = 3 is invalid"),
    (lambda g: g.total_effect("a", "d", through=["b", 3]), ValidationError, r"total_effect\.through = 3 is invalid"),
    (lambda g: g.total_effect("a", "d", avoiding=b"b"), ValidationError, r"total_effect\.avoiding = b'b' is invalid"),
    (lambda g: g.total_effect("a", "d", avoiding={"b": 1}), ValidationError, r"total_effect\.avoiding = \{'b': 1\}"),
    (lambda g: g.total_effect("a", "d", through=[]), ValidationError, r"total_effect\.through = \[\] is invalid: expected one"),
    (lambda g: g.total_effect("a", "d", avoiding=set()), ValidationError, r"total_effect\.avoiding = set\(\) is invalid"),
    (lambda g: g.total_effect("a", "d", through="a"), ValidationError, r"total_effect\.through = 'a' .*the source"),
    (lambda g: g.total_effect("a", "d", through=["b", "d"]), ValidationError, r"total_effect\.through = 'd' .*the target"),
    (lambda g: g.total_effect("a", "d", avoiding="d"), ValidationError, r"total_effect\.avoiding = 'd' .*the target"),
    (lambda g: g.total_effect("a", "d", avoiding=("a",)), ValidationError, r"total_effect\.avoiding = 'a' .*the source"),
    (lambda g: g.total_effect("a", "d", through="b", avoiding=["c", "b"]), ValidationError, r"avoiding = 'b' .*also named in through"),
    (lambda g: g.direct_effect(None, "b"), ValidationError, r"direct_effect\.source = None is invalid"),
    (lambda g: g.direct_effect("a", "nope"), NotFoundError, r"memory 'nope' not found; direct_effect's target"),
    (lambda g: g.direct_effect("b", "b"), ValidationError, r"direct_effect\.target = 'b' is invalid"),
]  # fmt: skip


@pytest.fixture
def small() -> Iterator[CausalGraph]:
    with OmegaStore.new_in_memory() as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        store.store_causal_edges(
            StoredCausalEdge(f"{u}{v}", u, v, 0.5, "causes", 0) for u, v in ["ab", "bc", "cd"]
        )
        yield store.causal_graph()


@pytest.mark.parametrize(("call", "error", "match"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input_is_named(small: CausalGraph, call, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(small)


def test_duplicate_members_are_one_member(small: CausalGraph) -> None:
    assert small.total_effect("a", "d", through=["b", "b", "c"]) == 0.125
    assert small.total_effect("a", "d", through=iter(["c"])) == 0.125  # any iterable
    assert small.total_effect("a", "d", avoiding=frozenset({"b"})) == 0.0
