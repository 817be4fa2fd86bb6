"""Every curated statistic of a store holding values of the wrong SQLite type in several tables, read
the three ways DuckDB reads a store: ``store.analytics()`` (the store's DuckDB worker process, while
this process holds the file), a snapshot copy (``Analytics(store, snapshot=True)``) and
``Analytics(path)`` with no store open (DuckDB in this process). ``tier_summary``,
``degree_table``, ``edge_type_summary`` and the Parquet export are checked against pandas over
plain sqlite3 rows with omega-graph's rule applied by hand (a value whose storage class does not fit
its column is NULL); every statistic is checked to be the same frame all three ways.

The worker binds curated parameters as literals of a prepared statement; ``sqlite_query`` (the
tolerant views) keeps the SQLite connection of the transaction it was bound in, so PREPARE and
EXECUTE must share one transaction (``DuckSession._execute``): before they did, every statistic
with a parameter over a tolerant view failed in the worker with SQLite's "out of memory".
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from omega_graph import (
    DataQualityWarning,
    OmegaStore,
    StoredArchitecture,
    StoredIntelligence,
    StoredSkill,
)
from omega_graph.analytics import Analytics
from omega_graph.analytics import queries as Q
from omega_graph.analytics._session import DuckSession
from omega_graph.analytics._source import open_in_process
from omega_graph.generate import generate_store
from omega_graph.schema import CRATE_TABLES

T0 = 1_700_000_000
MODES = ("worker", "snapshot", "live")
#: ``(table, column, rowids, value)``: the wrongly typed values written with plain sqlite3. Texts are
#: not numeric and blobs stay blobs, so SQLite's column affinity keeps their storage class.
CORRUPT: list[tuple[str, str, tuple[int, ...], object]] = [
    ("memories", "importance", (2, 5, 9), "high"),
    ("memories", "importance", (11,), b"\x00\xff"),
    ("memories", "tier", (4, 17), 2.5),
    ("memories", "created_at", (7,), "yesterday"),
    ("causal_edges", "weight", (1, 6, 13), "strong"),
    ("causal_edges", "to_memory", (8,), b"\x01"),
    ("causal_edges", "edge_type", (10,), b"\x02"),
    ("causal_edges", "created_at", (3,), 1.5),
    ("skills", "success_count", (2,), "many"),
    ("intelligences", "maturity", (1, 3), "ripe"),
    ("architectures", "created_at", (2,), "then"),
    ("reflexion_episodes", "created_at", (4,), "soon"),
    ("vectors", "dimensions", (1,), "sixteen"),
]
TOP = 7


def _build(path: Path) -> str:
    """A generated store with every entity kind and some belief history, then values of the wrong
    type written the way another tool would: plain sqlite3, no store open."""
    with generate_store(path, memories=40, edges=90, seed=14, vectors=6, reflexions=12) as store:
        for k in range(6):
            store.store_skill(
                StoredSkill(f"s{k}", f"skill_{k}", "d", "p", k % 3, T0 + k if k % 2 else None, T0)
            )
        for k in range(5):
            store.store_architecture(
                StoredArchitecture(f"a{k}", f"A{k}", ["neural", "symbolic"][k % 2], "py",
                                   json.dumps({"overall": k / 10}), json.dumps({"generation": k}), T0 + k)
            )  # fmt: skip
        for k in range(8):
            store.store_intelligence(
                StoredIntelligence(f"i{k}", f"I{k}", f"a{k % 5}", k / 8, "[]", "[]", "{}", T0 + k, T0 + 9 * k)
            )  # fmt: skip
        edges = [r[0] for r in store.connection.execute("SELECT id FROM causal_edges ORDER BY rowid LIMIT 4")]
        last = store.connection.execute("SELECT max(created_at) FROM causal_edges").fetchone()[0]
        store.invalidate_causal_edge(edges[0], at=last + 86_400, reason="refuted")
        store.reinstate_causal_edge(edges[0], at=last + 2 * 86_400, reason="seen again")
        store.invalidate_causal_edge(edges[2], at=last + 8 * 86_400)
        store.set_edge_validity(edges[3], valid_from=T0)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for table, column, rowids, value in CORRUPT:
            marks = ", ".join("?" * len(rowids))
            conn.execute(f'UPDATE {table} SET "{column}" = ? WHERE rowid IN ({marks})', (value, *rowids))
    finally:
        conn.close()
    return str(path)


def _export(a: Analytics, out: Path) -> dict[str, pd.DataFrame]:
    got = a.export_parquet(out)
    assert got["table"].tolist() == list(CRATE_TABLES)
    assert got["path"].tolist() == [str(out / f"{t}.parquet") for t in CRATE_TABLES]
    tables = {t: pd.read_parquet(out / f"{t}.parquet") for t in CRATE_TABLES}
    assert got["rows"].tolist() == [len(tables[t]) for t in CRATE_TABLES]
    return {"rows": got[["table", "rows"]], **tables}


#: Every curated statistic, as name -> function(session, scratch directory) -> frames by name.
STATISTICS: dict[str, Callable[[Analytics, Path], dict[str, pd.DataFrame]]] = {
    "overview": lambda a, _: {"": a.overview()},
    "tier_summary": lambda a, _: {"": a.tier_summary()},
    "importance_histogram": lambda a, _: {"": a.importance_histogram(8)},
    "edge_type_summary": lambda a, _: {"": a.edge_type_summary()},
    "degree_table": lambda a, _: {"": a.degree_table(), "top": a.degree_table(top=TOP)},
    "skill_leaderboard": lambda a, _: {"": a.skill_leaderboard()},
    "architecture_summary": lambda a, _: {"": a.architecture_summary()},
    "intelligence_summary": lambda a, _: {"": a.intelligence_summary()},
    "reflexion_outcomes": lambda a, _: {"": a.reflexion_outcomes()},
    "activity": lambda a, _: {"": a.activity("week")},
    "edge_churn": lambda a, _: {"": a.edge_churn("day")},
    "belief_changes": lambda a, _: {"": a.belief_changes(top=3)},
    "export_parquet": _export,
    "sql_with_parameters": lambda a, _: {
        "": a.sql(
            "SELECT tier, count(importance) AS n FROM clean_memories WHERE tier >= ? "
            "GROUP BY tier ORDER BY tier",
            [2],
        )  # fmt: skip
    },
}


def _session(mode: str, path: str, store: OmegaStore | None) -> Analytics:
    if mode == "worker":
        assert store is not None
        return store.analytics()
    if mode == "snapshot":
        return Analytics(store, snapshot=True)
    assert store is None and not open_in_process(path)
    return Analytics(path)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _build(tmp_path_factory.mktemp("dirty") / "dirty.db")


@pytest.fixture(scope="module")
def results(dirty: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """``{mode: {statistic: frames or the error it raised, "_warnings": [...]}}``, each mode one
    session asked every statistic in turn (the first statistic that meets a table switches it)."""
    out: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        store = OmegaStore(dirty) if mode != "live" else None
        got: dict[str, Any] = {}
        try:
            with warnings.catch_warnings(record=True) as caught, _session(mode, dirty, store) as a:
                warnings.simplefilter("always")
                assert a.mode == mode
                for name, run in STATISTICS.items():
                    try:
                        got[name] = run(a, tmp_path_factory.mktemp(f"{mode}-{name}"))
                    except Exception as err:  # reported by the test of that statistic
                        got[name] = err
            got["_warnings"] = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
        finally:
            if store is not None:
                store.close()
        out[mode] = got
    return out


def _frames(results: dict[str, dict[str, Any]], mode: str, name: str) -> dict[str, pd.DataFrame]:
    got = results[mode][name]
    if isinstance(got, BaseException):
        raise AssertionError(f"{name} through the {mode} session raised {type(got).__name__}: {got}") from got
    frames: dict[str, pd.DataFrame] = got
    return frames


# ----- references: pandas over plain sqlite3 rows ----------------------------------------------------
_FITS: dict[str, tuple[type, ...]] = {"INTEGER": (int,), "REAL": (int, float), "TEXT": (str,)}


def typed_rows(path: str, table: str) -> pd.DataFrame:
    """``table`` read with plain sqlite3, each value whose Python type (its SQLite storage class) does
    not fit the column's declaration replaced by None; object columns, in rowid order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        declared = {r[1]: r[2].upper() for r in conn.execute(f"PRAGMA table_info({table})")}
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        data = cur.fetchall()
    finally:
        conn.close()
    fits = [_FITS.get(declared[n]) for n in names]
    clean = [
        [v if f is None or isinstance(v, f) else None for v, f in zip(row, fits, strict=True)] for row in data
    ]
    return pd.DataFrame(clean, columns=names, dtype=object)


def _tier_summary(path: str) -> pd.DataFrame:
    m = typed_rows(path, "memories")
    m = m[m["tier"].notna()].assign(importance=pd.to_numeric(m["importance"]))
    return (
        m.groupby("tier")
        .agg(memories=("id", "size"), mean_importance=("importance", "mean"),
             median_importance=("importance", "median"), min_importance=("importance", "min"),
             max_importance=("importance", "max"), with_embedding=("embedding_blob", "count"))
        .reset_index()
        .astype({"tier": "int64"})
    )  # fmt: skip


def _degree_table(path: str) -> pd.DataFrame:
    e = typed_rows(path, "causal_edges").assign(weight=lambda d: pd.to_numeric(d["weight"]))
    out = (
        e[e["from_memory"].notna()]
        .groupby("from_memory")
        .agg(out_degree=("id", "size"), out_weight=("weight", "sum"))
    )
    inn = (
        e[e["to_memory"].notna()]
        .groupby("to_memory")
        .agg(in_degree=("id", "size"), in_weight=("weight", "sum"))
    )
    ids = sorted(set(typed_rows(path, "memories")["id"].dropna()) | set(out.index) | set(inn.index))
    df = pd.concat([out.reindex(ids), inn.reindex(ids)], axis=1).fillna(0)
    df = df.rename_axis("memory_id").reset_index().astype({"out_degree": "int64", "in_degree": "int64"})
    df["_total"] = df["out_degree"] + df["in_degree"]
    df = df.sort_values(["_total", "memory_id"], ascending=[False, True], kind="stable")
    return df[["memory_id", "out_degree", "in_degree", "out_weight", "in_weight"]].reset_index(drop=True)


def _edge_type_summary(path: str) -> pd.DataFrame:
    e = typed_rows(path, "causal_edges").assign(weight=lambda d: pd.to_numeric(d["weight"]))
    e = e[e["edge_type"].notna()]
    return (
        e.groupby("edge_type")
        .agg(edges=("id", "size"), mean_weight=("weight", "mean"), min_weight=("weight", "min"),
             max_weight=("weight", "max"))
        .reset_index()
    )  # fmt: skip


def same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    assert list(got.columns) == list(want.columns), what
    assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False, check_exact=False,
        rtol=1e-12, atol=1e-12, obj=what,
    )  # fmt: skip


# ----- the tests -------------------------------------------------------------------------------------
def test_the_store_holds_what_the_tests_expect(dirty: str) -> None:
    """Guard on the fixture itself: every written value kept its wrong storage class."""
    conn = sqlite3.connect(f"file:{dirty}?mode=ro", uri=True)
    try:
        for table, column, rowids, value in CORRUPT:
            kind = {str: "text", bytes: "blob", float: "real"}[type(value)]
            stored = [r[0] for r in conn.execute(f'SELECT typeof("{column}") FROM {table} WHERE rowid IN '
                                                 f'({", ".join(map(str, rowids))})')]  # fmt: skip
            assert stored == [kind] * len(rowids), (table, column)
    finally:
        conn.close()


@pytest.mark.parametrize("name", list(STATISTICS))
def test_every_statistic_is_the_same_frame_every_way(results: dict[str, dict[str, Any]], name: str) -> None:
    want = _frames(results, "live", name)
    for mode in ("worker", "snapshot"):
        got = _frames(results, mode, name)
        assert got.keys() == want.keys()
        for part, frame in want.items():
            assert_frame_equal(
                got[part], frame, check_exact=False, rtol=1e-12, atol=1e-12, obj=f"{mode} {name} {part}"
            )


@pytest.mark.parametrize("mode", MODES)
def test_tier_and_degree_statistics_follow_the_typing_rule(
    results: dict[str, dict[str, Any]], dirty: str, mode: str
) -> None:
    same(_frames(results, mode, "tier_summary")[""], _tier_summary(dirty), f"{mode} tier_summary")
    degrees = _degree_table(dirty)
    got = _frames(results, mode, "degree_table")
    same(got[""], degrees, f"{mode} degree_table")
    same(got["top"], degrees.head(TOP), f"{mode} degree_table(top={TOP})")
    same(
        _frames(results, mode, "edge_type_summary")[""],
        _edge_type_summary(dirty),
        f"{mode} edge_type_summary",
    )


@pytest.mark.parametrize("mode", MODES)
def test_export_writes_wrong_types_as_null(results: dict[str, dict[str, Any]], dirty: str, mode: str) -> None:
    got = _frames(results, mode, "export_parquet")
    for table in CRATE_TABLES:
        want = typed_rows(dirty, table)
        frame = got[table]
        assert list(frame.columns) == list(want.columns), table
        for column in want.columns:
            expected, actual = want[column].tolist(), frame[column].tolist()
            assert [None if pd.isna(v) else v for v in actual] == expected, f"{mode} {table}.{column}"


@pytest.mark.parametrize("mode", MODES)
def test_every_wrongly_typed_column_is_announced(results: dict[str, dict[str, Any]], mode: str) -> None:
    text = " ".join(results[mode]["_warnings"])
    for table, column, _rowids, _value in CORRUPT:
        assert f"{table}.{column}:" in text, (mode, table, column)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("remote", [False, True])
def test_session_runs_parameters_over_tolerant_views(dirty: str, remote: bool, parallel: bool) -> None:
    """The engine itself, in this process: a statement with a parameter over two tolerant views, run
    twice (the second time on the prepared statement of a new transaction). No store is open here."""
    assert not open_in_process(dirty)
    want = _degree_table(dirty)
    session = DuckSession(dirty, consistent=True, remote=remote)
    try:
        with pytest.warns(DataQualityWarning, match=r"causal_edges\.weight: 3 value\(s\) stored as text"):
            first = session.run(Q.DEGREE_TABLE, [TOP], parallel=parallel)
        second = session.run(Q.DEGREE_TABLE, [2**62], parallel=parallel)
        histogram = session.run(Q.IMPORTANCE_HISTOGRAM, [4], parallel=parallel)
    finally:
        session.close()
    if remote:
        from omega_graph.duck._frames import frame

        first, second, histogram = frame(first), frame(second), frame(histogram)
    same(first, want.head(TOP), "first run")
    same(second, want, "second run")
    importance = pd.to_numeric(typed_rows(dirty, "memories")["importance"])
    assert histogram["memories"].sum() == importance.between(0, 1).sum()


# ----- one SQLite connection, one DuckDB thread ------------------------------------------------------
def _threads(con: Any) -> int:
    row = con.execute("SELECT current_setting('threads')").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("consistent", "remote"), [(True, False), (True, True), (False, False)])
def test_scans_through_one_sqlite_connection_run_on_one_thread(
    dirty: str, consistent: bool, remote: bool
) -> None:
    """A consistent session runs one DuckDB thread; the worker's session scans in parallel on a
    DuckDB of its own first; a snapshot session keeps its threads. Once a table is read through
    ``sqlite_query`` every session runs one thread and the parallel connection is gone. Two threads
    scanning through one SQLite connection crash the process."""
    session = DuckSession(dirty, consistent=consistent, threads=2, remote=remote)
    try:
        if remote:
            assert session._con is None and session._par is not None and _threads(session._par) == 2
        else:
            assert session._par is None and _threads(session.connection) == (1 if consistent else 2)
        with pytest.warns(DataQualityWarning):
            session.run(Q.DEGREE_TABLE, [TOP], parallel=remote)
        assert session._par is None and _threads(session.connection) == 1
        got = session.run(Q.DEGREE_TABLE, [2**62], parallel=remote)
    finally:
        session.close()
    if remote:
        from omega_graph.duck._frames import frame

        got = frame(got)
    same(got, _degree_table(dirty), "degree table after the switch to one thread")


@pytest.mark.parametrize("remote", [False, True])
def test_a_query_calling_sqlite_query_runs_on_one_thread(dirty: str, remote: bool) -> None:
    """``sqlite_query`` scans through the transaction's SQLite connection: a statement that calls it
    moves the session to one thread first, and answers what SQLite answers."""
    # the worker's session (a parallel connection), or a snapshot-like one (many threads until then)
    session = DuckSession(dirty, consistent=remote, threads=2, remote=remote)
    try:
        plain = session.sql("SELECT count(*) AS n FROM omega.memories", parallel=remote)
        assert (session._par is not None) == remote and (remote or _threads(session.connection) == 2)
        got = session.sql(
            "SELECT k, count(*) AS n FROM (SELECT 'e' AS k FROM sqlite_query('omega', 'SELECT id FROM causal_edges') "
            "UNION ALL SELECT 'm' FROM sqlite_query('omega', 'SELECT id FROM memories')) GROUP BY k ORDER BY k",
            parallel=remote,
        )
        assert session._par is None and _threads(session.connection) == 1
    finally:
        session.close()
    if remote:
        from omega_graph.duck._frames import frame

        plain, got = frame(plain), frame(got)
    conn = sqlite3.connect(f"file:{dirty}?mode=ro", uri=True)
    want = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("causal_edges", "memories")]
    conn.close()
    assert got["n"].tolist() == want and int(plain["n"].iloc[0]) == want[1]


_HAMMER = """
import sys, warnings
from omega_graph.analytics import queries as Q
from omega_graph.analytics._session import DuckSession
warnings.simplefilter("ignore")
for consistent, rounds in ((False, 40), (True, 70)):
    for _ in range(rounds):
        session = DuckSession(sys.argv[1], consistent=consistent, threads=2)
        for _ in range(5):
            session.run(Q.DEGREE_TABLE, [7])
        session.close()
"""


def test_degree_tables_over_tolerant_views_do_not_crash(dirty: str) -> None:
    """The crash this guards against: DuckDB's SQLite extension scanning two tolerant views of one
    statement from two threads through one SQLite connection. It took 10 to 60 such sessions, so a
    child process opens 110 of them (a crash would only kill the child)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _HAMMER, dirty],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
