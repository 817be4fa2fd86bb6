"""The canonical store: one SQLite file in the original crate's format.

Safety across threads and processes
-----------------------------------
An :class:`OmegaStore` belongs to the thread that opened it (sqlite3 refuses use from another
thread); open one store per thread or process. The file is in WAL mode: any number of readers and
one writer work at the same time, a reader sees the last commit before its statement or transaction
began, and a writer waits up to ``BUSY_TIMEOUT_S`` seconds for another writer's lock before
:class:`~omega_graph.errors.DatabaseError`. Commits use ``synchronous=NORMAL``: they survive a crash
of the process; only a power failure can lose the most recent ones.
"""

from ._base import BUSY_TIMEOUT_S
from ._beliefs import BeliefOps
from ._bulk import BulkReadOps
from ._catalog import CatalogOps
from ._edges import EdgeOps
from ._memories import MemoryOps

__all__ = ["BUSY_TIMEOUT_S", "OmegaStore"]


class OmegaStore(MemoryOps, CatalogOps, EdgeOps, BeliefOps, BulkReadOps):
    """All entities of an omega store, with the original crate's method names.

    Parameters
    ----------
    path : str or os.PathLike or None
        The database file (created if missing, migrated in place if older); ``None`` or
        ``":memory:"`` for a store in memory.

    Examples
    --------
    >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
    >>> with OmegaStore.new_in_memory() as store:
    ...     store.store_memories([StoredMemory("smoke", "smokes", 2, 0.8, None, 0, 0),
    ...                           StoredMemory("lung", "lung cancer", 3, 0.9, None, 60, 60)])
    ...     store.store_causal_edge(StoredCausalEdge("e1", "smoke", "lung", 0.7, "causes", 120))
    ...     [e.to_memory for e in store.get_causal_edges_from("smoke")]
    2
    ['lung']
    """
