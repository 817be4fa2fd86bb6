"""Causal identification (Markov blankets, back-door sets, instruments, minimal d-separators).

References are written from the definitions with networkx only (on a copy of ``to_networkx()``),
independently of omega_graph.graph.identification: the real DAGs of test_graph_reference and
hypothesis-generated DAGs of up to 10 memories.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_reference import DAGS, fill_store, read_network

from omega_graph.errors import NotADAGError, NotFoundError, ValidationError
from omega_graph.graph import CausalGraph
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore


# ----- references ------------------------------------------------------------------------------------
def digraph(g: CausalGraph) -> nx.DiGraph:
    return nx.DiGraph(g.to_networkx())


def back_door_graph(d: nx.DiGraph, x: str) -> nx.DiGraph:
    h = d.copy()
    h.remove_edges_from(list(d.out_edges(x)))
    return h


def ref_valid(d: nx.DiGraph, x: str, y: str, z: set[str]) -> bool:
    if z & nx.descendants(d, x):
        return False
    return nx.is_d_separator(back_door_graph(d, x), {x}, {y}, z)


def ref_instruments(d: nx.DiGraph, x: str, y: str) -> list[str]:
    h = back_door_graph(d, x)
    desc = nx.descendants(d, x)
    return sorted(
        z
        for z in d
        if z not in (x, y)
        and z not in desc
        and not nx.is_d_separator(d, {z}, {x}, set())
        and nx.is_d_separator(h, {z}, {y}, set())
    )


def ref_blanket(d: nx.DiGraph, v: str) -> frozenset[str]:
    children = set(d.successors(v))
    out = set(d.predecessors(v)) | children
    for c in children:
        out |= set(d.predecessors(c))
    return frozenset(out - {v})


def graph_of(nodes: list[str], edges: list[tuple[str, str]]) -> CausalGraph:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in nodes)
    store.store_causal_edges(
        StoredCausalEdge(f"e{k}", u, v, 0.5, "causes", 0) for k, (u, v) in enumerate(edges)
    )
    return store.causal_graph()


def check_all(g: CausalGraph, rng: random.Random, pairs: int) -> None:
    d = digraph(g)
    nodes = sorted(d)
    for v in nodes:
        assert g.markov_blanket(v) == ref_blanket(d, v), v
    for _ in range(pairs):
        x, y = rng.sample(nodes, 2)
        assert g.instruments(x, y) == ref_instruments(d, x, y), (x, y)
        others = [m for m in nodes if m not in (x, y)]
        for z in ([], rng.sample(others, min(len(others), rng.randint(1, 4))), sorted(d.pred[x])):
            zs = set(z) - {y}
            assert g.is_valid_adjustment_set(x, y, zs) == ref_valid(d, x, y, zs), (x, y, zs)
        k = rng.randint(1, min(2, len(nodes) - 1))
        picked = rng.sample(nodes, min(len(nodes), k + 2 + rng.randint(0, 2)))
        xs, ys, inc = set(picked[:k]), {picked[k]}, set(picked[k + 1 : k + 2])
        rest = None if rng.random() < 0.5 else inc | set(rng.sample(nodes, len(nodes) // 2)) - xs - ys
        for included in (set(), inc):
            if rest is not None and not included <= rest:
                continue
            want = nx.find_minimal_d_separator(d, xs, ys, included=included, restricted=rest)
            got = g.minimal_d_separator(xs, ys, included=included, restricted=rest)
            assert got == (None if want is None else frozenset(want)), (xs, ys, included, rest)


# ----- real networks ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=DAGS)
def real(request: pytest.FixtureRequest) -> Iterator[CausalGraph]:
    store = OmegaStore.new_in_memory()
    fill_store(store, *read_network(request.param))
    g = store.causal_graph()
    yield g
    store.close()


def test_real_networks(real: CausalGraph) -> None:
    assert real.is_dag()
    check_all(real, random.Random(12), pairs=12)


# ----- hypothesis DAGs -------------------------------------------------------------------------------
@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    n = draw(st.integers(2, 10))
    names = draw(st.permutations([f"m{i}" for i in range(n)]))  # topological order != id order
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=3 * n, unique=True))
    return names, [(names[i], names[j]) for i, j in chosen]


@settings(max_examples=60)
@given(dag=dags(), seed=st.integers(0, 2**16))
def test_random_dags(dag: tuple[list[str], list[tuple[str, str]]], seed: int) -> None:
    check_all(graph_of(*dag), random.Random(seed), pairs=4)


# ----- worked examples and cycles -----------------------------------------------------------------------
def test_back_door_and_instruments_example() -> None:
    # u confounds x and y, z -> x is an instrument, c confounds x and y and is observed
    g = graph_of(list("xyzuc"), [("z", "x"), ("x", "y"), ("u", "x"), ("u", "y"), ("c", "x"), ("c", "y")])
    assert not g.is_valid_adjustment_set("x", "y", ["c"])
    assert g.is_valid_adjustment_set("x", "y", ["c", "u"])
    assert g.instruments("x", "y") == ["z"]
    # z -> x -> y needs x; conditioning on x opens z -> x <- u -> y and z -> x <- c -> y
    assert g.minimal_d_separator("z", "y") == {"x", "u", "c"}
    assert g.minimal_d_separator("z", "u") == frozenset()
    assert g.minimal_d_separator("x", "y") is None


def test_a_cycle_elsewhere_does_not_matter() -> None:
    g = graph_of(list("abcpq"), [("a", "b"), ("b", "c"), ("p", "q"), ("q", "p")])
    assert not g.is_dag()
    assert g.markov_blanket("b") == {"a", "c"}
    assert g.is_valid_adjustment_set("a", "c", [])
    assert g.instruments("b", "c") == ["a"]
    assert g.minimal_d_separator("a", "c") == {"b"}


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.markov_blanket("b"),
        lambda g: g.is_valid_adjustment_set("a", "c", []),
        lambda g: g.instruments("a", "c"),
        lambda g: g.minimal_d_separator("a", "c"),
    ],
)
def test_a_cycle_among_the_ancestors_is_named(call) -> None:
    g = graph_of(list("abcpq"), [("a", "b"), ("b", "c"), ("p", "a"), ("a", "p"), ("c", "q"), ("q", "b")])
    with pytest.raises(NotADAGError, match=r"cycle (a -> p -> a|b -> c -> q -> b)"):
        call(g)


# ----- bad input -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> CausalGraph:
    return graph_of(list("abcd"), [("a", "b"), ("b", "c"), ("d", "c")])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda g: g.markov_blanket("nope"), NotFoundError, r"'nope' not found.*markov_blanket\(memory_id="),
        (lambda g: g.markov_blanket(3), ValidationError, r"markov_blanket\.memory_id = 3 "),
        (lambda g: g.is_valid_adjustment_set("a", "a", []), ValidationError, r"\.y = 'a' .*other than x"),
        (lambda g: g.is_valid_adjustment_set("a", "c", ["a"]), ValidationError, r"\.z = \['a'\].*'a'"),
        (lambda g: g.is_valid_adjustment_set("a", "c", ["c", "b"]), ValidationError, r"\.z = .*'c'"),
        (lambda g: g.is_valid_adjustment_set("a", "c", ["zz"]), NotFoundError, r"'zz'.*\(z="),
        (lambda g: g.is_valid_adjustment_set("a", "c", [1.5]), ValidationError, r"\.z = 1\.5 "),
        (lambda g: g.is_valid_adjustment_set("a", "c", 7), ValidationError, r"\.z = 7 .*collection"),
        (lambda g: g.is_valid_adjustment_set(None, "c", []), ValidationError, r"\.x = None "),
        (lambda g: g.is_valid_adjustment_set("a", "zz", []), NotFoundError, r"'zz'.*\(y="),
        (lambda g: g.instruments("a", "a"), ValidationError, r"instruments\.y = 'a'"),
        (lambda g: g.instruments("a", b"c"), ValidationError, r"instruments\.y = b'c'"),
        (lambda g: g.instruments("zz", "c"), NotFoundError, r"'zz'.*instruments\(x="),
        (lambda g: g.minimal_d_separator([], "c"), ValidationError, r"\.xs = \[\] .*at least one"),
        (lambda g: g.minimal_d_separator("a", set()), ValidationError, r"\.ys = set\(\) .*at least one"),
        (lambda g: g.minimal_d_separator("a", "a"), ValidationError, r"\.ys = 'a' .*overlap \['a'\]"),
        (lambda g: g.minimal_d_separator("a", "c", ["a"]), ValidationError, r"\.included = \['a'\]"),
        (lambda g: g.minimal_d_separator("a", "c", "c"), ValidationError, r"\.included = 'c'"),
        (
            lambda g: g.minimal_d_separator("a", "c", ["b"], ["d"]),
            ValidationError,
            r"\.included = \['b'\] .*subset of restricted",
        ),
        (lambda g: g.minimal_d_separator("a", "c", restricted=["q"]), NotFoundError, r"'q'.*restricted="),
        (lambda g: g.minimal_d_separator("a", 5), ValidationError, r"\.ys = 5 "),
    ],
)
def test_bad_input(small: CausalGraph, call, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(small)
