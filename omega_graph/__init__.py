"""omega-graph: agent-memory data in one SQLite file, with causal graph queries and DuckDB statistics.

>>> from omega_graph import OmegaStore, StoredMemory
>>> with OmegaStore.new_in_memory() as store:
...     store.store_memory(StoredMemory("m1", "saw smoke", 3, 0.9, None, 1764000000, 1764000000))
...     store.get_memory("m1").content
'saw smoke'
"""

from .errors import (
    ConflictError,
    DatabaseError,
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

__all__ = [
    "ConflictError",
    "DatabaseError",
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
