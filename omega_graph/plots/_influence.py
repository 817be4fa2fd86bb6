"""Influence plots: the memories ranked by weighted PageRank, bars coloured by tier."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import ValidationError
from ._common import (
    ACCENT,
    TIERS,
    figure_for,
    no_data,
    require_columns,
    shorten,
    style_axes,
    tier_cmap,
    tier_norm,
)

if TYPE_CHECKING:
    pass

__all__ = ["influence_ranking", "memory_tiers"]

_INFLUENCE_COLUMNS = ("memory_id", "score", "rank")


def memory_tiers(store: Any, ids: list[str]) -> dict[str, int]:
    """``{memory id: tier}`` for ``ids`` read from a store (one bulk read; unknown ids are left out)."""
    read = getattr(store, "memory_attributes", None)
    if read is None:
        return {}
    return {m: t for m, (t, _, _) in read(ids, content_chars=0).items() if t is not None}


def influence_ranking(
    source: Any,
    *,
    top: int = 15,
    reverse: bool = False,
    tiers: Mapping[str, int] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars of the ``top`` memories by influence (weighted PageRank), bars coloured by tier.

    Parameters
    ----------
    source : CausalGraph, OmegaStore or DataFrame
        A graph is asked ``influence(reverse=reverse)``; a store takes a snapshot first; a DataFrame
        needs the columns ``memory_id``, ``score``, ``rank`` of ``CausalGraph.influence()``.
    top : int, default 15
    reverse : bool, default False
        Rank on the reversed graph (memories that drive many others) instead of the graph itself
        (memories that strong causal chains flow into).
    tiers : mapping of memory id to tier, optional
        Colours the bars; read from the store when ``source`` is one (or a graph that knows its store).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"memory_id": ["a", "b"], "score": [0.7, 0.3], "rank": [1, 2]})
    >>> [t.get_text() for t in influence_ranking(df, tiers={"a": 1}).axes[0].get_yticklabels()]
    ['a', 'b']
    """
    import pandas as pd

    if not isinstance(top, int) or top < 1:
        raise ValidationError("influence_ranking", "top", top, "a positive integer")
    store = None
    if isinstance(source, pd.DataFrame):
        df = require_columns(source, _INFLUENCE_COLUMNS, "influence")
    elif hasattr(source, "influence"):
        df = source.influence(reverse=reverse)
        store = getattr(source, "store", None)
    elif hasattr(source, "causal_graph"):
        df = source.causal_graph().influence(reverse=reverse)
        store = source
    else:
        raise ValidationError(
            "plot", "influence", type(source).__name__,
            "a CausalGraph, an OmegaStore or a DataFrame with columns memory_id, score, rank",
        )  # fmt: skip
    df = df.sort_values(["rank", "memory_id"]).head(top).reset_index(drop=True)
    if tiers is None and store is not None:
        tiers = memory_tiers(store, df["memory_id"].tolist())
    fig, ax = figure_for(ax, 7.5, 0.9 + 0.3 * max(len(df), 3))
    style_axes(ax, grid="x")
    what = (
        "Strongest drivers (PageRank on the reversed graph)"
        if reverse
        else "Most influential memories (PageRank)"
    )
    ax.set_title(what, loc="left", fontsize=12)
    if df.empty:
        no_data(ax, "no causal edges")
        return fig
    cmap, norm = tier_cmap(), tier_norm()
    colours = [cmap(norm(tiers[m])) if tiers and m in tiers else ACCENT for m in df["memory_id"]]
    y = list(range(len(df)))
    bars = ax.barh(y, df["score"], color=colours, height=0.7)
    ax.bar_label(bars, labels=[_score(s) for s in df["score"]], fontsize=8, padding=3)
    ax.set_yticks(y, [shorten(m, 32) for m in df["memory_id"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, float(df["score"].max()) * 1.2 or 1.0)
    ax.set_xlabel("PageRank score")
    if tiers:
        from matplotlib.cm import ScalarMappable

        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, ticks=TIERS, fraction=0.04, pad=0.02)
        bar.set_label("tier", fontsize=9)
        bar.ax.tick_params(labelsize=7)
    return fig


def _score(value: float) -> str:
    """A PageRank score in 3 significant digits (scores shrink as graphs grow)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{value:.3g}"
