"""Run every benchmark in turn (each compares against its anchor in the same run and prints ratios).

    python benchmarks/run_all.py                 # the issue sizes: 1,000,000 memories, 3,000,000 edges
    python benchmarks/run_all.py --smoke         # small sizes, a minute or two

``make bench`` runs this after installing the benchmark-only dependencies (igraph, rustworkx, networkit).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMOKE = {
    "bench_store.py": ["--memories", "20000", "--edges", "60000", "--lookups", "20000", "--singles", "2000"],
    "bench_graph.py": ["--memories", "10000", "--edges", "30000"],
    "bench_snapshot.py": ["--memories", "10000", "--edges", "30000", "--skip-small"],
    "bench_cycles.py": ["--memories", "10000", "--edges", "30000"],
    "bench_influence.py": ["--memories", "10000", "--edges", "30000", "--rounds", "2"],
    "bench_identification.py": ["--memories", "10000", "--edges", "30000"],
    "bench_analytics.py": ["--memories", "2000", "--edges", "6000"],
    "bench_nx_backend.py": ["--memories", "10000", "--edges", "30000", "--rounds", "2"],
    "bench_beliefs.py": ["--memories", "10000", "--edges", "30000", "--bulk", "1000"],
    "bench_fleet.py": ["--stores", "20"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args()
    failed = []
    for script, smoke_args in SMOKE.items():
        print(f"\n===== {script} =====", flush=True)
        extra = smoke_args if args.smoke else []
        if subprocess.call([sys.executable, str(HERE / script), *extra]) != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
