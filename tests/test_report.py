"""The statistics report: every section, right numbers, self-contained HTML, Markdown linking real PNGs.

Figures the report states are checked against values computed here independently (plain sqlite3,
networkx).
"""

from __future__ import annotations

import base64
import math
import re
import shutil
import sqlite3
import warnings
from pathlib import Path

import networkx as nx
import pytest

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory, ValidationError
from omega_graph.generate import generate_store
from omega_graph.report import SECTIONS, ReportFiles, ReportOptions, build_report, write_report
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
    assert all(not s.empty for s in report.sections)


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
