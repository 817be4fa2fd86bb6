"""Every curated statistic against the same figure computed independently: pandas over rows that
plain sqlite3 read, on the original crate's files (copied, then migrated by opening) and on
generated stores; each through the live file and through a snapshot."""

from __future__ import annotations

import bisect
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import compat_dir
from pandas.testing import assert_frame_equal

from omega_graph import (
    NotFoundError,
    OmegaStore,
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
    ValidationError,
)
from omega_graph.analytics import Analytics
from omega_graph.analytics.statistics import FREQUENCIES
from omega_graph.schema import CRATE_TABLES

COMPAT = ["omega-rust-asia.db", "omega-rust-sachs_cdt_consensus.db"]
T0 = 1_764_000_000


# ----- stores ------------------------------------------------------------------------------------
def _compat_copy(tmp_path: Path, name: str) -> str:
    src = compat_dir() / name
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)
    OmegaStore(dst).close()  # migrated in place by opening
    return str(dst)


def generate_store(path: str, seed: int, n_mem: int = 120, n_edges: int = 300) -> str:
    """A store with every entity kind, through the store API: isolated memories, ties, empty days."""
    rng = np.random.default_rng(seed)
    with OmegaStore(path) as store:
        store.store_memories(
            StoredMemory(
                f"m{i:04d}", f"note {i}", int(rng.integers(1, 13)),
                float(rng.choice([0.0, 1.0, 0.3, 0.7, rng.random()])),
                b"\0" * 8 if i % 4 == 0 else None,
                T0 + int(rng.integers(0, 20)) * 86_400 + int(rng.integers(0, 86_400)), T0,
            )
            for i in range(n_mem)
        )  # fmt: skip
        ends = rng.integers(0, n_mem - 10, size=(n_edges, 2))  # the last 10 memories stay isolated
        store.store_causal_edges(
            StoredCausalEdge(
                f"e{k:05d}", f"m{a:04d}", f"m{b:04d}", float(rng.random()),
                ["causes", "enables", "inhibits", "correlates"][k % 4], T0 + int(rng.integers(0, 40)) * 86_400,
            )
            for k, (a, b) in enumerate(ends.tolist())
        )  # fmt: skip
        for i in range(0, n_mem, 7):
            store.store_vector(StoredVector.from_values(f"v{i}", f"m{i:04d}", [0.5, 1.0]))
        for i in range(0, n_mem, 5):
            store.store_reflexion(
                StoredReflexionEpisode(
                    f"r{i}", f"m{i % 13:04d}", "t", "c", "a", ["resolved", "escalated", "abandoned"][i % 3],
                    T0 + int(rng.integers(0, 30)) * 86_400,
                )
            )  # fmt: skip
        for k in range(9):
            store.store_skill(
                StoredSkill(f"s{k}", f"skill_{k}", "d", "p", int(k % 4), None if k % 4 == 0 else T0, T0)
            )
        for k in range(8):
            parent = None if k % 4 == 0 else f"a{k - 1}"
            fitness = json.dumps({"overall": round(float(rng.random()), 3)} if k != 5 else {"other": 1})
            store.store_architecture(
                StoredArchitecture(f"a{k}", f"A{k}", ["neural", "symbolic", "hybrid"][k % 3], "py", fitness,
                                   json.dumps({"generation": k % 4, "parent": parent}), T0 + k)
            )  # fmt: skip
        for k in range(15):
            store.store_intelligence(
                StoredIntelligence(f"i{k}", f"I{k}", f"a{k % 6}", round(float(rng.random()), 3),
                                   "[]", "[]", "{}", T0 + k, T0 + 10 * k)
            )  # fmt: skip
    return path


@pytest.fixture(scope="module", params=[*COMPAT, "generated-1", "generated-2"])
def store_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp_path = tmp_path_factory.mktemp("stores")
    if request.param.startswith("generated"):
        return generate_store(str(tmp_path / "gen.db"), seed=int(request.param[-1]))
    return _compat_copy(tmp_path, request.param)


@pytest.fixture(scope="module", params=["live", "snapshot", "worker"])
def analytics(request: pytest.FixtureRequest, store_file: str) -> Iterator[Analytics]:
    """The same statistics three ways: DuckDB in this process on the file, on a snapshot copy, and
    in a worker process (this process holds the file open through sqlite3 meanwhile)."""
    holder = sqlite3.connect(store_file) if request.param == "worker" else None
    try:
        with Analytics(store_file, snapshot=True if request.param == "snapshot" else None) as a:
            assert a.mode == request.param
            yield a
    finally:
        if holder is not None:
            holder.close()


def rows(path: str, table: str) -> pd.DataFrame:
    """A table read with plain sqlite3, as a DataFrame."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        conn.close()


def same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    want = want.reset_index(drop=True)[list(got.columns)]
    assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-12, atol=1e-12)


# ----- the statistics ----------------------------------------------------------------------------
def test_overview(analytics: Analytics, store_file: str) -> None:
    want = pd.DataFrame(
        {"entity": list(("memories", "skills", "architectures", "intelligences", "causal_edges", "vectors",
                         "reflexion_episodes")),
         "count": [len(rows(store_file, t)) for t in ("memories", "skills", "architectures", "intelligences",
                                                       "causal_edges", "vectors", "reflexion_episodes")]}
    )  # fmt: skip
    same(analytics.overview(), want)
    assert analytics.overview()["count"].sum() > 0


def test_tier_summary(analytics: Analytics, store_file: str) -> None:
    m = rows(store_file, "memories")
    want = (
        m.groupby("tier")
        .agg(
            memories=("id", "size"), mean_importance=("importance", "mean"),
            median_importance=("importance", "median"), min_importance=("importance", "min"),
            max_importance=("importance", "max"), with_embedding=("embedding_blob", "count"),
        )
        .reset_index()
        .sort_values("tier")
    )  # fmt: skip
    got = analytics.tier_summary()
    assert list(got.columns) == ["tier", "memories", "mean_importance", "median_importance",
                                 "min_importance", "max_importance", "with_embedding"]  # fmt: skip
    same(got, want)


@pytest.mark.parametrize("bins", [1, 3, 10, 7])
def test_importance_histogram(analytics: Analytics, store_file: str, bins: int) -> None:
    edges = [i / bins for i in range(bins + 1)]
    counts = [0] * bins
    for x in rows(store_file, "memories")["importance"]:
        if 0 <= x <= 1:
            counts[min(bisect.bisect_right(edges, x) - 1, bins - 1)] += 1
    want = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "memories": counts})
    got = analytics.importance_histogram(bins)
    assert len(got) == bins and list(got.columns) == ["bin_start", "bin_end", "memories"]
    same(got, want)


def test_edge_type_summary(analytics: Analytics, store_file: str) -> None:
    e = rows(store_file, "causal_edges")
    want = (
        e.groupby("edge_type")
        .agg(edges=("id", "size"), mean_weight=("weight", "mean"), min_weight=("weight", "min"),
             max_weight=("weight", "max"))
        .reset_index()
    )  # fmt: skip
    same(analytics.edge_type_summary(), want)


def _degrees(path: str) -> pd.DataFrame:
    e = rows(path, "causal_edges")
    out = e.groupby("from_memory").agg(out_degree=("id", "size"), out_weight=("weight", "sum"))
    inn = e.groupby("to_memory").agg(in_degree=("id", "size"), in_weight=("weight", "sum"))
    ids = pd.Index(
        sorted(set(rows(path, "memories")["id"]) | set(out.index) | set(inn.index)), name="memory_id"
    )
    df = pd.concat([out.reindex(ids), inn.reindex(ids)], axis=1).fillna(0).reset_index()
    df = df.astype({"out_degree": "int64", "in_degree": "int64"})
    df["_total"] = df["out_degree"] + df["in_degree"]
    return df.sort_values(["_total", "memory_id"], ascending=[False, True]).drop(columns="_total")


@pytest.mark.parametrize("top", [None, 0, 3])
def test_degree_table(analytics: Analytics, store_file: str, top: int | None) -> None:
    want = _degrees(store_file)
    if top is not None:
        want = want.head(top)
    got = analytics.degree_table(top=top)
    assert list(got.columns) == ["memory_id", "out_degree", "in_degree", "out_weight", "in_weight"]
    same(got, want)


def test_degree_table_counts_every_edge_end(analytics: Analytics, store_file: str) -> None:
    got = analytics.degree_table()
    n = len(rows(store_file, "causal_edges"))
    assert got["out_degree"].sum() == n == got["in_degree"].sum()


def test_skill_leaderboard(analytics: Analytics, store_file: str) -> None:
    s = rows(store_file, "skills").sort_values(["success_count", "name", "id"], ascending=[False, True, True])
    total = s["success_count"].sum()
    want = pd.DataFrame({
        "rank": s["success_count"].rank(method="min", ascending=False).astype("int64"),
        "skill_id": s["id"], "name": s["name"], "success_count": s["success_count"],
        "share": s["success_count"] / total if total else np.nan,
        "last_used": s["last_used"].astype("Int64"), "created_at": s["created_at"].astype("Int64"),
    })  # fmt: skip
    same(analytics.skill_leaderboard(), want)


def _overall(text: str) -> float:
    try:
        value = json.loads(text).get("overall")
    except (ValueError, AttributeError):
        return np.nan
    return float(value) if isinstance(value, int | float) else np.nan


def test_architecture_summary(analytics: Analytics, store_file: str) -> None:
    a = rows(store_file, "architectures")
    a["overall"] = a["fitness_json"].map(_overall)
    per_arch = rows(store_file, "intelligences").groupby("arch_id").size()
    a["n_intel"] = a["id"].map(per_arch).fillna(0)
    want = (
        a.groupby("paradigm")
        .agg(architectures=("id", "size"), mean_fitness=("overall", "mean"), max_fitness=("overall", "max"),
             intelligences=("n_intel", "sum"))
        .reset_index()
    )  # fmt: skip
    same(analytics.architecture_summary(), want)


def test_intelligence_summary(analytics: Analytics, store_file: str) -> None:
    i = rows(store_file, "intelligences")
    a = rows(store_file, "architectures").rename(columns={"id": "arch_id", "name": "architecture"})
    want = (
        i.groupby("arch_id")
        .agg(intelligences=("id", "size"), mean_maturity=("maturity", "mean"), min_maturity=("maturity", "min"),
             max_maturity=("maturity", "max"), last_updated=("updated_at", "max"))
        .reset_index()
        .merge(a[["arch_id", "architecture", "paradigm"]], on="arch_id", how="left")
        .sort_values(["intelligences", "arch_id"], ascending=[False, True])
    )  # fmt: skip
    same(analytics.intelligence_summary(), want)


def test_reflexion_outcomes(analytics: Analytics, store_file: str) -> None:
    r = rows(store_file, "reflexion_episodes")
    want = (
        r.groupby("outcome")
        .agg(episodes=("id", "size"), memories=("memory_id", "nunique"), first_at=("created_at", "min"),
             last_at=("created_at", "max"))
        .reset_index()
    )  # fmt: skip
    want["share"] = want["episodes"] / want["episodes"].sum()
    want = want.sort_values(["episodes", "outcome"], ascending=[False, True])
    same(analytics.reflexion_outcomes(), want)


@pytest.mark.parametrize(
    ("freq", "pandas_freq"), [("day", "D"), ("hour", "h"), ("week", "W-MON"), ("month", "MS")]
)
def test_activity(analytics: Analytics, store_file: str, freq: str, pandas_freq: str) -> None:
    parts = []
    for table, col in (
        ("memories", "memories"),
        ("causal_edges", "edges"),
        ("reflexion_episodes", "reflexions"),
    ):
        ts = pd.to_datetime(rows(store_file, table)["created_at"], unit="s")
        if freq == "week":
            periods = ts.dt.to_period("W-SUN").dt.start_time
        elif freq == "month":
            periods = ts.dt.to_period("M").dt.start_time
        else:
            periods = ts.dt.floor(pandas_freq)
        parts.append(periods.value_counts().rename(col))
    counts = pd.concat(parts, axis=1, sort=True).fillna(0)
    grid = pd.date_range(counts.index.min(), counts.index.max(), freq=pandas_freq)
    want = counts.reindex(grid, fill_value=0).rename_axis("period").reset_index()
    got = analytics.activity(freq)
    assert list(got.columns) == ["period", "memories", "edges", "reflexions"]
    assert got["period"].is_monotonic_increasing and got["period"].is_unique
    same(got, want.astype({"memories": "int64", "edges": "int64", "reflexions": "int64"}))


def test_architecture_lineage(analytics: Analytics, store_file: str) -> None:
    a = rows(store_file, "architectures").set_index("id")
    for start in a.index:
        chain, cur = [], start
        while cur is not None and cur in a.index and cur not in chain:
            chain.append(cur)
            cur = json.loads(a.loc[cur, "lineage_json"]).get("parent")
        got = analytics.architecture_lineage(start)
        assert got["architecture_id"].tolist() == chain
        assert got["depth"].tolist() == list(range(len(chain)))
        assert got["generation"].tolist() == [
            json.loads(a.loc[c, "lineage_json"])["generation"] for c in chain
        ]
        assert got["in_store"].all()


def test_compat_lineage_is_the_full_chain(tmp_path: Path) -> None:
    path = _compat_copy(tmp_path, COMPAT[0])
    with Analytics(path) as a:
        got = a.architecture_lineage("arch-5")
    assert got["architecture_id"].tolist() == [f"arch-{k}" for k in range(5, -1, -1)]
    assert got["fitness"].tolist() == pytest.approx([0.75, 0.7, 0.65, 0.6, 0.55, 0.5])


def test_unknown_architecture_raises_not_found(analytics: Analytics) -> None:
    with pytest.raises(NotFoundError, match="architecture 'no-such-arch' not found"):
        analytics.architecture_lineage("no-such-arch")


def test_lineage_cycle_and_dangling_parent(tmp_path: Path) -> None:
    path = str(tmp_path / "loop.db")
    with OmegaStore(path) as store:
        for k, parent in [(0, "a1"), (1, "a0"), (2, "ghost")]:
            store.store_architecture(StoredArchitecture(
                f"a{k}", f"A{k}", "neural", "py", '{"overall": 0.5}',
                json.dumps({"generation": k, "parent": parent}), T0))  # fmt: skip
    with Analytics(path) as a:
        with pytest.warns(UserWarning, match="loops back to 'a0'"):
            assert a.architecture_lineage("a0")["architecture_id"].tolist() == ["a0", "a1"]
        dangling = a.architecture_lineage("a2")
    assert dangling["architecture_id"].tolist() == ["a2", "ghost"]
    assert dangling["in_store"].tolist() == [True, False]


def test_export_parquet_round_trip(analytics: Analytics, store_file: str, tmp_path: Path) -> None:
    out = analytics.export_parquet(tmp_path / "pq")
    assert out["table"].tolist() == list(CRATE_TABLES)
    for table in CRATE_TABLES:
        back = pd.read_parquet(tmp_path / "pq" / f"{table}.parquet")
        want = rows(store_file, table)
        assert out.set_index("table").loc[table, "rows"] == len(want)
        key = want.columns[0]
        same(back.sort_values(key), want.sort_values(key))


# ----- argument checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "kwargs", "match"), [
    ("importance_histogram", {"bins": 0}, "bins = 0 is invalid"),
    ("importance_histogram", {"bins": 2.5}, "bins = 2.5 is invalid"),
    ("degree_table", {"top": -1}, "top = -1 is invalid"),
    ("activity", {"freq": "fortnight"}, "freq = 'fortnight' is invalid: expected one of hour, day"),
    ("architecture_lineage", {"id": 3}, "id = 3 is invalid"),
])  # fmt: skip
def test_bad_arguments(tmp_path: Path, method: str, kwargs: dict, match: str) -> None:
    with Analytics(generate_store(str(tmp_path / "g.db"), 3, 20, 10)) as a:
        with pytest.raises(ValidationError, match=match):
            getattr(a, method)(**kwargs)


def test_empty_store(tmp_path: Path) -> None:
    path = str(tmp_path / "empty.db")
    OmegaStore(path).close()
    with Analytics(path) as a:
        assert a.overview()["count"].tolist() == [0] * 7
        assert a.tier_summary().empty and a.degree_table().empty and a.activity().empty
        assert a.importance_histogram(4)["memories"].tolist() == [0, 0, 0, 0]
        assert list(a.activity().columns) == ["period", "memories", "edges", "reflexions"]


# ----- the worker's NumPy transport gives exactly the frames of .df() -------------------------------
def _every_statistic(a: Analytics, store_file: str) -> dict[str, pd.DataFrame]:
    arch = rows(store_file, "architectures")["id"]
    out = {
        "overview": a.overview(), "tier_summary": a.tier_summary(),
        "importance_histogram": a.importance_histogram(7), "edge_type_summary": a.edge_type_summary(),
        "degree_table": a.degree_table(), "degree_table_top": a.degree_table(top=5),
        "skill_leaderboard": a.skill_leaderboard(), "architecture_summary": a.architecture_summary(),
        "intelligence_summary": a.intelligence_summary(), "reflexion_outcomes": a.reflexion_outcomes(),
        "type_anomalies": a.type_anomalies(),
        "sql_mixed": a.sql(
            "SELECT id, tier, importance, embedding_blob, created_at > 0 AS later, "
            "to_timestamp(created_at)::TIMESTAMP AS at, NULLIF(tier, 2) AS maybe, "
            "CASE WHEN tier = 1 THEN NULL ELSE created_at > 0 END AS maybe_bool, "
            "CASE WHEN tier = 1 THEN NULL ELSE id END AS maybe_id FROM memories ORDER BY id"
        ),
        "sql_empty": a.sql("SELECT id, tier, NULLIF(tier, 2) AS maybe FROM memories WHERE false"),
    }  # fmt: skip
    for freq in FREQUENCIES:
        out[f"activity_{freq}"] = a.activity(freq)
    if len(arch):
        out["lineage"] = a.architecture_lineage(str(arch.iloc[0]))
    return out


def test_worker_frames_are_identical_to_in_process_frames(store_file: str) -> None:
    """Every statistic, dtypes included, is the same frame whether DuckDB's ``.df()`` built it in
    this process (live, snapshot) or the worker sent NumPy columns that this process rebuilt."""
    with Analytics(store_file) as live:
        assert live.mode == "live"
        want = _every_statistic(live, store_file)
    holder = sqlite3.connect(store_file)
    try:
        for snapshot in (None, True):
            with Analytics(store_file, snapshot=snapshot) as a:
                assert a.mode == ("worker" if snapshot is None else "snapshot")
                got = _every_statistic(a, store_file)
                for name, frame in want.items():
                    assert_frame_equal(got[name], frame, check_exact=True, obj=f"{a.mode} {name}")
    finally:
        holder.close()
