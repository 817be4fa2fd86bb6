"""DuckDB statistics over an omega store, returned as pandas DataFrames.

``store.analytics()`` or ``Analytics(path)`` opens a session: a private DuckDB connection with the
store's SQLite file attached READ_ONLY (see :mod:`omega_graph.analytics.statistics` for how
consistency, same-process writers and SQLite's dynamic typing are handled). This package imports
DuckDB only when a session opens, so ``import omega_graph`` stays light.

Examples
--------
>>> from omega_graph import OmegaStore
>>> with OmegaStore.new_in_memory().analytics() as a:
...     a.overview()["entity"].tolist()
['memories', 'skills', 'architectures', 'intelligences', 'causal_edges', 'vectors', 'reflexion_episodes']
"""

from typing import TYPE_CHECKING, Any

from ..errors import DataQualityWarning

if TYPE_CHECKING:
    from .statistics import Analytics

__all__ = ["Analytics", "DataQualityWarning"]


def __getattr__(name: str) -> Any:
    # Analytics (and pandas with it) loads on first use: the DuckDB worker process imports
    # omega_graph.analytics._session without pandas.
    if name == "Analytics":
        from .statistics import Analytics

        return Analytics
    raise AttributeError(f"module 'omega_graph.analytics' has no attribute {name!r}")
