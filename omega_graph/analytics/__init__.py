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

from ..errors import DataQualityWarning
from .statistics import Analytics

__all__ = ["Analytics", "DataQualityWarning"]
