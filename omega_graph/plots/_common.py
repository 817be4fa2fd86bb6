"""Shared plumbing of the plots: headless figures, the tier palette, and turning inputs into frames.

Every figure is a :class:`OmegaFigure` (a :class:`matplotlib.figure.Figure` with an Agg canvas
attached), built without :mod:`matplotlib.pyplot`: no global figure registry, no backend switch, safe
to build in a worker thread, and displayed inline by Jupyter through ``_repr_png_`` even where the
inline backend was never activated.

Examples
--------
>>> fig = new_figure(4, 3)
>>> type(fig).__name__, fig.canvas.get_renderer() is not None
('OmegaFigure', True)
>>> png_bytes(fig)[:8]
b'\\x89PNG\\r\\n\\x1a\\n'
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap
from matplotlib.figure import Figure

from ..errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACCENT",
    "MUTED",
    "SERIES",
    "TIERS",
    "OmegaFigure",
    "analytics_frame",
    "compact",
    "count_axis",
    "figure_for",
    "no_data",
    "png_bytes",
    "new_figure",
    "require_columns",
    "style_axes",
    "tier_cmap",
    "tier_norm",
    "shorten",
]

#: The twelve memory tiers, in order.
TIERS: tuple[int, ...] = tuple(range(1, 13))
#: Main bar colour, secondary colour, and the colour cycle for several series.
ACCENT = "#3b6ea8"
MUTED = "#9aa5b1"
SERIES: tuple[str, ...] = ("#3b6ea8", "#d1793b", "#4f9a5e", "#a8488f", "#c2a23a", "#5a5a5a")
#: Resolution used when a figure is written as PNG (report, ``_repr_png_``).
PNG_DPI = 144


class OmegaFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself as PNG in Jupyter without pyplot."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


def new_figure(width: float, height: float, *, ncols: int = 1, **subplot_kw: Any) -> OmegaFigure:
    """A new headless figure (Agg canvas, constrained layout) of ``width`` x ``height`` inches."""
    fig = OmegaFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    if ncols:
        fig.subplots(1, ncols, **subplot_kw)
    return fig


def figure_for(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """The caller's axes and its figure, or a new one-axes figure."""
    if ax is not None:
        fig = ax.figure
        while not isinstance(fig, Figure):  # a SubFigure: climb to the figure that owns it
            fig = fig.figure
        return fig, ax
    fig = new_figure(width, height)
    return fig, fig.axes[0]


def png_bytes(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure rendered as PNG (white background)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def style_axes(ax: Axes, *, grid: Literal["x", "y", "both"] | None = "y") -> None:
    """House look: no top/right spines, light grid behind the data."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#6b7280")
    ax.tick_params(colors="#374151", labelsize=9)
    if grid:
        ax.grid(axis=grid, color="#e5e7eb", linewidth=0.8)
        ax.set_axisbelow(True)


def compact(value: float) -> str:
    """A count in a few characters: 950, 12k, 1.4M.

    >>> [compact(v) for v in (0, 950, 2_000, 12_500, 1_400_000, 3e9)]
    ['0', '950', '2,000', '12.5k', '1.4M', '3G']
    """
    v = abs(value)
    if v < 10_000:
        return f"{value:,.0f}"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:,.0f}"  # pragma: no cover


def count_axis(axis: Any) -> None:
    """Label a count axis 950, 12k, 1.4M (never an offset like ``1e6``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))


def no_data(ax: Axes, message: str) -> None:
    """Mark an axes as empty: a centred message instead of a plot."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#6b7280",
            fontsize=11, style="italic")  # fmt: skip


def tier_cmap() -> Colormap:
    """Twelve discrete colours, tier 1 (dark blue) to tier 12 (yellow)."""
    base = matplotlib.colormaps["viridis"]
    return ListedColormap([base(i / 11) for i in range(12)], name="omega_tiers")


def tier_norm() -> BoundaryNorm:
    """Maps tier ``t`` to colour ``t - 1`` of :func:`tier_cmap`."""
    return BoundaryNorm([t - 0.5 for t in range(1, 14)], 12)


def shorten(text: object, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis.

    >>> shorten("alarm:HYPOVOLEMIA", 10), shorten("asia:lung", 10)
    ('alarm:HYP…', 'asia:lung')
    """
    s = str(text)
    return s if len(s) <= width else s[: max(width - 1, 1)] + "…"


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Raise :class:`ValidationError` unless ``frame`` has every one of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            "plot", what, sorted(map(str, frame.columns)),
            f"a DataFrame with columns {list(columns)} (missing {missing})",
        )  # fmt: skip
    return frame


def analytics_frame(
    source: object, compute: Callable[[Any], pd.DataFrame], columns: Sequence[str], what: str
) -> pd.DataFrame:
    """A statistic as a DataFrame, from a DataFrame, an ``Analytics`` or an ``OmegaStore``.

    ``compute(analytics)`` produces the frame; a store opens (and closes) its own analytics.
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return require_columns(source, columns, what)
    if hasattr(source, "analytics") and hasattr(source, "get_statistics"):  # an OmegaStore
        with source.analytics() as a:
            return compute(a)
    if hasattr(source, "sql") and hasattr(source, "tier_summary"):  # an Analytics
        return compute(source)
    raise ValidationError(
        "plot", what, type(source).__name__,
        f"an OmegaStore, an Analytics (store.analytics()) or a DataFrame with columns {list(columns)}",
    )  # fmt: skip
