"""The graph API: errors, filters at snapshot time, columns and ordering, the networkx view."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import pytest

from omega_graph.errors import NoPathError, NotADAGError, NotFoundError, ValidationError
from omega_graph.graph import CausalGraph, CausalPath
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

EDGES = [
    ("ab", "a", "b", 0.9, "causes", 10),
    ("ab2", "a", "b", 0.3, "enables", 5),  # a weaker parallel edge
    ("bc", "b", "c", 0.5, "causes", 20),
    ("ac", "a", "c", 0.4, "inhibits", 30),
    ("cd", "c", "d", 0.0, "causes", 40),  # weight 0: reachable, no strength
    ("de", "d", "e", 1.0, "causes", 50),
]


@pytest.fixture
def store() -> Iterator[OmegaStore]:
    with OmegaStore.new_in_memory() as s:
        s.store_memories(StoredMemory(m, m, 2, 0.5, None, 0, 0) for m in "abcdefz")  # z: isolated
        s.store_causal_edges(StoredCausalEdge(*e) for e in EDGES)
        yield s


@pytest.fixture
def graph(store: OmegaStore) -> CausalGraph:
    return store.causal_graph()


def test_isolated_memory_is_a_node(graph: CausalGraph) -> None:
    assert "z" in graph and len(graph) == 7
    assert graph.causes("z").empty and graph.effects("z").empty
    assert list(graph.effects("z").columns) == ["memory_id", "depth", "strength"]
    with pytest.raises(NoPathError, match="'a' to 'z'"):
        graph.strongest_path("a", "z")


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.strongest_path("nope", "a"),
        lambda g: g.shortest_path("a", "nope"),
        lambda g: g.top_paths("nope", "a"),
        lambda g: g.causes("nope"),
        lambda g: g.effects("nope"),
        lambda g: g.total_effect("a", "nope"),
        lambda g: g.influence(personalization={"nope": 1.0}),
        lambda g: g.d_separated("a", "nope"),
    ],
)
def test_unknown_memory_is_named(graph: CausalGraph, call) -> None:
    with pytest.raises(NotFoundError, match="memory 'nope' not found") as info:
        call(graph)
    assert isinstance(info.value, LookupError)


def test_parallel_edges_use_the_strongest(graph: CausalGraph) -> None:
    p = graph.strongest_path("a", "b")
    assert p == CausalPath(("a", "b"), ("ab",), (0.9,), 0.9)
    assert graph.total_effect("a", "b") == pytest.approx(1.2)  # parallel channels add


def test_zero_weight_edges_reach_but_carry_no_strength(graph: CausalGraph) -> None:
    with pytest.raises(NoPathError, match="positive strength"):
        graph.strongest_path("a", "e")
    p = graph.shortest_path("a", "e")
    assert p.nodes == ("a", "c", "d", "e") and p.strength == 0.0
    eff = graph.effects("a")
    assert eff.to_dict("list") == {
        "memory_id": ["b", "c", "d", "e"], "depth": [1, 1, 2, 3], "strength": [0.9, 0.45, 0.0, 0.0]
    }  # fmt: skip
    assert graph.total_effect("a", "e") == 0.0


def test_reach_filters_are_inclusive(graph: CausalGraph) -> None:
    assert graph.effects("a", max_depth=1).memory_id.tolist() == ["b", "c"]
    assert graph.effects("a", min_strength=0.45).memory_id.tolist() == ["b", "c"]
    assert graph.effects("a", max_depth=0).empty
    assert graph.causes("e", max_depth=2).memory_id.tolist() == ["d", "c"]
    assert graph.causes("e", min_strength=1.0).memory_id.tolist() == ["d"]
    with pytest.raises(ValidationError, match="max_depth"):
        graph.causes("e", max_depth=-1)
    with pytest.raises(ValidationError, match="min_strength"):
        graph.causes("e", min_strength=2.0)


def test_causes_are_sorted_strength_depth_id(graph: CausalGraph) -> None:
    causes = graph.causes("e")
    assert list(zip(causes.memory_id, causes.depth, causes.strength, strict=True)) == [
        ("d", 1, 1.0), ("c", 2, 0.0), ("a", 3, 0.0), ("b", 3, 0.0)]  # fmt: skip
    assert causes.dtypes.tolist() == [object, "int64", "float64"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_weight": "x"}, "min_weight"),
        ({"min_weight": float("nan")}, "min_weight"),
        ({"edge_types": "causes"}, "edge_types"),
        ({"as_of": 1.5}, "as_of"),
    ],
)
def test_bad_filters(store: OmegaStore, kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        store.causal_graph(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "edges"),
    [
        ({"min_weight": 0.5}, {"ab", "bc", "de"}),
        ({"min_weight": 0.0}, {e[0] for e in EDGES}),
        ({"edge_types": ["enables", "inhibits"]}, {"ab2", "ac"}),
        ({"edge_types": []}, set()),
        ({"as_of": 20}, {"ab", "ab2", "bc"}),
        ({"as_of": 20, "min_weight": 0.5}, {"ab", "bc"}),
    ],
)
def test_filters_at_snapshot_time(store: OmegaStore, kwargs: dict, edges: set[str]) -> None:
    g = store.causal_graph(**kwargs)
    assert {k for _, _, k in g.to_networkx().edges(keys=True)} == edges
    assert len(g) == 7  # every memory stays a node


def test_networkx_view_attributes(graph: CausalGraph) -> None:
    g = graph.to_networkx()
    assert isinstance(g, nx.MultiDiGraph)
    assert g.nodes["a"] == {"tier": 2, "importance": 0.5}
    assert g.edges["a", "b", "ab2"] == {"weight": 0.3, "edge_type": "enables", "created_at": 5}
    assert g.number_of_edges("a", "b") == 2


def test_time_respecting_path(store: OmegaStore) -> None:
    store.store_causal_edges([StoredCausalEdge("bx", "b", "f", 1.0, "causes", 7),
                              StoredCausalEdge("fc", "f", "c", 1.0, "causes", 8)])  # fmt: skip
    g = store.causal_graph()
    assert g.strongest_path("a", "c").edge_ids == ("ab", "bx", "fc")  # 0.9, but times 10, 7, 8
    p = g.strongest_path("a", "c", time_respecting=True)
    assert p.edge_ids == ("ab", "bc") and p.strength == pytest.approx(0.45)
    assert g.strongest_path("a", "f", time_respecting=True).edge_ids == ("ab2", "bx")  # 0.3, times 5, 7


def test_top_paths(graph: CausalGraph) -> None:
    paths = graph.top_paths("a", "c", k=5)
    assert [p.nodes for p in paths] == [("a", "b", "c"), ("a", "c")]
    assert [p.strength for p in paths] == pytest.approx([0.45, 0.4])
    assert graph.top_paths("a", "c", k=1, max_length=1)[0].nodes == ("a", "c")
    with pytest.raises(ValidationError, match="k"):
        graph.top_paths("a", "c", k=0)


def test_influence_frame(graph: CausalGraph) -> None:
    frame = graph.influence()
    assert list(frame.columns) == ["memory_id", "score", "rank"]
    assert frame.score.sum() == pytest.approx(1.0)
    want = nx.pagerank(graph.to_networkx(), weight="weight", tol=1e-12, max_iter=10_000)  # converged
    assert dict(zip(frame.memory_id, frame.score, strict=True)) == pytest.approx(want, rel=1e-9)
    assert frame.attrs["error_bound"] <= 1e-10
    drivers = graph.influence(personalization={"e": 1.0}, reverse=True)
    assert drivers.memory_id.iloc[0] == "e"
    with pytest.raises(ValidationError, match="at least one positive"):
        graph.influence(personalization={"a": 0.0})
    with pytest.raises(ValidationError, match="alpha"):
        graph.influence(alpha=1.5)
    with pytest.raises(ValidationError, match="alpha"):  # no error bound at 1
        graph.influence(alpha=1.0)


def test_cycles_and_d_separation(store: OmegaStore) -> None:
    g = store.causal_graph()
    assert g.is_dag() and g.find_cycles() == []
    assert g.d_separated("b", "d", ["c"]) and not g.d_separated("b", "d")
    with pytest.raises(ValidationError, match="disjoint"):
        g.d_separated("a", "b", ["a"])
    store.store_causal_edge(StoredCausalEdge("ca", "c", "a", 0.5, "causes", 60))
    g = store.causal_graph()
    assert not g.is_dag()
    assert sorted(g.find_cycles()) == [["a", "b", "c"], ["a", "c"]]
    with pytest.raises(NotADAGError, match="a -> .* -> a"):
        g.total_effect("a", "e")
    with pytest.raises(NotADAGError) as info:
        g.d_separated("b", "d")
    assert set(info.value.cycle) <= {"a", "b", "c"}
    assert g.find_cycles(limit=1, max_length=2) == [["a", "c"]]


def test_graph_never_writes(tmp_path) -> None:
    path = tmp_path / "ro.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
        s.store_causal_edge(StoredCausalEdge("ab", "a", "b", 0.5, "causes", 0))
        version = s.connection.execute("PRAGMA data_version").fetchone()[0]
        changes = s.connection.total_changes
        g = s.causal_graph()
        g.strongest_path("a", "b"), g.to_networkx(), g.refresh(), g.influence()
        assert s.connection.execute("PRAGMA data_version").fetchone()[0] == version
        assert s.connection.total_changes == changes


def test_open_store_transaction_is_respected(store: OmegaStore) -> None:
    with store.transaction():
        store.store_causal_edge(StoredCausalEdge("ez", "e", "z", 0.5, "causes", 0))
        g = store.causal_graph()  # sees the store's own uncommitted write; must not commit or break it
        assert store.connection.in_transaction
        assert g.strongest_path("e", "z").edge_ids == ("ez",)
    assert store.get_causal_edge("ez").weight == 0.5


def test_weight_out_of_range_is_named(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "w.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO causal_edges VALUES ('bad', 'a', 'b', 1.5, 'causes', 0)")
    raw.commit()
    raw.close()
    with OmegaStore(path) as s:
        g = s.causal_graph()
        assert g.shortest_path("a", "b").edge_ids == ("bad",)  # structure still answers
        with pytest.raises(ValidationError, match=r"weight = 1\.5 .*rowid 1 .*fix the stored weights"):
            g.strongest_path("a", "b")
        with pytest.raises(ValidationError, match="weight"):
            g.influence()
        with pytest.raises(ValidationError, match="weight"):
            g.causes("b")
