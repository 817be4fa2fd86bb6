"""Cycle listing benchmark: ``CausalGraph.find_cycles`` against networkx's ``simple_cycles`` in one run.

    python benchmarks/bench_cycles.py                     # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_cycles.py --memories 10000 --edges 30000   # smoke size
    python benchmarks/bench_cycles.py --networkx          # also time the old way at full size (~1 min+)

Two cases:

* the large synthetic store of ``bench_graph.py`` (one strongly connected component of most
  memories, so ``find_cycles`` samples it): time and cycle lengths for several ``limit`` /
  ``max_sources``, against ``is_dag()`` (one linear pass, the anchor) and, with ``--networkx`` or
  at small sizes, the previous approach (``simple_cycles`` on the cyclic components, first ``limit``);
* a mid-size exhaustive case (a sparse random digraph of ``--exact-nodes`` memories, a component
  below ``max_sources``): the exact 100 shortest cycles against networkx computing the same answer
  (``simple_cycles`` with a length bound, sorted).

Every figure is a time or a ratio measured in this process; nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import networkx as nx
import numpy as np
from _graph_data import synthetic_store

from omega_graph.graph import CausalGraph
from omega_graph.graph.snapshot import GraphData, SnapshotState
from omega_graph.graph.structure import find_cycles
from omega_graph.store import OmegaStore


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def lengths(cycles: list[list[str]]) -> str:
    if not cycles:
        return "no cycles"
    ls = np.array([len(c) for c in cycles])
    return f"{len(ls)} cycles, lengths min {ls.min()} median {int(np.median(ls))} max {ls.max()}"


def old_find_cycles(data: GraphData, limit: int) -> list[list[int]]:
    """The previous implementation: networkx simple_cycles on the cyclic strongly connected components."""
    from scipy.sparse.csgraph import connected_components

    adj = data.forward()
    n = data.n_nodes
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    _, labels = connected_components(data.structure_matrix(False), directed=True, connection="strong")
    cyclic = np.bincount(labels)[labels] > 1
    cyclic[rows[rows == adj.nbr]] = True
    inner = cyclic[rows] & cyclic[adj.nbr] & (labels[rows] == labels[adj.nbr])
    g = nx.DiGraph()
    g.add_nodes_from(np.flatnonzero(cyclic).tolist())
    g.add_edges_from(zip(rows[inner].tolist(), adj.nbr[inner].tolist(), strict=True))
    return list(islice(nx.simple_cycles(g), limit))


def large_case(args: argparse.Namespace) -> None:
    path = synthetic_store(args.memories, args.edges, args.seed)
    store = OmegaStore(path)
    g = store.causal_graph(cache=False)
    assert isinstance(g, CausalGraph)
    d = g._data
    t_dag, dag = timed(g.is_dag)  # the anchor: SCCs and one cycle, linear time
    print(f"store {path.name}: {args.memories:,} memories, {args.edges:,} edges; cpu count {os.cpu_count()}")
    print(f"  is_dag() -> {dag} in {t_dag * 1e3:.0f} ms (anchor: one linear pass)")
    print("  each find_cycles call below starts without the cached components (it pays is_dag's pass)")
    if dag:
        print("  the snapshot is a DAG: nothing to list")
        return
    cases: list[dict[str, int | None]] = [
        {},
        {"limit": 1},
        {"limit": 10},
        {"limit": 1000},
        {"max_sources": 8},
        {"max_sources": 256},
        {"max_length": 4},
    ]
    for kw in cases:
        for key in ("a_cycle", "scc_labels"):  # each call pays the component pass is_dag() would cache
            d._cache.pop(key, None)
        t, cycles = timed(lambda kw=kw: g.find_cycles(**kw))  # type: ignore[arg-type]
        assert isinstance(cycles, list)
        label = ", ".join(f"{k}={v}" for k, v in kw.items()) or "defaults (limit=100, max_sources=128)"
        print(f"  find_cycles({label}): {t:.2f} s = x{t / t_dag:.1f} is_dag; {lengths(cycles)}")
    if args.networkx or args.edges <= 100_000:
        for limit in (1, 100):
            t, old = timed(lambda limit=limit: old_find_cycles(d, limit))
            print(f"  previous (networkx simple_cycles, limit={limit}): {t:.2f} s = x{t / t_dag:.1f} is_dag; "
                  f"{lengths(old)}")  # type: ignore[arg-type]  # fmt: skip
    else:
        print("  previous approach not timed at this size (--networkx: about 60 s for limit=1 at 1M/3M)")
    store.close()


def exact_case(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(n * 1.5)
    names = [f"m{i:06d}" for i in range(n)]
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(m, 2)) if a != b}
    d = GraphData.from_rows(
        [(i + 1, x, 1, 0.5) for i, x in enumerate(names)],
        [(i + 1, f"e{i}", names[a], names[b], 0.5, "causes", 0) for i, (a, b) in enumerate(sorted(pairs))],
        SnapshotState(len(pairs), 0, n, n),
    )
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(d.structure_matrix(False), directed=True, connection="strong")
    biggest = int(np.bincount(labels).max())
    t, ours = timed(lambda: find_cycles(d, 100, None, max_sources=n))
    assert isinstance(ours, list)
    print(f"exhaustive: random digraph {n:,} memories, {len(pairs):,} edges, largest component {biggest:,}")
    print(f"  find_cycles(limit=100, max_sources={n}) (exact): {t * 1e3:.0f} ms; {lengths(ours)}")
    bound = len(ours[-1])
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[a], names[b]) for a, b in pairs)

    def reference() -> list[list[str]]:
        cycles = [
            c[c.index(min(c)) :] + c[: c.index(min(c))] for c in nx.simple_cycles(g, length_bound=bound)
        ]
        return sorted(cycles, key=lambda c: (len(c), c))[:100]

    t_nx, want = timed(reference)
    print(f"  networkx simple_cycles(length_bound={bound}) sorted, same answer: {t_nx * 1e3:.0f} ms "
          f"(ours x{t_nx / t:.1f} faster); equal: {want == ours}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--exact-nodes", type=int, default=2000)
    ap.add_argument("--networkx", action="store_true", help="time the previous approach at full size too")
    args = ap.parse_args()
    with OmegaStore.new_in_memory() as warm:  # pay the first imports (scipy, pandas, duckdb) outside timing
        warm.causal_graph().is_dag()
    large_case(args)
    exact_case(args.exact_nodes, args.seed)


if __name__ == "__main__":
    main()
