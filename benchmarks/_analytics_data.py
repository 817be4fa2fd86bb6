"""Synthetic omega stores for the analytics benchmark: plain sqlite3 executemany into a migrated file.

Every one of the seven tables is filled, so each curated statistic has real work to do: memories in
12 tiers with a third carrying an embedding, vectors, reflexion episodes, skills, architectures with
lineage chains, intelligences, and causal edges over a skewed (hub-heavy) endpoint distribution.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from omega_graph.schema import migrate

EDGE_TYPES = ("causes", "enables", "inhibits", "correlates")
PARADIGMS = ("neural", "symbolic", "hybrid", "evolutionary")
OUTCOMES = ("resolved", "escalated", "abandoned")
WORK = Path(__file__).resolve().parent / "work"
T0 = 1_764_000_000
SPAN = 365 * 86_400


def analytics_store(n_memories: int, n_edges: int, seed: int = 11, work: Path = WORK) -> Path:
    """Path of a cached store with ``n_memories`` memories and ``n_edges`` edges (built if missing)."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"analytics_{n_memories}_{n_edges}_{seed}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    migrate(conn)

    mem_ids = [f"mem-{i:08d}" for i in range(n_memories)]
    tiers = rng.integers(1, 13, n_memories).tolist()
    importance = rng.beta(2.0, 3.0, n_memories).round(6).tolist()
    created = np.sort(T0 + rng.integers(0, SPAN, n_memories)).tolist()
    blob = np.arange(16, dtype="<f4").tobytes()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO memories VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (m, f"observation {i}", t, w, blob if i % 3 == 0 else None, c, c + 5)
            for i, (m, t, w, c) in enumerate(zip(mem_ids, tiers, importance, created, strict=True))
        ),
    )
    n_vec = max(1, n_memories // 10)
    vblob = np.linspace(0, 1, 8, dtype="<f4").tobytes()
    conn.executemany(
        "INSERT INTO vectors VALUES (?, ?, 8, ?)",
        ((f"vec-{i:08d}", mem_ids[(i * 10) % n_memories], vblob) for i in range(n_vec)),
    )
    n_refl = max(1, n_memories // 10)
    refl_mem = rng.integers(0, n_memories, n_refl).tolist()
    refl_out = rng.integers(0, len(OUTCOMES), n_refl).tolist()
    conn.executemany(
        "INSERT INTO reflexion_episodes VALUES (?, ?, 'trigger', 'context', 'action', ?, ?)",
        (
            (f"refl-{i:08d}", mem_ids[m], OUTCOMES[o], created[m] + 60)
            for i, (m, o) in enumerate(zip(refl_mem, refl_out, strict=True))
        ),
    )
    n_skill = max(4, n_memories // 1000)
    conn.executemany(
        "INSERT INTO skills VALUES (?, ?, 'a skill', ?, ?, ?, ?)",
        (
            (f"skill-{i:06d}", f"skill_{i}", f"task.*{i}", int(s), None if s == 0 else T0 + int(s), T0)
            for i, s in enumerate(rng.poisson(5, n_skill).tolist())
        ),
    )
    n_arch = max(6, n_memories // 1000)
    fitness = rng.random(n_arch).round(4).tolist()
    archs = []
    for k in range(n_arch):
        parent = None if k % 20 == 0 else f"arch-{k - 1:06d}"
        lineage = json.dumps({"generation": k % 20, "parent": parent})
        archs.append(
            (f"arch-{k:06d}", f"Arch{k}", PARADIGMS[k % len(PARADIGMS)], "python",
             json.dumps({"overall": fitness[k]}), lineage, T0 + 3600 * k)
        )  # fmt: skip
    conn.executemany("INSERT INTO architectures VALUES (?, ?, ?, ?, ?, ?, ?)", archs)
    n_intel = max(9, n_memories // 200)
    intel_arch = rng.integers(0, n_arch, n_intel).tolist()
    maturity = rng.random(n_intel).round(4).tolist()
    conn.executemany(
        "INSERT INTO intelligences VALUES (?, ?, ?, ?, '[]', '[]', '{}', ?, ?)",
        (
            (f"intel-{k:06d}", f"Intel{k}", f"arch-{a:06d}", mt, T0 + k, T0 + k + 10)
            for k, (a, mt) in enumerate(zip(intel_arch, maturity, strict=True))
        ),
    )
    conn.execute("COMMIT")

    hubs = rng.permutation(n_memories)
    pos = np.minimum((rng.pareto(1.2, n_edges) * n_memories / 50).astype(np.int64), n_memories - 1)
    src = np.where(rng.random(n_edges) < 0.5, hubs[pos], rng.integers(0, n_memories, n_edges))
    dst = rng.integers(0, n_memories, n_edges)
    same = src == dst
    dst[same] = (dst[same] + 1) % n_memories
    weight = rng.random(n_edges).round(6).tolist()
    etype = rng.integers(0, len(EDGE_TYPES), n_edges).tolist()
    ecreated = np.sort(T0 + rng.integers(0, SPAN, n_edges)).tolist()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)",
        (
            (f"edge-{i:08d}", mem_ids[s], mem_ids[d], w, EDGE_TYPES[t], c)
            for i, (s, d, w, t, c) in enumerate(
                zip(src.tolist(), dst.tolist(), weight, etype, ecreated, strict=True)
            )
        ),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path
