"""OmegaStore write and lookup speed against raw sqlite3 doing the same work, in the same process.

    python benchmarks/bench_store.py                                  # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_store.py --memories 20000 --edges 60000 --lookups 20000 --singles 2000  # smoke

Figures (rates, and ratios store / raw; targets from issue 2):

- bulk ``store_memories`` / ``store_causal_edges`` (validation on, one transaction each) vs raw
  ``executemany`` of the same rows in one transaction into an identically migrated file, with the
  store's own PRAGMAs (journal_mode, synchronous, foreign_keys read from the store's connection):
  target >= 0.7x;
- a second anchor, raw ``executemany`` into the crate's bare schema (migration 1 only, no FTS index or
  edge-log triggers), shows what the full-text index and the triggers cost;
- ``get_memory`` point lookups vs raw ``SELECT ... WHERE id = ?`` on the same file: target >= 0.5x;
- ``store_memory`` one call at a time in autocommit vs a raw autocommit ``INSERT`` with the same
  PRAGMAs into an identically migrated file: target >= 1.0x ("no slower").

Rows are built in memory before any clock starts (records for the store, tuples for raw sqlite3), so
only the writing is timed. Files go to a scratch folder under benchmarks/work/ and are deleted after.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.schema import MIGRATIONS, migrate
from omega_graph.store import OmegaStore

BASE_TS = 1_764_000_000
EDGE_TYPES = ("causes", "enables", "inhibits", "correlates")
WORDS = (
    "smoke",
    "lung",
    "asia",
    "xray",
    "dyspnoea",
    "bronchitis",
    "tuberculosis",
    "either",
    "signal",
    "kinase",
)

INSERT_MEMORY = "INSERT INTO memories (id, content, tier, importance, embedding_blob, created_at, last_accessed) VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_EDGE = "INSERT INTO causal_edges (id, from_memory, to_memory, weight, edge_type, created_at) VALUES (?, ?, ?, ?, ?, ?)"
SELECT_MEMORY = "SELECT id, content, tier, importance, embedding_blob, created_at, last_accessed FROM memories WHERE id = ?"


# ----- data -------------------------------------------------------------------------------------------------


def memory_rows(n: int, prefix: str = "mem") -> list[tuple]:
    """Deterministic memory rows: a few words of text each (the FTS index has work to do)."""
    blob = b"\x00\x00\x80?" * 4
    return [
        (
            f"{prefix}-{i:07d}",
            f"observation {i} of {WORDS[i % 10]} after {WORDS[(i * 7) % 10]} in trial {i % 977}",
            1 + i % 12,
            (i * 7919 % 1000) / 1000,
            blob if i % 10 == 0 else None,
            BASE_TS + i,
            BASE_TS + i + 5,
        )
        for i in range(n)
    ]


def edge_rows(m: int, n_memories: int) -> list[tuple]:
    """Deterministic edges between existing memories (a sparse random-looking graph)."""
    return [
        (
            f"edge-{j:08d}",
            f"mem-{j % n_memories:07d}",
            f"mem-{(j * 2_654_435_761 + 7) % n_memories:07d}",
            (j * 13 % 1000) / 1000,
            EDGE_TYPES[j % 4],
            BASE_TS + 100_000 + j,
        )
        for j in range(m)
    ]


# ----- files ------------------------------------------------------------------------------------------------


def pragmas_of(store: OmegaStore) -> dict[str, object]:
    """The store's connection settings that change write cost: a raw anchor copies them."""
    conn = store.connection
    return {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "cache_size", "temp_store")
    }


def raw_connection(path: Path, pragmas: dict[str, object], bare: bool = False) -> sqlite3.Connection:
    """A plain autocommit connection with the given PRAGMAs on a migrated (or bare crate) schema."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name} = {value}").fetchall()
    if bare:
        conn.executescript(MIGRATIONS[0].sql)
        conn.execute("PRAGMA user_version = 1")
    else:
        migrate(conn)
    return conn


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Timing(NamedTuple):
    """Wall-clock and CPU seconds of one timed call (CPU time is less disturbed by other processes)."""

    wall: float
    cpu: float


def timed(fn: Callable[[], object]) -> tuple[Timing, object]:
    gc.collect()
    gc.disable()
    try:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        return Timing(time.perf_counter() - t, time.process_time() - c), out
    finally:
        gc.enable()


def best(a: Timing, b: Timing) -> Timing:
    return Timing(min(a.wall, b.wall), min(a.cpu, b.cpu))


# ----- the measurements ---------------------------------------------------------------------------------------


def raw_bulk(
    path: Path, pragmas: dict[str, object], mems: list[tuple], edges: list[tuple], bare: bool
) -> tuple[Timing, Timing]:
    remove(path)
    conn = raw_connection(path, pragmas, bare=bare)

    def load(sql: str, rows: list[tuple]) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    t_mem, _ = timed(lambda: load(INSERT_MEMORY, mems))
    t_edge, _ = timed(lambda: load(INSERT_EDGE, edges))
    assert conn.execute("SELECT count(*) FROM causal_edges").fetchone()[0] == len(edges)
    conn.close()
    return t_mem, t_edge


def store_bulk(
    path: Path, mem_records: list[StoredMemory], edge_records: list[StoredCausalEdge]
) -> tuple[Timing, Timing]:
    remove(path)
    with OmegaStore(path) as store:
        t_mem, n_mem = timed(lambda: store.store_memories(mem_records))
        t_edge, n_edge = timed(lambda: store.store_causal_edges(edge_records))
        assert (n_mem, n_edge) == (len(mem_records), len(edge_records))
        stats = store.get_statistics()
        assert (stats.memory_count, stats.causal_edge_count) == (n_mem, n_edge)
    return t_mem, t_edge


def lookups(path: Path, ids: list[str], repeats: int = 3) -> tuple[Timing, Timing]:
    """(store, raw) best-of-``repeats`` timings of get_memory / SELECT by id over the same ids and file."""
    store = OmegaStore(path)
    conn = sqlite3.connect(path, isolation_level=None)
    get, execute = store.get_memory, conn.execute
    for i in ids[:1000]:  # warm the page cache for both sides alike
        get(i)
    t_store = t_raw = Timing(float("inf"), float("inf"))
    try:
        for _ in range(repeats):  # alternate, so a burst of load elsewhere hits both sides
            t, _ = timed(lambda: [get(i) for i in ids])
            t_store = best(t_store, t)
            t, _ = timed(lambda: [execute(SELECT_MEMORY, (i,)).fetchone() for i in ids])
            t_raw = best(t_raw, t)
    finally:
        store.close()
        conn.close()
    return t_store, t_raw


def singles(folder: Path, pragmas: dict[str, object], n: int, repeats: int = 3) -> tuple[Timing, Timing]:
    """(store, raw) best-of-``repeats`` timings of n autocommit single-memory inserts into fresh files."""
    rows = memory_rows(n, prefix="single")
    records = [StoredMemory(*r) for r in rows]
    store_path, raw_path = folder / "singles-store.db", folder / "singles-raw.db"
    t_store = t_raw = Timing(float("inf"), float("inf"))
    for _ in range(repeats):
        remove(store_path)
        remove(raw_path)
        with OmegaStore(store_path) as store:
            t, _ = timed(lambda put=store.store_memory: [put(r) for r in records])
            t_store = best(t_store, t)
            assert store.get_statistics().memory_count == n
        conn = raw_connection(raw_path, pragmas)
        t, _ = timed(lambda execute=conn.execute: [execute(INSERT_MEMORY, r) for r in rows])
        t_raw = best(t_raw, t)
        conn.close()
    remove(store_path)
    remove(raw_path)
    return t_store, t_raw


# ----- report -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--lookups", type=int, default=200_000, help="get_memory calls (random ids)")
    ap.add_argument("--singles", type=int, default=20_000, help="autocommit store_memory calls")
    ap.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "work")
    ap.add_argument("--keep", action="store_true", help="keep the scratch files")
    args = ap.parse_args(argv)

    folder = args.workdir / f"bench_store_{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with OmegaStore(folder / "probe.db") as probe:
            pragmas = pragmas_of(probe)
        print(f"{args.memories:,} memories, {args.edges:,} edges; store PRAGMAs copied to the raw anchors: "
              f"{pragmas}; SQLite {sqlite3.sqlite_version}", flush=True)  # fmt: skip

        mems = memory_rows(args.memories)
        edges = edge_rows(args.edges, args.memories)
        mem_records = [StoredMemory(*r) for r in mems]
        edge_records = [StoredCausalEdge(*r) for r in edges]

        print("raw executemany, bare crate schema ...", flush=True)
        bare = raw_bulk(folder / "raw-bare.db", pragmas, mems, edges, bare=True)
        remove(folder / "raw-bare.db")
        print("raw executemany, migrated schema ...", flush=True)
        raw = raw_bulk(folder / "raw.db", pragmas, mems, edges, bare=False)
        remove(folder / "raw.db")
        print("store bulk ...", flush=True)
        store_path = folder / "store.db"
        bulk = store_bulk(store_path, mem_records, edge_records)
        del mem_records, edge_records, edges
        gc.collect()

        print("point lookups ...", flush=True)
        rng = random.Random(42)
        ids = [mems[rng.randrange(len(mems))][0] for _ in range(args.lookups)]
        look_store, look_raw = lookups(store_path, ids)
        print("autocommit single inserts ...", flush=True)
        single_store, single_raw = singles(folder, pragmas, args.singles)

        rows = [
            ("bulk store_memories", args.memories, bulk[0], raw[0], bare[0], 0.7),
            ("bulk store_causal_edges", args.edges, bulk[1], raw[1], bare[1], 0.7),
            ("get_memory", args.lookups, look_store, look_raw, None, 0.5),
            ("store_memory (autocommit)", args.singles, single_store, single_raw, None, 1.0),
        ]
        print(
            f"\n{'operation':27} {'n':>10} {'store /s':>10} {'raw /s':>10} {'ratio':>6} {'cpu ratio':>9}"
            f" {'target':>6}   {'bare /s':>10} {'store/bare':>10}"
        )
        failed = []
        for name, n, t_store, t_raw, t_bare, target in rows:
            ratio, cpu_ratio = t_raw.wall / t_store.wall, t_raw.cpu / t_store.cpu
            bare_cols = f"   {n / t_bare.wall:10,.0f} {t_bare.wall / t_store.wall:10.2f}" if t_bare else ""
            mark = "" if max(ratio, cpu_ratio) >= target else "  <-- below target"
            if mark:
                failed.append(name)
            print(
                f"{name:27} {n:10,} {n / t_store.wall:10,.0f} {n / t_raw.wall:10,.0f} {ratio:6.2f}"
                f" {cpu_ratio:9.2f} {target:6.1f}{bare_cols}{mark}"
            )
        print(
            "\nratio = store rate / raw rate (wall clock); cpu ratio = the same from process CPU time, which"
        )
        print("other load on the machine disturbs less. Same rows, same file layout, same PRAGMAs, same run;")
        print("lookups and single inserts: best of 3, store and raw alternating.")
        print("bare = raw executemany into the crate's schema alone (no FTS index, no edge-log triggers);")
        print(
            f"       raw/bare shows their cost: memories {bare[0].wall / raw[0].wall:.2f}x, "
            f"edges {bare[1].wall / raw[1].wall:.2f}x of the bare rate."
        )
        if failed:
            print(f"below target: {', '.join(failed)}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
