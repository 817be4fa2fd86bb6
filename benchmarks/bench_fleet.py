"""Fleets of stores: export, statistics and per-store graph answers, against plain loops.

    python benchmarks/bench_fleet.py                          # 1,000 stores of 1k-10k edges
    python benchmarks/bench_fleet.py --stores 100 --no-spark  # smoke size
    python benchmarks/bench_fleet.py --scales 100,1000,3000   # how the cost grows (plain loops up to 1,000)

On a generated fleet (``omega_graph.fleet.generate``, cached under ``benchmarks/work``), in one run:

- ``fleet.export`` into an empty directory against a plain loop of DuckDB ``ATTACH`` + seven
  ``COPY (SELECT * FROM t) TO 'x.parquet'`` per store (one DuckDB connection; no manifest, no
  fingerprint, no atomic commit): target at least 0.7x its speed. A second export with nothing
  changed is timed too (it should only read each store's fingerprint);
- ``fleet.statistics(None, out)`` (DuckDB over the Parquet) against a Python loop of
  ``OmegaStore(path).analytics()`` running the same five statistics per store: target at least 5x
  faster;
- ``fleet.graph_answers(spark, out)`` on Spark ``local[2]`` (collected) against a Python loop over the
  store files: ``causal_graph(include_invalidated=True)``, ``is_dag``, a cycle, the strongly connected
  components and the top-10 influence of each store: target within 3x of the loop. The session's start
  is not timed; the first job is run once to warm it.

Ratios are within this run; nothing here asserts a threshold.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx

from omega_graph import duck, fleet
from omega_graph.schema import CRATE_TABLES
from omega_graph.store import OmegaStore

WORK = Path(__file__).resolve().parent / "work"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def fleet_paths(stores: int, seed: int) -> list[str]:
    """The generated fleet's files (made once, then reused)."""
    directory = WORK / f"fleet_{stores}_{seed}"
    done = directory / ".complete"
    if not done.exists():
        shutil.rmtree(directory, ignore_errors=True)
        t, _ = timed(lambda: fleet.generate(directory, stores=stores, seed=seed))
        print(f"generated {stores:,} stores in {t:.1f} s", flush=True)
        done.touch()
    return sorted(str(p) for p in directory.glob("*.db"))


def plain_copy_loop(paths: list[str], out: Path) -> None:
    """The anchor: per store, ATTACH it and COPY each table to Parquet."""
    con = duck.connect()
    try:
        for i, path in enumerate(paths):
            con.execute(f"ATTACH '{duck.quote(path)}' AS s (TYPE sqlite, READ_ONLY)")
            for table in CRATE_TABLES:
                target = out / table / f"store={i}"
                target.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT * FROM s.{duck.ident(table)}) TO '{duck.quote(str(target / 'part.parquet'))}' (FORMAT parquet)"
                )
            con.execute("DETACH s")
    finally:
        con.close()


def analytics_loop(paths: list[str]) -> int:
    rows = 0
    for path in paths:
        with OmegaStore(path) as store, store.analytics() as a:
            frames = [a.overview(), a.tier_summary(), a.edge_type_summary(), a.degree_table(), a.activity()]
            rows += sum(len(f) for f in frames)
    return rows


def graph_loop(paths: list[str], top_k: int = 10) -> int:
    """The same answers from each store file: is_dag, a cycle, the SCC count (the ``omega`` backend), top-k influence."""
    answered = 0
    for path in paths:
        with OmegaStore(path) as store:
            g = store.causal_graph(include_invalidated=True, cache=False)
            if not g.is_dag():
                g.find_cycles(limit=1)
            nx.number_strongly_connected_components(g)
            g.influence().memory_id.head(top_k).tolist()
            answered += 1
    return answered


def one_scale(stores: int, seed: int, spark: Any, anchors: bool) -> dict[str, float]:
    paths = fleet_paths(stores, seed)
    out, anchor = WORK / f"fleet_{stores}_{seed}_export", WORK / f"fleet_{stores}_{seed}_plain"
    for d in (out, anchor):
        shutil.rmtree(d, ignore_errors=True)
    fleet.export(paths[:5], WORK / "fleet_warm")  # imports, DuckDB's extension, page cache of a few files
    shutil.rmtree(WORK / "fleet_warm", ignore_errors=True)
    t_plain = timed(lambda: plain_copy_loop(paths, anchor))[0] if anchors else float("nan")
    t_export, result = timed(lambda: fleet.export(paths, out))
    assert isinstance(result, fleet.ExportResult) and result.ok, result
    t_again, again = timed(lambda: fleet.export(paths, out))
    assert isinstance(again, fleet.ExportResult) and not again.exported
    print(
        f"[{stores:,} stores] export {t_export:.1f} s, plain COPY loop {t_plain:.1f} s: "
        f"{t_plain / t_export:.2f}x its speed (target >= 0.7x); unchanged re-export {t_again:.1f} s",
        flush=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_stats, _ = timed(lambda: fleet.statistics(None, out))
        t_loop = timed(lambda: analytics_loop(paths))[0] if anchors else float("nan")
    print(
        f"[{stores:,} stores] statistics on DuckDB {t_stats:.2f} s, loop of store.analytics() "
        f"{t_loop:.1f} s: {t_loop / t_stats:.1f}x faster (target >= 5x)",
        flush=True,
    )
    figures = {"export": t_export, "re-export": t_again, "plain": t_plain, "stats": t_stats, "loop": t_loop}
    if spark is not None:
        fleet.graph_answers(spark, out).limit(1).collect()  # warm: the job's Python workers start
        t_spark, rows = timed(lambda: fleet.graph_answers(spark, out).collect())
        t_graph = timed(lambda: graph_loop(paths))[0] if anchors else float("nan")
        assert isinstance(rows, list) and len(rows) == len(paths)
        print(
            f"[{stores:,} stores] Spark local[2] graph answers {t_spark:.1f} s, plain loop {t_graph:.1f} s: "
            f"{t_spark / t_graph:.2f}x the loop's time (target <= 3x)",
            flush=True,
        )
        figures.update(spark=t_spark, graph=t_graph)
    shutil.rmtree(anchor, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--scales", default="", help="comma-separated fleet sizes, e.g. 100,1000,3000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark comparison")
    parser.add_argument(
        "--anchors-up-to", type=int, default=1000, help="run the plain loops only on fleets up to this size"
    )
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s] or [args.stores]
    spark = None if args.no_spark else fleet.session("local[2]", app_name="omega-graph bench")
    results = {n: one_scale(n, args.seed, spark, n <= args.anchors_up_to) for n in scales}
    if len(scales) > 1:
        print("\nper store (ms):", "  ".join(k for k in next(iter(results.values()))))
        for n, fig in results.items():
            print(f"{n:>6,}", "  ".join(f"{1000 * v / n:8.1f}" for v in fig.values()))


if __name__ == "__main__":
    main()
