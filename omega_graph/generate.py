"""Synthetic omega stores of any size, deterministic for a seed, shaped like real causal memory graphs.

Used by the benchmarks and by ``omega-graph generate DB --memories N --edges M --seed S``.

Shape (every draw is documented; the defaults are the keyword defaults below):

- **Memories** ``m<i>`` (zero-padded, so id order is creation order), created at evenly spaced times
  over ``span_days`` from :data:`START`; ``last_accessed`` = ``created_at`` + an exponential delay
  (mean 7 days); tier ``min(Geometric(0.35), 12)`` (low tiers common); importance ``Beta(2, 5)``
  rounded to 6 decimals; content "memory <i>: <topic> after <topic>" from :data:`TOPICS` (so full-text
  search has words to find); an 8-dimensional ``embedding_blob`` on a fraction ``embedding_fraction``.
- **Causal edges** ``e<j>``: a memory ``i`` is drawn with probability proportional to a per-memory
  ``1 + Lomax(hub_shape)`` weight, so out-degrees are heavy-tailed (a few hubs, many leaves), and a
  later memory ``i + 1 + floor((N - i - 1) U**3)`` (mostly near it). The edge points forward in
  creation order (``i`` → later), except a fraction ``back_edge_fraction`` pointing backward (closing
  cycles; with 0 the graph is a DAG). Forward edges are typed ``causes``/``enables``/``correlates``/
  ``inhibits`` with probabilities 0.5/0.25/0.15/0.1; backward edges are typed ``feedback``, so the
  graph restricted to the other types is a DAG. Weight ``Beta(2, 3)`` rounded to 6 decimals, exactly
  0 with probability ``zero_weight_fraction``. ``created_at`` = the later endpoint's creation time + an
  exponential delay (mean 1 day). Parallel edges (same pair) can occur, as in real stores.
- Optional **vectors** (16 dimensions, on distinct memories) and **reflexion episodes** (outcomes
  resolved/partially_resolved/escalated/deferred with probabilities 0.5/0.25/0.15/0.1).

Determinism: records are drawn in fixed chunks of :data:`CHUNK` rows, each chunk from its own
``numpy`` PCG64 stream keyed by (seed, kind, chunk), so the same arguments give the same store
(with the same NumPy release: NumPy keeps its bit generators stable, not every distribution).

Examples
--------
>>> store = generate_store(None, memories=1_000, edges=3_000, seed=7)
>>> store.get_statistics().causal_edge_count
3000
>>> store.get_memory("m000").tier in range(1, 13)
True
>>> store.close()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import ValidationError
from .models import StoredCausalEdge, StoredMemory, StoredReflexionEpisode, StoredVector
from .sample import atomic_build

if TYPE_CHECKING:
    import numpy as np

    from .store import OmegaStore

__all__ = [
    "CHUNK",
    "START",
    "TOPICS",
    "edge_batches",
    "generate_store",
    "memory_batches",
    "memory_id",
    "reflexion_batches",
    "vector_batches",
]

#: Creation time of the first generated memory (2023-11-14 22:13:20 UTC).
START = 1_700_000_000
DAY = 86_400
#: Rows per generated chunk (one random stream and one store call each).
CHUNK = 65_536
EMBEDDING_DIMENSIONS = 8
VECTOR_DIMENSIONS = 16
#: Page cache of the connection that builds a generated file (KiB; allocated only as pages are used).
BUILD_CACHE_KIB = 256 * 1024

TOPICS: tuple[str, ...] = tuple(
    "smoke fever cough rain traffic delay outage deploy alert latency memory disk network cache query "
    "index backup failover login payment refund fraud churn signup trial upgrade pricing forecast demand "
    "supply shipment stock sensor pressure valve pump heater cooling vibration wear fatigue dose "
    "symptom lesion therapy relapse recovery".split()
)
_FORWARD_TYPES = ("causes", "enables", "correlates", "inhibits")
_FORWARD_P = (0.5, 0.25, 0.15, 0.1)
_OUTCOMES = ("resolved", "partially_resolved", "escalated", "deferred")
_OUTCOME_P = (0.5, 0.25, 0.15, 0.1)
_KIND = {"memories": 1, "hubs": 2, "edges": 3, "vectors": 4, "reflexions": 5}

Progress = Callable[[int, int], object]


def _rng(seed: int, kind: str, chunk: int = 0) -> np.random.Generator:
    import numpy as np

    if type(seed) is not int or seed < 0:
        raise ValidationError("generate", "seed", seed, "a non-negative int")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_KIND[kind], chunk))))


def _width(n: int) -> int:
    return len(str(max(n - 1, 0)))


def memory_id(i: int, memories: int) -> str:
    """The id of generated memory ``i`` in a store of ``memories`` memories.

    >>> memory_id(42, 1_000)
    'm042'
    """
    return f"m{i:0{_width(memories)}d}"


def _created_at(index: np.ndarray, memories: int, span_days: int) -> np.ndarray:
    import numpy as np

    return START + (index.astype(np.int64) * (span_days * DAY)) // max(memories, 1)


def _check_count(field: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValidationError("generate", field, value, "a non-negative int")
    return value


def _check_fraction(field: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValidationError("generate", field, value, "a number in [0, 1]")
    return float(value)


def _check_shape(hub_shape: object, span_days: object) -> None:
    if not isinstance(hub_shape, int | float) or isinstance(hub_shape, bool) or not hub_shape > 0:
        raise ValidationError("generate", "hub_shape", hub_shape, "a positive number (smaller: heavier tail)")
    if type(span_days) is not int or span_days < 1:
        raise ValidationError("generate", "span_days", span_days, "a positive int")


def _chunks(total: int) -> Iterator[tuple[int, int, int]]:
    for c, lo in enumerate(range(0, total, CHUNK)):
        yield c, lo, min(lo + CHUNK, total)


def memory_batches(
    memories: int, seed: int = 0, *, span_days: int = 365, embedding_fraction: float = 0.1
) -> Iterator[list[StoredMemory]]:
    """Generated memories, in chunks of at most :data:`CHUNK` (see the module docstring for the shape).

    Examples
    --------
    >>> [m.id for batch in memory_batches(3, seed=1) for m in batch]
    ['m0', 'm1', 'm2']
    """
    import numpy as np

    _check_count("memories", memories)
    _check_shape(1, span_days)
    fmt = f"m%0{_width(memories)}d"
    for c, lo, hi in _chunks(memories):
        rng = _rng(seed, "memories", c)
        k = hi - lo
        index = np.arange(lo, hi, dtype=np.int64)
        created = _created_at(index, memories, span_days)
        accessed = created + rng.exponential(7 * DAY, k).astype(np.int64)
        tiers = np.minimum(rng.geometric(0.35, k), 12)
        importance = np.round(rng.beta(2.0, 5.0, k), 6)
        topics = rng.integers(0, len(TOPICS), (k, 2))
        embedded = rng.random(k) < embedding_fraction
        embeddings = rng.standard_normal((k, EMBEDDING_DIMENSIONS)).astype("<f4")
        blobs = [e.tobytes() if flag else None for e, flag in zip(embeddings, embedded.tolist(), strict=True)]
        contents = [
            f"memory {i}: {TOPICS[a]} after {TOPICS[b]}"
            for i, (a, b) in zip(index.tolist(), topics.tolist(), strict=True)
        ]
        ids = [fmt % i for i in index.tolist()]
        yield list(
            map(
                StoredMemory,
                ids,
                contents,
                tiers.tolist(),
                importance.tolist(),
                blobs,
                created.tolist(),
                accessed.tolist(),
            )
        )


def edge_batches(
    memories: int,
    edges: int,
    seed: int = 0,
    *,
    back_edge_fraction: float = 0.05,
    zero_weight_fraction: float = 0.02,
    hub_shape: float = 1.5,
    span_days: int = 365,
) -> Iterator[list[StoredCausalEdge]]:
    """Generated causal edges between the memories of :func:`memory_batches`, in chunks.

    Examples
    --------
    >>> edges = [e for batch in edge_batches(10, 20, seed=3, back_edge_fraction=0.0) for e in batch]
    >>> all(e.from_memory < e.to_memory for e in edges), len(edges)
    (True, 20)
    """
    import numpy as np

    _check_count("memories", memories)
    _check_count("edges", edges)
    back_edge_fraction = _check_fraction("back_edge_fraction", back_edge_fraction)
    zero_weight_fraction = _check_fraction("zero_weight_fraction", zero_weight_fraction)
    _check_shape(hub_shape, span_days)
    if edges and memories < 2:
        raise ValidationError("generate", "memories", memories, "at least 2 when edges are requested")
    if edges == 0:
        return
    # Hub weights of the memories that can start a forward edge (all but the last one).
    cumulative = np.cumsum(1.0 + _rng(seed, "hubs").pareto(hub_shape, memories - 1))
    total = float(cumulative[-1])
    last = memories - 1
    mfmt, efmt = f"m%0{_width(memories)}d", f"e%0{_width(edges)}d"
    forward_types = np.array(_FORWARD_TYPES, dtype=object)
    for c, lo, hi in _chunks(edges):
        rng = _rng(seed, "edges", c)
        k = hi - lo
        low = np.minimum(np.searchsorted(cumulative, rng.random(k) * total, side="right"), last - 1)
        high = low + 1 + np.floor((last - low) * rng.random(k) ** 3).astype(np.int64)
        back = rng.random(k) < back_edge_fraction
        src, dst = np.where(back, high, low), np.where(back, low, high)
        weights = np.round(rng.beta(2.0, 3.0, k), 6)
        weights[rng.random(k) < zero_weight_fraction] = 0.0
        kinds = np.where(back, "feedback", forward_types[rng.choice(4, k, p=_FORWARD_P)])
        created = _created_at(np.maximum(src, dst), memories, span_days) + rng.exponential(DAY, k).astype(
            np.int64
        )
        yield list(
            map(
                StoredCausalEdge,
                [efmt % j for j in range(lo, hi)],
                [mfmt % i for i in src.tolist()],
                [mfmt % i for i in dst.tolist()],
                weights.tolist(),
                kinds.tolist(),
                created.tolist(),
            )
        )


def vector_batches(memories: int, vectors: int, seed: int = 0) -> Iterator[list[StoredVector]]:
    """Generated vectors ``v<k>`` (16 dimensions) on ``vectors`` distinct memories, in chunks.

    >>> [v.memory_id for batch in vector_batches(5, 5, seed=0) for v in batch] == [f"m{i}" for i in range(5)]
    True
    """
    import numpy as np

    _check_count("vectors", vectors)
    if vectors > memories:
        raise ValidationError("generate", "vectors", vectors, f"at most the number of memories ({memories})")
    if vectors == 0:
        return
    owners = np.sort(_rng(seed, "vectors").choice(memories, vectors, replace=False))
    mfmt, vfmt = f"m%0{_width(memories)}d", f"v%0{_width(vectors)}d"
    for c, lo, hi in _chunks(vectors):
        data = _rng(seed, "vectors", c + 1).standard_normal((hi - lo, VECTOR_DIMENSIONS)).astype("<f4")
        yield [
            StoredVector(vfmt % (lo + j), mfmt % owner, VECTOR_DIMENSIONS, row.tobytes())
            for j, (owner, row) in enumerate(zip(owners[lo:hi].tolist(), data, strict=True))
        ]


def reflexion_batches(
    memories: int, reflexions: int, seed: int = 0, *, span_days: int = 365
) -> Iterator[list[StoredReflexionEpisode]]:
    """Generated reflexion episodes ``r<k>`` about random memories, in chunks.

    >>> sorted({r.outcome for batch in reflexion_batches(50, 200) for r in batch})
    ['deferred', 'escalated', 'partially_resolved', 'resolved']
    """
    import numpy as np

    _check_count("reflexions", reflexions)
    if reflexions and memories < 1:
        raise ValidationError("generate", "memories", memories, "at least 1 when reflexions are requested")
    mfmt, rfmt = f"m%0{_width(memories)}d", f"r%0{_width(reflexions)}d"
    for c, lo, hi in _chunks(reflexions):
        rng = _rng(seed, "reflexions", c)
        k = hi - lo
        about = rng.integers(0, memories, k)
        outcomes = rng.choice(len(_OUTCOMES), k, p=_OUTCOME_P)
        topics = rng.integers(0, len(TOPICS), k)
        created = _created_at(about, memories, span_days) + rng.exponential(3 * DAY, k).astype(np.int64)
        yield [
            StoredReflexionEpisode(
                rfmt % (lo + j),
                mfmt % m,
                f"unexpected {TOPICS[t]}",
                f'{{"memory": {m}}}',
                f"reviewed {TOPICS[t]}",
                _OUTCOMES[o],
                ts,
            )
            for j, (m, o, t, ts) in enumerate(
                zip(about.tolist(), outcomes.tolist(), topics.tolist(), created.tolist(), strict=True)
            )
        ]


def generate_store(
    path: str | os.PathLike[str] | None,
    memories: int,
    edges: int,
    seed: int = 0,
    progress: Progress | None = None,
    *,
    back_edge_fraction: float = 0.05,
    zero_weight_fraction: float = 0.02,
    vectors: int = 0,
    reflexions: int = 0,
    overwrite: bool = False,
) -> OmegaStore:
    """Create a synthetic store with the given numbers of records and return it open.

    Records are written with the store's bulk methods, one transaction per chunk of :data:`CHUNK`
    rows, into a temporary file beside ``path`` that is moved into place when complete (an
    interrupted run leaves no partial store). 1,000,000 memories and 3,000,000 edges take about
    100 s on a 2-core machine, most of it SQLite maintaining the tables' indexes.

    Parameters
    ----------
    path : str, os.PathLike or None
        The database file to create (None: in memory).
    memories, edges : int
        How many memories and causal edges (edges need at least 2 memories).
    seed : int, default 0
        The same arguments and seed always give the same records.
    progress : callable, optional
        Called as ``progress(done, total)`` with record counts, at the start and after every chunk
        (``total`` = memories + edges + vectors + reflexions).
    back_edge_fraction, zero_weight_fraction : float
        Share of edges pointing backward (``feedback``, closing cycles), and of weight-0 edges.
    vectors, reflexions : int, default 0
        Also create this many vectors (on distinct memories) and reflexion episodes.
    overwrite : bool, default False
        Replace an existing file at ``path`` (else :class:`~omega_graph.errors.ConflictError`).

    Returns
    -------
    OmegaStore

    Examples
    --------
    >>> seen = []
    >>> with generate_store(None, 100, 300, seed=1, progress=lambda d, t: seen.append((d, t))) as s:
    ...     s.get_statistics().memory_count
    100
    >>> seen[0], seen[-1]
    ((0, 400), (400, 400))
    """
    from .store import OmegaStore

    for field, value in (
        ("memories", memories),
        ("edges", edges),
        ("vectors", vectors),
        ("reflexions", reflexions),
    ):
        _check_count(field, value)
    _rng(seed, "memories")  # checks the seed before any file is created
    _check_fraction("back_edge_fraction", back_edge_fraction)
    _check_fraction("zero_weight_fraction", zero_weight_fraction)
    batches: tuple[Iterator[list[Any]], ...] = (
        memory_batches(memories, seed),
        edge_batches(
            memories,
            edges,
            seed,
            back_edge_fraction=back_edge_fraction,
            zero_weight_fraction=zero_weight_fraction,
        ),
        vector_batches(memories, vectors, seed),
        reflexion_batches(memories, reflexions, seed),
    )
    if edges and memories < 2:  # fail before any file is created
        raise ValidationError("generate", "memories", memories, "at least 2 when edges are requested")
    if vectors > memories:
        raise ValidationError("generate", "vectors", vectors, f"at most the number of memories ({memories})")
    total = memories + edges + vectors + reflexions

    def fill(store: OmegaStore) -> None:
        done = 0
        if progress is not None:
            progress(0, total)
        writers: tuple[Callable[[list[Any]], int], ...] = (
            store.store_memories, store.store_causal_edges, _each(store.store_vector, store),
            _each(store.store_reflexion, store),
        )  # fmt: skip
        for write, stage in zip(writers, batches, strict=True):
            for batch in stage:
                done += write(batch)
                if progress is not None:
                    progress(done, total)

    if path is None:
        store = OmegaStore.new_in_memory()
        fill(store)
        return store
    with atomic_build(path, overwrite=overwrite) as tmp, OmegaStore(tmp) as store:
        # The build connection writes a private temporary file that is discarded unless complete, so
        # it may trade durability for speed: a large page cache (index inserts at random keys stay in
        # memory; ~2x faster at millions of edges) and no fsync at checkpoints.
        store.connection.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
        store.connection.execute("PRAGMA synchronous = OFF")
        fill(store)
    return OmegaStore(path)


def _each(method: Callable[[Any], None], store: OmegaStore) -> Callable[[list[Any]], int]:
    def write(batch: list[Any]) -> int:
        with store.transaction():
            for record in batch:
                method(record)
        return len(batch)

    return write
