"""Per-store graph answers of a fleet: the plain functions against the engine on each store file, Spark
(``graph_answers``, ``strongest_paths``) against the plain loop over the same export.

The fleet is real: generated stores (DAGs, cycles, weight-0 and parallel edges, no edges, empty), a
hand-built store (equal parallel edges, a self-loop, an invalidated edge), one with a weight stored as
text, a real network and a file the original crate wrote; exported to Parquet, read back by pandas
and by Spark in local mode. The reference of every answer is ``OmegaStore(path).causal_graph(
include_invalidated=True)`` on the store file (the export holds no belief side tables), with
independent networkx checks beside it.
"""

from __future__ import annotations

import itertools
import math
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from conftest import compat_dir
from hypothesis import given
from hypothesis import strategies as st
from test_graph_reference import fill_store, read_network, ref_strength, reference_multigraph

from omega_graph.errors import NoPathError, ValidationError
from omega_graph.fleet import export
from omega_graph.fleet._answers import store_answers, store_paths
from omega_graph.fleet._layout import (
    read_manifest,
)
from omega_graph.generate import generate_store
from omega_graph.graph._frames import data_from_frames, graph_from_frames
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

TOP_K = 5
UNKNOWN_STORE = "0" * 32


# ----- the fleet ------------------------------------------------------------------------------------------
def _special(path: Path) -> None:
    """Equal parallel edges, a weight-0 edge, a self-loop, a two-memory cycle, an invalidated edge."""
    with OmegaStore(path) as s:
        s.store_memories(
            StoredMemory(m, f"memory {m}", 1 + i % 3, 0.5, None, i, i) for i, m in enumerate("abcdefg")
        )
        s.store_causal_edges(
            StoredCausalEdge(i, u, v, w, t, 100 + k)
            for k, (i, u, v, w, t) in enumerate(
                [("ab1", "a", "b", 0.5, "causes"), ("ab2", "a", "b", 0.5, "enables"),
                 ("ab3", "a", "b", 0.2, "causes"), ("bc", "b", "c", 0.0, "causes"),
                 ("bd", "b", "d", 0.8, "causes"), ("dc", "d", "c", 0.5, "causes"),
                 ("cc", "c", "c", 0.3, "feedback"), ("de", "d", "e", 0.9, "causes"),
                 ("ed", "e", "d", 0.4, "feedback"), ("ef", "e", "f", 0.7, "causes")]
            )
        )  # fmt: skip
        s.invalidate_causal_edge("ef", at=500, reason="refuted")


def _bad_weight(path: Path) -> None:
    """A generated store with one weight stored as text (as another tool could write it)."""
    generate_store(path, 20, 40, seed=5).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE causal_edges SET weight = 'high' WHERE id = (SELECT min(id) FROM causal_edges)")
    raw.commit()
    raw.close()


def _network(path: Path, name: str) -> None:
    with OmegaStore(path) as s:
        fill_store(s, *read_network(name))


def _build(name: str, path: Path) -> None:
    makers: dict[str, Any] = {
        "dag": lambda p: generate_store(p, 40, 90, seed=1, back_edge_fraction=0.0).close(),
        "cyclic": lambda p: generate_store(p, 60, 200, seed=2, back_edge_fraction=0.2).close(),
        "zeros": lambda p: generate_store(p, 50, 150, seed=3, zero_weight_fraction=0.3).close(),
        "no_edges": lambda p: generate_store(p, 25, 0, seed=4).close(),
        "empty": lambda p: OmegaStore(p).close(),
        "special": _special,
        "bad_weight": _bad_weight,
        "asia": lambda p: _network(p, "asia"),
        "sachs_crate": lambda p: shutil.copy(compat_dir() / "omega-rust-sachs_cdt_consensus.db", p),
    }
    makers[name](path)


NAMES = ["dag", "cyclic", "zeros", "no_edges", "empty", "special", "bad_weight", "asia", "sachs_crate"]


@dataclass(frozen=True)
class Fleet:
    out: Path
    paths: dict[str, Path]  # name -> store file
    ids: dict[str, str]  # name -> store id

    def frames(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The store's memories and causal_edges as exported, read by pandas."""
        entry = read_manifest(self.out).by_id()[self.ids[name]]
        memories, edges = (pd.read_parquet(self.out / entry.files[t]) for t in ("memories", "causal_edges"))
        return memories, edges


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("fleet")
    paths = {name: root / "stores" / f"{name}.db" for name in NAMES}
    (root / "stores").mkdir()
    for name, path in paths.items():
        _build(name, path)
    ids = {}
    for name, path in paths.items():
        with OmegaStore(path) as s:  # (migrates the crate file, giving it an identity)
            ids[name] = s.identity
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the text weight: exported as NULL
        result = export([root / "stores"], root / "out")
    assert result.ok and sorted(result.exported) == sorted(ids.values())
    return Fleet(root / "out", paths, ids)


# ----- references: the engine on the store file, networkx beside it -----------------------------------------
def file_graph(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the text weight's DataQualityWarning
        store = OmegaStore(path)
        graph = store.causal_graph(include_invalidated=True)
    store.close()
    return graph


def file_answers(path: Path, top_k: int) -> dict[str, Any]:
    g = file_graph(path)
    is_dag = g.is_dag()
    try:
        top: list[str] | None = g.influence().memory_id.head(top_k).tolist()
    except ValidationError:
        top = None
    multi = g.to_networkx()
    assert is_dag == nx.is_directed_acyclic_graph(multi)
    return {
        "is_dag": is_dag,
        "cycle": None if is_dag else g.find_cycles(limit=1)[0],
        "scc_count": nx.number_strongly_connected_components(nx.DiGraph(multi)),  # plain networkx
        "top_influence": top,
    }


def file_path(g: Any, src: str, dst: str) -> tuple[list[str] | None, float | None]:
    """(nodes, strength) of the engine; (None, 0.0) for no path; (None, None) when it cannot be asked."""
    if src not in g or dst not in g:
        return None, None
    try:
        p = g.strongest_path(src, dst)
    except NoPathError:
        return None, 0.0
    except ValidationError:
        return None, None
    return list(p.nodes), p.strength


def pairs_of(g: Any) -> list[tuple[str, str]]:
    """A spread of pairs: reachable and not, a memory to itself, and an unknown memory."""
    ids = g.memory_ids
    if not ids:
        return [("nope", "nope")]
    picks = sorted({ids[0], ids[len(ids) // 3], ids[len(ids) // 2], ids[-1]})
    return [*itertools.product(picks, picks), (ids[0], "no-such-memory")]


def assert_cycle_real(cycle: list[str], g: Any) -> None:
    multi = g.to_networkx()
    for u, v in itertools.pairwise([*cycle, cycle[0]]):
        assert multi.has_edge(u, v), (u, v)


# ----- the plain functions against the store files ---------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_frames_hold_the_snapshot_of_the_file(fleet: Fleet, name: str) -> None:
    """data_from_frames over the exported rows holds the arrays the file's snapshot holds."""
    import numpy as np

    want = file_graph(fleet.paths[name])._data
    got = data_from_frames(*fleet.frames(name))
    assert got.node_ids == want.node_ids
    for column in ("tier", "src", "dst", "weight", "created", "etype", "created_bad"):
        assert np.array_equal(getattr(got, column), getattr(want, column), equal_nan=column == "weight"), (
            column
        )
    assert np.array_equal(got.importance, want.importance, equal_nan=True)
    assert got.edge_ids_at() == want.edge_ids_at() and got.type_names == want.type_names
    assert [(b.table, b.column, b.problem, b.count) for b in got.bad_values] == [
        (b.table, b.column, b.problem, b.count) for b in want.bad_values
    ]


@pytest.mark.parametrize("name", NAMES)
def test_store_answers_equal_the_engine_on_the_file(fleet: Fleet, name: str) -> None:
    got = store_answers(*fleet.frames(name), top_k=TOP_K)
    assert list(got.columns) == ["is_dag", "cycle", "scc_count", "top_influence", "reason"] and len(got) == 1
    row = got.iloc[0].to_dict()
    want = file_answers(fleet.paths[name], TOP_K)
    assert {k: row[k] for k in want} == want
    assert (row["reason"] is None) == (want["top_influence"] is not None)
    if want["cycle"] is not None:
        assert_cycle_real(row["cycle"], file_graph(fleet.paths[name]))


def test_the_fleet_covers_the_cases(fleet: Fleet) -> None:
    """The fixture's stores are what the tests claim: DAGs and cycles, no edges, empty, a refused weight."""
    answers = {name: file_answers(fleet.paths[name], TOP_K) for name in NAMES}
    assert [n for n in NAMES if not answers[n]["is_dag"]] == [
        "cyclic",
        "zeros",
        "special",
        "bad_weight",
        "sachs_crate",
    ]
    assert answers["no_edges"]["scc_count"] == 25 and answers["empty"]["scc_count"] == 0
    assert answers["bad_weight"]["top_influence"] is None
    assert answers["special"]["cycle"] == ["c"]  # the self-loop: the shortest cycle
    assert answers["cyclic"]["scc_count"] < 60


@pytest.mark.parametrize("name", NAMES)
def test_store_paths_equal_the_engine_on_the_file(fleet: Fleet, name: str) -> None:
    g = file_graph(fleet.paths[name])
    pairs = pairs_of(g)
    got = store_paths(*fleet.frames(name), pairs)
    assert list(got.columns) == ["src", "dst", "nodes", "strength", "reason"]
    assert list(zip(got.src, got.dst, strict=True)) == pairs
    multi = g.to_networkx()
    for row in got.itertuples():
        nodes, strength = file_path(g, row.src, row.dst)
        assert row.nodes == nodes
        if strength is None:
            assert math.isnan(row.strength) and row.reason
        else:
            assert row.strength == strength
            assert (row.reason is None) == (nodes is not None)
        if nodes is not None and row.src != row.dst:  # networkx's Dijkstra on -ln(weight), independently
            assert row.strength == pytest.approx(ref_strength(multi, row.src, row.dst), rel=1e-9)


def test_invalidated_edges_are_part_of_the_exported_graph(fleet: Fleet) -> None:
    """The export holds no belief side tables: the invalidated edge e -> f is a path of the answer."""
    got = store_paths(*fleet.frames("special"), [("a", "f"), ("a", "c"), ("a", "g"), ("c", "c")])
    assert got.nodes.tolist() == [["a", "b", "d", "e", "f"], ["a", "b", "d", "c"], None, ["c"]]
    assert got.strength.tolist()[:2] == pytest.approx([0.5 * 0.8 * 0.9 * 0.7, 0.5 * 0.8 * 0.5], rel=1e-12)
    assert got.strength.tolist()[2:] == [0.0, 1.0]
    with OmegaStore(fleet.paths["special"]) as s:  # the store's own default snapshot leaves it out
        with pytest.raises(NoPathError):
            s.causal_graph().strongest_path("a", "f")


def test_a_refused_weight_nulls_only_the_answers_that_need_it(fleet: Fleet) -> None:
    memories, edges = fleet.frames("bad_weight")
    row = store_answers(memories, edges).iloc[0]
    assert row.top_influence is None and not row.is_dag and row.cycle
    assert row.reason.startswith(
        "influence: causal edge.weight = None is invalid: expected a number in [0, 1]"
    )
    bad = edges.loc[edges.weight.isna(), "id"].item()
    assert repr(bad) in row.reason  # names the edge
    got = store_paths(memories, edges, [(edges.from_memory[0], edges.to_memory[0])])
    assert got.nodes[0] is None and math.isnan(got.strength[0]) and "a number in [0, 1]" in got.reason[0]


@pytest.mark.parametrize("name", ["cyclic", "special"])
def test_answers_do_not_depend_on_row_order(fleet: Fleet, name: str) -> None:
    """Spark hands a task its rows in any order: the answers stay the same."""
    memories, edges = fleet.frames(name)
    pairs = pairs_of(graph_from_frames(memories, edges))
    shuffled = memories.sample(frac=1.0, random_state=7), edges.sample(frac=1.0, random_state=8)
    pd.testing.assert_frame_equal(store_answers(*shuffled), store_answers(memories, edges))
    pd.testing.assert_frame_equal(store_paths(*shuffled, pairs), store_paths(memories, edges, pairs))


def test_top_k_longer_than_the_store(fleet: Fleet) -> None:
    row = store_answers(*fleet.frames("special"), top_k=100).iloc[0]
    assert sorted(row.top_influence) == list("abcdefg")
    assert store_answers(*fleet.frames("empty")).iloc[0].to_dict() == {
        "is_dag": True, "cycle": None, "scc_count": 0, "top_influence": [], "reason": None
    }  # fmt: skip


def test_paths_take_a_frame_of_pairs(fleet: Fleet) -> None:
    memories, edges = fleet.frames("special")
    frame = store_paths(memories, edges, pd.DataFrame({"src": ["a", "a"], "dst": ["d", "a"], "x": [1, 2]}))
    assert frame.nodes.tolist() == [["a", "b", "d"], ["a"]]
    assert store_paths(memories, edges, []).empty


def test_a_graph_from_frames_has_no_store_to_refresh(fleet: Fleet) -> None:
    g = graph_from_frames(*fleet.frames("special"))
    assert g.loader == "frames" and len(g) == 7 and g.number_of_edges() == 10
    with pytest.raises(ValidationError, match="has no store to catch up with"):
        g.refresh()
    g.close()  # nothing to release, and no error


@pytest.mark.parametrize(
    ("memories", "edges", "match"),
    [
        (pd.DataFrame({"id": ["a"]}), None, r"memories = \['tier', 'importance'\] is invalid"),
        (None, pd.DataFrame({"id": ["e"], "from_memory": ["a"]}), r"edges = \['to_memory', 'weight'"),
        (
            pd.DataFrame({"id": ["a", "a"], "tier": 1, "importance": 0.5}),
            None,
            r"memories.id = 'a' is invalid",
        ),
        ([("a", 1, 0.5)], None, r"memories = 'list' is invalid: expected a pandas DataFrame"),
    ],
)
def test_frames_that_are_not_a_store_are_refused(memories: Any, edges: Any, match: str) -> None:
    ok_memories = pd.DataFrame({"id": ["a"], "tier": [1], "importance": [0.5]})
    ok_edges = pd.DataFrame(columns=["id", "from_memory", "to_memory", "weight", "edge_type", "created_at"])
    with pytest.raises(ValidationError, match=match):
        store_answers(ok_memories if memories is None else memories, ok_edges if edges is None else edges)


@pytest.mark.parametrize("top_k", [0, -1, 2.5, True, "3"])
def test_top_k_must_be_a_positive_int(top_k: object) -> None:
    frame = pd.DataFrame({"id": ["a"], "tier": [1], "importance": [0.5]})
    with pytest.raises(ValidationError, match=rf"top_k = {top_k!r} is invalid"):
        store_answers(frame, frame, top_k=top_k)  # type: ignore[arg-type]


@pytest.mark.parametrize("pairs", ["ab", [("a",)], [("a", "b", "c")], pd.DataFrame({"src": ["a"]}), 7])
def test_pairs_must_be_pairs(fleet: Fleet, pairs: object) -> None:
    with pytest.raises(ValidationError, match="strongest paths"):
        store_paths(*fleet.frames("special"), pairs)


# ----- hypothesis: random small graphs, the plain function against the engine on a store -------------------
@st.composite
def small_graphs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, str, float]]]:
    """Up to 7 memories and 14 edges: self-loops, parallel edges (equal weights too), weight 0 and 1."""
    n = draw(st.integers(0, 7))
    nodes = [f"m{i}" for i in draw(st.permutations(range(n)))]
    weights = st.sampled_from([0.0, 0.25, 0.5, 0.5, 1.0]) | st.floats(0.0, 1.0)
    edge = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes), weights) if nodes else st.nothing()
    raw = draw(st.lists(edge, max_size=14)) if nodes else []
    return nodes, [(f"e{k}", u, v, w) for k, (u, v, w) in enumerate(raw)]


@given(small_graphs())
def test_random_frames_answer_as_the_engine_on_a_store(graph: tuple[list[str], list[tuple]]) -> None:
    nodes, edges = graph
    memories = pd.DataFrame({"id": nodes, "tier": 1, "importance": 0.5}, columns=["id", "tier", "importance"])
    edge_frame = pd.DataFrame(
        [(i, u, v, w, "causes", 0) for i, u, v, w in edges],
        columns=["id", "from_memory", "to_memory", "weight", "edge_type", "created_at"],
    )
    with OmegaStore.new_in_memory() as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in nodes)
        store.store_causal_edges(StoredCausalEdge(i, u, v, w, "causes", 0) for i, u, v, w in edges)
        g = store.causal_graph(include_invalidated=True)
        row = store_answers(memories, edge_frame, top_k=3).iloc[0]
        ref = reference_multigraph(nodes, [(i, u, v, w, "causes", 0) for i, u, v, w in edges])
        assert row.is_dag == g.is_dag() == nx.is_directed_acyclic_graph(ref)
        assert row.cycle == (None if row.is_dag else g.find_cycles(limit=1)[0])
        assert row.scc_count == nx.number_strongly_connected_components(ref)
        assert row.top_influence == (g.influence().memory_id.head(3).tolist() if nodes else [])
        pairs = list(itertools.product(nodes[:3], nodes[-3:]))
        got = store_paths(memories, edge_frame, pairs)
        for r in got.itertuples():
            nodes_want, strength = file_path(g, r.src, r.dst)
            assert r.nodes == nodes_want and r.strength == strength
            want = ref_strength(ref, r.src, r.dst) if r.src != r.dst else 1.0
            assert (r.nodes is None) == (want is None)
            if want is not None:
                assert r.strength == pytest.approx(want, rel=1e-9)


# ----- Spark: the same answers, one task per store ------------------------------------------------------------
@dataclass(frozen=True)
class SparkResults:
    answers: pd.DataFrame
    paths: pd.DataFrame  # pairs as a list
    frame_paths: pd.DataFrame  # the same pairs as a Spark DataFrame
    pairs: list[tuple[str, str, str]]
    dtypes: dict[str, list[tuple[str, str]]]


def _collected(frame: Any) -> pd.DataFrame:
    """A Spark result as pandas with Python lists (None for null), sorted by its keys."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The copy keyword is deprecated")  # PySpark 4.0 on pandas 3
        out = frame.toPandas()
    for column in ("cycle", "top_influence", "nodes"):
        if column in out:
            out[column] = [None if v is None else [str(x) for x in v] for v in out[column]]
    out["reason"] = pd.Series([None if pd.isna(v) else str(v) for v in out["reason"]], dtype=object)
    keys = [c for c in ("store", "src", "dst") if c in out]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def spark_results(spark: Any, fleet: Fleet) -> Iterator[SparkResults]:
    """Three Spark jobs over the fleet, collected once for the module's tests."""
    from omega_graph.fleet._graph import graph_answers, strongest_paths

    pairs = [
        (fleet.ids[name], s, t)
        for name in NAMES
        if name != "sachs_crate"
        for s, t in pairs_of(graph_from_frames(*fleet.frames(name)))
    ]
    pairs += [(UNKNOWN_STORE, "a", "b"), (fleet.ids["special"], "a", "d"), (fleet.ids["special"], "a", "d")]
    answers = graph_answers(spark, fleet.out, top_k=TOP_K)
    paths = strongest_paths(spark, fleet.out, pairs)
    frame = spark.createDataFrame(pd.DataFrame(pairs, columns=["store_id", "src", "dst"]))
    frame_paths = strongest_paths(spark, fleet.out, frame)
    yield SparkResults(
        _collected(answers), _collected(paths), _collected(frame_paths), pairs,
        {"answers": answers.dtypes, "paths": paths.dtypes},
    )  # fmt: skip


def test_spark_answers_have_the_contract_columns(spark_results: SparkResults) -> None:
    assert spark_results.dtypes["answers"] == [
        ("store", "string"), ("is_dag", "boolean"), ("cycle", "array<string>"), ("scc_count", "bigint"),
        ("top_influence", "array<string>"), ("reason", "string"),
    ]  # fmt: skip
    assert spark_results.dtypes["paths"] == [
        ("store", "string"), ("src", "string"), ("dst", "string"), ("nodes", "array<string>"),
        ("strength", "double"), ("reason", "string"),
    ]  # fmt: skip


def test_spark_answers_equal_the_plain_loop(fleet: Fleet, spark_results: SparkResults) -> None:
    """Every store of the manifest, the empty one too, answered as store_answers answers it."""
    loop = pd.concat(
        [store_answers(*fleet.frames(n), top_k=TOP_K).assign(store=fleet.ids[n]) for n in NAMES],
        ignore_index=True,
    )
    loop = loop[["store", *loop.columns[:-1]]].sort_values("store").reset_index(drop=True)
    assert spark_results.answers.to_dict("records") == loop.to_dict("records")
    by_store = spark_results.answers.set_index("store")
    for name in ("cyclic", "asia"):  # and as the engine on the file
        row = by_store.loc[fleet.ids[name]]
        want = file_answers(fleet.paths[name], TOP_K)
        assert {k: row[k] for k in want} == {k: v for k, v in want.items()}


def test_spark_paths_equal_the_plain_loop(fleet: Fleet, spark_results: SparkResults) -> None:
    name_of = {v: k for k, v in fleet.ids.items()}
    rows = []
    for store, src, dst in spark_results.pairs:
        if store not in name_of:
            rows.append({"store": store, "src": src, "dst": dst, "nodes": None, "strength": None,
                         "reason": f"store {store!r} is not in the export (not in its manifest)"})  # fmt: skip
            continue
        row = store_paths(*fleet.frames(name_of[store]), [(src, dst)]).iloc[0].to_dict()
        strength = None if math.isnan(row["strength"]) else row["strength"]  # Spark: null
        rows.append({"store": store, **row, "strength": strength})
    for got in (spark_results.paths, spark_results.frame_paths):
        records = got.astype({"strength": object}).to_dict("records")
        for r in records:
            r["strength"] = None if r["strength"] is None or math.isnan(r["strength"]) else r["strength"]
        assert sorted(records, key=repr) == sorted(rows, key=repr)
    assert len(spark_results.paths) == len(spark_results.pairs)  # one row per pair, duplicates too


def test_spark_paths_say_why_an_answer_is_missing(fleet: Fleet, spark_results: SparkResults) -> None:
    got = spark_results.paths
    reasons = got.reason.dropna()
    assert (got[got.store == UNKNOWN_STORE].reason == f"store {UNKNOWN_STORE!r} is not in the export (not in "
            "its manifest)").all()  # fmt: skip
    # every store with memories but the crate file (no pairs asked of it), and the empty store's own pair
    assert (
        reasons.str.contains("target 'no-such-memory' is not a memory of this store").sum() == len(NAMES) - 2
    )
    assert reasons.str.contains("source 'nope' is not a memory of this store").sum() == 1
    assert reasons.str.contains("of positive strength").any()
    assert reasons.str.contains("a number in \\[0, 1\\]").any()
    assert got[got.reason.isna()].nodes.map(lambda n: n is not None).all()


def test_spark_rejects_bad_pairs_before_any_job(spark: Any, fleet: Fleet) -> None:
    from omega_graph.fleet._graph import graph_answers, strongest_paths

    with pytest.raises(ValidationError, match=r"pair = \('x', 'a', 3\) is invalid"):
        strongest_paths(spark, fleet.out, [("x", "a", 3)])
    with pytest.raises(ValidationError, match="pair = 'xab' is invalid"):
        strongest_paths(spark, fleet.out, ["xab"])
    with pytest.raises(ValidationError, match="store_id .or store., src and dst"):
        strongest_paths(spark, fleet.out, pd.DataFrame({"store": ["x"], "src": ["a"]}))
    with pytest.raises(ValidationError, match=r"pairs.src = 'bigint' is invalid"):
        strongest_paths(
            spark, fleet.out, spark.createDataFrame([("x", 1, "b")], "store string, src long, dst string")
        )
    with pytest.raises(ValidationError, match="top_k = 0 is invalid"):
        graph_answers(spark, fleet.out, top_k=0)
