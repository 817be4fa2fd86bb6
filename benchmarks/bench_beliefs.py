"""Causal beliefs over time at scale: bulk invalidation, belief snapshots, one edge's history.

    python benchmarks/bench_beliefs.py                        # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_beliefs.py --memories 10000 --edges 30000   # smoke size

On a copy of the benchmark store (``benchmarks/work``), in one run:

- ``store.invalidate_causal_edges(ids)`` for 100,000 edges against a raw ``executemany`` of the same
  rows into the events table: the issue's anchor, target at least 0.7x its rate (both rolled back
  after each round, both warmed once first);
- then 10% of the edges invalidated in all, a ``known_at`` snapshot against a plain snapshot of the
  same store (both ``cache=False``: a full read; target at most 1.2x), and both through the persisted
  cache;
- ``store.edge_history(edge)`` for random edges (target under 10 ms, through the index).

Ratios are best to best within this run; nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _graph_data import WORK, synthetic_store

from omega_graph.store import OmegaStore

INSERT = (
    "INSERT INTO omega_edge_events (edge_id, event, at, recorded_at, reason, superseded_by, valid_from, "
    "valid_to) VALUES (?, 'invalidated', ?, ?, ?, NULL, NULL, NULL)"
)


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=3_000_000)
    parser.add_argument("--bulk", type=int, default=100_000, help="edges in the timed bulk invalidation")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    source = synthetic_store(args.memories, args.edges)
    path = WORK / f"beliefs_{source.name}"
    remove(path)
    shutil.copyfile(source, path)  # a fresh copy each run: the invalidations below change it
    with OmegaStore(path) as store:
        conn = store.connection
        ids = [r[0] for r in conn.execute("SELECT id FROM causal_edges ORDER BY rowid")]
        rng = np.random.default_rng(5)
        picked = [ids[i] for i in rng.choice(len(ids), len(ids) // 10, replace=False)]
        bulk, rest = picked[: args.bulk], picked[args.bulk :]
        at = 1_800_000_000

        def raw() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT, ((e, at, at, "bench") for e in bulk))
            conn.execute("ROLLBACK")

        class Undo(Exception):
            pass

        def ours() -> None:  # rolled back too, so each round starts from the same store
            try:
                with store.transaction():
                    store.invalidate_causal_edges(bulk, at=at, reason="bench")
                    raise Undo
            except Undo:
                pass

        raw(), ours()  # warm both: the pages of the edge index and the events table are cached
        t_raw, t_ours = best(raw, args.rounds), best(ours, args.rounds)
        print(
            f"invalidate_causal_edges({len(bulk):,}): {t_ours:.3f} s, raw executemany {t_raw:.3f} s: "
            f"{t_raw / t_ours:.2f}x its rate (target >= 0.7x)"
        )
        store.invalidate_causal_edges(bulk, at=at, reason="bench")
        store.invalidate_causal_edges(rest, at=at + 10, reason="bench")
        print(f"{len(picked):,} of {len(ids):,} edges invalidated")

        for cache in (False, True):
            store.causal_graph(cache=cache)  # warm: worker started, cache entry written
            t_plain = best(lambda c=cache: store.causal_graph(cache=c), args.rounds)
            t_known = best(lambda c=cache: store.causal_graph(known_at=at + 5, cache=c), args.rounds)
            g_plain, g_known = (
                store.causal_graph(cache=cache),
                store.causal_graph(known_at=at + 5, cache=cache),
            )
            print(
                f"snapshot (cache={cache}): plain {t_plain:.2f} s ({g_plain.number_of_edges():,} edges), "
                f"known_at {t_known:.2f} s ({g_known.number_of_edges():,} edges): "
                f"{t_known / t_plain:.2f}x (target <= 1.2x)"
            )

        sample = [ids[i] for i in rng.choice(len(ids), 50, replace=False)] + bulk[:50]
        times = []
        for e in sample:
            t0 = time.perf_counter()
            store.edge_history(e)
            times.append(time.perf_counter() - t0)
        print(
            f"edge_history: first call {times[0] * 1e3:.2f} ms (one-time: statements prepared, pages read), "
            f"then median {np.median(times[1:]) * 1e3:.2f} ms, max {max(times[1:]) * 1e3:.2f} ms (target < 10 ms)"
        )
    remove(path)


def remove(path: Path) -> None:
    """The store file and its WAL and shared-memory files (a stale WAL would corrupt a new copy)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
