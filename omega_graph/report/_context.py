"""What every section builder shares: the store, one analytics session, one graph snapshot, options.

Examples
--------
>>> ReportOptions().top
10
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ._model import FigureBlock
from ._queries import DUCK_BELIEF_FACTS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..models import DatabaseStatistics

__all__ = ["Context", "ReportOptions"]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """How much the report shows; every list is capped, so the work is bounded on any store.

    Attributes
    ----------
    top : int
        Rows of each "top" table (most important memories, degrees, influence, ...).
    chains : int
        Strongest chains listed.
    chain_sources : int
        Strongest drivers tried as chain sources (one reachability pass each).
    alternatives_max_edges : int
        Alternative routes (``top_paths``) are listed only for graphs up to this many edges.
    neighbourhood_radius, neighbourhood_nodes : int
        The drawn causal neighbourhood of the most influential memory.
    lineages : int
        Architecture lineages shown (newest architectures first).
    histogram_bins : int
        Bins of the importance histogram.
    """

    top: int = 10
    chains: int = 5
    chain_sources: int = 5
    alternatives_max_edges: int = 200_000
    neighbourhood_radius: int = 2
    neighbourhood_nodes: int = 24
    lineages: int = 8
    histogram_bins: int = 20

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError("ReportOptions", name, value, "a positive integer")


class Context:
    """The store, an open ``Analytics`` session, a lazily taken ``CausalGraph`` and the options."""

    def __init__(self, store: Any, analytics: Any, options: ReportOptions) -> None:
        self.store = store
        self.analytics = analytics
        self.options = options
        self.stats: DatabaseStatistics = store.get_statistics()
        self._info: dict[str, tuple[int | None, float | None, str]] = {}

    @cached_property
    def graph(self) -> Any:
        """One snapshot of the causal edges for every graph question of the report."""
        return self.store.causal_graph()

    @cached_property
    def anomalies(self) -> pd.DataFrame:
        """Stored values of the wrong SQLite type (one scan per table, on first use).

        Listing them also switches the affected ``clean_<table>`` views to read them as NULL, so the
        report's own queries run on any file.
        """
        return self.analytics.type_anomalies()

    @cached_property
    def belief_facts(self) -> pd.Series:
        """Event counts of the belief side tables, and the edges invalidated now (one row)."""
        return self.sql(DUCK_BELIEF_FACTS).iloc[0]

    def sql(self, query: str, *params: Any) -> pd.DataFrame:
        """Run one of the report's DuckDB queries (over the ``clean_<table>`` views)."""
        self.anomalies  # noqa: B018 - the views must be tolerant before they are read
        return self.analytics.sql(query, list(params) if params else None)

    def memory_info(self, ids: list[str]) -> dict[str, tuple[int | None, float | None, str]]:
        """``{id: (tier, importance, content start)}`` for ``ids`` (the store's bulk read, cached)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._info]
        if missing:
            self._info.update(self.store.memory_attributes(missing, content_chars=80))
        return {i: self._info.get(i, (None, None, "")) for i in ids}

    def tiers(self, ids: list[str]) -> dict[str, int]:
        return {i: t for i, (t, _, _) in self.memory_info(ids).items() if t is not None}

    def figure(self, name: str, caption: str, fig: Figure) -> FigureBlock:
        """Render a figure to PNG now (and let it go), keeping the bytes for the writers."""
        from ..plots import png_bytes

        width, height = (float(x) for x in fig.get_size_inches())
        return FigureBlock(name, caption, png_bytes(fig), width, height)
