"""Figures of the curated statistics: tiers, importance, degrees, edge types, activity, belief churn,
influence.

Each function takes the object that holds the data (an ``OmegaStore``, an ``Analytics`` from
``store.analytics()``, a ``CausalGraph``, or the statistic's DataFrame itself, as computed by the
analytics or graph layer) and returns a :class:`matplotlib.figure.Figure`; pass ``ax=`` to draw into
an axes of your own figure instead. Everything is aggregated before it is drawn, so the figures stay
cheap on a store with millions of memories.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import ValidationError
from ._common import (
    ACCENT,
    MUTED,
    SERIES,
    TIERS,
    analytics_frame,
    compact,
    count_axis,
    figure_for,
    new_figure,
    no_data,
    require_columns,
    shorten,
    style_axes,
    tier_cmap,
    tier_norm,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEGREE_DISTRIBUTION_SQL",
    "activity_frame",
    "activity_timeline",
    "choose_period",
    "degree_distribution",
    "degree_distribution_frame",
    "edge_churn",
    "edge_type_summary",
    "importance_histogram",
    "tier_distribution",
]

#: DuckDB SQL: how many memories have each in-degree and each out-degree (memories without edges
#: count as degree 0). Columns ``direction`` (``'in'``/``'out'``), ``degree``, ``memories``.
DEGREE_DISTRIBUTION_SQL = """
WITH o AS (SELECT from_memory AS id, count(*) AS n FROM causal_edges GROUP BY from_memory),
     i AS (SELECT to_memory AS id, count(*) AS n FROM causal_edges GROUP BY to_memory),
     ids AS (SELECT id FROM memories UNION SELECT id FROM o UNION SELECT id FROM i),
     d AS (SELECT coalesce(o.n, 0) AS out_degree, coalesce(i.n, 0) AS in_degree
           FROM ids LEFT JOIN o ON o.id = ids.id LEFT JOIN i ON i.id = ids.id)
SELECT 'in' AS direction, CAST(in_degree AS BIGINT) AS degree, count(*) AS memories FROM d GROUP BY in_degree
UNION ALL
SELECT 'out', CAST(out_degree AS BIGINT), count(*) FROM d GROUP BY out_degree
ORDER BY direction, degree
"""

_TIER_COLUMNS = ("tier", "memories", "mean_importance", "median_importance")
_HIST_COLUMNS = ("bin_start", "bin_end", "memories")
_EDGE_COLUMNS = ("edge_type", "edges", "mean_weight", "min_weight", "max_weight")
_DEGREE_COLUMNS = ("direction", "degree", "memories")
_ACTIVITY_COLUMNS = ("period", "memories", "edges", "reflexions")
_CHURN_COLUMNS = ("period", "created", "invalidated", "reinstated")
#: DuckDB SQL: first and last creation time over memories, edges and reflexions (valid years only).
_TIME_SPAN_SQL = """
SELECT min(created_at) AS first, max(created_at) AS last FROM (
    SELECT created_at FROM clean_memories UNION ALL SELECT created_at FROM clean_causal_edges
    UNION ALL SELECT created_at FROM clean_reflexion_episodes
) WHERE created_at BETWEEN -62135596800 AND 253402300799
"""
#: The periods of :func:`activity_frame`, finest first, with their pandas offset aliases.
_PERIODS = (("day", "D"), ("week", "W-MON"), ("month", "MS"), ("year", "YS"))


def tier_distribution(source: Any, *, ax: Axes | None = None) -> Figure:
    """Bar chart of memories per tier (all 12 tiers), with mean and median importance per tier.

    Parameters
    ----------
    source : OmegaStore, Analytics or DataFrame
        A DataFrame needs the columns of ``Analytics.tier_summary()``: ``tier``, ``memories``,
        ``mean_importance``, ``median_importance``.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tier": [1, 3], "memories": [5, 2], "mean_importance": [0.2, 0.8],
    ...                    "median_importance": [0.1, 0.8]})
    >>> fig = tier_distribution(df)
    >>> [round(p.get_height()) for p in fig.axes[0].patches][:4]
    [5, 0, 2, 0]
    """
    df = analytics_frame(source, lambda a: a.tier_summary(), _TIER_COLUMNS, "tier_summary")
    fig, ax = figure_for(ax, 7.5, 3.8)
    style_axes(ax)
    ax.set_title("Memories by tier", loc="left", fontsize=12)
    if df.empty or int(df["memories"].sum()) == 0:
        no_data(ax, "no memories")
        return fig
    by_tier = df.set_index("tier")
    counts = [int(by_tier["memories"].get(t, 0)) for t in TIERS]
    cmap, norm = tier_cmap(), tier_norm()
    bars = ax.bar(TIERS, counts, color=[cmap(norm(t)) for t in TIERS], edgecolor="white", width=0.8)
    ax.bar_label(bars, labels=[compact(c) if c else "" for c in counts], fontsize=8, padding=2)
    count_axis(ax.yaxis)
    ax.set_xticks(TIERS)
    ax.set_xlabel("tier")
    ax.set_ylabel("memories")
    ax.set_ylim(0, max(counts) * 1.15)
    imp = ax.twinx()
    for side in ("top", "left"):
        imp.spines[side].set_visible(False)
    imp.tick_params(labelsize=9, colors="#374151")
    present = [t for t in TIERS if t in by_tier.index]
    imp.plot(present, [by_tier.at[t, "mean_importance"] for t in present], "o", color="#111827",
             markersize=5, label="mean importance")  # fmt: skip
    imp.plot(present, [by_tier.at[t, "median_importance"] for t in present], "_", color="#dc2626",
             markersize=12, markeredgewidth=2, label="median importance")  # fmt: skip
    imp.set_ylim(0, 1.05)
    imp.set_ylabel("importance")
    imp.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def importance_histogram(source: Any, *, bins: int = 20, ax: Axes | None = None) -> Figure:
    """Histogram of memory importance over [0, 1].

    Parameters
    ----------
    source : OmegaStore, Analytics or DataFrame
        A DataFrame needs the columns of ``Analytics.importance_histogram()``: ``bin_start``,
        ``bin_end``, ``memories`` (an ``_outside`` column, if present, is noted on the figure).
    bins : int, default 20
        Number of equal bins when the histogram is computed here.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"bin_start": [0.0, 0.5], "bin_end": [0.5, 1.0], "memories": [3, 1]})
    >>> [int(p.get_height()) for p in importance_histogram(df).axes[0].patches]
    [3, 1]
    """
    if not isinstance(bins, int) or bins < 1:
        raise ValidationError("importance_histogram", "bins", bins, "a positive integer")
    df = analytics_frame(
        source, lambda a: a.importance_histogram(bins), _HIST_COLUMNS, "importance_histogram"
    )
    fig, ax = figure_for(ax, 7.5, 3.4)
    style_axes(ax)
    ax.set_title("Importance of memories", loc="left", fontsize=12)
    total = int(df["memories"].sum()) if not df.empty else 0
    if total == 0:
        no_data(ax, "no memories")
        return fig
    widths = df["bin_end"] - df["bin_start"]
    ax.bar(df["bin_start"], df["memories"], width=widths, align="edge", color=ACCENT, edgecolor="white")
    ax.set_xlim(0, 1)
    count_axis(ax.yaxis)
    ax.set_xlabel("importance")
    ax.set_ylabel("memories")
    outside = int(df["_outside"].iloc[0]) if "_outside" in df.columns and len(df) else 0
    note = f"{total:,} memories"
    if outside:
        note += f"; {outside:,} with importance outside [0, 1] not shown"
    ax.text(0.99, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#4b5563")
    return fig


def degree_distribution_frame(source: Any) -> pd.DataFrame:
    """Memories per in-degree and per out-degree: columns ``direction``, ``degree``, ``memories``.

    ``source``: an ``OmegaStore`` or ``Analytics`` (one aggregate query, see
    :data:`DEGREE_DISTRIBUTION_SQL`), a ``CausalGraph`` or networkx graph (degrees counted on its
    edges, parallel edges included), or a DataFrame with ``out_degree`` and ``in_degree`` columns
    (``Analytics.degree_table()``).

    Examples
    --------
    >>> import networkx as nx
    >>> degree_distribution_frame(nx.MultiDiGraph([("a", "b"), ("a", "c")])).to_dict("records")[:2]
    [{'direction': 'in', 'degree': 0, 'memories': 1}, {'direction': 'in', 'degree': 1, 'memories': 2}]
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame) and set(_DEGREE_COLUMNS) <= set(source.columns):
        return source
    if isinstance(source, pd.DataFrame):
        require_columns(source, ("out_degree", "in_degree"), "degree_table")
        outs, ins = source["out_degree"], source["in_degree"]
    elif hasattr(source, "to_networkx") or hasattr(source, "in_degree"):
        g = source.to_networkx() if hasattr(source, "to_networkx") else source
        nodes = list(g.nodes)
        outs = pd.Series([g.out_degree(v) for v in nodes], dtype="int64")
        ins = pd.Series([g.in_degree(v) for v in nodes], dtype="int64")
    else:
        return analytics_frame(source, lambda a: a.sql(DEGREE_DISTRIBUTION_SQL), _DEGREE_COLUMNS, "degrees")
    parts = []
    for direction, values in (("in", ins), ("out", outs)):
        counts = values.astype("int64").value_counts().sort_index()
        parts.append(
            pd.DataFrame({"direction": direction, "degree": counts.index, "memories": counts.values})
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_DEGREE_COLUMNS))
    return out.astype({"degree": "int64", "memories": "int64"})


def degree_distribution(source: Any, *, ax: Axes | None = None) -> Figure:
    """Log-log plot of the in- and out-degree distributions of the causal graph.

    Each point is a degree ``k`` and the number of memories with exactly ``k`` incoming (or
    outgoing) causal edges; memories of degree 0 cannot sit on a log axis and are counted in the
    legend instead.

    Parameters
    ----------
    source : OmegaStore, Analytics, CausalGraph, networkx graph or DataFrame
        See :func:`degree_distribution_frame`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import networkx as nx
    >>> fig = degree_distribution(nx.MultiDiGraph([("a", "b"), ("a", "c"), ("b", "c")]))
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_yscale()
    ('log', 'log')
    """
    df = degree_distribution_frame(source)
    fig, ax = figure_for(ax, 6.5, 4.2)
    style_axes(ax, grid="both")
    ax.set_title("Degree distribution (log–log)", loc="left", fontsize=12)
    positive = df[df["degree"] > 0]
    if positive.empty:
        no_data(ax, "no causal edges")
        return fig
    for (direction, marker), colour in zip((("out", "o"), ("in", "s")), SERIES, strict=False):
        part = df[df["direction"] == direction]
        zeros = int(part.loc[part["degree"] == 0, "memories"].sum())
        pos = part[part["degree"] > 0]
        label = f"{direction}-degree" + (f" ({zeros:,} memories at 0)" if zeros else "")
        ax.loglog(pos["degree"], pos["memories"], marker, color=colour, markersize=5, alpha=0.8,
                  label=label, markeredgecolor="white", markeredgewidth=0.5)  # fmt: skip
    _plain_log_ticks(ax)
    ax.set_xlabel("degree k (causal edges)")
    ax.set_ylabel("memories with degree k")
    ax.legend(fontsize=8, frameon=False)
    return fig


def _plain_log_ticks(ax: Axes) -> None:
    """Label log axes 1, 2, 5, 10, 20, ... instead of 2×10⁰."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    def label(value: float, _pos: int) -> str:
        lead = f"{value:.0e}"[0]
        return compact(value) if value >= 1 and lead in "125" else ""

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(label))
        axis.set_minor_formatter(FuncFormatter(lambda _v, _p: ""))


def edge_type_summary(source: Any, *, ax: Axes | None = None) -> Figure:
    """Edges per type (bars) beside each type's weight range (min–max line, mean dot).

    Parameters
    ----------
    source : OmegaStore, Analytics or DataFrame
        A DataFrame needs the columns of ``Analytics.edge_type_summary()``.
    ax : matplotlib.axes.Axes, optional
        Draw only the count bars here (the weight panel needs a figure of its own).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"edge_type": ["causes", "enables"], "edges": [7, 3], "mean_weight": [0.6, 0.3],
    ...                    "min_weight": [0.5, 0.2], "max_weight": [0.9, 0.45]})
    >>> fig = edge_type_summary(df)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['causes', 'enables']
    """
    df = analytics_frame(source, lambda a: a.edge_type_summary(), _EDGE_COLUMNS, "edge_type_summary")
    if ax is not None:
        fig, count_ax, weight_ax = figure_for(ax, 0, 0)[0], ax, None
    else:
        fig = new_figure(8.5, 0.9 + 0.42 * max(len(df), 2), ncols=2, sharey=True,
                         gridspec_kw={"width_ratios": [3, 2]})  # fmt: skip
        count_ax, weight_ax = fig.axes
    style_axes(count_ax, grid="x")
    count_ax.set_title("Causal edges by type", loc="left", fontsize=12)
    if df.empty:
        no_data(count_ax, "no causal edges")
        if weight_ax is not None:
            weight_ax.set_visible(False)
        return fig
    df = df.sort_values(["edges", "edge_type"], ascending=[False, True]).reset_index(drop=True)
    y = list(range(len(df)))
    bars = count_ax.barh(y, df["edges"], color=ACCENT, height=0.65)
    count_ax.bar_label(bars, labels=[compact(n) for n in df["edges"]], fontsize=8, padding=3)
    count_axis(count_ax.xaxis)
    count_ax.set_yticks(y, [shorten(t, 22) for t in df["edge_type"]])
    count_ax.invert_yaxis()
    count_ax.set_xlabel("edges")
    count_ax.set_xlim(0, float(df["edges"].max()) * 1.18)
    if weight_ax is not None:
        style_axes(weight_ax, grid="x")
        weight_ax.hlines(y, df["min_weight"], df["max_weight"], color=MUTED, linewidth=3)
        weight_ax.plot(df["mean_weight"], y, "o", color="#111827", markersize=6, label="mean")
        weight_ax.set_xlim(-0.02, 1.02)
        weight_ax.set_xlabel("weight (line: min–max, dot: mean)")
        weight_ax.tick_params(axis="y", left=False)
    return fig


def choose_period(first: int, last: int, max_periods: int = 120) -> str:
    """The finest of day, week, month, year that covers ``first``..``last`` (Unix seconds) in at
    most ``max_periods`` periods.

    >>> choose_period(0, 10 * 86_400), choose_period(0, 400 * 86_400), choose_period(0, 5 * 365 * 86_400)
    ('day', 'week', 'month')
    """
    days = max(last - first, 0) / 86_400
    for name, length in (("day", 1), ("week", 7), ("month", 30.44), ("year", 365.25)):
        if days / length + 1 <= max_periods:
            return name
    return "year"


def activity_frame(
    source: Any, freq: str | None = None, *, max_periods: int = 120
) -> tuple[pd.DataFrame, str]:
    """Records created per period, and the period used (``"day"``, ``"week"``, ``"month"``, ``"year"``).

    With ``freq=None`` the finest period giving at most ``max_periods`` rows is chosen (see
    :func:`choose_period`). A store or analytics session is asked for that period directly; a
    DataFrame (``Analytics.activity()`` output at a finer period) is summed into it here.
    Columns ``period`` (start of the period; weeks start on Monday), ``memories``, ``edges``,
    ``reflexions``.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.DataFrame({"period": pd.date_range("2025-01-01", periods=400, freq="D"),
    ...                      "memories": 1, "edges": 2, "reflexions": 0})
    >>> df, used = activity_frame(days)
    >>> used, len(df), int(df["edges"].sum())
    ('week', 58, 800)
    """
    import pandas as pd

    names = [name for name, _ in _PERIODS]
    if freq is not None and freq not in names:
        raise ValidationError("activity_timeline", "freq", freq, f"one of {names} or None (automatic)")

    def compute(a: Any) -> pd.DataFrame:
        nonlocal freq
        if freq is None:
            span = a.sql(_TIME_SPAN_SQL)
            first, last = span.iloc[0]["first"], span.iloc[0]["last"]
            freq = "day" if pd.isna(first) else choose_period(int(first), int(last), max_periods)
        return a.activity(freq)

    df = analytics_frame(source, compute, _ACTIVITY_COLUMNS, "activity")
    return _by_period(df, _ACTIVITY_COLUMNS, freq, max_periods)


def _by_period(
    df: pd.DataFrame, columns: tuple[str, ...], freq: str | None, max_periods: int
) -> tuple[pd.DataFrame, str]:
    """A per-period frame summed into ``freq`` periods (chosen from its span when None), every
    period from the first to the last present, empty ones with zeros; and the period used."""
    import pandas as pd

    df = df[df["period"].notna()][list(columns)]
    df = df.assign(period=pd.to_datetime(df["period"]))
    if df.empty:
        return df.reset_index(drop=True), freq or "day"
    if freq is None:
        seconds = (df["period"].max() - df["period"].min()).total_seconds()
        freq = choose_period(0, int(seconds), max_periods)
    alias = dict(_PERIODS)[freq]
    start = df["period"].dt.to_period(alias[0]).dt.start_time  # D, W (from Monday), M, Y
    out = df.drop(columns="period").groupby(start).sum()
    full = pd.date_range(out.index.min(), out.index.max(), freq=alias, name="period")
    out = out.reindex(full, fill_value=0).reset_index()
    return out.astype({c: "int64" for c in columns[1:]}), freq


def activity_timeline(source: Any, *, freq: str | None = None, ax: Axes | None = None) -> Figure:
    """Memories, causal edges and reflexion episodes created per day, week, month or year.

    Parameters
    ----------
    source : OmegaStore, Analytics or DataFrame
        A DataFrame needs the columns of ``Analytics.activity()``: ``period``, ``memories``,
        ``edges``, ``reflexions``.
    freq : {"day", "week", "month", "year"}, optional
        The period; by default the finest one showing the whole span in at most 120 periods.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"period": pd.to_datetime(["2025-11-24", "2025-11-25"]),
    ...                    "memories": [8, 0], "edges": [0, 8], "reflexions": [0, 2]})
    >>> [line.get_label() for line in activity_timeline(df).axes[0].get_lines()]
    ['memories', 'causal edges', 'reflexions']
    """
    import matplotlib.dates as mdates

    df, used = activity_frame(source, freq)
    fig, ax = figure_for(ax, 8.5, 3.6)
    style_axes(ax)
    ax.set_title(f"Activity per {used}", loc="left", fontsize=12)
    if df.empty:
        no_data(ax, "no timestamped records")
        return fig
    marker = "o" if len(df) <= 60 else None
    for column, label, colour in zip(("memories", "edges", "reflexions"),
                                     ("memories", "causal edges", "reflexions"), SERIES[:3], strict=True):  # fmt: skip
        ax.plot(
            df["period"], df[column], marker=marker, markersize=4, linewidth=1.6, color=colour, label=label
        )
    ax.set_ylabel(f"records created per {used}")
    count_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator(maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.legend(fontsize=8, frameon=False, ncols=3, loc="upper left")
    return fig


def edge_churn(source: Any, *, freq: str | None = None, ax: Axes | None = None) -> Figure:
    """Causal edges created (top panel) and invalidated or reinstated (bottom panel) per period.

    Parameters
    ----------
    source : OmegaStore, Analytics or DataFrame
        A DataFrame needs the columns of ``Analytics.edge_churn()``: ``period``, ``created``,
        ``invalidated``, ``reinstated`` (at the period asked for, or a finer one: it is summed here).
    freq : {"day", "week", "month", "year"}, optional
        The period; by default the finest one showing the whole span in at most 120 periods.
    ax : matplotlib.axes.Axes, optional
        Draw the three series into this one axes instead of two panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"period": pd.to_datetime(["2025-11-24", "2025-11-26"]), "created": [8, 0],
    ...                    "invalidated": [0, 3], "reinstated": [0, 1]})
    >>> fig = edge_churn(df)
    >>> [[line.get_label() for line in a.get_lines()] for a in fig.axes]
    [['created'], ['invalidated', 'reinstated']]
    >>> [int(v) for v in fig.axes[1].get_lines()[0].get_ydata()]
    [0, 0, 3]
    """
    import matplotlib.dates as mdates

    names = [name for name, _ in _PERIODS]
    if freq is not None and freq not in names:
        raise ValidationError("edge_churn", "freq", freq, f"one of {names} or None (automatic)")
    df = analytics_frame(source, lambda a: a.edge_churn(freq or "day"), _CHURN_COLUMNS, "edge_churn")
    df, used = _by_period(df, _CHURN_COLUMNS, freq, 120)
    fig: Figure
    if ax is None:
        fig = new_figure(8.5, 4.8, ncols=0)
        panels = list(fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 3]}))
    else:
        fig, panels = figure_for(ax, 0, 0)[0], [ax, ax]
    for panel in dict.fromkeys(panels):
        style_axes(panel)
    panels[0].set_title(
        f"Causal edges created, invalidated and reinstated per {used}", loc="left", fontsize=12
    )
    if df.empty:
        no_data(panels[0], "no causal edges")
        if panels[1] is not panels[0]:
            panels[1].set_visible(False)
        return fig
    marker = "o" if len(df) <= 60 else None
    for column, colour, panel in (("created", SERIES[0], panels[0]), ("invalidated", "#dc2626", panels[1]),
                                  ("reinstated", SERIES[2], panels[1])):  # fmt: skip
        panel.plot(df["period"], df[column], marker=marker, markersize=4, linewidth=1.6, color=colour,
                   label=column)  # fmt: skip
    labels = (
        ("edges created", "invalidations and reinstatements") if panels[0] is not panels[1] else ("edges",)
    )
    for panel, label in zip(dict.fromkeys(panels), labels, strict=True):
        panel.set_ylabel(f"{label} per {used}", fontsize=9)
        count_axis(panel.yaxis)
        panel.set_ylim(bottom=0)
        panel.legend(fontsize=8, frameon=False, ncols=3, loc="upper left")
    locator = mdates.AutoDateLocator(maxticks=10)
    panels[-1].xaxis.set_major_locator(locator)
    panels[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig
