"""Synthetic omega stores for the graph benchmark: plain sqlite3 executemany into a migrated file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np

from omega_graph.schema import migrate

EDGE_TYPES = ("causes", "enables", "inhibits", "correlates")
WORK = Path(__file__).resolve().parent / "work"


def _uuid_like(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    return [f"{prefix}{a:016x}-{b:016x}" for a, b in raw.tolist()]


def synthetic_store(
    n_memories: int, n_edges: int, seed: int = 7, work: Path = WORK, dag: bool = False
) -> Path:
    """Path of a cached store with ``n_memories`` memories and ``n_edges`` random weighted edges.

    Edges: sources and targets drawn from a skewed (Zipf-like) distribution so some memories are hubs;
    weights uniform in [0, 1) with 2% exact zeros; some parallel edges and cycles occur naturally.
    ``dag=True``: the same edges, each pointed along one random order of the memories (no cycle).
    """
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"graph_{n_memories}_{n_edges}_{seed}{'_dag' if dag else ''}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    migrate(conn)
    mem_ids = _uuid_like(rng, n_memories, "m-")
    tiers = rng.integers(1, 13, size=n_memories).tolist()
    imp = rng.random(n_memories).round(6).tolist()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO memories VALUES (?, ?, ?, ?, NULL, ?, ?)",
        (
            (m, f"note {i}", t, w, 1764000000 + i, 1764000000 + i)
            for i, (m, t, w) in enumerate(zip(mem_ids, tiers, imp, strict=True))
        ),
    )
    conn.execute("COMMIT")
    # Skewed endpoints: a random permutation of memories indexed by a power-law position.
    perm = rng.permutation(n_memories)

    def pick(k: int) -> np.ndarray:
        pos = np.minimum((rng.pareto(1.2, size=k) * n_memories / 50).astype(np.int64), n_memories - 1)
        return perm[pos]

    src = np.where(rng.random(n_edges) < 0.5, pick(n_edges), rng.integers(0, n_memories, n_edges))
    dst = rng.integers(0, n_memories, n_edges)
    same = src == dst
    dst[same] = (dst[same] + 1) % n_memories
    if dag:  # point every edge along one random order: no cycle
        rank = rng.permutation(n_memories)
        back = rank[src] > rank[dst]
        src[back], dst[back] = dst[back], src[back].copy()
    w = rng.random(n_edges).round(6)
    w[rng.random(n_edges) < 0.02] = 0.0
    types = rng.integers(0, len(EDGE_TYPES), n_edges).tolist()
    created = (1764100000 + rng.integers(0, 10_000_000, n_edges)).tolist()
    edge_ids = _uuid_like(rng, n_edges, "e-")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)",
        (
            (e, mem_ids[s], mem_ids[d], ww, EDGE_TYPES[t], c)
            for e, s, d, ww, t, c in zip(
                edge_ids, src.tolist(), dst.tolist(), w.tolist(), types, created, strict=True
            )
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s")
    return path
