"""Plots: every figure is drawn from the right numbers, headless, without pyplot, on any store.

Expected values are computed independently here, from rows read with plain sqlite3 and networkx.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from matplotlib.figure import Figure

from omega_graph import NotFoundError, OmegaStore, StoredCausalEdge, StoredMemory, ValidationError, plots
from omega_graph.sample import build_sample_store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plots") / "sample.db"
    build_sample_store(path).close()
    return path


@pytest.fixture
def sample(sample_path: Path) -> OmegaStore:
    store = OmegaStore(sample_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def rows(sample_path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(sample_path)
    try:
        return {
            "memories": conn.execute("SELECT id, tier, importance, created_at FROM memories").fetchall(),
            "edges": conn.execute(
                "SELECT id, from_memory, to_memory, weight, edge_type, created_at FROM causal_edges"
            ).fetchall(),  # fmt: skip
            "reflexions": conn.execute("SELECT created_at FROM reflexion_episodes").fetchall(),
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reference(rows: dict[str, list[tuple]]) -> nx.MultiDiGraph:
    """The sample's causal graph built independently with networkx."""
    g = nx.MultiDiGraph()
    for mid, tier, importance, _ in rows["memories"]:
        g.add_node(mid, tier=tier, importance=importance)
    for eid, u, v, w, _, _ in rows["edges"]:
        g.add_edge(u, v, key=eid, weight=w)
    return g


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ----- each figure shows the right numbers --------------------------------------------------------------
def test_tier_distribution_bars_are_memories_per_tier(sample: OmegaStore, rows: dict) -> None:
    fig = plots.tier_distribution(sample)
    expected = Counter(t for _, t, _, _ in rows["memories"])
    heights = [round(p.get_height()) for p in fig.axes[0].patches]
    assert heights == [expected.get(t, 0) for t in range(1, 13)]
    assert isinstance(fig, Figure) and plots.png_bytes(fig).startswith(PNG)


def test_importance_histogram_counts_every_memory(sample: OmegaStore, rows: dict) -> None:
    fig = plots.importance_histogram(sample, bins=20)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert len(heights) == 20
    assert sum(heights) == len(rows["memories"])
    in_first_bin = sum(1 for _, _, imp, _ in rows["memories"] if imp < 0.05)
    assert heights[0] == in_first_bin


def test_degree_distribution_matches_networkx(sample: OmegaStore, reference: nx.MultiDiGraph) -> None:
    got = plots.degree_distribution_frame(sample)
    for direction, degree in (("in", reference.in_degree), ("out", reference.out_degree)):
        expected = Counter(d for _, d in degree())
        part = got[got["direction"] == direction]
        assert dict(zip(part["degree"], part["memories"], strict=True)) == dict(expected)
    fig = plots.degree_distribution(sample)
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    plotted = {line.get_label().split(" ")[0]: len(line.get_xdata()) for line in ax.get_lines()}
    assert plotted == {"out-degree": sum(1 for k in Counter(d for _, d in reference.out_degree()) if k > 0),
                       "in-degree": sum(1 for k in Counter(d for _, d in reference.in_degree()) if k > 0)}  # fmt: skip


@pytest.mark.parametrize("kind", ["store", "analytics", "graph", "networkx", "degree_table"])
def test_degree_distribution_sources_agree(sample: OmegaStore, reference: nx.MultiDiGraph, kind: str) -> None:
    with sample.analytics() as a:
        source = {
            "store": sample, "analytics": a, "graph": sample.causal_graph(), "networkx": reference,
            "degree_table": a.degree_table(),
        }[kind]  # fmt: skip
        got = (
            plots.degree_distribution_frame(source)
            .sort_values(["direction", "degree"])
            .reset_index(drop=True)
        )
    expected = (
        plots.degree_distribution_frame(reference).sort_values(["direction", "degree"]).reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_edge_type_summary_counts_and_ranges(sample: OmegaStore, rows: dict) -> None:
    fig = plots.edge_type_summary(sample)
    count_ax, weight_ax = fig.axes
    by_type = Counter(kind for *_, kind, _ in rows["edges"])
    labels = [t.get_text() for t in count_ax.get_yticklabels()]
    widths = [round(p.get_width()) for p in count_ax.patches]
    assert dict(zip(labels, widths, strict=True)) == dict(by_type)
    assert labels == sorted(by_type, key=lambda k: (-by_type[k], k))  # most edges first
    means = weight_ax.get_lines()[0].get_xdata()
    for label, mean in zip(labels, means, strict=True):
        ws = [w for _, _, _, w, kind, _ in rows["edges"] if kind == label]
        assert mean == pytest.approx(sum(ws) / len(ws))


def test_activity_timeline_sums_to_record_counts(sample: OmegaStore, rows: dict) -> None:
    fig = plots.activity_timeline(sample)
    lines = {line.get_label(): sum(line.get_ydata()) for line in fig.axes[0].get_lines()}
    assert lines == {"memories": len(rows["memories"]), "causal edges": len(rows["edges"]),
                     "reflexions": len(rows["reflexions"])}  # fmt: skip
    assert fig.axes[0].get_title(loc="left") == "Activity per day"  # the sample spans 12 days


@pytest.mark.parametrize(
    ("span_days", "expected"),
    [(0, "day"), (100, "day"), (200, "week"), (800, "week"), (2000, "month"), (20000, "year")],  # fmt: skip
)
def test_choose_period(span_days: int, expected: str) -> None:
    assert plots.choose_period(1_700_000_000, 1_700_000_000 + span_days * 86_400) == expected


@pytest.mark.parametrize("freq", ["day", "week", "month", "year"])
def test_activity_frame_regroups_a_daily_frame(freq: str) -> None:
    days = pd.DataFrame({"period": pd.date_range("2024-12-30", periods=500, freq="D"),
                         "memories": 1, "edges": 3, "reflexions": 0})  # fmt: skip
    df, used = plots.activity_frame(days, freq)
    assert used == freq
    assert int(df["memories"].sum()) == 500 and int(df["edges"].sum()) == 1500
    assert df["period"].is_monotonic_increasing
    if freq == "week":
        assert (df["period"].dt.day_of_week == 0).all()  # weeks start on Monday
    if freq == "month":
        assert (df["period"].dt.day == 1).all()


@pytest.fixture
def churn_store(tmp_path: Path) -> OmegaStore:
    """Edges over 300 days, some invalidated and reinstated (at times of their own)."""
    t0 = 1_764_000_000
    store = OmegaStore(tmp_path / "churn.db")
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, t0, t0) for m in "abc")
    store.store_causal_edges(StoredCausalEdge(f"e{k}", "abc"[k % 3], "abc"[(k + 1) % 3], 0.5, "causes",
                                              t0 + 30 * k * 86_400) for k in range(11))  # fmt: skip
    store.invalidate_causal_edges(["e1", "e2", "e3"], at=t0 + 100 * 86_400, reason="redeploy")
    store.reinstate_causal_edge("e2", at=t0 + 200 * 86_400)
    store.invalidate_causal_edge("e2", at=t0 + 290 * 86_400)
    yield store
    store.close()


def test_edge_churn_shows_every_event(churn_store: OmegaStore) -> None:
    conn = sqlite3.connect(churn_store.path)
    events = Counter(e for (e,) in conn.execute("SELECT event FROM omega_edge_events"))
    edges = conn.execute("SELECT count(*) FROM causal_edges").fetchone()[0]
    conn.close()
    fig = plots.edge_churn(churn_store)
    top, bottom = fig.axes
    sums = {line.get_label(): sum(line.get_ydata()) for ax in fig.axes for line in ax.get_lines()}
    assert sums == {
        "created": edges,
        "invalidated": events["invalidated"],
        "reinstated": events["reinstated"],
    }
    assert [line.get_label() for line in top.get_lines()] == ["created"]
    # 300 days: weeks
    assert top.get_title(loc="left") == "Causal edges created, invalidated and reinstated per week"
    # every week from Monday 2025-11-24 to the one holding 2026-09-20 (day 300), empty weeks at 0
    assert len(bottom.get_lines()[0].get_xdata()) == 43


@pytest.mark.parametrize("freq", ["day", "week", "month", "year"])
def test_edge_churn_from_a_frame_and_into_an_axes(churn_store: OmegaStore, freq: str) -> None:
    with churn_store.analytics() as a:
        frame = a.edge_churn("day")
    fig = plots.OmegaFigure(figsize=(8, 3))
    ax = fig.subplots()
    assert plots.edge_churn(frame, freq=freq, ax=ax) is fig
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["created", "invalidated", "reinstated"]
    assert [sum(lines[c].get_ydata()) for c in ("created", "invalidated", "reinstated")] == [11, 4, 1]
    assert ax.get_title(loc="left").endswith(f"per {freq}")


def test_influence_ranking_shows_the_top_by_pagerank(sample: OmegaStore, reference: nx.MultiDiGraph) -> None:
    simple = nx.DiGraph()
    simple.add_nodes_from(reference)
    for u, v, w in reference.edges(data="weight"):
        simple.add_edge(u, v, weight=simple.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)
    pr = nx.pagerank(simple, alpha=0.85, weight="weight", tol=1e-12, max_iter=10_000)  # converged
    expected = sorted(pr, key=lambda m: (-pr[m], m))[:10]
    fig = plots.influence_ranking(sample.causal_graph(), top=10, tiers={m: 1 for m in expected})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == expected
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == pytest.approx([pr[m] for m in expected], rel=1e-6)


def test_influence_ranking_reverse_and_store_source(sample: OmegaStore) -> None:
    fig = plots.influence_ranking(sample, top=5, reverse=True)
    ax = fig.axes[0]
    assert ax.get_title(loc="left").startswith("Strongest drivers")
    assert len(ax.patches) == 5
    assert len(fig.axes) == 2  # tiers were read from the store: a colour bar


# ----- the causal neighbourhood ------------------------------------------------------------------------
def _expected_neighbourhood(g: nx.MultiDiGraph, node: str, radius: int) -> dict[str, int]:
    up = nx.single_source_shortest_path_length(g.reverse(copy=False), node, cutoff=radius)
    down = nx.single_source_shortest_path_length(g, node, cutoff=radius)
    out = {m: -d for m, d in up.items()}
    out.update({m: d for m, d in down.items() if m not in out or d <= -out[m]})
    out[node] = 0
    return out


@pytest.mark.parametrize(
    "memory_id", ["asia:either", "alarm:VENTLUNG", "sachs_cdt_consensus:PKC", "asia:asia"]
)
@pytest.mark.parametrize("radius", [1, 2])
def test_neighbourhood_matches_networkx_for_every_source(
    sample: OmegaStore, reference: nx.MultiDiGraph, memory_id: str, radius: int
) -> None:
    expected = _expected_neighbourhood(reference, memory_id, radius)
    graphs = [plots.neighbourhood_graph(src, memory_id, radius, max_nodes=500)
              for src in (sample, sample.causal_graph(), reference)]  # fmt: skip
    for g in graphs:
        assert set(g.nodes) == set(expected)
        assert {v for v, d in g.nodes(data="depth") if d < 0} == {v for v, d in expected.items() if d < 0}
        for u, v, w in g.edges(data="weight"):
            assert w == max(d["weight"] for d in reference.get_edge_data(u, v).values())
        assert g.nodes[memory_id]["tier"] == reference.nodes[memory_id]["tier"]
    assert [sorted(g.edges(data="weight")) for g in graphs[1:]] == [
        sorted(graphs[0].edges(data="weight"))
    ] * 2


def test_neighbourhood_edges_are_every_edge_among_the_shown_memories(
    sample: OmegaStore, reference: nx.MultiDiGraph
) -> None:
    g = plots.neighbourhood_graph(sample, "alarm:VENTLUNG", 2)
    expected_pairs = {(u, v) for u, v in reference.subgraph(g.nodes).edges()}
    assert set(g.edges) == expected_pairs


def test_neighbourhood_keeps_the_strongest_when_capped(
    sample: OmegaStore, reference: nx.MultiDiGraph
) -> None:
    hub = "child:Disease"  # 1 cause, 7 effects
    g = plots.neighbourhood_graph(sample, hub, 1, max_nodes=4)
    assert g.graph["truncated"] and g.number_of_nodes() == 4
    effects = sorted(((max(d["weight"] for d in reference.get_edge_data(hub, v).values()), v)
                      for v in reference.successors(hub)), key=lambda x: (-x[0], x[1]))  # fmt: skip
    assert {v for v, d in g.nodes(data="depth") if d > 0} == {v for _, v in effects[:2]}
    assert {v for v, d in g.nodes(data="depth") if d < 0} == set(reference.predecessors(hub))


@pytest.mark.parametrize(("max_nodes", "causes", "effects"), [(7, 3, 3), (8, 3, 4), (2, 0, 1), (30, 10, 10)])
def test_neighbourhood_shares_the_room_between_causes_and_effects(
    max_nodes: int, causes: int, effects: int
) -> None:
    g = nx.DiGraph()
    for i in range(10):
        g.add_edge(f"c{i}", "hub", weight=1 - i / 20)
        g.add_edge("hub", f"e{i}", weight=1 - i / 20)
    got = plots.neighbourhood_graph(g, "hub", 2, max_nodes=max_nodes)
    depths = dict(got.nodes(data="depth"))
    assert sorted(v for v, d in depths.items() if d < 0) == [f"c{i}" for i in range(causes)]  # strongest
    assert sorted(v for v, d in depths.items() if d > 0) == [f"e{i}" for i in range(effects)]
    assert got.graph["truncated"] == (max_nodes < 21)


def test_causal_neighbourhood_drawing(sample: OmegaStore) -> None:
    fig = plots.causal_neighbourhood(sample, "asia:either", radius=1)
    ax = fig.axes[0]
    shown = set(texts(fig))
    assert {"either", "lung", "tub", "xray", "dysp"} <= shown  # the shared 'asia:' prefix is dropped
    assert ax.get_title(loc="left") == "Causal neighbourhood of asia:either"
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 4
    widths = sorted(a.get_linewidth() for a in arrows)
    assert widths[0] < widths[-1]  # width grows with weight (0.35 ... 0.93)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "tier"  # the colour bar
    assert "0.93" in shown  # weights printed on small drawings


def test_causal_neighbourhood_focus_on_a_cycle(sample: OmegaStore) -> None:
    fig = plots.causal_neighbourhood(sample.causal_graph(), "sachs_cdt_consensus:PIP2", radius=2)
    assert plots.png_bytes(fig).startswith(PNG)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"memory_id": "nope"}, NotFoundError, "memory 'nope' not found"),
        ({"memory_id": "asia:lung", "radius": 0}, ValidationError, "radius"),
        ({"memory_id": "asia:lung", "max_nodes": 0}, ValidationError, "max_nodes"),
    ],
)
def test_causal_neighbourhood_bad_input(sample: OmegaStore, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        plots.causal_neighbourhood(sample, **kwargs)


# ----- inputs, empty stores, errors --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "message"),
    [
        (plots.tier_distribution, "no memories"),
        (plots.importance_histogram, "no memories"),
        (plots.degree_distribution, "no causal edges"),
        (plots.edge_type_summary, "no causal edges"),
        (plots.activity_timeline, "no timestamped records"),
        (plots.edge_churn, "no causal edges"),
        (plots.influence_ranking, "no causal edges"),
    ],
)
def test_empty_store_gives_a_labelled_empty_figure(mem_store: OmegaStore, function, message: str) -> None:
    fig = function(mem_store)
    assert message in texts(fig)
    assert plots.png_bytes(fig).startswith(PNG)


@pytest.mark.parametrize(
    "function",
    [
        plots.tier_distribution,
        plots.importance_histogram,
        plots.edge_type_summary,
        plots.activity_timeline,
        plots.edge_churn,
        plots.influence_ranking,
        plots.degree_distribution,
    ],  # fmt: skip
)
def test_unusable_source_is_a_clear_error(function) -> None:
    with pytest.raises(ValidationError, match="OmegaStore"):
        function(42)


def test_dataframe_missing_columns_is_named() -> None:
    with pytest.raises(ValidationError, match=r"missing \['mean_importance', 'median_importance'\]"):
        plots.tier_distribution(pd.DataFrame({"tier": [1], "memories": [3]}))


@pytest.mark.parametrize(("function", "kwargs"), [(plots.importance_histogram, {"bins": 0}),
                                                   (plots.influence_ranking, {"top": 0}),
                                                   (plots.activity_timeline, {"freq": "fortnight"}),
                                                   (plots.edge_churn, {"freq": "hour"})])  # fmt: skip
def test_bad_parameters(sample: OmegaStore, function, kwargs: dict) -> None:
    with pytest.raises(ValidationError, match=next(iter(kwargs))):
        function(sample, **kwargs)


def test_draws_into_a_given_axes(sample: OmegaStore) -> None:
    fig = plots.OmegaFigure(figsize=(12, 4))
    left, right = fig.subplots(1, 2)
    assert plots.tier_distribution(sample, ax=left) is fig
    assert plots.causal_neighbourhood(sample, "asia:lung", ax=right) is fig
    assert left.patches and right.patches


def test_figure_shows_itself_in_jupyter(sample: OmegaStore) -> None:
    fig = plots.tier_distribution(sample)
    assert fig._repr_png_().startswith(PNG)


def test_memories_without_edges(mem_store: OmegaStore) -> None:
    mem_store.store_memories([StoredMemory(f"m{i}", "x", 1 + i % 3, i / 10, None, 1_764_000_000 + 3600 * i, 0)
                              for i in range(6)])  # fmt: skip
    assert [round(p.get_height()) for p in plots.tier_distribution(mem_store).axes[0].patches][:4] == [
        2,
        2,
        2,
        0,
    ]
    assert "no causal edges" in texts(plots.degree_distribution(mem_store))
    mem_store.store_causal_edge(StoredCausalEdge("e", "m0", "m1", 0.0, "correlates", 1_764_000_000))
    fig = plots.causal_neighbourhood(mem_store, "m0")
    assert {"m0", "m1"} <= set(texts(fig))


def test_figures_can_be_made_in_threads(sample_path: Path) -> None:
    def work(i: int) -> bytes:
        with OmegaStore(sample_path) as store:
            fig = [plots.tier_distribution, plots.edge_type_summary, plots.activity_timeline][i % 3](store)
            return plots.png_bytes(fig)

    with ThreadPoolExecutor(max_workers=3) as pool:
        out = list(pool.map(work, range(6)))
    assert all(png.startswith(PNG) for png in out)
    assert out[0] == out[3] and out[1] == out[4]  # same figure, same bytes


def test_plots_need_no_pyplot_and_import_omega_graph_stays_light() -> None:
    code = (
        "import sys, omega_graph\n"
        "assert 'matplotlib' not in sys.modules, 'import omega_graph imported matplotlib'\n"
        "from omega_graph import plots\n"
        "from omega_graph.sample import build_sample_store\n"
        "s = build_sample_store(None)\n"
        "for f in (plots.tier_distribution, plots.importance_histogram, plots.degree_distribution,\n"
        "          plots.edge_type_summary, plots.activity_timeline, plots.edge_churn, plots.influence_ranking):\n"
        "    plots.png_bytes(f(s))\n"
        "plots.png_bytes(plots.causal_neighbourhood(s, 'asia:lung', 2))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={"MPLBACKEND": "", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
