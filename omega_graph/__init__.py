"""omega-graph: agent-memory data in one SQLite file, with causal graph queries and DuckDB statistics.

>>> from omega_graph import OmegaStore, StoredMemory
>>> with OmegaStore.new_in_memory() as store:
...     store.store_memory(StoredMemory("m1", "saw smoke", 3, 0.9, None, 1764000000, 1764000000))
...     store.get_memory("m1").content
'saw smoke'
"""

from .errors import (
    CacheWarning,
    ConflictError,
    ConvergenceError,
    DatabaseError,
    DataQualityWarning,
    LimitWarning,
    MissingDependencyError,
    NoPathError,
    NotADAGError,
    NotFoundError,
    OmegaGraphError,
    PatternWarning,
    SchemaError,
    ValidationError,
)
from .models import (
    DatabaseStatistics,
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
)
from .store import OmegaStore

__version__ = "0.1.0"

# The graph and analytics layers pull in scipy, pandas and duckdb: load them on first use so that
# `import omega_graph` stays light.
_LAZY = {
    "Analytics": "omega_graph.analytics",
    "CausalGraph": "omega_graph.graph",
    "CausalPath": "omega_graph.graph",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'omega_graph' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Analytics",
    "CacheWarning",
    "CausalGraph",
    "CausalPath",
    "ConflictError",
    "ConvergenceError",
    "DatabaseError",
    "DataQualityWarning",
    "LimitWarning",
    "DatabaseStatistics",
    "MissingDependencyError",
    "NoPathError",
    "NotADAGError",
    "NotFoundError",
    "OmegaGraphError",
    "OmegaStore",
    "PatternWarning",
    "SchemaError",
    "StoredArchitecture",
    "StoredCausalEdge",
    "StoredIntelligence",
    "StoredMemory",
    "StoredReflexionEpisode",
    "StoredSkill",
    "StoredVector",
    "ValidationError",
    "__version__",
]
