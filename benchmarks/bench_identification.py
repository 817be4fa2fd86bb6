"""Causal identification benchmark: back-door validity, instruments and path-specific effects on a DAG.

    python benchmarks/bench_identification.py                       # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_identification.py --memories 10000 --edges 30000   # smoke size

On a generated DAG (the benchmark store's edges pointed along one random order), for random pairs
``(x, y)`` with ``x`` an ancestor of ``y`` and ``z`` the parents of ``x``:

- ``is_valid_adjustment_set(x, y, z)`` against two calls of ``networkx.is_d_separator`` on the same
  graph (``g.to_networkx()``, a MultiDiGraph built outside the timings): the issue's anchor;
- ``instruments(x, y)`` and ``minimal_adjustment_set(x, y)``, each pair's time (target: at most 1 s
  each), with the size of the pair's ancestral set they work on;
- ``adjustment_sets(x, y, limit=10)``: the time to the first ten minimal sets (polynomial delay);
- ``total_effect(x, y, through=m)`` against the plain ``total_effect(x, y)`` (target: at most 3x).

Ratios are best to best within this run; nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _graph_data import synthetic_store

from omega_graph.errors import LimitWarning
from omega_graph.graph.adjustment import moral_graph
from omega_graph.store import OmegaStore


def best(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=3_000_000)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nx-pairs", type=int, default=3, help="pairs also timed with networkx")
    args = parser.parse_args()
    import networkx as nx

    path = synthetic_store(args.memories, args.edges, dag=True)
    with OmegaStore(path) as store:
        g = store.causal_graph()
        print(
            f"DAG store {path.name}: {len(g):,} memories, {g.number_of_edges():,} edges; is_dag {g.is_dag()}"
        )
        rng = np.random.default_rng(3)
        ids = g.memory_ids
        pairs: list[tuple[str, str, set[str], str | None]] = []
        while len(pairs) < args.pairs:
            x = ids[int(rng.integers(len(ids)))]
            effects = g.effects(x, max_depth=4)
            parents = set(g.causes(x, max_depth=1).memory_id)
            if len(effects) < 3 or not parents:
                continue
            y = str(effects.memory_id.iloc[int(rng.integers(len(effects)))])
            between = [m for m in effects.memory_id[effects.depth == 1] if m != y]
            pairs.append((x, y, parents, between[0] if between else None))
        print(f"{len(pairs)} pairs (x, y descendant of x within 4 edges, z = parents of x)")

        t_valid, t_instr, t_plain, t_through, t_min, t_sets, region = [], [], [], [], [], [], []
        for x, y, z, m in pairs:
            t_valid.append(best(partial(g.is_valid_adjustment_set, x, y, z), args.rounds)[0])
            t_instr.append(best(partial(g.instruments, x, y), 1)[0])
            t, smallest = best(partial(g.minimal_adjustment_set, x, y), 1)
            t_min.append(t)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LimitWarning)
                t, sets = best(partial(g.adjustment_sets, x, y, limit=10), 1)
            t_sets.append(t)
            assert smallest is None or (sets[0] == smallest and g.is_valid_adjustment_set(x, y, smallest))
            region.append(len(moral_graph(g._data, g._data.find(x), g._data.find(y), "bench").nodes))
            t_plain.append(best(partial(g.total_effect, x, y), args.rounds)[0])
            if m is not None:
                t_through.append(best(partial(g.total_effect, x, y, through=m), args.rounds)[0])
        print(
            f"is_valid_adjustment_set: median {np.median(t_valid) * 1e3:.1f} ms, max {max(t_valid) * 1e3:.1f} ms"
        )
        print(
            f"instruments: median {np.median(t_instr):.3f} s, max {max(t_instr):.3f} s (target <= 1 s each)"
        )
        print(
            f"minimal_adjustment_set: median {np.median(t_min):.3f} s, max {max(t_min):.3f} s "
            f"(target <= 1 s each); ancestral sets of the pairs: median {int(np.median(region)):,}, "
            f"max {max(region):,} memories"
        )
        print(f"adjustment_sets(limit=10): median {np.median(t_sets):.3f} s, max {max(t_sets):.3f} s")
        if t_through:
            ratio = np.median(t_through) / np.median(t_plain)
            print(
                f"total_effect: plain median {np.median(t_plain) * 1e3:.1f} ms, through median "
                f"{np.median(t_through) * 1e3:.1f} ms: {ratio:.2f}x (target <= 3x)"
            )

        t0 = time.perf_counter()
        G = g.to_networkx()
        print(f"networkx MultiDiGraph built in {time.perf_counter() - t0:.1f} s (not timed below)")
        ratios = []
        for x, y, z, _ in pairs[: args.nx_pairs]:
            ours, answer = best(partial(g.is_valid_adjustment_set, x, y, z), args.rounds)
            bd = nx.restricted_view(G, [], list(G.out_edges(x, keys=True)))  # the back-door graph
            t = time.perf_counter()
            a = nx.is_d_separator(bd, {x}, {y}, z)
            b = nx.is_d_separator(G, {x}, {y}, z)
            theirs = time.perf_counter() - t
            assert answer == (a and not (z & nx.descendants(G, x))), (x, y)
            ratios.append(theirs / ours)
            print(f"  pair {x[:12]}..: omega {ours * 1e3:.1f} ms, two nx.is_d_separator {theirs:.2f} s "
                  f"({theirs / ours:.0f}x; answer {answer}, nx {a}/{b})")  # fmt: skip
        if ratios:
            print(
                f"is_valid_adjustment_set vs two networkx.is_d_separator: {min(ratios):.0f}-{max(ratios):.0f}x (target >= 10x)"
            )


if __name__ == "__main__":
    main()
