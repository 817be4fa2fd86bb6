"""``CausalGraph.find_cycles``: short cycles first, bounded work, exact where promised.

Exhaustive mode (every strongly connected component of at most ``max_sources`` memories) is checked
against ``networkx.simple_cycles`` sorted by (length, ids); sampled mode (larger components) against
what it promises: real, simple, canonical, sorted, distinct cycles, every self-loop and two-memory
cycle, and the shortest cycles through its roots.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import compat_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_random import build, multigraphs
from test_graph_reference import canonical_cycle

from omega_graph.errors import ValidationError
from omega_graph.generate import generate_store
from omega_graph.graph import CausalGraph, structure
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore


# ----- references ------------------------------------------------------------------------------------
def ref_cycles(g: nx.DiGraph, max_length: int | None = None) -> list[list[str]]:
    """Every simple cycle, canonical rotation, sorted by (length, ids): what exhaustive mode returns."""
    found = {canonical_cycle(c) for c in nx.simple_cycles(g, length_bound=max_length)}
    return [list(c) for c in sorted(found, key=lambda c: (len(c), c))]


def check_is_cycle_list(cycles: list[list[str]], g: nx.DiGraph, max_length: int | None = None) -> None:
    """What every answer promises: real simple cycles of ``g``, canonical, sorted, distinct, bounded."""
    for c in cycles:
        assert len(set(c)) == len(c) >= 1, c
        assert tuple(c) == canonical_cycle(c), c
        assert all(g.has_edge(c[i], c[(i + 1) % len(c)]) for i in range(len(c))), c
        assert max_length is None or len(c) <= max_length
    keys = [(len(c), c) for c in cycles]
    assert keys == sorted(keys)
    assert len({tuple(c) for c in cycles}) == len(cycles)


def digraph(store: OmegaStore, min_weight: float = 0.0, edge_types: set[str] | None = None) -> nx.DiGraph:
    """The snapshot's structure read back with plain SQL (filters applied here, independently)."""
    g = nx.DiGraph()
    g.add_nodes_from(r[0] for r in store.connection.execute("SELECT id FROM memories"))
    for u, v, w, t in store.connection.execute(
        "SELECT from_memory, to_memory, weight, edge_type FROM causal_edges"
    ):
        if w >= min_weight and (edge_types is None or t in edge_types):
            g.add_edge(u, v)
    return g


def store_of(edges: list[tuple[str, str]], nodes: str | list[str] | None = None) -> OmegaStore:
    names = sorted(set(nodes or []) | {m for e in edges for m in e})
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in names)
    store.store_causal_edges(
        StoredCausalEdge(f"e{k}", u, v, 0.5, "causes", k) for k, (u, v) in enumerate(edges)
    )
    return store


# ----- exhaustive mode against networkx ------------------------------------------------------------------
@settings(max_examples=80)
@given(multigraphs(max_nodes=8, max_edges=24), st.sampled_from([None, 1, 2, 3, 4]))
def test_random_multigraph_cycles_match_networkx(graph_data: tuple, max_length: int | None) -> None:
    store, ref = build(*graph_data)
    with store:
        graph = store.causal_graph()
        g = nx.DiGraph(ref)
        want = ref_cycles(g, max_length)
        assert graph.find_cycles(limit=None, max_length=max_length) == want
        for limit in (1, 2, 5, 100):
            assert graph.find_cycles(limit=limit, max_length=max_length) == want[:limit]
        assert (graph.find_cycles(limit=None) == []) == graph.is_dag() == nx.is_directed_acyclic_graph(g)


@settings(max_examples=40)
@given(multigraphs(max_nodes=7, max_edges=20), st.sampled_from([0.0, 0.3, 0.6]), st.sampled_from(["x", "xy"]))
def test_cycles_respect_the_snapshot_filters(graph_data: tuple, min_weight: float, types: str) -> None:
    store, _ = build(*graph_data)
    with store:
        graph = store.causal_graph(min_weight=min_weight, edge_types=list(types))
        g = digraph(store, min_weight, set(types))
        assert graph.find_cycles(limit=None) == ref_cycles(g)
        assert graph.is_dag() == nx.is_directed_acyclic_graph(g)


def test_default_limit_returns_the_100_shortest_of_a_dense_graph() -> None:
    nodes = [f"n{i:02d}" for i in range(12)]
    store = store_of([(u, v) for u, v in itertools.permutations(nodes, 2)])
    graph = store.causal_graph()
    cycles = graph.find_cycles()
    assert len(cycles) == structure.DEFAULT_CYCLE_LIMIT == 100
    assert [len(c) for c in cycles] == [2] * 66 + [3] * 34  # all 66 two-cycles, then the smallest triangles
    want = ref_cycles(nx.DiGraph(graph.to_networkx()), max_length=3)
    assert cycles == want[:100]


def test_parallel_edges_and_self_loops_are_one_cycle_each() -> None:
    store = store_of([("a", "b"), ("a", "b"), ("b", "a"), ("b", "b"), ("b", "b"), ("b", "c"), ("c", "a")])
    store.store_causal_edge(StoredCausalEdge("ab-other-type", "a", "b", 0.1, "enables", 9))
    assert store.causal_graph().find_cycles() == [["b"], ["a", "b"], ["a", "b", "c"]]
    assert store.causal_graph().find_cycles(max_length=1) == [["b"]]
    assert store.causal_graph(edge_types=["enables"]).find_cycles() == []


def test_long_cycles_are_searched_lazily_by_length() -> None:
    """A 16 x 16 directed torus: its 100 shortest cycles (16 and 32 memories) without the 2^32 paths."""
    k = 16
    name = [f"t{i:03d}" for i in range(k * k)]
    edges = [(name[i * k + j], name[i * k + (j + 1) % k]) for i in range(k) for j in range(k)]
    edges += [(name[i * k + j], name[((i + 1) % k) * k + j]) for i in range(k) for j in range(k)]
    graph = store_of(edges).causal_graph()
    cycles = graph.find_cycles(max_sources=k * k)  # exhaustive
    assert len(cycles) == 100
    assert [len(c) for c in cycles[:32]] == [16] * 32  # the 16 rows and 16 columns
    assert {len(c) for c in cycles[32:]} == {32}
    check_is_cycle_list(cycles, nx.DiGraph(edges))
    short = ref_cycles(nx.DiGraph(edges), max_length=16)
    assert cycles[:32] == short


def test_the_step_budget_keeps_an_exact_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = [f"n{i:02d}" for i in range(9)]
    graph = store_of([(u, v) for u, v in itertools.permutations(nodes, 2)]).causal_graph()
    full = graph.find_cycles(limit=None)
    assert len(full) == sum(
        len(list(itertools.permutations(range(k - 1)))) * len(list(itertools.combinations(nodes, k)))
        for k in range(2, 10)
    )
    monkeypatch.setattr(structure, "MAX_SEARCH_STEPS", 500)
    cut = graph.find_cycles(limit=10_000)
    assert 36 < len(cut) < 10_000  # every two-cycle, then as many longer ones as 500 steps found
    assert cut == full[: len(cut)]
    assert graph.find_cycles(limit=None) == full  # no limit: no budget either


# ----- the cyclic real network ----------------------------------------------------------------------------
@pytest.fixture
def sachs(tmp_path: Path) -> OmegaStore:
    path = tmp_path / "sachs.db"
    shutil.copy(compat_dir() / "omega-rust-sachs_cdt_consensus.db", path)
    with OmegaStore(path) as store:
        yield store


def test_cyclic_sachs_network(sachs: OmegaStore) -> None:
    graph = sachs.causal_graph()
    g = digraph(sachs)
    assert graph.find_cycles() == ref_cycles(g) == [["mem-PIP2", "mem-PIP3", "mem-plcg"]]
    assert graph.find_cycles(max_sources=1) == [["mem-PIP2", "mem-PIP3", "mem-plcg"]]  # sampled, same
    assert graph.find_cycles(max_length=2) == []
    raw = sqlite3.connect(sachs.path)
    types = {t for (t,) in raw.execute("SELECT DISTINCT edge_type FROM causal_edges")}
    closing = raw.execute(
        "SELECT edge_type FROM causal_edges WHERE from_memory = 'mem-plcg' AND to_memory = 'mem-PIP2'"
    ).fetchone()
    raw.close()
    acyclic = sachs.causal_graph(edge_types=sorted(types - {closing[0]}))
    assert acyclic.is_dag() and acyclic.find_cycles() == []


# ----- sampled mode --------------------------------------------------------------------------------------
@settings(max_examples=60)
@given(
    multigraphs(max_nodes=9, max_edges=30),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([None, 3, 5]),
)
def test_sampled_cycles_are_real_and_keep_every_short_one(
    graph_data: tuple, max_sources: int, max_length: int | None
) -> None:
    store, ref = build(*graph_data)
    with store:
        graph = store.causal_graph()
        g = nx.DiGraph(ref)
        got = graph.find_cycles(limit=None, max_length=max_length, max_sources=max_sources)
        check_is_cycle_list(got, g, max_length)
        assert {tuple(c) for c in got} <= {tuple(c) for c in ref_cycles(g, max_length)}
        assert [c for c in got if len(c) <= 2] == [
            c for c in ref_cycles(g, 2) if max_length is None or len(c) <= max_length
        ]
        if max_length is None:
            assert (got == []) == graph.is_dag()
        assert graph.find_cycles(limit=3, max_length=max_length, max_sources=max_sources) == got[:3]


def shortest_through(g: nx.DiGraph, r: str) -> int | None:
    """Nodes of the shortest cycle of >= 3 nodes through ``r`` avoiding r's two-cycle partners."""
    partners = {w for w in g.successors(r) if w != r and g.has_edge(w, r)}
    h = g.subgraph(set(g) - partners)
    lengths = [
        1 + nx.shortest_path_length(h, w, r) for w in h.successors(r) if w != r and nx.has_path(h, w, r)
    ]
    return min(lengths, default=None)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> OmegaStore:
    path = tmp_path_factory.mktemp("cycles") / "gen.db"
    store = generate_store(path, 3000, 9000, seed=5, back_edge_fraction=0.1)
    yield store
    store.close()


def test_a_large_component_is_sampled_from_its_best_connected_roots(generated: OmegaStore) -> None:
    graph = generated.causal_graph()
    g = nx.DiGraph(graph.to_networkx())
    components = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    big = max(components, key=len)
    assert len(big) > structure.DEFAULT_MAX_SOURCES  # the default call samples it
    cycles = graph.find_cycles(limit=None)
    check_is_cycle_list(cycles, g)
    two = sorted(canonical_cycle([u, v]) for u, v in g.edges if u < v and g.has_edge(v, u))
    assert [tuple(c) for c in cycles if len(c) == 2] == two
    # the roots: highest in-degree x out-degree inside the component, ties by id
    inner = g.subgraph(big)
    roots = sorted(big, key=lambda m: (-(inner.in_degree(m) - inner.has_edge(m, m)) * (
        inner.out_degree(m) - inner.has_edge(m, m)), m))[:5]  # fmt: skip
    few = graph.find_cycles(limit=None, max_sources=5)
    check_is_cycle_list(few, g)
    for r in roots:
        best = shortest_through(inner, r)
        assert best is not None
        assert any(r in c and len(c) == best for c in few), r
    assert {tuple(c) for c in few if len(c) >= 3} <= {tuple(c) for c in cycles}
    default = graph.find_cycles()
    assert default == cycles[:100] and len(default) == 100


def test_find_cycles_is_bounded_on_a_large_component(generated: OmegaStore) -> None:
    """The old way (networkx's first simple cycle of the big component) is hundreds of memories long."""
    graph = generated.causal_graph()
    cycles = graph.find_cycles()
    assert max(len(c) for c in cycles) <= 12
    g = nx.DiGraph(graph.to_networkx())
    big = max(nx.strongly_connected_components(g), key=len)
    # integer labels: networkx's walk then does not depend on the per-process string hash seed
    inner = nx.convert_node_labels_to_integers(g.subgraph(big), ordering="sorted")
    first = next(nx.simple_cycles(inner))
    assert len(first) > 50  # what find_cycles used to return first on such a graph


def test_refresh_sees_a_new_cycle(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "r.db") as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        store.store_causal_edges(
            StoredCausalEdge(u + v, u, v, 0.5, "causes", 0) for u, v in ["ab", "bc", "cd"]
        )
        graph = store.causal_graph()
        assert graph.find_cycles() == [] and graph.is_dag()
        store.store_causal_edge(StoredCausalEdge("db", "d", "b", 0.5, "causes", 1))
        assert graph.refresh().find_cycles() == [["b", "c", "d"]] and not graph.is_dag()


# ----- arguments -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["limit", "max_length", "max_sources"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "3", np.float64(2.0)])
def test_bad_bounds_are_rejected(name: str, value: object) -> None:
    graph: CausalGraph = store_of([("a", "b"), ("b", "a")]).causal_graph()
    with pytest.raises(ValidationError, match=rf"{name}.*None or an integer >= 1"):
        graph.find_cycles(**{name: value})  # type: ignore[arg-type]
