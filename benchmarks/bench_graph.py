"""Graph layer benchmark: omega_graph.graph against networkx (and igraph / rustworkx PageRank) in one run.

    python benchmarks/bench_graph.py                      # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_graph.py --memories 10000 --edges 30000   # smoke size

The synthetic store is generated once with plain sqlite3 and cached under benchmarks/work/. Every
figure is a ratio to an anchor measured in the same process; nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _graph_data import WORK, synthetic_store

from omega_graph.graph import CausalGraph
from omega_graph.store import OmegaStore


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def children_cpu() -> float:
    """CPU seconds used by finished child processes (the DuckDB scan runs in one)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_time(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def line(label: str, ours: float, theirs: float, theirs_name: str) -> None:
    ratio = theirs / ours if ours > 0 else math.inf
    print(f"  {label:<34} ours {ours * 1e3:10.1f} ms   {theirs_name} {theirs * 1e3:10.1f} ms   x{ratio:6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--snapshots", type=int, default=3, help="snapshot loads measured (median reported)")
    ap.add_argument("--skip-networkx-pagerank", action="store_true", help="nx.pagerank is slow at 1M nodes")
    args = ap.parse_args()
    path = synthetic_store(args.memories, args.edges, args.seed)
    print(f"store {path.name}: {args.memories:,} memories, {args.edges:,} edges; cpu count {os.cpu_count()}")

    # ----- snapshot ---------------------------------------------------------------------------------
    with OmegaStore.new_in_memory() as warm:  # pay the first imports (scipy, pandas, duckdb) outside timing
        warm.causal_graph().influence()
        import duckdb  # noqa: F401

        from omega_graph.duck._extension import connect

        connect(allow_install=False).close()
    store = OmegaStore(path)
    print(f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = []  # (load s, derive s, parent cpu s, child-process cpu s)
    for _ in range(args.snapshots):
        g = d = None
        gc.collect()
        base = rss_mb()
        cpu0, kids0 = time.process_time(), children_cpu()
        t_load, g = timed(lambda: store.causal_graph(cache=False))
        assert isinstance(g, CausalGraph)
        d = g._data
        t_ready, _ = timed(lambda d=d: (d.forward(), d.backward(), d.cost_matrix(False), d.cost_matrix(True)))
        runs.append((t_load, t_ready, time.process_time() - cpu0, children_cpu() - kids0))
        ours_mb = rss_mb() - base
    runs.sort(key=lambda r: r[0] + r[1])
    t_load, t_ready, cpu_parent, cpu_child = runs[len(runs) // 2]
    print(f"snapshot (store -> query-ready), median of {len(runs)}, read by {g.loader}:")
    print(f"  load {t_load:.2f} s (builds both directions' structures) + what was left {t_ready:.2f} s "
          f"= {t_load + t_ready:.2f} s "
          f"(cpu: this process {cpu_parent:.2f} s, DuckDB child {cpu_child:.2f} s); "
          f"{g.nbytes() / max(g.number_of_edges(), 1):.0f} bytes/edge by array size, "
          f"{ours_mb * 2**20 / max(g.number_of_edges(), 1):.0f} bytes/edge by RSS")  # fmt: skip
    print("  all runs (load + derive): " + ", ".join(f"{a + b:.2f} s" for a, b, _, _ in runs))

    import networkx as nx

    gc.collect()
    base = rss_mb()

    def build_nx() -> nx.DiGraph:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows = conn.execute("SELECT from_memory, to_memory, weight FROM causal_edges")
        h = nx.DiGraph()
        h.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
        h.add_edges_from(
            (u, v, {"weight": w, "cost": -math.log(w) if w > 0 else math.inf}) for u, v, w in rows
        )
        conn.close()
        return h

    def build_plain() -> nx.DiGraph:  # the anchor: the rows as they are, weights only
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        h = nx.DiGraph()
        h.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
        h.add_weighted_edges_from(conn.execute("SELECT from_memory, to_memory, weight FROM causal_edges"))
        conn.close()
        return h

    t_plain, nxg = timed(build_plain)
    nx_mb = rss_mb() - base
    nxg = None
    gc.collect()
    t_nx, nxg = timed(build_nx)  # with a precomputed cost per edge, for the query comparisons below
    ours = t_load + t_ready
    print(
        f"  networkx.DiGraph from sqlite3 rows: {t_plain:.2f} s (weights only), {t_nx:.2f} s (with a "
        f"cost attribute for Dijkstra); {nx_mb * 2**20 / max(g.number_of_edges(), 1):.0f} bytes/edge by RSS"
    )
    print(
        f"  -> snapshot is x{t_plain / ours:.1f} faster than the plain networkx build "
        f"(x{t_nx / ours:.1f} than the one with costs)"
    )
    print(f"load average (1, 5, 15 min) after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    rnd = random.Random(args.seed)
    ids = g.memory_ids
    hubs = g.influence(reverse=True).memory_id.tolist()[: max(args.queries, 1)]  # well-connected sources

    # ----- strongest path ---------------------------------------------------------------------------
    pairs = [(rnd.choice(hubs), rnd.choice(ids)) for _ in range(args.queries)]
    ours_t, nx_t, found = [], [], 0
    for s, t in pairs:
        a, res = timed(lambda s=s, t=t: _try(lambda: g.strongest_path(s, t)))
        b, ref = timed(lambda s=s, t=t: _try(lambda: nx.bidirectional_dijkstra(nxg, s, t, weight="cost")))
        ours_t.append(a)
        nx_t.append(b)
        found += res is not None
    print(f"per-query medians over {len(pairs)} pairs ({found} connected):")
    line("strongest_path vs bidirectional", statistics.median(ours_t), statistics.median(nx_t), "nx")

    # ----- effects / causes -------------------------------------------------------------------------
    src = hubs[0]
    ours = median_time(lambda: g.effects(src), 3)
    theirs = median_time(lambda: nx.single_source_dijkstra(nxg, src, weight="cost"), 1)
    print(f"  (effects of {src}: {len(g.effects(src)):,} rows)")
    line("effects vs single_source_dijkstra", ours, theirs, "nx")
    rev = nxg.reverse(copy=False)
    ours = median_time(lambda: g.causes(src), 3)
    theirs = median_time(lambda: nx.single_source_dijkstra(rev, src, weight="cost"), 1)
    line("causes vs single_source_dijkstra", ours, theirs, "nx")

    # ----- influence --------------------------------------------------------------------------------
    g.influence()  # build the transition matrix once (part of a ready snapshot)
    ours = median_time(lambda: g.influence(), 3)
    print("influence (PageRank, alpha 0.85, tol 1e-6):")
    if not args.skip_networkx_pagerank:
        theirs = median_time(lambda: nx.pagerank(nxg, weight="weight"), 1)
        line("influence vs nx.pagerank", ours, theirs, "nx")
    # Weight-0 edges change nothing in weighted PageRank (a node whose out-weights sum to 0 is dangling
    # either way), and rustworkx fails to converge on them (0/0): both libraries get the positive edges.
    pos = d.weight > 0
    src_arr, dst_arr, w_arr = d.src[pos].tolist(), d.dst[pos].tolist(), d.weight[pos].tolist()
    try:
        import igraph as ig

        ig_g = ig.Graph(n=d.n_nodes, edges=list(zip(src_arr, dst_arr, strict=True)), directed=True)
        ig_g.es["weight"] = w_arr
        theirs = median_time(lambda: ig_g.pagerank(weights="weight", damping=0.85), 3)
        line("influence vs igraph (PRPACK)", ours, theirs, "igraph")
    except ImportError:
        print("  igraph not installed (pip install '.[bench]')")
    try:
        import rustworkx as rx

        rx_g = rx.PyDiGraph(multigraph=True)
        rx_g.add_nodes_from(range(d.n_nodes))
        rx_g.add_edges_from(list(zip(src_arr, dst_arr, w_arr, strict=True)))
        theirs = median_time(
            lambda: rx.pagerank(rx_g, alpha=0.85, weight_fn=float, tol=1e-6, max_iter=1000), 3
        )
        line("influence vs rustworkx", ours, theirs, "rustworkx")
    except ImportError:
        print("  rustworkx not installed (pip install '.[bench]')")
    nxg = rev = None  # free the networkx graph before the refresh measurement
    store.close()

    # ----- refresh ----------------------------------------------------------------------------------
    copy = WORK / f"refresh_{path.name}"
    shutil.copy(path, copy)
    try:
        with OmegaStore(copy) as s2:
            g2 = s2.causal_graph(cache=False)
            conn = s2.connection
            some = [r[0] for r in conn.execute("SELECT id FROM causal_edges ORDER BY rowid LIMIT 300")]
            mems = [r[0] for r in conn.execute("SELECT id FROM memories ORDER BY rowid LIMIT 200")]
            with s2.transaction():
                conn.executemany(
                    "UPDATE causal_edges SET weight = weight / 2 WHERE id = ?", [(e,) for e in some[:100]]
                )
                conn.executemany("DELETE FROM causal_edges WHERE id = ?", [(e,) for e in some[100:200]])
                conn.executemany(
                    "INSERT INTO causal_edges VALUES (?, ?, ?, 0.5, 'causes', 1)",
                    [(f"new-{i}", mems[i], mems[-1 - i]) for i in range(100)],
                )
            t_refresh, _ = timed(g2.refresh)
            t_full, _ = timed(lambda: s2.causal_graph(cache=False))
            print("refresh after 100 inserts, 100 updates, 100 deletes:")
            line("refresh vs new snapshot", t_refresh, t_full, "full")
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)


def _try(fn: Callable[[], object]) -> object | None:
    try:
        return fn()
    except Exception:  # NoPathError / NetworkXNoPath: timing a miss is fine
        return None


if __name__ == "__main__":
    main()
