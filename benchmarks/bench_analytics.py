"""Curated statistics: DuckDB (Analytics) vs the same queries in SQLite vs pandas.read_sql + groupby.

All three run in the same process on the same file; the figures to read are the ratios.

    python benchmarks/bench_analytics.py                         # 1,000,000 memories, 3,000,000 edges
    python benchmarks/bench_analytics.py --memories 2000 --edges 6000   # smoke test
    python benchmarks/bench_analytics.py --same-process          # only the store-held-open section

The file is built once with plain sqlite3 executemany into a migrated file and cached under
benchmarks/work/. Targets (2 cores): DuckDB >= 2x faster than SQLite, >= 3x faster than pandas.
Then, in a process that holds the store open: store.analytics() (the store's DuckDB worker process,
reading the live file) against the snapshot copy it replaced (Analytics(store, snapshot=True)):
the first tier_summary() >= 5x faster, repeated calls no slower.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _analytics_data import analytics_store

from omega_graph.analytics import Analytics

LINEAGE_ID = "arch-000005"

SQLITE = {
    "overview": """SELECT 'memories', (SELECT count(*) FROM memories) UNION ALL
        SELECT 'skills', (SELECT count(*) FROM skills) UNION ALL
        SELECT 'architectures', (SELECT count(*) FROM architectures) UNION ALL
        SELECT 'intelligences', (SELECT count(*) FROM intelligences) UNION ALL
        SELECT 'causal_edges', (SELECT count(*) FROM causal_edges) UNION ALL
        SELECT 'vectors', (SELECT count(*) FROM vectors) UNION ALL
        SELECT 'reflexion_episodes', (SELECT count(*) FROM reflexion_episodes)""",
    "tier_summary": """WITH r AS (
            SELECT tier, importance, embedding_blob IS NOT NULL AS emb,
                   row_number() OVER (PARTITION BY tier ORDER BY importance) AS rn,
                   count(*) OVER (PARTITION BY tier) AS n
            FROM memories)
        SELECT tier, count(*), avg(importance),
               avg(importance) FILTER (WHERE rn IN ((n + 1) / 2, (n + 2) / 2)),
               min(importance), max(importance), sum(emb)
        FROM r GROUP BY tier ORDER BY tier""",
    "importance_histogram": """SELECT min(CAST(importance * 10 AS INTEGER), 9) AS k, count(*)
        FROM memories WHERE importance BETWEEN 0 AND 1 GROUP BY k ORDER BY k""",
    "edge_type_summary": """SELECT edge_type, count(*), avg(weight), min(weight), max(weight)
        FROM causal_edges GROUP BY edge_type ORDER BY edge_type""",
    "degree_table": """WITH d AS (
            SELECT memory_id, sum(o) AS od, sum(1 - o) AS idg,
                   sum(CASE WHEN o = 1 THEN weight ELSE 0 END) AS ow,
                   sum(CASE WHEN o = 0 THEN weight ELSE 0 END) AS iw
            FROM (SELECT from_memory AS memory_id, 1 AS o, weight FROM causal_edges
                  UNION ALL SELECT to_memory, 0, weight FROM causal_edges)
            GROUP BY memory_id)
        SELECT m.id, coalesce(od, 0), coalesce(idg, 0), coalesce(ow, 0.0), coalesce(iw, 0.0)
        FROM memories AS m LEFT JOIN d ON d.memory_id = m.id
        ORDER BY coalesce(od, 0) + coalesce(idg, 0) DESC, m.id""",
    "skill_leaderboard": """SELECT rank() OVER (ORDER BY success_count DESC), id, name, success_count,
            1.0 * success_count / sum(success_count) OVER (), last_used, created_at
        FROM skills ORDER BY success_count DESC, name, id""",
    "architecture_summary": """WITH i AS (SELECT arch_id, count(*) AS n FROM intelligences GROUP BY arch_id)
        SELECT paradigm, count(*), avg(json_extract(fitness_json, '$.overall')),
               max(json_extract(fitness_json, '$.overall')), coalesce(sum(i.n), 0)
        FROM architectures AS a LEFT JOIN i ON i.arch_id = a.id GROUP BY paradigm ORDER BY paradigm""",
    "intelligence_summary": """SELECT i.arch_id, a.name, a.paradigm, count(*), avg(maturity), min(maturity),
            max(maturity), max(i.updated_at)
        FROM intelligences AS i LEFT JOIN architectures AS a ON a.id = i.arch_id
        GROUP BY i.arch_id ORDER BY count(*) DESC, i.arch_id""",
    "reflexion_outcomes": """SELECT outcome, count(*), count(DISTINCT memory_id),
            1.0 * count(*) / sum(count(*)) OVER (), min(created_at), max(created_at)
        FROM reflexion_episodes GROUP BY outcome ORDER BY count(*) DESC, outcome""",
    "activity": """SELECT day, sum(m), sum(e), sum(r) FROM (
            SELECT created_at / 86400 AS day, 1 AS m, 0 AS e, 0 AS r FROM memories
            UNION ALL SELECT created_at / 86400, 0, 1, 0 FROM causal_edges
            UNION ALL SELECT created_at / 86400, 0, 0, 1 FROM reflexion_episodes)
        GROUP BY day ORDER BY day""",
    "architecture_lineage": """WITH RECURSIVE chain(id, depth) AS (
            SELECT id, 0 FROM architectures WHERE id = :id
            UNION ALL SELECT json_extract(a.lineage_json, '$.parent'), c.depth + 1
            FROM chain AS c JOIN architectures AS a ON a.id = c.id
            WHERE json_extract(a.lineage_json, '$.parent') IS NOT NULL)
        SELECT c.id, c.depth, a.name FROM chain AS c LEFT JOIN architectures AS a ON a.id = c.id
        ORDER BY c.depth""",
}


def run_duckdb(path: str, threads: int) -> dict[str, float]:
    t0 = time.perf_counter()
    a = Analytics(path, threads=threads)
    times = {"(open: extension + attach)": time.perf_counter() - t0}
    calls: dict[str, Callable[[], pd.DataFrame]] = {
        "overview": a.overview, "tier_summary": a.tier_summary,
        "importance_histogram": a.importance_histogram, "edge_type_summary": a.edge_type_summary,
        "degree_table": a.degree_table, "skill_leaderboard": a.skill_leaderboard,
        "architecture_summary": a.architecture_summary, "intelligence_summary": a.intelligence_summary,
        "reflexion_outcomes": a.reflexion_outcomes, "activity": a.activity,
        "architecture_lineage": lambda: a.architecture_lineage(LINEAGE_ID),
    }  # fmt: skip
    for name, call in calls.items():
        t = time.perf_counter()
        call()
        times[name] = time.perf_counter() - t
    a.close()
    return times


def run_sqlite(path: str) -> dict[str, float]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    times = {}
    for name, sql in SQLITE.items():
        t = time.perf_counter()
        cur = conn.execute(sql, {"id": LINEAGE_ID} if ":id" in sql else ())
        pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        times[name] = time.perf_counter() - t
    conn.close()
    return times


def run_pandas(path: str) -> dict[str, float]:
    """pandas.read_sql + groupby; each statistic reads the columns it needs, as a user would."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rd = lambda sql: pd.read_sql(sql, conn)  # noqa: E731
    times = {}

    def overview() -> None:
        for t in ("memories", "skills", "architectures", "intelligences", "causal_edges", "vectors",
                  "reflexion_episodes"):  # fmt: skip
            len(rd(f"SELECT id FROM {t}"))

    def tier_summary() -> None:
        m = rd("SELECT tier, importance, embedding_blob IS NOT NULL AS emb FROM memories")
        m.groupby("tier").agg(n=("tier", "size"), mean=("importance", "mean"), med=("importance", "median"),
                              lo=("importance", "min"), hi=("importance", "max"), emb=("emb", "sum"))  # fmt: skip

    def histogram() -> None:
        m = rd("SELECT importance FROM memories")
        pd.cut(m["importance"], [i / 10 for i in range(11)], right=False, include_lowest=True).value_counts()

    def edge_types() -> None:
        e = rd("SELECT edge_type, weight FROM causal_edges")
        e.groupby("edge_type")["weight"].agg(["size", "mean", "min", "max"])

    def degrees() -> None:
        e = rd("SELECT from_memory, to_memory, weight FROM causal_edges")
        ids = rd("SELECT id FROM memories")["id"]
        out = e.groupby("from_memory")["weight"].agg(["size", "sum"])
        inn = e.groupby("to_memory")["weight"].agg(["size", "sum"])
        d = pd.concat([out.reindex(ids), inn.reindex(ids)], axis=1).fillna(0)
        d["t"] = d.iloc[:, 0] + d.iloc[:, 2]
        d.sort_values("t", ascending=False)

    def skills() -> None:
        s = rd("SELECT * FROM skills").sort_values(["success_count", "name"], ascending=[False, True])
        s["rank"] = s["success_count"].rank(method="min", ascending=False)

    def archs() -> None:
        a = rd("SELECT id, paradigm, fitness_json FROM architectures")
        a["overall"] = a["fitness_json"].map(lambda t: json.loads(t).get("overall"))
        n = rd("SELECT arch_id FROM intelligences").groupby("arch_id").size()
        a["n"] = a["id"].map(n).fillna(0)
        a.groupby("paradigm").agg(
            k=("id", "size"), f=("overall", "mean"), m=("overall", "max"), n=("n", "sum")
        )

    def intels() -> None:
        i = rd("SELECT arch_id, maturity, updated_at FROM intelligences")
        a = rd("SELECT id AS arch_id, name, paradigm FROM architectures")
        i.groupby("arch_id").agg(n=("maturity", "size"), mean=("maturity", "mean"), lo=("maturity", "min"),
                                 hi=("maturity", "max"), up=("updated_at", "max")).reset_index().merge(a, how="left")  # fmt: skip

    def reflexions() -> None:
        r = rd("SELECT outcome, memory_id, created_at FROM reflexion_episodes")
        r.groupby("outcome").agg(
            n=("memory_id", "size"), m=("memory_id", "nunique"), lo=("created_at", "min")
        )

    def activity() -> None:
        parts = []
        for t in ("memories", "causal_edges", "reflexion_episodes"):
            ts = pd.to_datetime(rd(f"SELECT created_at FROM {t}")["created_at"], unit="s").dt.floor("D")
            parts.append(ts.value_counts().rename(t))
        pd.concat(parts, axis=1, sort=True).fillna(0)

    def lineage() -> None:
        a = rd("SELECT id, lineage_json FROM architectures").set_index("id")["lineage_json"]
        cur, chain = LINEAGE_ID, []
        while cur is not None and cur in a.index and cur not in chain:
            chain.append(cur)
            cur = json.loads(a[cur]).get("parent")

    for name, fn in [("overview", overview), ("tier_summary", tier_summary), ("importance_histogram", histogram),
                     ("edge_type_summary", edge_types), ("degree_table", degrees), ("skill_leaderboard", skills),
                     ("architecture_summary", archs), ("intelligence_summary", intels),
                     ("reflexion_outcomes", reflexions), ("activity", activity),
                     ("architecture_lineage", lineage)]:  # fmt: skip
        t = time.perf_counter()
        fn()
        times[name] = time.perf_counter() - t
    conn.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memories", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeats", type=int, default=5, help="repeated calls timed per session (best kept)")
    ap.add_argument(
        "--same-process", action="store_true", help="only the same-process section (store held open)"
    )
    args = ap.parse_args()
    path = str(analytics_store(args.memories, args.edges))
    if args.same_process:
        same_process(path, args.repeats)
        return
    print(f"file: {path} ({os.path.getsize(path) / 1e6:.0f} MB), {args.memories:,} memories, "
          f"{args.edges:,} edges, DuckDB threads={args.threads}", flush=True)  # fmt: skip
    duck = run_duckdb(path, args.threads)
    lite = run_sqlite(path)
    pand = run_pandas(path)
    rows = [(k, duck[k], lite[k], pand[k]) for k in SQLITE]
    print(
        f"\n{'statistic':24} {'duckdb s':>9} {'sqlite s':>9} {'pandas s':>9} {'sqlite/duck':>12} {'pandas/duck':>12}"
    )
    for name, d, s, p in rows:
        print(f"{name:24} {d:9.3f} {s:9.3f} {p:9.3f} {s / d:12.1f} {p / d:12.1f}")
    td, ts, tp = (sum(r[i] for r in rows) for i in (1, 2, 3))
    print(f"{'TOTAL':24} {td:9.3f} {ts:9.3f} {tp:9.3f} {ts / td:12.2f} {tp / td:12.2f}")
    print(f"(open: extension + attach, paid once per session: {duck['(open: extension + attach)']:.3f} s)")
    print(f"\nratio vs SQLite: {ts / td:.2f}x (target >= 2)   ratio vs pandas: {tp / td:.2f}x (target >= 3)")
    same_process(path, args.repeats)


def same_process(path: str, repeats: int) -> None:
    """A process that holds the store open: the DuckDB worker (today) against the snapshot copy it
    replaced (``Analytics(store, snapshot=True)``, the same code path as before), in the same run.

    Repeated calls on the unchanged file: the snapshot session reuses its copy; the worker session
    returns its previous answer, proven current by ``PRAGMA data_version`` (its default). The third
    session turns that cache off, so every repeated call scans the live file again (parallel scans,
    kept because nothing commits meanwhile)."""
    from omega_graph import OmegaStore

    def session(kind: str) -> tuple[float, float]:
        with OmegaStore(path) as store:
            t = time.perf_counter()
            opened = {
                "snapshot": lambda: Analytics(store, snapshot=True),
                "worker": store.analytics,
                "worker, cache off": lambda: Analytics(store, cache=False),
            }[kind]
            with opened() as a:
                a.tier_summary()
                first = time.perf_counter() - t
                again = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    a.tier_summary()
                    again.append(time.perf_counter() - t)
        return first, min(again)

    old_first, old_again = session("snapshot")
    new_first, new_again = session("worker")
    scan_first, scan_again = session("worker, cache off")
    print("\nsame process, store open (tier_summary):")
    print(
        f"  snapshot copy (before): first call {old_first:7.3f} s (copy + query), repeated {old_again:7.3f} s"
    )
    print(
        f"  DuckDB worker (now):    first call {new_first:7.3f} s (start + query), repeated {new_again:7.3f} s"
        " (unchanged file: the previous answer)"
    )
    print(
        f"  worker, cache off:      first call {scan_first:7.3f} s (start + query), repeated {scan_again:7.3f} s"
        " (scans the live file again)"
    )
    print(f"ratio first call: {old_first / new_first:.1f}x faster (target >= 5)   "
          f"ratio repeated: {old_again / new_again:.2f}x (target >= 1, no slower)")  # fmt: skip
    print(f"cache off: ratio first call {old_first / scan_first:.1f}x   "
          f"ratio repeated {old_again / scan_again:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
