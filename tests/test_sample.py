"""The bundled sample store and the edge-CSV reader, checked against the CSV files read independently."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from omega_graph import ConflictError, NotFoundError, OmegaStore, ValidationError
from omega_graph.edge_csv import EdgeCSVError, EdgeRow, iter_edge_csv, read_edge_csv, read_node_file
from omega_graph.models import unpack_f32
from omega_graph.sample import (
    NETWORKS,
    SACHS_CDT_NAMES,
    atomic_build,
    build_sample_store,
    default_data_dir,
    sample_records,
)
from omega_graph.schema import CRATE_TABLES

REPO_DATA = (
    Path(__file__).resolve().parent.parent / "data"
).resolve()  # data/ links to the package's omega_graph/data
SHARED_DATA = Path("/work/shared/data")
NAMES = [n.name for n in NETWORKS]


def csv_edges(name: str) -> list[dict[str, str]]:
    """The rows of a network's CSV, read with the csv module alone."""
    with open(REPO_DATA / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def node_names(name: str) -> list[str]:
    return (REPO_DATA / "nodes" / f"{name}.txt").read_text().split()


def table_dump(path: str | Path) -> dict[str, list[tuple]]:
    """Every row of the crate's tables, ordered by id, read with plain sqlite3."""
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in CRATE_TABLES}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    build_sample_store(path).close()
    return path


@pytest.fixture()
def sample(sample_path: Path):
    with OmegaStore(sample_path) as store:
        yield store


@pytest.fixture(scope="module")
def dump(sample_path: Path) -> dict[str, list[tuple]]:
    return table_dump(sample_path)


# ----- the bundled files -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_bundled_files_are_the_published_ones(name: str) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared data set is not on this machine")
    assert (REPO_DATA / f"{name}.csv").read_bytes() == (SHARED_DATA / f"{name}.csv").read_bytes()
    nodes = f"nodes/{name}.txt"
    assert (REPO_DATA / nodes).read_bytes() == (SHARED_DATA / nodes).read_bytes()


def test_data_readme_keeps_the_provenance() -> None:
    text = (REPO_DATA / "README.md").read_text()
    for needle in ("pgmpy==1.0.0", "cdt==0.6.0", "bnlearn", *(n.name + ".csv" for n in NETWORKS)):
        assert needle in text


def test_default_data_dir_is_the_bundled_data() -> None:
    assert default_data_dir().resolve() == REPO_DATA


def test_default_data_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shutil.copy(REPO_DATA / "asia.csv", tmp_path / "asia.csv")
    monkeypatch.setenv("OMEGA_GRAPH_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path


# ----- the sample store holds exactly the networks ---------------------------------------------


def test_memories_are_exactly_the_nodes(dump: dict[str, list[tuple]]) -> None:
    expected = {f"{name}:{node}" for name in NAMES for node in node_names(name)}
    assert {row[0] for row in dump["memories"]} == expected
    assert len(dump["memories"]) == sum(len(node_names(n)) for n in NAMES) == 114


def test_edges_are_exactly_the_csv_rows_with_their_weights(dump: dict[str, list[tuple]]) -> None:
    stored = Counter(
        (row[1], row[2], row[3]) for row in dump["causal_edges"] if not row[0].startswith("sachs_cdt")
    )
    expected = Counter(
        (f"{name}:{r['source']}", f"{name}:{r['target']}", float(r["weight"]))
        for name in NAMES
        if name != "sachs_cdt_consensus"
        for r in csv_edges(name)
    )
    assert stored == expected
    consensus = {(row[1], row[2]) for row in dump["causal_edges"] if row[0].startswith("sachs_cdt")}
    assert consensus == {
        (f"sachs_cdt_consensus:{r['source']}", f"sachs_cdt_consensus:{r['target']}")
        for r in csv_edges("sachs_cdt_consensus")
    }
    assert len(dump["causal_edges"]) == 166


def test_consensus_weights_follow_the_documented_rule(dump: dict[str, list[tuple]]) -> None:
    sachs = {(r["source"], r["target"]): float(r["weight"]) for r in csv_edges("sachs")}
    median = sorted(sachs.values())[len(sachs) // 2]
    borrowed = 0
    for row in dump["causal_edges"]:
        if not row[0].startswith("sachs_cdt"):
            continue
        a, b = (SACHS_CDT_NAMES[x.split(":", 1)[1]] for x in row[1:3])
        expected = sachs.get((a, b), sachs.get((b, a)))
        borrowed += expected is not None
        assert row[3] == (median if expected is None else expected)
    assert borrowed == 15  # 3 consensus links have no counterpart in the bnlearn network


def test_zero_weights_are_kept(sample: OmegaStore) -> None:
    zeros = [e for e in sample.iter_causal_edges() if e.weight == 0.0]
    assert len(zeros) == 2 and all(e.id.startswith("insurance:") for e in zeros)


@pytest.mark.parametrize("name", NAMES)
def test_graph_of_each_network_matches_networkx_from_the_csv(sample: OmegaStore, name: str) -> None:
    reference = nx.DiGraph()
    reference.add_nodes_from(node_names(name))
    reference.add_edges_from((r["source"], r["target"]) for r in csv_edges(name))
    stored = nx.DiGraph()
    prefix = f"{name}:"
    stored.add_nodes_from(m.id[len(prefix) :] for m in sample.iter_memories() if m.id.startswith(prefix))
    stored.add_edges_from(
        (e.from_memory[len(prefix) :], e.to_memory[len(prefix) :])
        for e in sample.iter_causal_edges()
        if e.id.startswith(prefix + "edge-")
    )
    assert nx.utils.graphs_equal(stored, reference)
    assert nx.is_directed_acyclic_graph(stored) == (name != "sachs_cdt_consensus")


# ----- every entity kind and every documented rule -----------------------------------------------


def test_every_entity_kind_is_non_empty(sample: OmegaStore) -> None:
    stats = sample.get_statistics()
    assert all(count > 0 for count in stats.as_tuple()), stats
    assert (stats.memory_count, stats.causal_edge_count, stats.vector_count) == (114, 166, 114)


def test_tiers_span_one_to_twelve_by_depth(sample: OmegaStore) -> None:
    memories = list(sample.iter_memories())
    assert {m.tier for m in memories} == set(range(1, 13))
    for name in NAMES:
        graph = nx.DiGraph((r["source"], r["target"]) for r in csv_edges(name))
        tiers = {m.id.split(":", 1)[1]: m.tier for m in memories if m.id.startswith(name + ":")}
        for u, v in graph.edges:
            if not (nx.has_path(graph, v, u)):  # outside a cycle, an effect sits deeper than its cause
                assert tiers[u] < tiers[v], (name, u, v)
        roots = [v for v in graph if graph.in_degree(v) == 0]
        assert all(tiers[r] == 1 for r in roots)


def test_importance_ranks_causes_above_their_sinks(sample: OmegaStore) -> None:
    asia = {m.id: m.importance for m in sample.iter_memories() if m.id.startswith("asia:")}
    assert all(0.1 <= v <= 1.0 for v in asia.values())
    assert asia["asia:smoke"] > asia["asia:lung"] > asia["asia:xray"] == 0.1


def test_timestamps_spread_over_days(sample: OmegaStore) -> None:
    days = {m.created_at // 86_400 for m in sample.iter_memories()}
    days |= {e.created_at // 86_400 for e in sample.iter_causal_edges()}
    assert len(days) >= 10
    for m in sample.iter_memories():
        assert m.last_accessed >= m.created_at
    for e in sample.iter_causal_edges():  # edges are recorded after both memories exist
        assert e.created_at > max(
            sample.get_memory(e.from_memory).created_at, sample.get_memory(e.to_memory).created_at
        )


def test_edge_types_follow_the_weight_rule(sample: OmegaStore) -> None:
    kinds = Counter()
    for e in sample.iter_causal_edges():
        kinds[e.edge_type] += 1
        if e.edge_type == "feedback":
            assert e.id.startswith("sachs_cdt_consensus:")
        else:
            expected = "causes" if e.weight >= 0.5 else "enables" if e.weight >= 0.2 else "correlates"
            assert e.edge_type == expected
    assert kinds["feedback"] == 3 and set(kinds) == {"causes", "enables", "correlates", "feedback"}


def test_vectors_make_linked_memories_similar(sample: OmegaStore) -> None:
    vector = sample.get_vector_by_memory("asia:smoke")
    assert vector.dimensions == 64 and len(vector.data_blob) == 256
    best = [memory_id for memory_id, _ in sample.similar_memories(vector.values(), k=3)]
    assert best == ["asia:smoke", "asia:bronc", "asia:lung"]
    embedded = [m for m in sample.iter_memories() if m.embedding_blob is not None]
    assert 0 < len(embedded) < 114
    for m in embedded:
        assert unpack_f32(m.embedding_blob) == sample.get_vector_by_memory(m.id).values()


def test_reflexions_have_several_outcomes(sample: OmegaStore) -> None:
    episodes = list(sample.iter_reflexions())
    outcomes = Counter(r.outcome for r in episodes)
    assert set(outcomes) == {"resolved", "partially_resolved", "escalated", "deferred"}
    assert outcomes["deferred"] == 3  # the three proteins of the consensus feedback cycle
    for r in episodes:
        context = json.loads(r.context)
        assert r.memory_id == f"{context['network']}:{r.trigger.removeprefix('unexpected value of ')}"
        assert context["weakest_parent"] in context["parents"]
        weakest = min(e.weight for e in sample.get_causal_edges_to(r.memory_id))
        assert context["weight"] == weakest
        if r.outcome != "deferred":
            expected = (
                "resolved" if weakest >= 0.4 else "partially_resolved" if weakest >= 0.15 else "escalated"
            )
            assert r.outcome == expected, r


def test_skill_counts_are_the_memories_their_pattern_matches(sample: OmegaStore) -> None:
    contents = [m.content for m in sample.iter_memories()]
    skills = list(sample.iter_skills())
    assert len(skills) >= 5
    for s in skills:
        assert s.success_count == sum(bool(re.search(s.trigger_pattern, c)) for c in contents)
        assert (s.last_used is None) == (s.success_count == 0)
    assert [s.name for s in sample.match_skills("is the patient's DISCONNECT alarm on?")] == [
        "check_ventilator"
    ]
    assert any(s.success_count == 0 for s in skills)


def test_architectures_form_a_lineage(sample: OmegaStore) -> None:
    archs = {a.id: a for a in sample.iter_architectures()}
    roots = 0
    for a in archs.values():
        lineage = json.loads(a.lineage_json)
        assert set(lineage) == {"generation", "parent"}
        if lineage["parent"] is None:
            roots += 1
            assert lineage["generation"] == 0
        else:
            assert (
                lineage["generation"] == json.loads(archs[lineage["parent"]].lineage_json)["generation"] + 1
            )
        assert 0 <= json.loads(a.fitness_json)["overall"] <= 1
    assert roots == 1 and len({a.paradigm for a in archs.values()}) == 3


def test_intelligences_reference_real_records(sample: OmegaStore) -> None:
    intelligences = list(sample.iter_intelligences())
    assert len(intelligences) == len(NETWORKS) + 1
    for i in intelligences:
        sample.get_architecture(i.arch_id)
        for memory_id in json.loads(i.memories_json):
            sample.get_memory(memory_id)
        assert 0 < i.maturity <= 1 and i.updated_at >= i.created_at
    asia = sample.get_intelligence("intel:asia")
    assert asia.maturity == round(sum(float(r["weight"]) for r in csv_edges("asia")) / 8, 6)


def test_full_text_search_finds_the_nodes(sample: OmegaStore) -> None:
    assert sample.search_memories("KINKEDTUBE", limit=1)[0].id == "alarm:KINKEDTUBE"


# ----- determinism and building ------------------------------------------------------------------


def test_two_builds_are_identical(tmp_path: Path, dump: dict[str, list[tuple]]) -> None:
    other = tmp_path / "again.db"
    build_sample_store(other).close()
    assert table_dump(other) == dump


def test_records_do_not_depend_on_the_data_dir_location(tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(REPO_DATA, copy)
    assert sample_records(copy) == sample_records()


def test_existing_file_is_refused_then_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"keep me")
    with pytest.raises(ConflictError, match="already exists; pass overwrite=True"):
        build_sample_store(path)
    assert path.read_bytes() == b"keep me"
    with build_sample_store(path, overwrite=True) as store:
        assert store.get_statistics().memory_count == 114
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("s.db-")) == ["s.db"]


def test_failed_build_leaves_no_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO_DATA, data)
    with open(data / "alarm.csv", "a") as f:
        f.write("HR,BP,2.5\n")
    with pytest.raises(EdgeCSVError, match=r"alarm.csv, line 48: weight = '2.5'"):
        build_sample_store(tmp_path / "s.db", data)
    assert not (tmp_path / "s.db").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_atomic_build_removes_its_temporary_file_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_build(tmp_path / "x.db") as tmp:
        Path(tmp).write_bytes(b"partial")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NotFoundError, match="create it first"), atomic_build(tmp_path / "no" / "x.db"):
        pass


def test_in_memory_build(tmp_path: Path) -> None:
    with build_sample_store(None) as store:
        assert store.path is None and store.get_statistics().reflexion_count > 0


# ----- the edge-CSV reader -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_reader_agrees_with_csv_module(name: str) -> None:
    rows = read_edge_csv(REPO_DATA / f"{name}.csv")
    raw = csv_edges(name)
    assert [(r.source, r.target) for r in rows] == [(r["source"], r["target"]) for r in raw]
    assert [r.weight for r in rows] == [float(r["weight"]) if "weight" in r else None for r in raw]
    assert [r.line for r in rows] == list(range(2, len(raw) + 2))


def test_reader_strips_spaces_skips_blank_lines_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text('\ufeffSource, Target ,WEIGHT\n a , b , 0.5 \n\n"c,1",d,1\n', encoding="utf-8")
    assert read_edge_csv(path) == [EdgeRow(2, "a", "b", 0.5), EdgeRow(4, "c,1", "d", 1.0)]


def test_reader_without_weights(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("source,target\nx,y\n")
    assert read_edge_csv(path) == [EdgeRow(2, "x", "y", None)]


@pytest.mark.parametrize(
    ("body", "line", "match"),
    [
        ("a,b,0.5\nc\n", 3, r"line 3: row = 'c' is invalid: expected 3 columns"),
        ("a,b,0.5,9\n", 2, r"line 2: row = 'a,b,0.5,9' is invalid: expected 3 columns"),
        ("a,b,0.5\nc,d,\n", 3, r"line 3: weight = '' is invalid: expected a number in \[0, 1\]"),
        ("a,b,heavy\n", 2, r"line 2: weight = 'heavy' is invalid: expected a number in \[0, 1\]"),
        ("a,b,1.5\n", 2, r"line 2: weight = '1.5' is invalid"),
        ("a,b,-0.1\n", 2, r"line 2: weight = '-0.1' is invalid"),
        ("a,b,nan\n", 2, r"line 2: weight = 'nan' is invalid"),
        ("a,b,inf\n", 2, r"line 2: weight = 'inf' is invalid"),
        ("a,b,0.1\n\n ,b,0.2\n", 4, r"line 4: source = ' ' is invalid: expected a non-empty memory id"),
        ("a,,0.2\n", 2, r"line 2: target = '' is invalid: expected a non-empty memory id"),
        ('a,b,0.1\n"c,d,0.2\n', 3, r"line 3: row = .* expected well-formed CSV|line 3: row"),
    ],
)
def test_malformed_rows_name_their_line(tmp_path: Path, body: str, line: int, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("source,target,weight\n" + body)
    with pytest.raises(ValidationError, match=match) as info:
        read_edge_csv(path)
    assert isinstance(info.value, EdgeCSVError) and info.value.line == line
    assert str(path) in str(info.value) and "fix or remove that row" in str(info.value)


@pytest.mark.parametrize("header", ["", "from,to\n", "source,target,weight,type\n", "source\n"])
def test_bad_header_is_line_one(tmp_path: Path, header: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header + "a,b\n")
    with pytest.raises(EdgeCSVError, match="line 1: header") as info:
        read_edge_csv(path)
    assert info.value.line == 1


def test_rows_before_a_bad_one_stream_out(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("source,target\na,b\nc,d\ne\n")
    rows = iter_edge_csv(path)
    assert [next(rows).line, next(rows).line] == [2, 3]
    with pytest.raises(EdgeCSVError, match="line 4"):
        next(rows)


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("source,target\nca\xf1a,b\n".encode("latin-1"))
    with pytest.raises(EdgeCSVError, match="expected UTF-8 text"):
        read_edge_csv(path)


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="edge CSV file .*check the path"):
        read_edge_csv(tmp_path / "nope.csv")
    with pytest.raises(NotFoundError, match="node file"):
        read_node_file(tmp_path / "nope.txt")
    with pytest.raises(ValidationError, match="not a directory"):
        read_edge_csv(tmp_path)
