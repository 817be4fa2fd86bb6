"""Snapshot benchmark: fresh loads, loads under a live writer, reopening from the persisted snapshot.

    python benchmarks/bench_snapshot.py                     # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_snapshot.py --memories 10000 --edges 30000   # smoke size

Every figure is a ratio to an anchor measured in the same run (these machines drift by 40% within an
hour); nothing here asserts a threshold. Anchors:

* the floor: a fresh process that only reads the memory ids and the edges' endpoints and weights
  with DuckDB's SQLite scanner (``fetchnumpy``), nothing else;
* networkx: a ``DiGraph`` built from the same rows read with sqlite3 (weights only);
* a quiet fresh load, for the load under a writer and for the reopens.

Reopens run in a new process and time the ``causal_graph()`` call alone (imports excluded); each
prints a digest of its snapshot, which must equal the fresh load's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _graph_data import synthetic_store  # noqa: E402

from omega_graph.store import OmegaStore  # noqa: E402

FLOOR = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    import duckdb
    from omega_graph.duck._extension import extension_path
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    ext = extension_path()
    con.execute(f"LOAD '{ext}'" if ext else "LOAD sqlite")
    con.execute(f"ATTACH '{sys.argv[1]}' AS s (TYPE sqlite, READ_ONLY)")
    t1 = time.perf_counter()
    ids = con.execute("SELECT id FROM s.memories").fetchnumpy()["id"]
    e = con.execute("SELECT from_memory, to_memory, weight FROM s.causal_edges").fetchnumpy()
    t2 = time.perf_counter()
    print(t2 - t0, t2 - t1, len(ids), len(e["weight"]))
    """
)
REOPEN = textwrap.dedent(
    """
    import sys, time
    import numpy, pandas, scipy.sparse, duckdb, xxhash  # imports excluded from the timing
    from omega_graph import OmegaStore
    from omega_graph.graph import CausalGraph, _cache
    sys.path.insert(0, sys.argv[2])
    _cache.CACHE_MIN_EDGES = int(sys.argv[3])
    from bench_snapshot import digest
    store = OmegaStore(sys.argv[1])
    t0 = time.perf_counter()
    g = store.causal_graph()
    t = time.perf_counter() - t0
    print(t, g.loader, digest(g), flush=True)
    _cache.wait_for_writes()
    """
)
WRITER = textwrap.dedent(
    """
    import sys, time
    from omega_graph import OmegaStore, StoredCausalEdge
    store = OmegaStore(sys.argv[1])
    pause = float(sys.argv[2])
    ids = [r[0] for r in store.connection.execute("SELECT id FROM memories LIMIT 1000")]
    k = 0
    print("ready", flush=True)
    while True:
        k += 1
        store.store_causal_edges(StoredCausalEdge(f"live-{k}-{j}", ids[(k + j) % 1000], ids[(k * 7 + j) % 1000],
                                                  0.5, "causes", k) for j in range(10))
        if pause:
            time.sleep(pause)
    """
)


def digest(g: object) -> str:
    """A hash of everything a snapshot answers from (ids, endpoints, weights, types, times)."""
    d = g._data  # type: ignore[attr-defined]
    h = hashlib.sha256()
    h.update("\x1f".join(d.node_ids).encode())
    h.update("\x1f".join(d.edge_ids_at()).encode())
    for a in (d.src, d.dst, d.weight, d.created, d.etype, d.erowid, d.tier, d.importance):
        h.update(a.tobytes())
    h.update("\x1f".join(d.type_names).encode())
    return h.hexdigest()[:16]


def run(args: list[str], env: dict[str, str] | None = None) -> str:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, env=env).stdout


def best(times: list[float]) -> str:
    return f"{min(times):.3f} s (runs {', '.join(f'{t:.2f}' for t in times)})"


def change_edges(path: Path, n: int, round_: int) -> None:
    """``n`` edge changes by another connection: half updates, a quarter inserts, a quarter deletes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    ids = [r[0] for r in conn.execute("SELECT id FROM memories LIMIT 2000")]
    conn.execute(
        f"UPDATE causal_edges SET weight = 0.25 WHERE rowid IN "
        f"(SELECT rowid FROM causal_edges ORDER BY rowid LIMIT {n // 2} OFFSET {round_ * n})"
    )
    conn.executemany(
        "INSERT INTO causal_edges VALUES (?, ?, ?, 0.5, 'causes', 1)",
        [(f"bench-{round_}-{i}", ids[i % 2000], ids[(i * 13) % 2000]) for i in range(n // 4)],
    )
    conn.execute(
        f"DELETE FROM causal_edges WHERE rowid IN (SELECT rowid FROM causal_edges ORDER BY rowid DESC "
        f"LIMIT {n - n // 2 - n // 4} OFFSET {n})"
    )
    conn.execute("COMMIT")
    conn.close()


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (the DuckDB scan runs in one)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def fresh_loads(store: OmegaStore, repeat: int) -> tuple[list[float], object]:
    times, g = [], None
    for _ in range(repeat):
        g = None
        t0 = time.perf_counter()
        g = store.causal_graph(cache=False)
        times.append(time.perf_counter() - t0)
    return times, g


def nx_build(path: Path) -> float:
    import networkx as nx

    t0 = time.perf_counter()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    h = nx.DiGraph()
    h.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
    h.add_weighted_edges_from(conn.execute("SELECT from_memory, to_memory, weight FROM causal_edges"))
    conn.close()
    t = time.perf_counter() - t0
    del h
    return t


def crossover(seed: int) -> None:
    """Small stores: each loader against the networkx build, to place the routing threshold."""
    from omega_graph.graph import CausalGraph

    print("small stores: load (query-ready) by loader vs networkx DiGraph build, best of 3")
    for n, e in ((3_000, 10_000), (10_000, 30_000), (30_000, 100_000), (100_000, 300_000)):
        path = synthetic_store(n, e, seed)
        with OmegaStore(path) as s:
            row = {}
            for loader in ("sqlite3", "duckdb", "auto"):
                row[loader] = min(
                    _time(lambda s=s, loader=loader: CausalGraph(s, loader=loader, cache=False))
                    for _ in range(3)
                )
            auto = CausalGraph(s, cache=False).loader
        t_nx = min(nx_build(path) for _ in range(3))
        print(f"  {n:>7,} / {e:>7,}: sqlite3 {row['sqlite3']:.3f} s, duckdb {row['duckdb']:.3f} s, "
              f"auto ({auto}) {row['auto']:.3f} s; networkx {t_nx:.3f} s; auto / networkx "
              f"{row['auto'] / t_nx:.2f}")  # fmt: skip


def _time(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-networkx", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    args = ap.parse_args()
    source = synthetic_store(args.memories, args.edges, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-snapshot-", dir=source.parent))
    path = work / "store.db"
    with OmegaStore(source) as s:
        s.backup(path)  # a private copy: the benchmark writes to it
    env = dict(os.environ, OMEGA_GRAPH_CACHE_DIR=str(work / "cache"))
    os.environ.update(env)
    from omega_graph.graph import _cache

    _cache.CACHE_MIN_EDGES = min(_cache.CACHE_MIN_EDGES, args.edges)
    print(f"store: {args.memories:,} memories, {args.edges:,} edges; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    with OmegaStore.new_in_memory() as warm:
        warm.causal_graph()
    store = OmegaStore(path)

    floor = [float(run(["-c", FLOOR, str(path)]).split()[0]) for _ in range(args.repeat)]
    cpu0 = cpu_seconds()
    loads, g = fresh_loads(store, args.repeat)
    quiet_cpu = (cpu_seconds() - cpu0) / args.repeat
    quiet = min(loads)
    reference = digest(g)
    print(
        f"fresh load ({g.loader}, query-ready): {best(loads)}; "  # type: ignore[attr-defined]
        f"{g.nbytes() / max(g.number_of_edges(), 1):.0f} B/edge by array size"
    )  # type: ignore[attr-defined]
    print(f"floor (a fresh process reading ids, endpoints and weights with DuckDB): {best(floor)}")
    print(f"  fresh load / floor: {quiet / min(floor):.2f} (target <= 1.5)")
    if not args.skip_networkx:
        t_nx = nx_build(path)
        print(
            f"networkx DiGraph from sqlite3 rows: {t_nx:.2f} s; networkx / fresh load: {t_nx / quiet:.1f} "
            "(target >= 8)"
        )

    # ----- under a writer -------------------------------------------------------------------------
    # A writer in a tight loop holds one of the two cores; one that pauses 10 ms between commits of
    # 10 edges (~100 commits/s) is a busy agent. CPU seconds (this process and its children) show
    # whether the load itself did more work, apart from waiting for the core the writer holds.
    for pause, label in ((0.0, "in a tight loop"), (0.01, "every ~10 ms")):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(pause)], stdout=subprocess.PIPE,
                                  text=True)  # fmt: skip
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        try:
            cpu0 = cpu_seconds()
            busy, gb = fresh_loads(store, args.repeat)
            cpu = (cpu_seconds() - cpu0) / args.repeat
        finally:
            writer.kill()
            writer.wait()
        print(f"fresh load while another process commits 10 edges {label} ({gb.loader}): {best(busy)}; "  # type: ignore[attr-defined]
              f"busy / quiet {min(busy) / quiet:.2f} (target <= 1.5); cpu {cpu:.2f} s per load "
              f"(quiet {quiet_cpu:.2f} s)")  # fmt: skip
    loads, g = fresh_loads(store, 1)
    quiet, reference = min(quiet, loads[0]), digest(g)

    # ----- reopen -----------------------------------------------------------------------------------
    store.clear_graph_cache()
    store.causal_graph()  # a full load that writes the entry
    _cache.wait_for_writes()
    size = sum(p.stat().st_size for p in (work / "cache").rglob("*.ogc"))
    print(f"cache entry: {size / 2**20:.0f} MiB ({size / max(args.edges, 1):.0f} B/edge)")
    reopen = []
    for _ in range(args.repeat):
        t, loader, d = run(["-c", REOPEN, str(path), str(HERE), str(_cache.CACHE_MIN_EDGES)], env).split()
        assert loader == "cache" and d == reference, (loader, d, reference)
        reopen.append(float(t))
    print(
        f"reopen, unchanged, new process: {best(reopen)}; fresh / reopen {quiet / min(reopen):.1f} "
        "(target >= 10); same answers: yes"
    )
    changed = []
    for round_ in range(args.repeat):
        change_edges(path, 1000, round_)
        loads, g = fresh_loads(store, 1)
        t, loader, d = run(["-c", REOPEN, str(path), str(HERE), str(_cache.CACHE_MIN_EDGES)], env).split()
        assert loader == "cache" and d == digest(g), (loader, d)
        changed.append(float(t))
        quiet = min(quiet, loads[0])
    print(
        f"reopen after 1,000 edge changes by another process: {best(changed)}; fresh / reopen "
        f"{quiet / min(changed):.1f} (target >= 5); same answers: yes"
    )
    store.close()
    if not args.skip_small:
        crossover(args.seed)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
