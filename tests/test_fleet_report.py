"""The fleet report (``write_fleet_report``): its numbers against references computed from the store
files with plain sqlite3 and pandas, its links, its caps, and one real-browser check.

The fleet is real: generated agent stores, one much larger and denser store (an outlier by
construction), an empty store and a text file the export skips; exported to Parquet by
``omega_graph.fleet.export``. Every reference is written from the definition (counts and means
over the rows of each file, quantiles with numpy, the modified z-score from its formula, the
engine's answers on each store file), never from the report's own code.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_report_browser import LAPTOP, open_report

from omega_graph import OmegaStore
from omega_graph.errors import NotFoundError, ValidationError
from omega_graph.fleet import export, generate
from omega_graph.fleet._layout import Manifest, write_manifest
from omega_graph.generate import generate_store
from omega_graph.report import ReportFiles
from omega_graph.report._fleet import FLEET_SECTIONS, FleetReportOptions, Links, write_fleet_report

STORES = 12  # generated agents, plus the big one and the empty one


# ----- the fleet and its references ---------------------------------------------------------------------
@dataclass(frozen=True)
class Fleet:
    out: Path
    files: dict[str, Path]  # store id -> file
    ref: pd.DataFrame  # one row per store, from sqlite3: store, path, counts, means
    memories: pd.DataFrame  # every memory of the fleet (store, id, tier, importance, created_at)
    edges: (
        pd.DataFrame
    )  # every causal edge (store, id, from_memory, to_memory, weight, edge_type, created_at)
    created: pd.Series  # created_at of every memory, edge and reflexion episode of the fleet


def _rows(path: Path, sql: str) -> pd.DataFrame:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return pd.read_sql_query(sql, conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("fleet-report")
    src = root / "stores"
    generate(src, stores=STORES, seed=4, edges=(30, 120))
    generate_store(src / "big.db", memories=40, edges=2_000, seed=9).close()  # dense: an outlier
    OmegaStore(src / "empty.db").close()
    (src / "notes.txt").write_text("not a store")
    result = export([src], root / "export")
    assert len(result.exported) == STORES + 2 and [Path(p).name for p, _ in result.skipped] == ["notes.txt"]
    files, rows, memories, edges, created = {}, [], [], [], []
    for entry in result.manifest.stores:
        path = Path(entry.path)
        files[entry.store_id] = path
        m = _rows(path, "SELECT id, tier, importance, created_at FROM memories").assign(store=entry.store_id)
        e = _rows(path, "SELECT * FROM causal_edges").assign(store=entry.store_id)
        r = _rows(path, "SELECT created_at FROM reflexion_episodes")
        n = _rows(
            path, "SELECT (SELECT count(*) FROM vectors) AS v, (SELECT count(*) FROM reflexion_episodes) AS r"
        )
        memories.append(m)
        edges.append(e)
        created += [m["created_at"], e["created_at"], r["created_at"]]
        rows.append({"store": entry.store_id, "path": str(path), "memories": len(m), "causal_edges": len(e),
                     "vectors": int(n["v"][0]), "reflexion_episodes": int(n["r"][0]),
                     "mean_importance": m["importance"].mean(), "mean_weight": e["weight"].mean()})  # fmt: skip
    ref = pd.DataFrame(rows)
    ref["edges_per_memory"] = ref["causal_edges"] / ref["memories"].where(ref["memories"] > 0)
    return Fleet(root / "export", files, ref, pd.concat(memories, ignore_index=True),
                 pd.concat(edges, ignore_index=True), pd.concat(created, ignore_index=True).dropna())  # fmt: skip


@pytest.fixture(scope="module")
def report(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_fleet_report(fleet.out, tmp_path_factory.mktemp("report") / "fleet-report")


@pytest.fixture(scope="module")
def md(report: ReportFiles) -> str:
    return report.markdown.read_text()


def section(md: str, sid: str) -> str:
    start = md.index(f'<a id="{sid}"></a>')
    nxt = md.find('<a id="', start + 1)
    return md[start : nxt if nxt > 0 else len(md)]


def md_table(text: str, caption: str) -> list[dict[str, str]]:
    """The rows of the Markdown table under ``**caption**``, as {header: cell}."""
    lines = text[text.index(f"\n**{caption}**\n") + 1 :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append(line)
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in rows]
    header, body = cells[0], cells[2:]
    return [dict(zip(header, row, strict=True)) for row in body]


def link(cell: str) -> tuple[str, Path]:
    m = re.fullmatch(r"\[(.+)\]\((file://[^)]+)\)", cell)
    assert m, cell
    return m.group(1), Path(unquote(urlparse(m.group(2)).path))


def number(cell: str) -> float:
    return float("nan") if cell == "—" else float(cell.replace(",", ""))


# ----- sections and their numbers -----------------------------------------------------------------------
def test_sections_in_order_and_files_written(report: ReportFiles, md: str) -> None:
    ids = re.findall(r'<a id="([^"]+)"></a>', md)
    assert ids == [sid for sid, _ in FLEET_SECTIONS]
    for sid, title in FLEET_SECTIONS:
        assert f"## {[s for s, _ in FLEET_SECTIONS].index(sid) + 1}. {title}" in md
    assert sorted(p.name for p in report.figures) == sorted(
        [
            "store_distributions.png",
            "outlier_stores.png",
            "fleet_tiers.png",
            "fleet_edge_types.png",
            "fleet_activity.png",
        ]  # fmt: skip
    )
    for fig in report.figures:
        assert fig.read_bytes().startswith(b"\x89PNG") and f"](figures/{fig.name})" in md


def test_glance_totals_and_skipped_file(fleet: Fleet, md: str) -> None:
    text = section(md, "fleet")
    assert f"- **Stores**: {STORES + 2}" in text
    assert f"- **Memories**: {fleet.ref['memories'].sum():,}" in text
    assert f"- **Causal edges**: {fleet.ref['causal_edges'].sum():,}" in text
    assert "- **Skipped files**: 1" in text
    skipped = md_table(text, "Files the last export skipped (not in the export)")
    assert (
        len(skipped) == 1
        and skipped[0]["file"].endswith("notes.txt")
        and "not a SQLite database" in skipped[0]["reason"]
    )
    records = {r["records"]: r for r in md_table(text, "Records over the fleet")}
    for column in ("memories", "causal_edges", "vectors", "reflexion_episodes"):
        row, values = records[column.replace("_", " ")], fleet.ref[column]
        assert number(row["fleet total"]) == values.sum() and number(row["min per store"]) == values.min()
        assert number(row["max per store"]) == values.max()
        assert number(row["median per store"]) == pytest.approx(values.median(), abs=0.006)


def test_quantiles_match_numpy_over_the_store_files(fleet: Fleet, md: str) -> None:
    rows = {r["per store"]: r for r in md_table(section(md, "distributions"), "Quantiles across stores")}
    qs = {"min": 0, "5 %": 0.05, "25 %": 0.25, "median": 0.5, "75 %": 0.75, "95 %": 0.95, "max": 1}
    for column, label, tol in (("memories", "memories", 0.006), ("causal_edges", "causal edges", 0.006),
                               ("mean_importance", "mean importance", 5e-4), ("mean_weight", "mean weight", 5e-4)):  # fmt: skip
        values = fleet.ref[column].dropna().to_numpy(dtype=float)
        row = rows[label]
        assert number(row["stores"]) == len(values)  # the empty store has no mean
        for header, q in qs.items():
            assert number(row[header]) == pytest.approx(np.quantile(values, q), abs=tol), (label, header)
        assert number(row["mean"]) == pytest.approx(values.mean(), abs=tol)


def _modified_z(values: pd.Series) -> pd.Series:
    med = values.median()
    return 0.6745 * (values - med) / (values - med).abs().median()


def test_outliers_follow_the_modified_z_rule(fleet: Fleet, md: str) -> None:
    measures = {"memories": True, "causal_edges": True, "edges_per_memory": False, "mean_importance": False,
                "mean_weight": False}  # fmt: skip
    expected, per_measure = set(), {}
    for column, log in measures.items():
        values = fleet.ref.set_index("store")[column].dropna().astype(float)
        z = _modified_z(np.log10(1 + values) if log else values)
        expected |= {(s, column.replace("_", " ")) for s in z.index[z.abs() > 3.5]}
        per_measure[column.replace("_", " ")] = (int((z < -3.5).sum()), int((z > 3.5).sum()))
    summary = md_table(section(md, "outliers"), "Outliers per measure")
    assert {r["measure"]: (int(r["stores below"]), int(r["stores above"])) for r in summary} == per_measure
    big = next(s for s, p in fleet.files.items() if p.name == "big.db")
    assert (big, "edges per memory") in expected  # the fleet was built to have this outlier
    rows = md_table(section(md, "outliers"), "Outlier stores")
    assert {(r["store"], r["measure"]) for r in rows} == expected
    sizes = [abs(number(r["modified z"])) for r in rows]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) > 3.5
    for r in rows:
        name, path = link(r["file"])
        assert path == fleet.files[r["store"]] and name == path.name
    assert "modified z-score" in section(md, "outliers") and "Iglewicz" in section(md, "outliers")


VERSIONS = r"-(v\d+)\.db$"


def test_grouped_outliers_follow_the_rule_within_each_group(fleet: Fleet, tmp_path: Path) -> None:
    """``group_by``: each store scored among the stores whose path gives the same label (the rule's
    median and MAD are the group's); a group of fewer than five stores is not scored."""
    options = FleetReportOptions(group_by=VERSIONS, graph_max_stores=0)
    text = section(
        write_fleet_report(fleet.out, tmp_path / "r", options=options).markdown.read_text(), "outliers"
    )
    ref = fleet.ref.set_index("store")
    label = {
        s: (m.group(1) if (m := re.search(VERSIONS, p)) else "(no match)") for s, p in ref["path"].items()
    }
    groups = pd.Series(label)
    assert set(groups) == {"v1", "v2", "(no match)"}  # big.db and empty.db match no version
    measures = {"memories": True, "causal_edges": True, "edges_per_memory": False, "mean_importance": False,
                "mean_weight": False}  # fmt: skip
    expected, per_row = set(), {}
    for column, log in measures.items():
        for group in sorted(set(groups)):
            values = ref.loc[groups.index[groups == group], column].dropna().astype(float)
            scored = np.log10(1 + values) if log else values
            mad = (scored - scored.median()).abs().median()
            key = (column.replace("_", " "), group)
            if len(values) < 5 or mad == 0:
                per_row[key] = ("—", "—", "not scored")
                continue
            z = _modified_z(scored)
            expected |= {(s, group, key[0]) for s in z.index[z.abs() > 3.5]}
            per_row[key] = (str(int((z < -3.5).sum())), str(int((z > 3.5).sum())), "scored")
    summary = md_table(text, "Outliers per measure")
    got = {(r["measure"], r["group"]): (r["stores below"], r["stores above"],
                                        "not scored" if r["not an outlier from"] == "not scored" else "scored")
           for r in summary}  # fmt: skip
    assert got == per_row
    assert any(v[2] == "scored" for v in per_row.values()) and any(
        v[2] == "not scored" for v in per_row.values()
    )
    if not expected:
        assert "No store is an outlier by this rule." in text
    rows = md_table(text, "Outlier stores") if expected else []
    assert {(r["store"], r["group"], r["measure"]) for r in rows} == expected
    for r in rows:
        members = ref.loc[groups.index[groups == r["group"]]]
        column = r["measure"].replace(" ", "_")
        assert number(r["group median"]) == pytest.approx(members[column].median(), rel=1e-3, abs=1e-3)
    sizes = groups.value_counts()
    assert f"groups: (no match) ({sizes['(no match)']}), v1 ({sizes['v1']}), v2 ({sizes['v2']})" in text


def test_one_row_per_store_with_a_link_to_its_file(fleet: Fleet, md: str) -> None:
    rows = md_table(section(md, "stores"), "Stores of the export")
    assert [r["store"] for r in rows] == fleet.ref.sort_values("path")["store"].tolist()
    ref = fleet.ref.set_index("store")
    for r in rows:
        name, path = link(r["file"])
        assert path == fleet.files[r["store"]] and path.is_file() and name == path.name
        expect = ref.loc[r["store"]]
        for column, header in (("memories", "memories"), ("causal_edges", "causal edges"), ("vectors", "vectors"),
                               ("reflexion_episodes", "reflexions")):  # fmt: skip
            assert number(r[header]) == expect[column], (r["store"], header)
        for column, header in (("mean_importance", "mean importance"), ("mean_weight", "mean weight")):
            if np.isnan(expect[column]):
                assert r[header] == "—"
            else:
                assert number(r[header]) == pytest.approx(expect[column], abs=5e-4)


def test_graph_answers_equal_the_engine_on_each_store_file(fleet: Fleet, md: str) -> None:
    rows = md_table(section(md, "graph-answers"), "Graph answers per store")
    assert len(rows) == STORES + 2
    for r in rows:
        path = fleet.files[r["store"]]
        memories = fleet.memories[fleet.memories["store"] == r["store"]]
        edges = fleet.edges[fleet.edges["store"] == r["store"]]
        plain = nx.DiGraph()
        plain.add_nodes_from(memories["id"])
        plain.add_edges_from(zip(edges["from_memory"], edges["to_memory"], strict=True))
        assert r["DAG"] == ("yes" if nx.is_directed_acyclic_graph(plain) else "no"), r["store"]
        assert number(r["SCCs"]) == nx.number_strongly_connected_components(plain)
        with OmegaStore(path) as store:
            graph = store.causal_graph(include_invalidated=True)
            top = graph.influence().memory_id.head(3).tolist() if len(graph) else []
        assert r["top 3 influence"] == (", ".join(top) or "—")
        if r["DAG"] == "no":
            cycle = r["a cycle"].split(" → ")
            assert cycle[0] == cycle[-1] and all(plain.has_edge(a, b) for a, b in itertools.pairwise(cycle))


def test_tiers_and_edge_types_over_the_fleet(fleet: Fleet, md: str) -> None:
    text = section(md, "tiers-edge-types")
    tiers = {
        int(r["tier"]): r
        for r in md_table(text, "Memories per tier over the fleet (stores: how many hold the tier)")
    }
    ref = fleet.memories.groupby("tier").agg(memories=("id", "size"), stores=("store", "nunique"),
                                             mean=("importance", "mean"))  # fmt: skip
    assert sorted(tiers) == sorted(ref.index)
    for tier, row in ref.iterrows():
        assert (
            number(tiers[tier]["memories"]) == row["memories"]
            and number(tiers[tier]["stores"]) == row["stores"]
        )
        assert number(tiers[tier]["mean"]) == pytest.approx(row["mean"], abs=5e-4)
    types = {
        r["edge type"]: r
        for r in md_table(text, "Causal edges per type over the fleet (stores: how many hold the type)")
    }
    ref = fleet.edges.groupby("edge_type").agg(edges=("id", "size"), stores=("store", "nunique"))
    assert sorted(types) == sorted(ref.index)
    for edge_type, row in ref.iterrows():
        assert (
            number(types[edge_type]["edges"]) == row["edges"]
            and number(types[edge_type]["stores"]) == row["stores"]
        )


def test_activity_busiest_periods_from_the_records(fleet: Fleet, md: str) -> None:
    text = section(md, "activity")
    m = re.search(r"\*\*Busiest (day|week|month|year)s over the fleet\*\*", text)
    assert m
    freq = m.group(1)
    rows = md_table(text, f"Busiest {freq}s over the fleet")
    times = pd.to_datetime(fleet.created.astype("int64"), unit="s")
    per = times.dt.to_period({"day": "D", "week": "W", "month": "M", "year": "Y"}[freq]).value_counts()
    assert [number(r["total"]) for r in rows] == sorted(per.to_numpy(), reverse=True)[: len(rows)]
    assert all(1 <= number(r["stores active"]) <= STORES + 1 for r in rows)


# ----- links, caps, empty and bad input -----------------------------------------------------------------
def test_html_is_self_contained_and_links_every_store(fleet: Fleet, report: ReportFiles) -> None:
    html = report.html.read_text()
    assert "\ue000" not in html and "\ue000" not in report.markdown.read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(r.startswith(("#", "data:image/png;base64,", "file://")) for r in refs), refs
    stores = html[html.index('<section id="stores"') : html.index('<section id="graph-answers"')]
    targets = {Path(unquote(urlparse(h).path)) for h in re.findall(r'<a href="(file://[^"]+)"', stores)}
    assert targets == set(fleet.files.values())


def test_graph_answers_are_capped(fleet: Fleet, tmp_path: Path) -> None:
    files = write_fleet_report(fleet.out, tmp_path / "r", options=FleetReportOptions(graph_max_stores=3))
    text = section(files.markdown.read_text(), "graph-answers")
    assert f"Not computed: the fleet has {STORES + 2} stores, more than the 3" in text
    assert "fleet graph" in text and "Stores with cycles" not in section(files.markdown.read_text(), "fleet")


def test_progress_reports_every_step(fleet: Fleet, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    write_fleet_report(fleet.out, tmp_path / "r", progress=lambda *a: calls.append(a),
                       options=FleetReportOptions(graph_max_stores=0))  # fmt: skip
    assert calls[-1] == ("done", 4, 4) and [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_empty_export_says_no_data(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    write_manifest(tmp_path / "out", Manifest())
    files = write_fleet_report(tmp_path / "out", tmp_path / "r")
    text = files.markdown.read_text()
    assert files.figures == [] and "- **Stores**: 0" in text
    for sid, _ in FLEET_SECTIONS[1:]:
        assert "No data: the export holds no stores." in section(text, sid), sid


def test_bad_input(tmp_path: Path, fleet: Fleet) -> None:
    with pytest.raises(NotFoundError, match="fleet export"):
        write_fleet_report(tmp_path, tmp_path / "r")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValidationError, match="report_dir"):
        write_fleet_report(fleet.out, tmp_path / "file")
    for bad in ({"graph_max_stores": -1}, {"store_rows": 0}, {"top_k": True}, {"outliers": 2.5},
                {"group_by": "(v"}, {"group_by": 2}):  # fmt: skip
        with pytest.raises(ValidationError, match=next(iter(bad))):
            FleetReportOptions(**bad)  # type: ignore[arg-type]


def test_links_escape_markdown_and_html() -> None:
    links = Links()
    cell = links.cell("a|b [c].db", "file:///x/a%7Cb.db")
    assert links.markdown(cell) == r"[a\|b \[c\].db](file:///x/a%7Cb.db)"
    other = links.cell("<x>", 'file:///"q"')
    assert links.html(other) == '<a href="file:///&quot;q&quot;" style="white-space: nowrap">&lt;x&gt;</a>'


# ----- a real browser -----------------------------------------------------------------------------------
def test_the_report_renders_in_a_browser(browser, fleet: Fleet, report: ReportFiles) -> None:
    page, problems = open_report(browser, report.html)
    try:
        assert page.title().startswith("omega-graph fleet report")
        for sid, title in FLEET_SECTIONS:
            sec = page.locator(f"section#{sid}")
            assert sec.count() == 1, sid
            sec.scroll_into_view_if_needed()
            assert sec.is_visible() and title in sec.locator("h2").inner_text(), sid
        images = page.evaluate("Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0,"
                               " shown: i.getBoundingClientRect().width}))")  # fmt: skip
        assert len(images) == len(report.figures) and all(i["ok"] and i["shown"] > 300 for i in images)
        hrefs = page.locator("section#stores a").evaluate_all("links => links.map(a => a.href)")
        assert {Path(unquote(urlparse(h).path)) for h in hrefs} == set(fleet.files.values())
        assert page.locator("nav.toc a").count() == len(FLEET_SECTIONS)
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
        assert problems == []
    finally:
        page.close()
