"""``omega_graph.fleet.generate``: a deterministic fleet of agent stores to try the fleet tools on.

Store ``i`` of a fleet (``0 <= i < stores``) depends only on ``(seed, i, edges)``, so a fleet of 10
is the first 10 stores of the fleet of 1,000 with the same seed. Its shape:

- **Agent version**: every third store (``i % 3 == 2``) is version 2, the others version 1. The
  version is in the file name, ``agent-<i>-v<version>.db``, and in the store itself: one
  architecture ``agent-v<version>`` (id ``arch-v<version>``, paradigm ``neural`` for v1,
  ``hybrid`` for v2) with one intelligence ``agent-<i>`` on it, so a statistic grouped by the
  architecture's name (or a join on ``architectures``) tells the versions apart. Version 2 agents
  hold stronger beliefs: each generated causal weight ``w`` (``Beta(2, 3)``, mean 0.4) becomes
  ``sqrt(w)`` (mean about 0.62); weight-0 edges stay 0.
- **Size**: causal edges log-uniform over ``edges = (lo, hi)`` (default 1,000 to 10,000), except
  one store in 16 (``i % 16 == 9``) drawn from ``[max(lo // 10, 1), lo)``: a few small ones.
  Memories ``max(2, edges // 3)``; vectors on 5-20 % of the memories and reflexions about 2-8 %
  of them (at least one each); two skills (``plan``, ``recall``) with random success counts.
- **Cycles**: one store in 8 (``i % 8 == 5``) has 2 % backward ``feedback`` edges and at least one
  cycle (a ``feedback`` edge ``e_cycle`` closing the first edge's two memories); the others are
  DAGs (no backward edge).
- **Identity**: store ``i`` gets the identity ``sha256("omega-graph fleet <seed> <i>")[:32]``
  (written into ``omega_store_identity``, with ``created_at`` = :data:`~omega_graph.generate.START`),
  so its store id in an export is reproducible. Two fleets made with the same seed therefore share
  ids: an export reading both reports the second as copies.

Records come from :mod:`omega_graph.generate`'s generators with a per-store seed, so the same
arguments always give the same rows.

Examples
--------
>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> paths = generate(d, stores=3, seed=1, edges=(20, 40))
>>> [p.rsplit("/", 1)[1] for p in paths]
['agent-0000-v1.db', 'agent-0001-v1.db', 'agent-0002-v2.db']
>>> store_identity(1, 0)
'826655afde15a1e1c1ff657f84b042b6'
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConflictError, ValidationError
from ..generate import START, edge_batches, memory_batches, memory_id, reflexion_batches, vector_batches
from ..models import StoredArchitecture, StoredCausalEdge, StoredIntelligence, StoredSkill
from ..sample import atomic_build

if TYPE_CHECKING:
    from ..store import OmegaStore

__all__ = ["FleetStore", "fleet_store", "generate", "store_identity"]

#: ``progress(done, total, path)``: once with ``(0, total, None)``, then after each store.
Progress = Callable[[int, int, "str | None"], object]
#: The random stream of the per-store draws (sizes, fractions) beside :mod:`omega_graph.generate`'s.
_FLEET_KIND = 101


@dataclass(frozen=True)
class FleetStore:
    """The drawn shape of fleet store ``index``: what :func:`generate` writes for it."""

    index: int
    version: int
    cyclic: bool
    memories: int
    edges: int
    vectors: int
    reflexions: int
    seed: int  # the seed of the store's records
    successes: tuple[int, int]

    def file_name(self, width: int) -> str:
        return f"agent-{self.index:0{width}d}-v{self.version}.db"


def store_identity(seed: int, index: int) -> str:
    """The identity (and so the export's store id) of store ``index`` of the fleet made with ``seed``."""
    return hashlib.sha256(f"omega-graph fleet {seed} {index}".encode()).hexdigest()[:32]


def _check_edges(edges: object) -> tuple[int, int]:
    ok = (
        isinstance(edges, tuple | list)
        and len(edges) == 2
        and all(type(x) is int for x in edges)
        and 1 <= edges[0] <= edges[1]
    )
    if not ok:
        raise ValidationError("fleet generate", "edges", edges, "a pair (lo, hi) of ints with 1 <= lo <= hi")
    return int(edges[0]), int(edges[1])  # type: ignore[index]


def fleet_store(seed: int, index: int, edges: tuple[int, int] = (1_000, 10_000)) -> FleetStore:
    """Draw the shape of store ``index`` (see the module docstring).

    >>> fleet_store(1, 5).cyclic, fleet_store(1, 2).version
    (True, 2)
    """
    import numpy as np

    lo, hi = _check_edges(edges)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_FLEET_KIND, index))))
    small = index % 16 == 9 and lo > 1
    a, b = (max(lo // 10, 1), lo - 1) if small else (lo, hi)
    n_edges = int(round(math.exp(rng.uniform(math.log(a), math.log(b))))) if b > a else a
    memories = max(2, n_edges // 3)
    vectors = max(1, int(round(memories * rng.uniform(0.05, 0.2))))
    reflexions = max(1, int(round(memories * rng.uniform(0.02, 0.08))))
    record_seed = int(rng.integers(0, 2**31))
    successes = (int(rng.integers(0, 50)), int(rng.integers(0, 50)))
    return FleetStore(
        index=index,
        version=2 if index % 3 == 2 else 1,
        cyclic=index % 8 == 5,
        memories=memories,
        edges=n_edges,
        vectors=vectors,
        reflexions=reflexions,
        seed=record_seed,
        successes=successes,
    )


def _edges(shape: FleetStore) -> Iterator[list[StoredCausalEdge]]:
    batches = edge_batches(
        shape.memories, shape.edges, shape.seed, back_edge_fraction=0.02 if shape.cyclic else 0.0
    )
    for batch in batches:
        if shape.version == 2:
            batch = [
                StoredCausalEdge(
                    e.id, e.from_memory, e.to_memory, round(math.sqrt(e.weight), 6), e.edge_type, e.created_at
                )
                for e in batch
            ]
        yield batch


def _fill(store: OmegaStore, shape: FleetStore, identity: str) -> None:
    created = START
    with store.transaction():
        for batch in memory_batches(shape.memories, shape.seed):
            store.store_memories(batch)
        first: StoredCausalEdge | None = None
        for edges in _edges(shape):
            first = first or edges[0]
            store.store_causal_edges(edges)
        if shape.cyclic and first is not None:
            store.store_causal_edge(
                StoredCausalEdge("e_cycle", first.to_memory, first.from_memory, 0.5, "feedback", created)
            )
        for vectors in vector_batches(shape.memories, shape.vectors, shape.seed):
            for v in vectors:
                store.store_vector(v)
        for episodes in reflexion_batches(shape.memories, shape.reflexions, shape.seed):
            for r in episodes:
                store.store_reflexion(r)
        for k, (name, successes) in enumerate(zip(("plan", "recall"), shape.successes, strict=True)):
            store.store_skill(
                StoredSkill(
                    f"skill-{name}", name, f"{name} a step", f"{name}.*", successes, None, created + k
                )
            )
        arch = f"arch-v{shape.version}"
        paradigm = "neural" if shape.version == 1 else "hybrid"
        lineage = (
            '{"generation": 0, "parent": null}'
            if shape.version == 1
            else '{"generation": 1, "parent": "arch-v1"}'
        )
        store.store_architecture(
            StoredArchitecture(
                arch, f"agent-v{shape.version}", paradigm, "python", '{"overall": 0.5}', lineage, created
            )
        )
        store.store_intelligence(
            StoredIntelligence(
                f"agent-{shape.index}",
                f"agent-{shape.index}",
                arch,
                0.5,
                '["reasoning"]',
                f'["{memory_id(0, shape.memories)}"]',
                '{"status": "active"}',
                created,
                created,
            )
        )
        store.connection.execute(
            "UPDATE omega_store_identity SET identity = ?, created_at = ? WHERE id = 1", (identity, START)
        )


def generate(
    directory: str | os.PathLike[str],
    stores: int = 1000,
    seed: int = 1,
    *,
    edges: tuple[int, int] = (1_000, 10_000),
    overwrite: bool = False,
    progress: Progress | None = None,
) -> list[str]:
    """Write a deterministic fleet of ``stores`` agent stores into ``directory``; return their paths.

    Parameters
    ----------
    directory : str or os.PathLike
        Created (with its parents) if missing. Files are named ``agent-<i>-v<version>.db`` (``<i>`` zero-padded to at
        least 4 digits).
    stores : int, default 1000
    seed : int, default 1
        The same ``(stores, seed, edges)`` always give the same rows and identities.
    edges : (int, int), default (1000, 10000)
        The range of causal edges per store (a few stores are smaller; see the module docstring).
    overwrite : bool, default False
        Replace existing files of the same names (else :class:`ConflictError`, before anything is written).
    progress : callable, optional
        ``progress(done, total, path)``: once with ``(0, total, None)``, then after each store.

    Returns
    -------
    list of str
        Absolute paths, in index order.
    """
    if type(stores) is not int or stores < 0:
        raise ValidationError("fleet generate", "stores", stores, "a non-negative int")
    if type(seed) is not int or seed < 0:
        raise ValidationError("fleet generate", "seed", seed, "a non-negative int")
    _check_edges(edges)
    from ..store import OmegaStore

    directory = os.path.abspath(os.fspath(directory))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValidationError("fleet generate", "directory", directory, "a directory (it is a file)")
    os.makedirs(directory, exist_ok=True)
    width = max(4, len(str(max(stores - 1, 0))))
    shapes = [fleet_store(seed, i, edges) for i in range(stores)]
    paths = [os.path.join(directory, s.file_name(width)) for s in shapes]
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise ConflictError(
            f"{existing[0]!r} (and {len(existing) - 1} more) already exist; pass overwrite=True "
            "(CLI: --force) or choose an empty directory"
        )
    if progress is not None:
        progress(0, stores, None)
    for done, (shape, path) in enumerate(zip(shapes, paths, strict=True), 1):
        with atomic_build(path, overwrite=overwrite) as tmp, OmegaStore(tmp) as store:
            store.connection.execute("PRAGMA synchronous = OFF")  # a private file, moved in when complete
            _fill(store, shape, store_identity(seed, shape.index))
        if progress is not None:
            progress(done, stores, path)
    return paths
