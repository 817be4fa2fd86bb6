"""Figures of an omega store: headless matplotlib, ready for notebooks and the report.

Every function returns a :class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`
(an Agg canvas is attached; no global state), so figures can be made in scripts, threads and
notebooks alike, and Jupyter shows them inline. Pass ``ax=`` to draw into your own axes.

=============================  ==================================================================
:func:`tier_distribution`      memories per tier, with mean/median importance
:func:`importance_histogram`   importance over [0, 1]
:func:`degree_distribution`    in/out-degree distributions, log–log
:func:`edge_type_summary`      edges per type and each type's weight range
:func:`activity_timeline`      memories, edges and reflexions created per day/week/month/year
:func:`edge_churn`             causal edges created, invalidated and reinstated per period
:func:`influence_ranking`      top memories by weighted PageRank
:func:`causal_neighbourhood`   the causes and effects of one memory, drawn
=============================  ==================================================================

Examples
--------
>>> from omega_graph.sample import build_sample_store
>>> from omega_graph import plots
>>> with build_sample_store(None) as store:
...     fig = plots.causal_neighbourhood(store, "asia:either", radius=1)
>>> fig.axes[0].get_title(loc="left")
'Causal neighbourhood of asia:either'
"""

from ._common import OmegaFigure, png_bytes, tier_cmap, tier_norm
from ._influence import influence_ranking
from ._neighbourhood import causal_neighbourhood, neighbourhood_graph
from ._stats import (
    activity_frame,
    activity_timeline,
    choose_period,
    degree_distribution,
    degree_distribution_frame,
    edge_churn,
    edge_type_summary,
    importance_histogram,
    tier_distribution,
)

__all__ = [
    "OmegaFigure",
    "activity_frame",
    "activity_timeline",
    "causal_neighbourhood",
    "choose_period",
    "degree_distribution",
    "degree_distribution_frame",
    "edge_churn",
    "edge_type_summary",
    "importance_histogram",
    "influence_ranking",
    "neighbourhood_graph",
    "png_bytes",
    "tier_cmap",
    "tier_distribution",
    "tier_norm",
]
