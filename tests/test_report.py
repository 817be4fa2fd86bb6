"""The statistics report: every section, right numbers, self-contained HTML, Markdown linking real PNGs.

Figures the report states are checked against values computed here independently (plain sqlite3,
networkx); what each strongest chain says to control for, against ``minimal_adjustment_set`` on a
fresh snapshot, networkx's d-separation (Pearl's back-door criterion) and a brute force.
"""

from __future__ import annotations

import base64
import dataclasses
import html as htmllib
import itertools
import math
import re
import shutil
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_analytics_beliefs import ref_changes
from test_graph_identification import back_door_graph, dags, digraph, graph_of, ref_valid
from test_graph_reference import fill_store, read_network

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory, ValidationError
from omega_graph.errors import LimitWarning, NotADAGError
from omega_graph.generate import generate_store
from omega_graph.graph import CausalGraph
from omega_graph.report import SECTIONS, ReportFiles, ReportOptions, build_report, write_report
from omega_graph.report._graph_sections import adjustment_cells
from omega_graph.report._model import Table
from omega_graph.sample import build_sample_store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "sample.db"
    build_sample_store(path).close()
    return path


@pytest.fixture(scope="module")
def sample_report(sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    out = tmp_path_factory.mktemp("report-out") / "nested" / "report"
    with OmegaStore(sample_path) as store:
        return write_report(store, out)


@pytest.fixture(scope="module")
def reference(sample_path: Path) -> nx.MultiDiGraph:
    conn = sqlite3.connect(sample_path)
    g = nx.MultiDiGraph()
    g.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
    for eid, u, v, w in conn.execute("SELECT id, from_memory, to_memory, weight FROM causal_edges"):
        g.add_edge(u, v, key=eid, weight=w)
    conn.close()
    return g


def md_table(markdown: str, caption: str) -> list[dict[str, str]]:
    """The rows of the Markdown table under ``**caption**``, as dicts keyed by header."""
    lines = markdown.splitlines()
    start = lines.index(f"**{caption}**") + 2
    header = [c.strip() for c in lines[start].strip("|").split(" | ")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def md_facts(markdown: str) -> dict[str, str]:
    return dict(re.findall(r"^- \*\*(.+?)\*\*: (.+)$", markdown, flags=re.MULTILINE))


# ----- files and structure ----------------------------------------------------------------------------
def test_writes_html_markdown_and_figures(sample_report: ReportFiles) -> None:
    assert sample_report.html.name == "report.html" and sample_report.markdown.name == "report.md"
    assert sample_report.html.parent.is_dir()  # nested output directory created
    names = sorted(p.stem for p in sample_report.figures)
    assert names == sorted(["tier_distribution", "importance_histogram", "degree_distribution",
                            "edge_type_summary", "influence_ranking", "causal_neighbourhood",
                            "activity_timeline"])  # fmt: skip
    for path in sample_report.figures:
        assert path.parent == sample_report.html.parent / "figures"
        assert path.read_bytes().startswith(PNG)


def test_html_has_every_section_and_a_table_of_contents(sample_report: ReportFiles) -> None:
    html = sample_report.html.read_text(encoding="utf-8")
    toc = re.search(r'<nav class="toc".*?</nav>', html, flags=re.DOTALL).group(0)
    assert re.findall(r'href="#([^"]+)"', toc) == [sid for sid, _ in SECTIONS]
    assert re.findall(r'<section id="([^"]+)"', html) == [sid for sid, _ in SECTIONS]
    for _, title in SECTIONS:
        assert f"{title}</h2>" in html


def test_html_is_self_contained(sample_report: ReportFiles) -> None:
    html = sample_report.html.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(?:src|href)="(?!#|data:)', html), "everything must be inline"
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(sample_report.figures) == html.count("<img ")
    embedded = {base64.b64decode(b) for b in images}
    assert embedded == {p.read_bytes() for p in sample_report.figures}


def test_markdown_has_every_section_and_links_the_written_pngs(sample_report: ReportFiles) -> None:
    md = sample_report.markdown.read_text(encoding="utf-8")
    for i, (sid, title) in enumerate(SECTIONS, 1):
        assert f'<a id="{sid}"></a>' in md
        assert f"\n## {i}. {title}\n" in md
        assert f"{i}. [{title}](#{sid})" in md
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", md)
    root = sample_report.markdown.parent
    assert sorted(root / p for p in linked) == sorted(sample_report.figures)
    assert all((root / p).is_file() for p in linked)


# ----- the numbers are right ----------------------------------------------------------------------------
def test_overview_counts_match_the_file(sample_report: ReportFiles, sample_path: Path) -> None:
    facts = md_facts(sample_report.markdown.read_text(encoding="utf-8"))
    conn = sqlite3.connect(sample_path)
    for label, table in [("Memories", "memories"), ("Causal edges", "causal_edges"), ("Vectors", "vectors"),
                         ("Reflexion episodes", "reflexion_episodes"), ("Skills", "skills"),
                         ("Architectures", "architectures"), ("Intelligences", "intelligences")]:  # fmt: skip
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert facts[label] == f"{n:,}"
    conn.close()


def test_tier_table_matches_the_file(sample_report: ReportFiles, sample_path: Path) -> None:
    rows = md_table(sample_report.markdown.read_text(encoding="utf-8"), "Memories per tier")
    conn = sqlite3.connect(sample_path)
    expected = conn.execute("SELECT tier, count(*), avg(importance), max(importance) FROM memories "
                            "GROUP BY tier ORDER BY tier").fetchall()  # fmt: skip
    conn.close()
    assert [(int(r["tier"]), int(r["memories"]), r["mean"], r["max"]) for r in rows] == [
        (t, n, f"{mean:.3f}", f"{mx:.3f}") for t, n, mean, mx in expected
    ]


def _strongest(g: nx.MultiDiGraph, s: str, t: str) -> float:
    simple = nx.DiGraph()
    for u, v, w in g.edges(data="weight"):
        if w > 0 and (not simple.has_edge(u, v) or simple[u][v]["w"] < w):
            simple.add_edge(u, v, w=w, cost=-math.log(w))
    path = nx.dijkstra_path(simple, s, t, weight="cost")
    return math.prod(simple[u][v]["w"] for u, v in zip(path, path[1:], strict=False))


def test_strongest_chains_are_strongest_paths(sample_report: ReportFiles, reference: nx.MultiDiGraph) -> None:
    rows = md_table(sample_report.markdown.read_text(encoding="utf-8"), "Strongest chains")
    assert 1 <= len(rows) <= ReportOptions().chains
    strengths = [float(r["strength"]) for r in rows]
    assert strengths == sorted(strengths, reverse=True)
    for r in rows:
        assert float(r["strength"]) == pytest.approx(_strongest(reference, r["from"], r["to"]), rel=1e-3)
        chain = r["chain (edge weights on the arrows)"]
        assert chain.startswith(r["from"] + " ") and chain.endswith("→ " + r["to"])
        assert chain.count("→") == int(r["edges"])


def test_most_influential_is_networkx_pagerank(
    sample_report: ReportFiles, reference: nx.MultiDiGraph
) -> None:
    simple = nx.DiGraph()
    simple.add_nodes_from(reference)
    for u, v, w in reference.edges(data="weight"):
        simple.add_edge(u, v, weight=simple.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)
    md = sample_report.markdown.read_text(encoding="utf-8")
    for caption, graph in [("Most influential memories (PageRank)", simple),
                           ("Strongest drivers (PageRank on the reversed graph)", simple.reverse())]:  # fmt: skip
        pr = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=10_000)  # converged
        expected = sorted(pr, key=lambda m: (-pr[m], m))[: ReportOptions().top]
        rows = md_table(md, caption)
        assert [r["memory"] for r in rows] == expected
        assert [float(r["score"]) for r in rows] == pytest.approx([pr[m] for m in expected], rel=1e-3)


def test_cycles_are_reported_for_a_cyclic_graph(sample_report: ReportFiles) -> None:
    md = sample_report.markdown.read_text(encoding="utf-8")
    assert md_facts(md)["Acyclic"] == "no (has cycles)"
    (row,) = md_table(md, "Cycles found")
    nodes = row["cycle"].split(" → ")
    assert nodes[0] == nodes[-1] and int(row["length"]) == len(nodes) - 1 == 3
    assert {n.split(":")[1] for n in nodes} == {"PIP2", "PIP3", "plcg"}


def test_lineage_is_root_first(sample_report: ReportFiles) -> None:
    rows = md_table(sample_report.markdown.read_text(encoding="utf-8"), "Longest lineages")
    top = rows[0]
    assert top["architecture"] == "arch:omega-agent" and top["generations"] == "5"
    assert top["lineage (root first)"].split(" → ") == [
        "arch:expert-elicited", "arch:score-search", "arch:continuous-dag", "arch:graph-neural", "arch:omega-agent"
    ]  # fmt: skip
    # a lineage contained in a longer one is not repeated
    assert all(r["architecture"] not in top["lineage (root first)"].split(" → ")[:-1] for r in rows[1:])


def test_reflexion_outcomes_match_the_file(sample_report: ReportFiles, sample_path: Path) -> None:
    rows = md_table(sample_report.markdown.read_text(encoding="utf-8"), "Episodes per outcome")
    conn = sqlite3.connect(sample_path)
    expected = dict(conn.execute("SELECT outcome, count(*) FROM reflexion_episodes GROUP BY outcome"))
    conn.close()
    assert {r["outcome"]: int(r["episodes"]) for r in rows} == expected


# ----- any store ---------------------------------------------------------------------------------------
def test_empty_store_says_no_data(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "empty.db") as store:
        files = write_report(store, tmp_path / "out")
    assert files.figures == []
    md = files.markdown.read_text(encoding="utf-8")
    html = files.html.read_text(encoding="utf-8")
    for sid, _ in SECTIONS[1:]:
        section = re.search(rf'<section id="{sid}".*?</section>', html, flags=re.DOTALL).group(0)
        assert '<p class="empty">No data' in section
    assert md.count("_No data") == len(SECTIONS) - 1
    assert md_facts(md)["Memories"] == "0"


def test_memories_without_edges(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "m.db") as store:
        store.store_memories([StoredMemory(f"m{i}", "note", 1 + i % 4, i / 10, None, 1_764_000_000 + 3600 * i, 0)
                              for i in range(10)])  # fmt: skip
        files = write_report(store, tmp_path / "out")
    assert sorted(p.stem for p in files.figures) == [
        "activity_timeline",
        "importance_histogram",
        "tier_distribution",
    ]
    md = files.markdown.read_text(encoding="utf-8")
    assert "_No data: the store holds no causal edges._" in md
    assert "_No data: influence and chains need causal edges._" in md


def test_in_memory_store(tmp_path: Path) -> None:
    with build_sample_store(None) as store:
        report = build_report(store)
    assert [s.id for s in report.sections] == [sid for sid, _ in SECTIONS]
    assert report.source == "in-memory store"
    # the sample holds published networks, with no belief history: that section says so
    assert [s.id for s in report.sections if s.empty] == ["beliefs"]


@pytest.mark.parametrize("name", ["omega-rust-asia.db", "omega-rust-sachs_cdt_consensus.db"])
def test_files_written_by_the_original_crate(compat_copy, tmp_path: Path, name: str) -> None:
    path = compat_copy(name)
    with OmegaStore(path) as store:
        stats = store.get_statistics()
        files = write_report(store, tmp_path / "out")
    md = files.markdown.read_text(encoding="utf-8")
    assert md_facts(md)["Causal edges"] == str(stats.causal_edge_count)
    assert md_facts(md)["Acyclic"] == ("no (has cycles)" if "sachs_cdt" in name else "yes (a DAG)")
    assert len(md_table(md, "Skills by success count")) == stats.skill_count
    assert len(files.figures) == 7


def test_values_of_the_wrong_type_do_not_stop_the_report(tmp_path: Path) -> None:
    path = tmp_path / "typed.db"
    build_sample_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE skills SET success_count = 'many' WHERE name = 'find_root_cause'")
    conn.execute("UPDATE intelligences SET maturity = 'grown' WHERE id = 'intel:asia'")
    conn.execute("UPDATE memories SET created_at = 'yesterday' WHERE id = 'asia:tub'")
    conn.commit()
    conn.close()
    with OmegaStore(path) as store, warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        files = write_report(store, tmp_path / "out")
    md = files.markdown.read_text(encoding="utf-8")
    skills = {r["name"]: r["successes"] for r in md_table(md, "Skills by success count")}
    assert skills["find_root_cause"] == "—" and len(skills) == 9  # read as missing, still listed
    intel = {r["intelligence"]: r["maturity"] for r in md_table(md, "Most mature intelligences")}
    assert intel["intel:asia"] == "—"
    assert sum(int(r["memories"]) for r in md_table(md, "Memories per tier")) == 114
    assert "Data quality: 3 stored values do not have their column's type" in md
    assert "`skills.success_count` (1)" in md


def test_large_store_report_stays_bounded(tmp_path: Path) -> None:
    """Tables are capped and figures aggregated: the report's size does not grow with the store."""
    with generate_store(tmp_path / "big.db", 20_000, 60_000, seed=3, reflexions=2_000) as store:
        options = ReportOptions(top=7, chains=3, chain_sources=3)
        files = write_report(store, tmp_path / "out", options=options)
    md = files.markdown.read_text(encoding="utf-8")
    for caption in ["Most important memories", "Best-connected memories", "Most influential memories (PageRank)",
                    "Strongest drivers (PageRank on the reversed graph)"]:  # fmt: skip
        assert len(md_table(md, caption)) == 7
    assert 1 <= len(md_table(md, "Strongest chains")) <= 3
    assert "Top 7 of 20,000 memories." in md
    assert len(md_table(md, "Cycles found")) == 7  # the generator adds back edges: many cycles, 7 shown
    assert files.html.stat().st_size < 3_000_000


# ----- the interface -----------------------------------------------------------------------------------
def test_progress_is_reported_step_by_step(sample_path: Path, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    with OmegaStore(sample_path) as store:
        write_report(store, tmp_path, progress=lambda step, done, total: calls.append((step, done, total)))
    total = calls[0][2]
    assert total == len(SECTIONS) + 1
    assert [done for _, done, _ in calls] == list(range(total + 1))
    assert all(t == total for _, _, t in calls)
    assert calls[0][0] == "overview" and calls[-1] == ("done", total, total)


def test_rewriting_replaces_the_files(sample_path: Path, tmp_path: Path) -> None:
    with OmegaStore(sample_path) as store:
        first = write_report(store, tmp_path)
        second = write_report(store, tmp_path)
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "report.html", "report.md"]
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "figures").glob(".*"))


def test_out_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    with OmegaStore.new_in_memory() as store, pytest.raises(ValidationError, match="out_dir"):
        write_report(store, target)


@pytest.mark.parametrize("field", ["top", "chains", "neighbourhood_radius", "histogram_bins"])
@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_report_options_are_validated(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        ReportOptions(**{field: value})


def test_zero_weight_and_parallel_edges_are_noted(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "p.db") as store:
        store.store_memories([StoredMemory(m, m, 1, 0.5, None, 1_764_000_000, 0) for m in "abc"])
        store.store_causal_edges([
            StoredCausalEdge("e1", "a", "b", 0.9, "causes", 1_764_000_100),
            StoredCausalEdge("e2", "a", "b", 0.4, "enables", 1_764_000_200),
            StoredCausalEdge("e3", "b", "c", 0.0, "correlates", 1_764_000_300),
        ])  # fmt: skip
        files = write_report(store, tmp_path / "out")
    md = files.markdown.read_text(encoding="utf-8")
    assert "1 edges have weight 0" in md
    assert "1 edges run parallel to another edge" in md
    (chain,) = md_table(md, "Strongest chains")
    assert (chain["from"], chain["to"], chain["strength"]) == ("a", "b", "0.9")


def test_sample_report_can_be_copied_anywhere(sample_report: ReportFiles, tmp_path: Path) -> None:
    """The HTML needs nothing beside it: a lone copy still holds every figure."""
    lone = tmp_path / "lone.html"
    shutil.copyfile(sample_report.html, lone)
    assert lone.read_text(encoding="utf-8").count("data:image/png;base64,") == len(sample_report.figures)


# ----- what to control for along each chain ------------------------------------------------------------
#: The "minimal sets" cell counts up to this many (the report's ``adjustment_sets(..., limit=20)``).
COUNT_LIMIT = 20
CONTROL, COUNT = "control for", "minimal sets"


def _edges_store(path: Path, edges: list[tuple[str, str, float]]) -> None:
    nodes = sorted({n for u, v, _ in edges for n in (u, v)})
    with OmegaStore(path) as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 1_764_000_000, 0) for m in nodes)
        store.store_causal_edges(StoredCausalEdge(f"e{k}", u, v, w, "causes", 1_764_000_000 + k)
                                 for k, (u, v, w) in enumerate(edges))  # fmt: skip


def _network_store(name: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with OmegaStore(path) as store:
            fill_store(store, *read_network(name))

    return build


#: name -> (how to build the store file, a row the report must show: (from, to, control for, minimal
#: sets), None for "any row", with "*" for any value). Between them: empty sets, sets of 1 to 3
#: members, counts above 1, "20+", a cycle among the causes, a target that causes its source.
CHAIN_STORES: dict[str, tuple[Callable[[Path], None], tuple[str, str, str, str]]] = {
    "sample": (lambda p: build_sample_store(p).close(),
               ("sachs_cdt_consensus:PIP2", "sachs_cdt_consensus:p44/42",
                "not identifiable: a cycle among their causes (sachs_cdt_consensus:PIP2 → "
                "sachs_cdt_consensus:PIP3 → sachs_cdt_consensus:plcg → sachs_cdt_consensus:PIP2)", "—")),
    "insurance": (_network_store("insurance"), ("Accident", "PropCost", "Antilock, DrivQuality, Mileage", "18")),
    "child": (_network_store("child"), ("HypoxiaInO2", "LowerBodyO2", "HypDistrib", "4")),
    "generated-dag": (lambda p: generate_store(p, 200, 600, seed=2, back_edge_fraction=0.0).close(),
                      ("*", "*", "*", f"{COUNT_LIMIT}+")),
    # p -> q -> p upstream of x -> m -> y: x's effect on y is not identifiable by adjustment
    "cycle-among-causes": (lambda p: _edges_store(p, [("p", "q", 0.9), ("q", "p", 0.9), ("q", "x", 0.9),
                                                      ("x", "m", 0.9), ("m", "y", 0.9)]),
                           ("x", "y", "not identifiable: a cycle among their causes (p → q → p)", "—")),
    # the chain b -> a, whose target a causes b directly: that edge closes a cycle among their causes,
    # so the report says "not identifiable" (never "no valid set": see test_no_valid_set_wording)
    "target-causes-source": (lambda p: _edges_store(p, [("d", "a", 0.9), ("a", "b", 0.9), ("b", "a", 0.2)]),
                             ("b", "a", "not identifiable: a cycle among their causes (a → b → a)", "—")),
}  # fmt: skip


#: ``(store name, store path, rows of the "Strongest chains" table)``.
ChainReport = tuple[str, Path, list[dict[str, str]]]


@pytest.fixture(scope="module", params=sorted(CHAIN_STORES))
def chain_report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ChainReport:
    """``(name, store path, Strongest-chains rows)``; the report is written with LimitWarning as an error."""
    name = request.param
    root = tmp_path_factory.mktemp(f"chains-{name}")
    path = root / "store.db"
    CHAIN_STORES[name][0](path)
    with OmegaStore(path) as store, warnings.catch_warnings():
        warnings.simplefilter("error", LimitWarning)  # one escaping from the report fails the fixture
        files = write_report(store, root / "out")
    md = files.markdown.read_text(encoding="utf-8")
    html = files.html.read_text(encoding="utf-8")
    assert f'<th scope="col">{CONTROL}</th>' in html and "`omega-graph adjust DB X Y`" in md
    return name, path, md_table(md, "Strongest chains")


def _reference_digraph(path: Path) -> nx.DiGraph:
    conn = sqlite3.connect(path)
    d = nx.DiGraph()
    d.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
    d.add_edges_from(conn.execute("SELECT from_memory, to_memory FROM causal_edges"))
    conn.close()
    return d


def _back_door_valid(d: nx.DiGraph, x: str, y: str, z: set[str]) -> bool:
    """Pearl's back-door criterion by networkx, on the ancestral subgraph of x, y and z (acyclic here,
    as d-separation needs, even when the whole graph is not; it decides the same question)."""
    keep = {x, y} | z
    for v in list(keep):
        keep |= nx.ancestors(d, v)
    sub = nx.DiGraph(d.subgraph(keep))
    assert nx.is_directed_acyclic_graph(sub), (x, y, z)
    return not (z & nx.descendants(sub, x)) and nx.is_d_separator(back_door_graph(sub, x), {x}, {y}, z)


def _sets_and_more(g: CausalGraph, x: str, y: str) -> tuple[list[frozenset[str]], bool]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sets = g.adjustment_sets(x, y, limit=COUNT_LIMIT)
    return sets, any(issubclass(w.category, LimitWarning) for w in caught)


def test_control_for_is_the_minimal_adjustment_set(chain_report: ChainReport) -> None:
    name, path, rows = chain_report
    d = _reference_digraph(path)
    with OmegaStore(path) as store:
        g = store.causal_graph()  # a fresh snapshot, not the report's
        for r in rows:
            x, y = r["from"], r["to"]
            try:
                z = g.minimal_adjustment_set(x, y)
            except NotADAGError as err:
                cycle = [*err.cycle, err.cycle[0]]
                assert r[CONTROL] == f"not identifiable: a cycle among their causes ({' → '.join(cycle)})"
                assert r[COUNT] == "—"
                # a real cycle, among the causes of the pair (the pair included)
                assert all(d.has_edge(u, v) for u, v in itertools.pairwise(cycle))
                causes = nx.ancestors(d, x) | nx.ancestors(d, y) | {x, y}
                assert set(cycle) <= causes
                continue
            assert z is not None, "a chain's target never causes its source without a cycle"
            assert r[CONTROL] == (", ".join(sorted(z)) if z else "nothing (no open back-door path)")
            assert _back_door_valid(d, x, y, set(z)), (x, y, z)
            for member in z:  # the smallest valid set: dropping any member breaks it
                assert not _back_door_valid(d, x, y, set(z) - {member}), (x, y, z, member)
            sets, more = _sets_and_more(g, x, y)
            assert sets[0] == z
            assert r[COUNT] == (f"{COUNT_LIMIT}+" if more else str(len(sets)))


def test_the_chains_table_shows_each_wording(chain_report: ChainReport) -> None:
    name, _, rows = chain_report
    want = CHAIN_STORES[name][1]
    shown = [(r["from"], r["to"], r[CONTROL], r[COUNT]) for r in rows]
    assert any(all(w in ("*", got) for w, got in zip(want, row, strict=True)) for row in shown), shown
    assert list(rows[0]) == ["from", "to", "edges", "strength", CONTROL, COUNT,
                             "chain (edge weights on the arrows)"]  # fmt: skip


def test_no_limit_warning_escapes_the_report(tmp_path: Path) -> None:
    path = tmp_path / "dag.db"
    CHAIN_STORES["generated-dag"][0](path)
    with OmegaStore(path) as store:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = build_report(store)
        assert not [w for w in caught if issubclass(w.category, LimitWarning)]
        (table,) = [b for s in report.sections for b in s.blocks
                    if isinstance(b, Table) and b.caption == "Strongest chains"]  # fmt: skip
        count = table.columns.index(COUNT)
        many = [row for row in table.rows if row[count] == f"{COUNT_LIMIT}+"]
        assert many
        g = store.causal_graph()
        for row in many:  # the report did meet the warning, and kept it in
            with pytest.warns(LimitWarning, match=f"limit={COUNT_LIMIT}"):
                g.adjustment_sets(row[0], row[1], limit=COUNT_LIMIT)


@pytest.mark.parametrize(
    ("edges", "x", "y", "cells"),
    [
        ([("c", "x"), ("c", "y"), ("x", "y")], "x", "y", ("c", "1")),
        ([("c", "x"), ("c", "y"), ("x", "y")], "c", "y", ("nothing (no open back-door path)", "1")),
        # x <- a -> k <- b -> y: the collider k already blocks the back-door path
        ([("a", "x"), ("a", "k"), ("b", "k"), ("b", "y"), ("x", "y")], "x", "y",
         ("nothing (no open back-door path)", "1")),
        # two confounders, each through a chain: {a, b}, {a, b2}, {a2, b}, {a2, b2}; ties by id
        ([("a", "a2"), ("a2", "x"), ("a", "y"), ("b", "b2"), ("b2", "x"), ("b", "y"), ("x", "y")], "x", "y",
         ("a, b", "4")),
        ([("y", "x")], "x", "y", ("no valid set (y causes x directly)", "0")),
        ([("a", "b"), ("b", "a"), ("a", "x"), ("x", "y")], "x", "y",
         ("not identifiable: a cycle among their causes (a → b → a)", "—")),
        ([("x", "y"), ("y", "r"), ("r", "s"), ("s", "r")], "x", "y", ("nothing (no open back-door path)", "1")),
    ],
    ids=["confounder", "root", "collider", "tie-by-id", "y-causes-x", "cycle-upstream", "cycle-downstream"],
)  # fmt: skip
def test_adjustment_cells(edges: list[tuple[str, str]], x: str, y: str, cells: tuple[str, str]) -> None:
    nodes = sorted({n for e in edges for n in e})
    assert adjustment_cells(graph_of(nodes, edges), x, y) == cells


def test_no_valid_set_wording_needs_a_target_that_is_a_parent() -> None:
    """A target that causes its source directly has no valid set; in a chain that edge always closes a
    cycle, so the report's chains say "not identifiable" instead (CHAIN_STORES["target-causes-source"])."""
    g = graph_of(["a", "b", "c"], [("b", "a"), ("c", "a"), ("c", "b")])
    assert g.minimal_adjustment_set("a", "b") is None
    assert adjustment_cells(g, "a", "b") == ("no valid set (b causes a directly)", "0")


def _brute_force_cells(d: nx.DiGraph, x: str, y: str) -> tuple[str, str]:
    pool = sorted(set(d) - {x, y} - nx.descendants(d, x))
    valid = [frozenset(c) for k in range(len(pool) + 1) for c in itertools.combinations(pool, k)
             if ref_valid(d, x, y, set(c))]  # fmt: skip
    if not valid:
        return f"no valid set ({y} causes {x} directly)", "0"
    best = min(valid, key=lambda s: (len(s), sorted(s)))
    minimal = [s for s in valid if not any(t < s for t in valid)]
    count = f"{COUNT_LIMIT}+" if len(minimal) > COUNT_LIMIT else str(len(minimal))
    return (", ".join(sorted(best)) if best else "nothing (no open back-door path)"), count


@settings(max_examples=60)
@given(dag=dags(), data=st.data())
def test_adjustment_cells_match_brute_force(
    dag: tuple[list[str], list[tuple[str, str]]], data: st.DataObject
) -> None:
    nodes, edges = dag
    g = graph_of(nodes, edges)
    x, y = data.draw(st.permutations(nodes))[:2]
    assert adjustment_cells(g, x, y) == _brute_force_cells(digraph(g), x, y)


# ----- how the causal beliefs changed (issue 13) ---------------------------------------------------------
def _belief_history(store: OmegaStore) -> None:
    """Invalidations (one by one and in bulk), a reinstatement, validity windows and weight updates."""
    edges = sorted(store.iter_causal_edges(), key=lambda e: e.id)
    t = max(e.created_at for e in edges)  # a belief is withdrawn after the edge was created
    store.invalidate_causal_edge(edges[0].id, at=t + 2 * 86_400, reason="refuted by a later episode")
    store.reinstate_causal_edge(edges[0].id, at=t + 6 * 86_400, reason="seen again | after the redeploy")
    store.invalidate_causal_edge(edges[0].id, at=t + 9 * 86_400)
    store.invalidate_causal_edges(
        [e.id for e in edges[1:6]], at=t + 4 * 86_400, reason="stale after redeploy"
    )
    for e in edges[6:9]:
        store.set_edge_validity(e.id, valid_from=t, valid_to=t + 30 * 86_400)
    for w in (0.11, 0.22):
        store.store_causal_edge(dataclasses.replace(edges[9], weight=w))


@pytest.fixture(scope="module")
def belief_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("beliefs") / "sample.db"
    with build_sample_store(path) as store:
        _belief_history(store)
    return path


def _section_html(html: str, sid: str) -> str:
    return re.search(rf'<section id="{sid}".*?</section>', html, flags=re.DOTALL).group(0)


def _html_table(section: str, caption: str) -> list[list[str]]:
    table = re.search(rf"<caption>{re.escape(caption)}</caption>.*?<tbody>(.*?)</tbody>", section, re.DOTALL)
    return [[htmllib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1))]  # fmt: skip


def test_beliefs_section_shows_the_most_revised_edges(belief_path: Path, tmp_path: Path) -> None:
    top = ReportOptions().top
    want = ref_changes(belief_path, top)  # (edge, changes, last reason) from the file's rows
    assert len(want) == top and {n for _, n, _ in want} >= {3, 2, 1}
    with OmegaStore(belief_path) as store:
        files = write_report(store, tmp_path / "out")
    ids = [sid for sid, _ in SECTIONS]
    assert ids.index("beliefs") == ids.index("chains-influence") + 1  # right after the graph sections
    md = files.markdown.read_text(encoding="utf-8")
    rows = md_table(md, "Most revised edges")
    assert [(r["edge"], int(r["changes"]), r["last reason"]) for r in rows] == [
        (e, n, "—" if r is None else r) for e, n, r in want
    ]
    html = files.html.read_text(encoding="utf-8")
    section = _section_html(html, "beliefs")
    assert "How the causal beliefs changed</h2>" in section and '<p class="empty">' not in section
    cells = _html_table(section, "Most revised edges")
    assert [(c[0], int(c[4]), c[5]) for c in cells] == [(e, n, "—" if r is None else r) for e, n, r in want]
    conn = sqlite3.connect(belief_path)
    state = dict(
        conn.execute(
            "SELECT edge_id, event FROM omega_edge_events WHERE event IN ('invalidated', 'reinstated') ORDER BY seq"
        ).fetchall()
    )  # the last one per edge wins
    ends = {
        i: f"{u} → {v}" for i, u, v in conn.execute("SELECT id, from_memory, to_memory FROM causal_edges")
    }
    conn.close()
    assert [c[3] for c in cells] == ["no" if state.get(c[0]) == "invalidated" else "yes" for c in cells]
    assert [c[1] for c in cells] == [ends[c[0]] for c in cells]
    assert 'id="fig-edge_churn"' in section
    assert "edge_churn" in [p.stem for p in files.figures]


def test_beliefs_section_facts_match_the_file(belief_path: Path, tmp_path: Path) -> None:
    with OmegaStore(belief_path) as store:
        md = write_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    conn = sqlite3.connect(belief_path)
    events = dict(conn.execute("SELECT event, count(*) FROM omega_edge_events GROUP BY event").fetchall())
    weights = conn.execute("SELECT count(*) FROM omega_edge_weight_log").fetchone()[0]
    latest = conn.execute(
        "SELECT edge_id, event FROM omega_edge_events WHERE event IN ('invalidated', 'reinstated') ORDER BY seq"
    ).fetchall()
    conn.close()
    state = dict(latest)  # the last one per edge wins
    facts = md_facts(md)
    assert facts["Invalidations"] == str(events["invalidated"]) == "7"
    assert facts["Reinstatements"] == str(events["reinstated"]) == "1"
    assert facts["Validity windows set"] == str(events["validity_set"]) == "3"
    assert facts["Weight changes"] == str(weights) == "2"
    assert facts["Invalidated now"] == str(sum(v == "invalidated" for v in state.values())) == "6"
    assert facts["Edges revised"] == str(len(ref_changes(belief_path, 10**6))) == "10"
    conn = sqlite3.connect(belief_path)
    total = conn.execute("SELECT count(*) FROM causal_edges").fetchone()[0]
    conn.close()
    withdrawn = sum(v == "invalidated" for v in state.values())
    overview = md.split("## 1. Overview", 1)[1].split("\n## ", 1)[0]
    assert f"linked by {total} causal edges ({withdrawn} of them invalidated now: the chains" in overview


def test_overview_names_no_invalidated_edges_when_there_are_none(tmp_path: Path) -> None:
    with generate_store(tmp_path / "plain.db", memories=30, edges=60, seed=3) as store:
        md = write_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    overview = md.split("## 1. Overview", 1)[1].split("\n## ", 1)[0]
    assert "linked by 60 causal edges;" in overview and "invalidated now" not in overview


def test_beliefs_section_is_capped(belief_path: Path, tmp_path: Path) -> None:
    with OmegaStore(belief_path) as store:
        md = write_report(store, tmp_path / "out", options=ReportOptions(top=3)).markdown.read_text("utf-8")
    rows = md_table(md, "Most revised edges")
    assert [(r["edge"], int(r["changes"])) for r in rows] == [
        (e, n) for e, n, _ in ref_changes(belief_path, 3)
    ]
    assert "Top 3 of 10 revised edges." in md


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_beliefs_section_says_no_data_without_changes(tmp_path: Path, kind: str) -> None:
    with build_sample_store(tmp_path / "plain.db" if kind == "file" else None) as store:
        report = build_report(store)
    section = next(s for s in report.sections if s.id == "beliefs")
    assert section.empty is not None and section.empty.startswith("No data")
    assert section.figures == []


def test_beliefs_no_data_in_html_and_markdown(sample_report: ReportFiles) -> None:
    """The sample store has edges but no invalidation, reinstatement, validity or weight change."""
    md = sample_report.markdown.read_text(encoding="utf-8")
    start = md.index('<a id="beliefs"></a>')
    part = md[start : md.index("<a id=", start + 1)]
    assert "## 5. How the causal beliefs changed" in part
    assert (
        "_No data: no causal edge was invalidated, reinstated, given a validity window or re-weighted._"
        in part
    )
    section = _section_html(sample_report.html.read_text(encoding="utf-8"), "beliefs")
    assert '<p class="empty">No data: no causal edge was invalidated' in section
    assert "<table" not in section and "<img" not in section


def test_beliefs_section_of_an_in_memory_store() -> None:
    """Read through the in-memory store's snapshot: the most revised edge is the first one (3 changes)."""
    with build_sample_store(None) as store:
        _belief_history(store)
        first = min(e.id for e in store.iter_causal_edges())
        report = build_report(store)
    section = next(s for s in report.sections if s.id == "beliefs")
    assert section.empty is None
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.columns == ["edge", "cause → effect", "weight", "believed now", "changes", "last reason"]
    assert table.rows[0][0] == first and table.rows[0][4] == "3"
    assert table.rows[0][3] == "no" and table.rows[0][5] == "—"  # its latest invalidation gave no reason
