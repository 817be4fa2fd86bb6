"""Section builders and figures of the fleet report (see :mod:`._fleet`): each takes the shared
:class:`~._fleet.FleetData` and returns a :class:`~._model.Section`.

Examples
--------
>>> import pandas as pd
>>> z = robust_z(pd.Series([10.0, 11, 9, 10, 12, 10, 95]))
>>> [round(v, 2) for v in z], bool(abs(z.iloc[-1]) > OUTLIER_CUTOFF)
([0.0, 0.67, -0.67, 0.0, 1.35, 0.0, 57.33], True)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import plots
from ._fleet import FleetData
from ._model import Facts, Paragraph, Section, Table, fmt_count, fmt_float, fmt_time, frame_table

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["BUILDERS", "MEASURES", "OUTLIER_CUTOFF", "OUTLIER_RULE", "quantiles", "robust_z"]

#: Per-store measures of the distributions: (column, label, a count shown on a log scale).
MEASURES: tuple[tuple[str, str, bool], ...] = (
    ("memories", "memories", True),
    ("causal_edges", "causal edges", True),
    ("mean_importance", "mean importance", False),
    ("mean_weight", "mean weight", False),
)
#: The outlier rule's measures: the distributions' and the edges per memory.
OUTLIER_MEASURES = (*MEASURES[:2], ("edges_per_memory", "edges per memory", False), *MEASURES[2:])
#: |modified z-score| above which a store is an outlier (Iglewicz and Hoaglin, 1993).
OUTLIER_CUTOFF = 3.5
#: Fewer stores with a value than this: no outlier is called.
MIN_STORES = 5
OUTLIER_RULE = (
    "A store is an outlier on a measure when its modified z-score M = 0.6745 (x - median) / MAD, over "
    "the stores having a value, exceeds 3.5 in absolute value (Iglewicz and Hoaglin; MAD is the median "
    "absolute deviation from the median). Counts are scored as log10(1 + count). A measure whose MAD is "
    f"0, or held by fewer than {MIN_STORES} stores, flags nothing."
)
QUANTILES = ((0.0, "min"), (0.05, "5 %"), (0.25, "25 %"), (0.5, "median"), (0.75, "75 %"), (0.95, "95 %"),
             (1.0, "max"))  # fmt: skip
_NO_STORES = "No data: the export holds no stores."


def robust_z(values: pd.Series) -> pd.Series | None:
    """The modified z-score of each value (NaN stays NaN), or None when it cannot be called."""
    known = values.dropna().astype("float64")
    if len(known) < MIN_STORES:
        return None
    median = float(known.median())
    mad = float((known - median).abs().median())
    if mad == 0:
        return None
    return 0.6745 * (values.astype("float64") - median) / mad


def quantiles(values: pd.Series) -> list[float]:
    """The :data:`QUANTILES` of ``values`` (linear interpolation, NaN left out) and their mean."""
    import numpy as np

    known = values.dropna().astype("float64").to_numpy()
    return [float(v) for v in np.quantile(known, [q for q, _ in QUANTILES])] + [float(known.mean())]


def _scored(values: pd.Series, log: bool) -> pd.Series:
    import numpy as np

    return np.log10(1.0 + values.astype("float64")) if log else values.astype("float64")


def _empty(section: Section, data: FleetData) -> bool:
    if not data.manifest.stores:
        section.empty = _NO_STORES
        return True
    return False


def _value(v: float, count: bool) -> str:
    if count:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0")
    return fmt_float(v)


# ----- figures ----------------------------------------------------------------------------------------
def _horizontal() -> dict[str, Any]:
    import matplotlib

    new = tuple(int(x) for x in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    return {"orientation": "horizontal"} if new else {"vert": False}


_HORIZONTAL = _horizontal()


def _log_axis(axis: Any) -> None:
    """A log axis labelled 10, 100, 2,000, 12.5k (no 2x10^1 labels)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from ..plots._common import compact

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))
    axis.set_minor_formatter(NullFormatter())


def distribution_figure(stores: pd.DataFrame, bins: int) -> Figure:
    """Per measure: a box plot (whiskers at 1.5 IQR) over a histogram of the stores' values."""
    import numpy as np

    from ..plots._common import ACCENT, MUTED, count_axis, new_figure, no_data, style_axes

    fig = new_figure(9.5, 6.4, ncols=0)
    grid = fig.add_gridspec(4, 2, height_ratios=[1, 3.2, 1, 3.2])
    for k, (column, label, log) in enumerate(MEASURES):
        row, col = 2 * (k // 2), k % 2
        box, hist = fig.add_subplot(grid[row, col]), fig.add_subplot(grid[row + 1, col])
        values = stores[column].dropna().astype("float64").to_numpy()
        style_axes(hist)
        box.set_axis_off()
        if not len(values):
            no_data(hist, f"no store has a {label}")
            continue
        positive = values[values > 0]
        edges: Any = bins
        if log and len(positive) and positive.max() > positive.min():
            edges = np.logspace(np.log10(positive.min()), np.log10(positive.max()), bins + 1)
            hist.set_xscale("log")
            box.set_xscale("log")
            _log_axis(hist.xaxis)
            values = positive
        hist.hist(values, bins=edges, color=ACCENT, edgecolor="white", linewidth=0.5)
        hist.axvline(float(np.median(values)), color="#c0392b", linewidth=1.2)
        box.boxplot(values, **_HORIZONTAL, widths=0.6, patch_artist=True,
                    boxprops={"facecolor": "#dbe4f0", "edgecolor": MUTED}, medianprops={"color": "#c0392b"},
                    flierprops={"marker": "o", "markersize": 3, "markerfacecolor": MUTED, "markeredgecolor": MUTED})  # fmt: skip
        box.set_xlim(hist.get_xlim())
        count_axis(hist.yaxis)
        hist.set_xlabel(f"{label} per store" + (" (log scale)" if log else ""), fontsize=9)
        hist.set_ylabel("stores", fontsize=9)
    return fig


def outlier_figure(stores: pd.DataFrame, flagged: set[str]) -> Figure:
    """Each store by causal edges (log) and mean weight; the outliers in red."""
    from ..plots._common import ACCENT, new_figure, style_axes

    fig = new_figure(7.5, 4.2)
    ax = fig.axes[0]
    style_axes(ax, grid="both")
    shown = stores[stores["causal_edges"] > 0]
    out = shown["store"].isin(flagged)
    ax.scatter(shown.loc[~out, "causal_edges"], shown.loc[~out, "mean_weight"], s=14, color=ACCENT,
               alpha=0.7, label="stores")  # fmt: skip
    ax.scatter(shown.loc[out, "causal_edges"], shown.loc[out, "mean_weight"], s=22, color="#c0392b",
               label="outliers")  # fmt: skip
    ax.set_xscale("log")
    _log_axis(ax.xaxis)
    ax.set_xlabel("causal edges (log scale)", fontsize=9)
    ax.set_ylabel("mean weight", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    return fig


# ----- sections ---------------------------------------------------------------------------------------
def glance(data: FleetData) -> Section:
    sec = Section("fleet", "The fleet at a glance")
    manifest = data.manifest
    skipped = list(manifest.skipped)
    totals = data.fleet["overview"].set_index("entity")["count"]
    facts = [("Stores", fmt_count(len(manifest.stores)))]
    facts += [(label, fmt_count(totals.get(e, 0))) for e, label in (
        ("memories", "Memories"), ("causal_edges", "Causal edges"), ("vectors", "Vectors"),
        ("reflexion_episodes", "Reflexion episodes"))]  # fmt: skip
    facts.append(("Skipped files", fmt_count(len(skipped))))
    if data.answers is not None:
        facts.append(("Stores with cycles", fmt_count(int((~data.answers["is_dag"]).sum()))))
    sec.add(Facts(tuple(facts)))
    text = f"This report describes the fleet export `{data.out}`"
    if manifest.stores:
        first, last = min(s.exported_at for s in manifest.stores), max(s.exported_at for s in manifest.stores)
        versions = ", ".join(str(v) for v in sorted({s.schema_version for s in manifest.stores}))
        text += (f": {len(manifest.stores):,} stores (schema version {versions}), exported between "
                 f"{fmt_time(first)} and {fmt_time(last)} (UTC)")  # fmt: skip
    sec.add(Paragraph(
        text + ". Every number is read from the Parquet files its manifest lists, with DuckDB: the "
        "statistics of `omega_graph.fleet.statistics(None, OUT)`, per store and over the fleet."
    ))  # fmt: skip
    if manifest.stores:
        overview = data.per_store["overview"]
        table = overview.groupby("entity", sort=False)["count"].agg(["sum", "min", "median", "max"])
        rows = [[e.replace("_", " "), fmt_count(r["sum"]), fmt_count(r["min"]), _value(r["median"], True),
                 fmt_count(r["max"])] for e, r in table.iterrows()]  # fmt: skip
        sec.add(Table(["records", "fleet total", "min per store", "median per store", "max per store"], rows,
                      [False, True, True, True, True], caption="Records over the fleet"))  # fmt: skip
    if skipped:
        shown = skipped[: data.options.skipped_rows]
        note = f"First {len(shown):,} of {len(skipped):,} skipped files." if len(skipped) > len(shown) else ""
        sec.add(Table(["file", "reason"], [[s.get("path", ""), s.get("reason", "")] for s in shown],
                      [False, False], caption="Files the last export skipped (not in the export)", note=note))  # fmt: skip
    else:
        sec.add(Paragraph("The last export skipped no file."))
    return sec


def distributions(data: FleetData) -> Section:
    sec = Section("distributions", "Distributions across stores")
    if _empty(sec, data):
        return sec
    stores = data.stores
    sec.add(data.figure("store_distributions", "Per-store memories, causal edges, mean importance and mean "
                        "weight: box plot (whiskers at 1.5 IQR) over a histogram; red: the median.",
                        distribution_figure(stores, data.options.histogram_bins)))  # fmt: skip
    rows, labels = [], [label for _, label in QUANTILES]
    for column, label, count in MEASURES:
        known = stores[column].dropna()
        if not len(known):
            rows.append([label, "0", *(["—"] * (len(labels) + 1))])
            continue
        rows.append([label, fmt_count(len(known)), *(_value(v, count) for v in quantiles(known))])
    sec.add(Table(["per store", "stores", *labels, "mean"], rows, [False] + [True] * (len(labels) + 2),
                  caption="Quantiles across stores",
                  note="Linear interpolation between stores; mean importance and weight leave out stores "
                       "without memories or edges."))  # fmt: skip
    return sec


#: The group of the stores ``group_by`` does not match.
NO_MATCH = "(no match)"


def store_groups(paths: pd.Series, pattern: str | None) -> pd.Series:
    r"""Each store's outlier group: the first capture group of ``pattern`` in its path, or the whole
    match when ``pattern`` has no group; :data:`NO_MATCH` where it does not match. One group,
    ``"fleet"``, when ``pattern`` is None.

    >>> import pandas as pd
    >>> store_groups(pd.Series(["a-v1.db", "b-v2.db", "c.db"]), r"-(v\d+)\.db$").tolist()
    ['v1', 'v2', '(no match)']
    """
    if pattern is None:
        return paths.map(lambda _p: "fleet")
    rx = re.compile(pattern)

    def label(path: str) -> str:
        m = rx.search(path)
        found = None if m is None else m.group(1) if rx.groups else m.group(0)
        return found or NO_MATCH

    return paths.map(label)


def _outlier_rows(data: FleetData) -> tuple[pd.DataFrame, list[list[str]]]:
    """Every flag (store, group, measure, value, median, z, count) by |z|, and one summary row per
    measure and group (the group's column only when the stores are grouped)."""
    import pandas as pd

    stores, found, summary = data.stores, [], []
    groups = store_groups(stores["path"], data.options.group_by)
    grouped = data.options.group_by is not None
    for column, label, log in OUTLIER_MEASURES:
        for group in sorted(groups.unique()):
            members = stores[groups == group]
            head = [label, group] if grouped else [label]
            values = members[column]
            scored = _scored(values, log)
            z = robust_z(scored)
            median = float(values.median()) if values.notna().any() else float("nan")
            if z is None:
                summary.append(
                    [*head, _value(median, log) if median == median else "—", "—", "—", "not scored"]
                )
                continue
            hit = z.abs() > OUTLIER_CUTOFF
            found.append(pd.DataFrame({"store": members.loc[hit, "store"], "group": group, "measure": label,
                                       "value": members.loc[hit, column].astype("float64"),
                                       "median": median, "z": z[hit], "count": log}))  # fmt: skip
            centre = float(scored.median())
            reach = OUTLIER_CUTOFF * float((scored - centre).abs().median()) / 0.6745
            ends = [centre - reach, centre + reach]
            low, high = (
                (_value(round(10**e - 1), True) for e in ends) if log else (_value(e, False) for e in ends)
            )
            below, above = (
                fmt_count(int(n)) for n in ((z < -OUTLIER_CUTOFF).sum(), (z > OUTLIER_CUTOFF).sum())
            )
            summary.append([*head, _value(median, log), below, above, f"{low} to {high}"])
    frame = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["store", "group", "measure", "value", "median", "z", "count"])  # fmt: skip
    order = frame.assign(size=frame["z"].abs()).sort_values(
        ["size", "store", "measure"], ascending=[False, True, True]
    )
    return order.drop(columns="size").reset_index(drop=True), summary


def outliers(data: FleetData) -> Section:
    sec = Section("outliers", "Outlier stores")
    if _empty(sec, data):
        return sec
    frame, summary = _outlier_rows(data)
    pattern = data.options.group_by
    rule = OUTLIER_RULE
    if pattern is not None:
        sizes = store_groups(data.stores["path"], pattern).value_counts().sort_index()
        listed = ", ".join(f"{g} ({fmt_count(int(n))})" for g, n in sizes.items())
        rule += (f" Each store is scored among the stores of its group: the text `{pattern}` finds in its "
                 f"path (groups: {listed}).")  # fmt: skip
    sec.add(Paragraph(rule))
    flagged = set(frame["store"])
    sec.add(Facts((("Outlier stores", fmt_count(len(flagged))), ("Flags", fmt_count(len(frame))),
                   ("Stores scored", fmt_count(len(data.stores))))))  # fmt: skip
    if (data.stores["causal_edges"] > 0).any():
        sec.add(data.figure("outlier_stores", "Stores by causal edges and mean weight; red: outliers on any measure.",
                            outlier_figure(data.stores, flagged)))  # fmt: skip
    where = ["group"] if pattern is not None else []
    median = "group median" if pattern is not None else "fleet median"
    sec.add(Table(["measure", *where, median, "stores below", "stores above", "not an outlier from"], summary,
                  [False, *[False] * len(where), True, True, True, True], caption="Outliers per measure"))  # fmt: skip
    if frame.empty:
        sec.add(Paragraph("No store is an outlier by this rule."))
        return sec
    shown = frame.head(data.options.outliers)
    rows = [[data.file_link(r.store), r.store, *([r.group] if where else []), r.measure, _value(r.value, r.count),
             _value(r.median, r.count), f"{r.z:+.1f}"] for r in shown.itertuples(index=False)]  # fmt: skip
    note = f"The {len(shown):,} largest of {len(frame):,} flags." if len(frame) > len(shown) else ""
    sec.add(Table(["file", "store", *where, "measure", "value", median, "modified z"], rows,
                  [False, False, *[False] * len(where), False, True, True, True], caption="Outlier stores",
                  note=note))  # fmt: skip
    return sec


def stores_section(data: FleetData) -> Section:
    sec = Section("stores", "Stores")
    if _empty(sec, data):
        return sec
    stores = data.stores
    shown = stores.head(data.options.store_rows)
    table = shown.assign(file=[data.file_link(s) for s in shown["store"]])[
        ["file", "store", "memories", "causal_edges", "vectors", "reflexion_episodes", "mean_importance",
         "mean_weight", "first_activity", "last_activity", "exported_at"]]  # fmt: skip
    day = lambda v: "—" if v is None or v != v else v.strftime("%Y-%m-%d")  # noqa: E731 - NaT != NaT
    sec.add(Paragraph("One row per store, in path order; the file name links to the store file (`file://`)."))
    sec.add(frame_table(table, caption="Stores of the export",
                        headers={"reflexion_episodes": "reflexions", "exported_at": "exported"},
                        formats={"first_activity": day, "last_activity": day, "exported_at": fmt_time},
                        note=f"First {len(shown):,} of {len(stores):,} stores." if len(stores) > len(shown) else ""))  # fmt: skip
    return sec


def graph_answers(data: FleetData) -> Section:
    sec = Section("graph-answers", "Graph answers per store")
    if _empty(sec, data):
        return sec
    cap = data.options.graph_max_stores
    if data.answers is None:
        sec.empty = (f"Not computed: the fleet has {len(data.manifest.stores):,} stores, more than the {cap:,} "
                     "this report answers one after another without Spark (`FleetReportOptions.graph_max_stores`, "
                     "`--graph-max-stores`). `omega-graph fleet graph DIR --master URL` answers them on Spark.")  # fmt: skip
        return sec
    answers = data.answers.set_index("store").loc[data.stores["store"]].reset_index()
    sec.add(Paragraph(
        "Each store's exported memories and causal edges, answered by `omega_graph.fleet.store_answers` "
        f"(the engine of `store.causal_graph(include_invalidated=True)`), one store after another: plain "
        f"Python, for fleets of up to {cap:,} stores. Strongly connected components count singletons."
    ))  # fmt: skip
    sec.add(Facts((("DAGs", fmt_count(int(answers["is_dag"].sum()))),
                   ("With cycles", fmt_count(int((~answers["is_dag"]).sum()))),
                   ("Median SCCs", _value(float(answers["scc_count"].median()), True)))))  # fmt: skip

    def ids(value: Any, arrow: bool) -> str:
        if value is None or not len(value):
            return "—"
        return " → ".join([*value, value[0]]) if arrow else ", ".join(value)

    rows = [[data.file_link(r.store), r.store, "yes" if r.is_dag else "no", fmt_count(r.scc_count),
             ids(r.cycle, True), ids(r.top_influence, False), r.reason or ""] for r in answers.itertuples(index=False)]  # fmt: skip
    columns = ["file", "store", "DAG", "SCCs", "a cycle", f"top {data.options.top_k} influence", "reason"]
    keep = len(columns) if answers["reason"].notna().any() else len(columns) - 1
    sec.add(Table(columns[:keep], [r[:keep] for r in rows], [False, False, False, True, False, False, False][:keep],
                  caption="Graph answers per store"))  # fmt: skip
    return sec


def _with_stores(whole: pd.DataFrame, per_store: pd.DataFrame, key: str) -> pd.DataFrame:
    held = per_store.groupby(key)["store"].nunique().rename("stores")
    return whole.merge(held, left_on=key, right_index=True, how="left")


def tiers_edge_types(data: FleetData) -> Section:
    sec = Section("tiers-edge-types", "Tiers and edge types over the fleet")
    if _empty(sec, data):
        return sec
    tiers, types = data.fleet["tier_summary"], data.fleet["edge_type_summary"]
    if len(tiers):
        sec.add(data.figure("fleet_tiers", "Memories per tier over the fleet; dots: mean importance, red bars: median.",
                            plots.tier_distribution(tiers)))  # fmt: skip
        sec.add(frame_table(_with_stores(tiers, data.per_store["tier_summary"], "tier"),
                            caption="Memories per tier over the fleet (stores: how many hold the tier)",
                            headers={"mean_importance": "mean", "median_importance": "median",
                                     "min_importance": "min", "max_importance": "max",
                                     "with_embedding": "with embedding"}))  # fmt: skip
    if len(types):
        sec.add(data.figure("fleet_edge_types", "Causal edges per type over the fleet, and each type's weight range.",
                            plots.edge_type_summary(types)))  # fmt: skip
        sec.add(frame_table(_with_stores(types, data.per_store["edge_type_summary"], "edge_type"),
                            caption="Causal edges per type over the fleet (stores: how many hold the type)",
                            headers={"edge_type": "edge type"}))  # fmt: skip
    if not len(tiers) and not len(types):
        sec.empty = "No data: the fleet holds no memories and no causal edges."
    return sec


def activity(data: FleetData) -> Section:
    sec = Section("activity", "Activity over the fleet")
    if _empty(sec, data):
        return sec
    daily = data.fleet["activity"]
    if not len(daily):
        sec.empty = "No data: no memory, causal edge or reflexion episode has a creation time."
        return sec
    frame, freq = plots.activity_frame(daily)
    sec.add(data.figure("fleet_activity", f"Records created per {freq} over the fleet (UTC).",
                        plots.activity_timeline(frame, freq=freq)))  # fmt: skip
    per = data.per_store["activity"]
    per = per[(per["memories"] + per["edges"] + per["reflexions"]) > 0]
    start = (
        per["period"].dt.to_period({"day": "D", "week": "W", "month": "M", "year": "Y"}[freq]).dt.start_time
    )
    active = per.groupby(start)["store"].nunique()
    frame = frame.assign(total=frame["memories"] + frame["edges"] + frame["reflexions"])
    frame = frame.assign(stores_active=frame["period"].map(active).fillna(0).astype("int64"))
    busiest = frame.sort_values(["total", "period"], ascending=[False, True]).head(5)
    first, last = daily["period"].min(), daily["period"].max()
    sec.add(Paragraph(
        f"Records span {first:%Y-%m-%d} to {last:%Y-%m-%d}, counted per {freq} over every store; "
        f"{fmt_count((frame['total'] > 0).sum())} of {fmt_count(len(frame))} {freq}s saw activity."
    ))  # fmt: skip
    pattern = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[freq]
    sec.add(frame_table(busiest, caption=f"Busiest {freq}s over the fleet",
                        headers={"period": f"{freq} starting" if freq == "week" else freq,
                                 "stores_active": "stores active"},
                        formats={"period": lambda v: v.strftime(pattern)}))  # fmt: skip
    return sec


#: The section builders, in :data:`~._fleet.FLEET_SECTIONS` order.
BUILDERS = (glance, distributions, outliers, stores_section, graph_answers, tiers_edge_types, activity)
