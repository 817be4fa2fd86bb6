"""Influence benchmark: converged weighted PageRank against igraph (PRPACK), networkit and networkx.

    python benchmarks/bench_influence.py                      # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_influence.py --memories 10000 --edges 30000   # smoke size

Every library computes networkx's definition (weights of parallel edges summed, dangling nodes
spread uniformly, alpha 0.85) on the same graph, in one process. Each is measured to the same
accuracy where it can be: ``influence()`` at its default L1 error bound 1e-10; igraph's PRPACK (a
direct-quality solver, no tolerance to set); networkit's PageRank with the L1 norm and its tolerance
tightened until its L1 error against the reference is at most 1e-10; networkx's default
``pagerank`` (tol 1e-6, which stops when the L1 step is below N * 1e-6) to show its error. The
reference is ``influence(tol=1e-13)``, checked against PRPACK.

Timings: the libraries run in interleaved rounds (the CPU is shared); best and range are printed,
and ratios are best to best within this run. ``influence`` is timed on a query-ready snapshot with
its renumbered matrices built (they are cached per snapshot, like the other derived structures) and
its result cache emptied before each call; the first call, which builds the matrices, is printed
too. igraph and networkit are timed on graphs already built in their own formats. Nothing here
asserts a threshold.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# networkit runs OpenMP threads; on a CPU shared with other work, threads that busy-wait between
# parallel loops lose badly (2.3 s instead of 3.6-5.8 s per run here): give networkit its best case.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _graph_data import synthetic_store

from omega_graph.graph import CausalGraph
from omega_graph.graph import influence as influence_module
from omega_graph.store import OmegaStore

ALPHA = 0.85
TOL = 1e-10


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def top_overlap(x: np.ndarray, ref: np.ndarray, k: int = 100) -> int:
    k = min(k, len(ref))
    if k == 0:
        return 0
    top = np.argpartition(-x, k - 1)[:k]
    want = np.argpartition(-ref, k - 1)[:k]
    return len(np.intersect1d(top, want))


def frame_vector(frame: object, position: dict[str, int]) -> np.ndarray:
    """influence()'s DataFrame as a vector by node index (the snapshot's sorted memory ids)."""
    idx = np.fromiter((position[m] for m in frame.memory_id), dtype=np.int64, count=len(frame))  # type: ignore[attr-defined]
    x = np.empty(len(idx))
    x[idx] = frame.score.to_numpy()  # type: ignore[attr-defined]
    return x


def forget_results(g: CausalGraph) -> None:
    g._data._cache.pop("pagerank_results", None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    ap.add_argument("--skip-networkx", action="store_true", help="networkx pagerank takes ~30 s at 1M nodes")
    args = ap.parse_args()
    path = synthetic_store(args.memories, args.edges, args.seed)
    print(f"store {path.name}: {args.memories:,} memories, {args.edges:,} edges; cpu count {os.cpu_count()}")
    print(f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store = OmegaStore(path)
    g = store.causal_graph(cache=False)  # no 600 MB entry in the user's cache
    d = g._data
    n = d.n_nodes

    position = {m: i for i, m in enumerate(d.node_ids)}

    # ----- omega: first call (builds the renumbered matrices), then the reference -------------------
    d.sum_matrix()  # a snapshot structure shared with other questions
    t_first, first = timed(lambda: g.influence())
    attrs_first = first.attrs  # type: ignore[attr-defined]
    print(
        f"influence() first call on the snapshot (builds its matrices): {t_first * 1e3:.0f} ms, "
        f"{attrs_first['iterations']} iterations, bound {attrs_first['error_bound']:.2e}"
    )
    forget_results(g)
    t_ref, ref_frame = timed(lambda: g.influence(tol=1e-13))
    attrs_ref = ref_frame.attrs  # type: ignore[attr-defined]
    ref = frame_vector(ref_frame, position)
    print(
        f"reference influence(tol=1e-13): {t_ref * 1e3:.0f} ms, {attrs_ref['iterations']} iterations, "
        f"bound {attrs_ref['error_bound']:.2e}"
    )

    # ----- the other libraries' graphs (positive weights, parallel edges summed) --------------------
    a = d.sum_matrix().tocoo()
    pos = a.data > 0
    src, dst, w = a.row[pos].astype(np.int64), a.col[pos].astype(np.int64), a.data[pos]
    runners: dict[str, Callable[[], object]] = {}
    vector: dict[str, Callable[[object], np.ndarray]] = {}

    def omega() -> object:
        forget_results(g)
        return g.influence()

    def omega_solver() -> object:
        forget_results(g)
        return influence_module.pagerank(d).scores

    omega_name = "omega influence() (tol 1e-10)"
    runners[omega_name] = omega
    vector[omega_name] = lambda frame: frame_vector(frame, position)
    runners["  of which the solver, pagerank()"] = omega_solver
    try:
        import igraph as ig

        t_build, ig_g = timed(lambda: ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=True))
        ig_g.es["weight"] = w  # type: ignore[union-attr]
        print(f"igraph graph built in {t_build:.1f} s (not timed below)")

        def igraph_prpack() -> np.ndarray:
            s = np.array(ig_g.pagerank(weights="weight", damping=ALPHA, implementation="prpack"))  # type: ignore[union-attr]
            return s / s.sum()

        runners["igraph pagerank (PRPACK)"] = igraph_prpack
    except ImportError:
        print("igraph not installed (pip install '.[bench]')")
    try:
        import networkit as nk

        def build_nk() -> object:
            h = nk.Graph(n, weighted=True, directed=True)
            h.addEdges((w, (src, dst)))
            return h

        t_build, nk_g = timed(build_nk)
        print(
            f"networkit graph built in {t_build:.1f} s (not timed below); threads {nk.getMaxNumberOfThreads()}"
        )

        def networkit_run(tol: float) -> tuple[np.ndarray, int]:
            pr = nk.centrality.PageRank(
                nk_g, damp=ALPHA, tol=tol, distributeSinks=nk.centrality.SinkHandling.DistributeSinks
            )
            pr.norm = nk.centrality.Norm.L1_NORM
            pr.maxIterations = 100_000
            pr.run()
            s = np.array(pr.scores())
            return s / s.sum(), pr.numberOfIterations()

        nk_tol = TOL
        for _ in range(6):  # tighten until its L1 error against the reference is within TOL
            s, its = networkit_run(nk_tol)
            err = float(np.abs(s - ref).sum())
            print(f"networkit tol {nk_tol:g} (L1 norm): {its} iterations, L1 error {err:.2e}")
            if err <= TOL:
                break
            nk_tol /= 10
        runners[f"networkit PageRank (L1 tol {nk_tol:g})"] = lambda: networkit_run(nk_tol)[0]
    except ImportError:
        print("networkit not installed (pip install '.[bench]')")

    # ----- interleaved rounds --------------------------------------------------------------------
    times: dict[str, list[float]] = {name: [] for name in runners}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(max(args.rounds, 1)):
        for name, fn in runners.items():
            gc.collect()
            t, out = timed(fn)
            times[name].append(t)
            outputs[name] = vector[name](out) if name in vector else out  # type: ignore[assignment]
    rows: list[tuple[str, float, float, float, float, int]] = []
    base = min(times[omega_name])
    for name, ts in times.items():
        x = outputs[name]
        rows.append(
            (name, min(ts), max(ts), min(ts) / base, float(np.abs(x - ref).sum()), top_overlap(x, ref))
        )

    # ----- networkx default (once) ------------------------------------------------------------------
    if not args.skip_networkx:
        import networkx as nx

        h = nx.DiGraph()
        h.add_nodes_from(range(n))
        h.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True))
        gc.collect()
        t_nx, pr = timed(lambda: nx.pagerank(h, alpha=ALPHA, weight="weight"))
        x = np.array([pr[i] for i in range(n)])  # type: ignore[index]
        rows.append(("networkx pagerank (default tol 1e-6)", t_nx, t_nx, t_nx / base,
                     float(np.abs(x - ref).sum()), top_overlap(x, ref)))  # fmt: skip
        h = None

    print(f"\ninfluence: weighted PageRank, alpha {ALPHA}, {n:,} nodes, {len(w):,} positive edges "
          f"(best of {args.rounds} interleaved rounds; range; ratio of bests to omega)")  # fmt: skip
    print(f"{'':40s} {'best ms':>9s} {'range ms':>17s} {'ratio':>7s} {'L1 error':>10s} {'top-100':>8s}")
    for name, best, worst, ratio, err, overlap in rows:
        print(
            f"{name:40s} {best * 1e3:9.0f} {best * 1e3:8.0f}-{worst * 1e3:<8.0f} {ratio:7.2f} {err:10.2e} {overlap:8d}"
        )
    if "igraph pagerank (PRPACK)" in outputs:
        cross = float(np.abs(outputs["igraph pagerank (PRPACK)"] - ref).sum())
        print(
            f"reference vs PRPACK: L1 {cross:.2e} (the reference's own bound {attrs_ref['error_bound']:.1e})"
        )
    print(
        f"a-priori iterations for tol 1e-10 at alpha {ALPHA}: {influence_module.iterations_needed(ALPHA, TOL)}"
    )
    print(f"load average (1, 5, 15 min) after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store.close()


if __name__ == "__main__":
    main()
