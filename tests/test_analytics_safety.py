"""Analytics under hard conditions: the extension and its signature check, writes refused, SQLite's
dynamic typing, in-memory stores, same-process writers, another process committing meanwhile."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from omega_graph import (
    DatabaseError,
    MissingDependencyError,
    NotFoundError,
    OmegaStore,
    SchemaError,
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    ValidationError,
    duck,
)
from omega_graph.analytics import Analytics, DataQualityWarning
from omega_graph.duck import EXTENSION_PACKAGE, extension_path, load_sqlite_extension
from omega_graph.schema import migrate

T0 = 1_764_000_000


def small_store(path: Path, n: int = 20) -> str:
    with OmegaStore(path) as store:
        store.store_memories(
            StoredMemory(f"m{i:03d}", "x", 1 + i % 3, i / n, None, T0 + i, T0) for i in range(n)
        )
        store.store_causal_edges(
            StoredCausalEdge(f"e{i:03d}", f"m{i:03d}", f"m{(i + 1) % n:03d}", 0.5, "causes", T0)
            for i in range(n)
        )
    return str(path)


def counts(path: str) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(
            "SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM causal_edges)"
        ).fetchone()
    finally:
        conn.close()


# ----- the extension -----------------------------------------------------------------------------
def test_extension_comes_from_the_pinned_package() -> None:
    path = extension_path()
    assert path is not None and path.parent.name == f"v{duckdb.__version__}"
    con = duckdb.connect()
    try:
        assert load_sqlite_extension(con) == "package"
        assert con.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'sqlite_scan'"
        ).fetchone()[0]
    finally:
        con.close()


def test_unsigned_extensions_stay_disallowed(tmp_path: Path) -> None:
    with Analytics(small_store(tmp_path / "s.db")) as a:
        setting = "SELECT current_setting('allow_unsigned_extensions') AS v"
        assert a.sql(setting)["v"].tolist() == [False]
        with pytest.raises(ValidationError, match="read-only statement"):
            a.sql("SET allow_unsigned_extensions = true")
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            a.connection.execute("SET allow_unsigned_extensions = true")
        assert a.sql(setting)["v"].tolist() == [False]


def test_missing_extension_says_what_to_install(tmp_path: Path) -> None:
    con = duckdb.connect(config={"extension_directory": str(tmp_path / "no-extensions")})
    try:
        with pytest.raises(MissingDependencyError, match=rf"pip install '{EXTENSION_PACKAGE}==1\.5\.5'"):
            load_sqlite_extension(con, path=tmp_path / "missing.duckdb_extension", allow_install=False)
    finally:
        con.close()
    assert extension_path("0.0.1") is None


def test_importing_omega_graph_does_not_import_duckdb() -> None:
    code = "import sys, omega_graph, omega_graph.analytics; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----- opening -----------------------------------------------------------------------------------
def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="database file .* not found"):
        Analytics(tmp_path / "nope.db")
    with pytest.raises(DatabaseError, match="is a directory"):
        Analytics(tmp_path)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(a)").connection.close()
    with pytest.raises(SchemaError, match="not an omega store: no table"):
        Analytics(other)
    with pytest.raises(ValidationError, match="source = 42 is invalid"):
        Analytics(42)


def test_closed_session_raises(tmp_path: Path) -> None:
    a = Analytics(small_store(tmp_path / "s.db"))
    a.close()
    a.close()
    with pytest.raises(DatabaseError, match="session is closed"):
        a.overview()


# ----- read only ---------------------------------------------------------------------------------
@pytest.mark.parametrize("statement", [
    "INSERT INTO memories VALUES ('z', 'x', 1, 0.5, NULL, 0, 0)",
    "DELETE FROM causal_edges",
    "UPDATE memories SET tier = 2",
    "DROP TABLE memories",
    "CREATE TABLE memory.main.t AS SELECT 1",
    "COPY memories TO 'out.csv'",
    "ATTACH 'other.db' AS other",
    "DETACH omega",
    "SET threads = 1",
    "SELECT 1; DELETE FROM memories",
    "EXPLAIN ANALYZE DELETE FROM memories",
])  # fmt: skip
def test_writes_are_refused(tmp_path: Path, statement: str) -> None:
    path = small_store(tmp_path / "s.db")
    with Analytics(path) as a:
        with pytest.raises(ValidationError, match="read-only statement.*write through OmegaStore"):
            a.sql(statement)
        assert a.overview()["count"].iloc[0] == 20
    assert counts(path) == (20, 20)


def test_sql_reads_with_parameters(tmp_path: Path) -> None:
    with Analytics(small_store(tmp_path / "s.db")) as a:
        got = a.sql("SELECT id FROM memories WHERE tier = ? AND importance >= $2 ORDER BY id", [2, 0.5])
        assert got["id"].tolist() == ["m010", "m013", "m016", "m019"]
        assert a.sql("DESCRIBE memories")["column_name"].tolist()[:3] == ["id", "content", "tier"]
        with pytest.raises(ValidationError, match="Catalog Error"):
            a.sql("SELECT * FROM no_such_table")


# ----- dynamic typing ----------------------------------------------------------------------------
@pytest.fixture
def dirty_file(tmp_path: Path) -> str:
    """A migrated file another tool wrote: text in importance/weight/maturity, floats in tier."""
    path = str(tmp_path / "dirty.db")
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.executemany("INSERT INTO memories VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("m1", "a", 1, 0.5, None, T0, T0),
        ("m2", "b", 2.5, 0.7, b"\1\2\3\4", T0, T0),      # float tier
        ("m3", "c", 3, "high", None, T0, T0),             # text importance
        ("m4", "d", 1, 0.25, None, T0 + 86_400, T0),
        ("m5", "e", 3, b"\x00\xff", None, "yesterday", T0),  # blob importance, text timestamp
        ("m6", "f", 3, 0.75, None, T0, T0),
    ])  # fmt: skip
    conn.executemany("INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)", [
        ("e1", "m1", "m2", 0.5, "causes", T0), ("e2", "m2", "m3", "strong", "causes", T0),
        ("e3", "m3", "m1", 0.25, "enables", T0),
    ])  # fmt: skip
    conn.execute("INSERT INTO architectures VALUES ('a0', 'A', 'neural', 'py', 'not json', '{}', 0)")
    conn.execute("INSERT INTO intelligences VALUES ('i0', 'I', 'a0', 'ripe', '[]', '[]', '{}', 0, 0)")
    conn.close()
    return path


def test_type_anomalies_lists_every_wrongly_typed_value(dirty_file: str) -> None:
    with Analytics(dirty_file) as a:
        got = a.type_anomalies()
    assert list(got.columns) == ["table", "column", "rowid", "id", "value", "stored_type", "declared_type"]
    assert sorted(map(tuple, got[["table", "column", "id", "stored_type"]].values.tolist())) == [
        ("causal_edges", "weight", "e2", "text"),
        ("intelligences", "maturity", "i0", "text"),
        ("memories", "created_at", "m5", "text"),
        ("memories", "importance", "m3", "text"),
        ("memories", "importance", "m5", "blob"),
        ("memories", "tier", "m2", "real"),
    ]
    assert got.set_index(["id", "column"]).loc[("m3", "importance"), "value"] == "high"


@pytest.mark.parametrize("mode", ["live", "snapshot"])
def test_statistics_run_on_a_dirty_file_and_say_so(dirty_file: str, mode: str) -> None:
    with Analytics(dirty_file, snapshot=mode == "snapshot") as a:
        with pytest.warns(
            DataQualityWarning, match=r"memories\.importance: 2 value\(s\) stored as blob, text"
        ):
            tiers = a.tier_summary()
        # independently: pandas over the rows whose values have the declared type
        raw = pd.read_sql("SELECT tier, importance, typeof(tier) tt, typeof(importance) ti FROM memories",
                          sqlite3.connect(dirty_file))  # fmt: skip
        ok = raw[raw.tt == "integer"].copy()
        ok.loc[~ok.ti.isin(["real", "integer"]), "importance"] = None
        ok["importance"] = pd.to_numeric(ok["importance"])
        want = ok.groupby("tier").agg(memories=("tt", "size"), mean_importance=("importance", "mean"))
        assert tiers["tier"].tolist() == want.index.tolist() == [1, 3]
        assert tiers["memories"].tolist() == want["memories"].tolist() == [2, 3]
        assert tiers["mean_importance"].tolist() == pytest.approx(want["mean_importance"].tolist())
        edges = a.edge_type_summary()
        assert edges.set_index("edge_type").loc["causes", "edges"] == 2
        assert edges.set_index("edge_type").loc["causes", "mean_weight"] == 0.5
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            for name in ("overview", "degree_table", "skill_leaderboard", "architecture_summary",
                         "intelligence_summary", "reflexion_outcomes", "activity"):  # fmt: skip
                assert isinstance(getattr(a, name)(), pd.DataFrame)
            assert a.intelligence_summary()["mean_maturity"].isna().all()
            assert a.architecture_summary()["mean_fitness"].isna().all()
            hist = a.importance_histogram(4)
        assert hist["memories"].sum() == 4


def test_raw_sql_on_a_dirty_file_names_the_remedy(dirty_file: str) -> None:
    with Analytics(dirty_file) as a:
        with pytest.raises(DatabaseError, match="type_anomalies.*clean_<table> views") as info:
            a.sql("SELECT avg(importance) FROM memories")
        assert not isinstance(info.value, duckdb.Error)
        with pytest.warns(DataQualityWarning):
            a.tier_summary()
        assert a.sql("SELECT count(*) AS n FROM clean_memories WHERE importance IS NULL")["n"].tolist() == [2]


def test_export_of_a_dirty_file_writes_nulls(dirty_file: str, tmp_path: Path) -> None:
    with Analytics(dirty_file) as a, pytest.warns(DataQualityWarning):
        out = a.export_parquet(tmp_path / "pq")
    mem = pd.read_parquet(tmp_path / "pq" / "memories.parquet").set_index("id")
    assert out.set_index("table").loc["memories", "rows"] == 6
    assert pd.isna(mem.loc["m3", "importance"]) and pd.isna(mem.loc["m2", "tier"])
    assert mem.loc["m2", "embedding_blob"] == b"\1\2\3\4" and mem.loc["m6", "importance"] == 0.75


# ----- in-memory and same-process stores ---------------------------------------------------------
def test_in_memory_store_sees_later_writes() -> None:
    store = OmegaStore.new_in_memory()
    with store.analytics() as a:
        assert a.mode == "snapshot"
        assert a.overview()["count"].tolist() == [0] * 7
        store.store_memory(StoredMemory("m1", "x", 4, 0.5, None, T0, T0))
        assert a.tier_summary()["tier"].tolist() == [4]
        store.store_architecture(StoredArchitecture("a0", "A", "neural", "py", '{"overall": 1}', "{}", 0))
        assert a.architecture_lineage("a0")["architecture_id"].tolist() == ["a0"]
    store.close()


def test_one_session_does_not_reattach_per_call(tmp_path: Path) -> None:
    path = small_store(tmp_path / "s.db")
    attached = "SELECT database_oid, path FROM duckdb_databases() WHERE database_name = 'omega'"
    with Analytics(path) as live:
        first = live.sql(attached)
        live.tier_summary(), live.degree_table(), live.overview()
        assert live.sql(attached).equals(first)
    with OmegaStore(path) as store, Analytics(store, snapshot=True) as snap:
        first = snap.sql(attached)
        snap.tier_summary(), snap.degree_table()
        assert snap.sql(attached).equals(first)  # no commit: the same snapshot is reused
        store.store_memory(StoredMemory("new", "x", 9, 0.5, None, T0, T0))
        assert snap.sql(attached)["path"].tolist() != first["path"].tolist()
        assert 9 in snap.tier_summary()["tier"].tolist()
        snapshot_dir = os.path.dirname(snap.sql(attached)["path"].iloc[0])
    assert not os.path.exists(snapshot_dir)


def test_store_analytics_reads_the_live_file_in_one_reused_worker(tmp_path: Path) -> None:
    path = small_store(tmp_path / "s.db")
    attached = "SELECT database_oid, path FROM duckdb_databases() WHERE database_name = 'omega'"
    with OmegaStore(path) as store:
        with store.analytics() as a:
            assert a.mode == "worker"
            first = a.sql(attached)
            assert first["path"].tolist() == [path]  # the file itself: no copy
            pid = duck.store_worker(store).pid
            assert pid is not None and pid != os.getpid()
            store.store_memory(StoredMemory("new", "x", 9, 0.5, None, T0, T0))
            assert 9 in a.tier_summary()["tier"].tolist()  # the commit is seen, nothing re-attached
            assert a.sql(attached).equals(first)
            with pytest.raises(DatabaseError, match="worker process.*Analytics.sql"):
                a.connection  # noqa: B018
        with store.analytics() as b:  # a later session reuses the process
            assert b.overview()["count"].iloc[0] == 21
            assert duck.store_worker(store).pid == pid
    assert not _alive(pid)  # closing the store stops its worker


def _alive(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(")")[-1].split()[0] == "Z":
                    return False
        except (ProcessLookupError, FileNotFoundError):
            return False
        import time

        time.sleep(0.05)
    return True


def test_path_open_in_this_process_is_read_by_a_worker(tmp_path: Path) -> None:
    path = small_store(tmp_path / "s.db")
    a = Analytics(path)
    assert a.mode == "live"
    with OmegaStore(path) as store:
        with Analytics(path) as b:
            assert b.mode == "worker"
        assert a.overview()["count"].iloc[0] == 20  # switched before DuckDB touched the file
        assert a.mode == "worker"
        store.store_memory(StoredMemory("new", "x", 1, 0.5, None, T0, T0))
        assert a.overview()["count"].iloc[0] == 21
    a.close()


@pytest.mark.parametrize("how", ["store.analytics()", "Analytics(path)"])
def test_same_process_writer_thread_corrupts_nothing(tmp_path: Path, how: str) -> None:
    """Python's sqlite3 commits from a thread while DuckDB (its own SQLite library) runs statistics."""
    path = small_store(tmp_path / "s.db", n=200)
    n_commits = 300
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with OmegaStore(path) as w:
                for i in range(n_commits):
                    with w.transaction():
                        w.store_memory(StoredMemory(f"w{i}", "y" * 300, 2, 0.25, None, T0 + i, T0))
                        w.store_causal_edge(StoredCausalEdge(f"we{i}", f"w{i}", "m000", 0.5, "enables", T0))
        except BaseException as err:  # pragma: no cover - reported below
            failures.append(err)

    with OmegaStore(path) as store:
        a = store.analytics() if how == "store.analytics()" else Analytics(path)
        with a:
            thread = threading.Thread(target=writer)
            thread.start()
            seen = 0
            while thread.is_alive() or seen == 0:
                mem, edges = a.overview().set_index("entity").loc[["memories", "causal_edges"], "count"]
                assert mem == edges  # every commit adds one of each
                tiers = a.tier_summary().set_index("tier")
                assert tiers.loc[2, "memories"] >= 66
                seen += 1
            thread.join()
            assert a.overview()["count"].iloc[0] == 200 + n_commits
    assert not failures
    assert counts(path) == (200 + n_commits, 200 + n_commits)


# ----- another process commits meanwhile ---------------------------------------------------------
def _writer_process(path: str, rounds: int, started: mp.Event) -> None:
    with OmegaStore(path) as store:
        started.set()
        for k in range(rounds):
            with store.transaction():
                store.store_memory(StoredMemory(f"w{k:05d}", "y" * 200, 7, 0.5, None, T0 + k, T0))
                store.store_causal_edge(StoredCausalEdge(f"wa{k:05d}", f"w{k:05d}", "m000", 0.5, "x", T0))
                store.store_causal_edge(StoredCausalEdge(f"wb{k:05d}", "m001", f"w{k:05d}", 0.5, "x", T0))
                store.store_architecture(
                    StoredArchitecture(f"wa{k}", "A", "test", "py", '{"overall": 1}', "{}", 0)
                )
                for j in range(3):
                    store.store_intelligence(
                        StoredIntelligence(f"wi{k}-{j}", "I", f"wa{k}", 0.5, "[]", "[]", "{}", 0, 0)
                    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["live", "worker"])
def test_each_statistic_sees_one_snapshot_while_another_process_commits(tmp_path: Path, mode: str) -> None:
    """Each commit of the writer adds a memory with two edges and an architecture with three
    intelligences: a statistic that mixed two states would see a memory with one edge, or an
    architecture with fewer than three intelligences."""
    path = small_store(tmp_path / "s.db", n=2000)
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_writer_process, args=(path, 400, started))
    proc.start()
    try:
        assert started.wait(60)
        holder = OmegaStore(path) if mode == "worker" else None  # this process holds the file
        with holder.analytics() if holder is not None else Analytics(path) as a:
            assert a.mode == mode
            checks = 0
            while proc.is_alive() or checks < 3:
                deg = a.degree_table()
                new = deg[deg["memory_id"].str.startswith("w")]
                # memories and edges scanned in one snapshot: each new memory has both its edges
                assert (new["out_degree"] == 1).all() and (new["in_degree"] == 1).all()
                assert deg["out_degree"].sum() == 2000 + 2 * len(new)
                intel = a.intelligence_summary()
                mine = intel[intel["arch_id"].str.startswith("wa")]
                assert (mine["intelligences"] == 3).all() and mine["architecture"].notna().all()
                # two scans of one statement, in two pipelines: one state (a commit adds 1 + 2 rows)
                both = a.sql(
                    "SELECT (SELECT count(*) FROM memories) AS m, (SELECT count(*) FROM causal_edges) AS e, "
                    "(SELECT count(*) FROM memories WHERE tier = 7) AS w"
                ).iloc[0]
                assert (both["m"], both["e"]) == (2000 + both["w"], 2000 + 2 * both["w"])
                arch = a.architecture_summary().set_index("paradigm")
                if "test" in arch.index:
                    assert arch.loc["test", "intelligences"] == 3 * arch.loc["test", "architectures"]
                checks += 1
        if holder is not None:
            holder.close()
    finally:
        proc.join(120)
    assert proc.exitcode == 0
    assert counts(path) == (2400, 2800)
    with Analytics(path) as a:
        assert json.loads(a.sql("SELECT to_json(count(*)) AS n FROM intelligences")["n"].iloc[0]) == 1200


# ----- parallel scans, accepted only when nothing committed meanwhile ------------------------------
#: Enough memories for DuckDB to split one table's scan into several rowid ranges (several threads,
#: each its own SQLite connection and read transaction).
_WIDE = 400_001


def _wide_store(path: Path, n: int) -> str:
    with OmegaStore(path) as store:
        store.store_memories([StoredMemory(f"m{i:06d}", "x", 1 + i % 3, 0.5, None, T0, T0) for i in range(n)])
    return str(path)


def _swap_writer(path: str, n: int, seconds: float, started: mp.Event) -> None:
    """Commits as fast as it can: each commit swaps the tiers of the first and the last memory (the
    two ends of the rowid range, so two scan threads read them) and adds one memory of tier 7."""
    import time

    first, last = "m000000", f"m{n - 1:06d}"
    with OmegaStore(path) as store:
        tiers = {first: store.get_memory(first).tier, last: store.get_memory(last).tier}
        assert tiers[first] != tiers[last]
        started.set()
        end, k = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            tiers = {first: tiers[last], last: tiers[first]}
            with store.transaction():
                for mid, tier in tiers.items():
                    store.store_memory(StoredMemory(mid, "x", tier, 0.5, None, T0, T0))
                store.store_memory(StoredMemory(f"t{k:06d}", "y", 7, 0.5, None, T0 + k, T0))
            k += 1


@pytest.mark.slow
def test_parallel_scans_are_kept_only_for_an_unchanged_file(tmp_path: Path) -> None:
    """The worker scans with DuckDB's parallel SQLite scans, whose threads each read in their own
    SQLite read transaction, and keeps such an answer only if nothing committed meanwhile; otherwise
    the request runs again on one thread. Under a writer committing in a tight loop every answer must
    still be one state: the memories per tier 1-3 never change, whole commits only. (Keeping the
    parallel answers regardless makes this test fail: nearly every answer then mixes commits.)"""
    path = _wide_store(tmp_path / "s.db", _WIDE)
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_swap_writer, args=(path, _WIDE, 8.0, started))
    by_tier = "SELECT tier, count(*) AS n FROM memories GROUP BY tier ORDER BY tier"
    with OmegaStore(path) as holder, holder.analytics() as a:
        kept = a._unchanged
        want = a.tier_summary().set_index("tier")["memories"]
        assert a._unchanged == kept + 1 and a._asked_again == 0  # no writer: the parallel answer is kept
        assert want.sum() == _WIDE and set(want.index) == {1, 2, 3}
        proc.start()
        try:
            assert started.wait(60)
            checks = 0
            while proc.is_alive() or checks < 3:
                got = a.tier_summary().set_index("tier")["memories"]
                assert got.loc[[1, 2, 3]].tolist() == want.tolist()  # the swaps: whole commits only
                free = a.sql(by_tier).set_index("tier")["n"]
                assert free.loc[[1, 2, 3]].tolist() == want.tolist()
                checks += 1
        finally:
            proc.join(120)
        assert proc.exitcode == 0
        assert a._asked_again > 0  # the writer did invalidate parallel answers meanwhile
        # unchanged since: a curated statistic comes from the cache, without asking the worker
        final = a.tier_summary()
        calls = a._unchanged
        pd.testing.assert_frame_equal(a.tier_summary(), final)
        assert a._unchanged == calls
        holder.store_memory(StoredMemory("late", "x", 9, 0.5, None, T0, T0))
        assert 9 in a.tier_summary()["tier"].tolist()  # after a commit: scanned again
        assert a._unchanged == calls + 1
