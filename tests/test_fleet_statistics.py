"""Fleet statistics (omega_graph.fleet.statistics) on DuckDB and on Spark, against each store's own.

The reference is the definition: ``OmegaStore(path).analytics().<statistic>()`` on every store file,
concatenated with the store's id as a ``store`` column; over the whole fleet, the same statistic on
one SQLite file holding the union of the stores' rows. The fleet mixes an empty store, a store
without edges, a file another tool wrote (values of the wrong SQLite type, timestamps that are NULL,
text or outside years 1..9999, an edge to a missing memory) and generated stores with cycles,
several tiers and edge types, vectors and reflexions. Spark is the session-wide ``spark`` fixture.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph import OmegaStore, StoredArchitecture, StoredIntelligence, StoredSkill
from omega_graph.analytics import Analytics
from omega_graph.errors import DatabaseError, DataQualityWarning, NotFoundError, ValidationError
from omega_graph.fleet._dialects import DUCKDB, SPARK, STATISTICS, statistic_sql
from omega_graph.fleet._export import export
from omega_graph.fleet._layout import Manifest, read_manifest, write_manifest
from omega_graph.fleet._statistics import COLUMNS, statistics
from omega_graph.generate import generate_store
from omega_graph.schema import migrate

STR = pd.Series(["a"]).dtype  # the string dtype this pandas infers (the per-store frames')
T0 = 1_700_000_000
YEAR_1, YEAR_9999 = -62_135_596_800, 253_402_300_799  # first and last usable second


# ----- building a fleet ------------------------------------------------------------------------------
def export_fleet(paths: list[str], out: str) -> dict[str, str]:
    """Export ``paths`` to ``out`` with omega_graph.fleet's export; ``{store_id: store file}``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = export(paths, out)
    assert result.ok, result.skipped
    return {s.store_id: s.path for s in result.manifest.stores}


def dirty_store(path: str, *, spread: int = 86_400) -> str:
    """A file another tool wrote: wrong SQLite types, unusable timestamps, an edge to a missing memory."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.executemany("INSERT INTO memories VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("d1", "a", 1, 0.5, None, T0 - 400 * spread, T0),
        ("d2", "b", 2.5, 0.7, b"\1\2\3\4", T0, T0),            # float tier
        ("d3", "c", 3, "high", None, T0 + spread, T0),           # text importance
        ("d4", "d", 1, 0.25, b"\0", T0 + 3 * spread, T0),
        ("d5", "e", 3, b"\x00\xff", None, "yesterday", T0),      # blob importance, text time
        ("d6", "f", 3, 0.75, None, 10**13, T0),                  # after year 9999
        ("d7", "g", 1, b"\1", None, b"\2", T0),                  # blob importance and time
        ("d8", "h", 3, 0.125, None, -(10**12), T0),              # before year 1
        ("d9", "i", 1, 1.0, None, T0 - 90 * spread, T0),         # before 1970 in some fleets
    ])  # fmt: skip
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.executemany("INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)", [
        ("x1", "d1", "d2", 0.5, "causes", T0), ("x2", "d2", "d3", "strong", "causes", T0 + spread),
        ("x3", "d3", "d1", 0.25, "enables", T0 - spread), ("x4", "d1", "ghost", 0.75, "causes", T0),
        ("x5", "d4", "d4", b"w", b"t", T0 + 2 * spread), ("x6", "d1", "d2", 0.0, "causes", "soon"),
    ])  # fmt: skip
    conn.executemany("INSERT INTO reflexion_episodes VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("r1", "d1", "t", "{}", "a", "resolved", T0 + spread),
        ("r2", "d2", "t", "{}", "a", "deferred", 2**62),                 # after year 9999
    ])  # fmt: skip
    conn.close()
    return path


def rich_store(path: str, seed: int) -> str:
    """A generated store plus a skill, an architecture and an intelligence (for the overview)."""
    with generate_store(path, memories=60, edges=150, seed=seed, vectors=7, reflexions=12) as store:
        store.store_skill(StoredSkill("s1", f"skill{seed}", "d", "x", 3, None, T0))
        store.store_architecture(StoredArchitecture("a1", "A", "neural", "py", "{}", "{}", T0))
        store.store_intelligence(StoredIntelligence("i1", "I", "a1", 0.5, "[]", "[]", "{}", T0, T0))
    return path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """(export directory, {store_id: store file}) of nine varied stores."""
    root = tmp_path_factory.mktemp("fleet")
    paths = []
    OmegaStore(root / "empty.db").close()
    paths.append(str(root / "empty.db"))
    generate_store(root / "no-edges.db", memories=25, edges=0, seed=3).close()
    paths.append(str(root / "no-edges.db"))
    paths.append(dirty_store(str(root / "dirty.db")))
    paths.append(rich_store(str(root / "rich.db"), seed=4))
    for seed, (m, e) in enumerate([(40, 90), (120, 400), (15, 30), (80, 240), (200, 700)]):
        store = generate_store(root / f"gen{seed}.db", memories=m, edges=e, seed=seed, reflexions=m // 4,
                               vectors=m // 10, back_edge_fraction=0.1 * (seed % 3))  # fmt: skip
        store.close()
        paths.append(str(root / f"gen{seed}.db"))
    ids = export_fleet(paths, str(root / "out"))
    return str(root / "out"), ids


_REFERENCES: dict[tuple[Any, ...], dict[str, pd.DataFrame]] = {}


def per_store(ids: dict[str, str], name: str, freq: str = "day") -> pd.DataFrame:
    """The reference: statistic ``name`` of every store file, with ``store`` first, in store id order.

    Read by ``OmegaStore(path).analytics()`` (DuckDB's SQLite scans in the store's worker
    process, out of this test process). The five statistics of a store come from one session, once
    per store set and ``freq``.
    """
    key = (tuple(sorted(ids.items())), freq)
    if key not in _REFERENCES:
        parts: dict[str, list[pd.DataFrame]] = {n: [] for n in STATISTICS}
        for store_id in sorted(ids):
            with OmegaStore(ids[store_id]) as s, s.analytics() as a, warnings.catch_warnings():
                warnings.simplefilter("ignore", DataQualityWarning)
                for n in STATISTICS:
                    df = a.activity(freq) if n == "activity" else getattr(a, n)()
                    df.insert(0, "store", pd.Series([store_id] * len(df), dtype=STR))
                    parts[n].append(df)
        _REFERENCES[key] = {
            n: pd.concat([p for p in frames if len(p)] or frames[:1], ignore_index=True)
            for n, frames in parts.items()
        }
    return _REFERENCES[key][name].copy()


def union_store(ids: dict[str, str], path: str) -> str:
    """One store file holding every store's memories, edges and reflexions, values as stored
    (ids prefixed ``<store_id>:`` to keep them apart): the fleet's union as SQLite rows."""
    OmegaStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    for store_id, source in sorted(ids.items()):
        conn.execute("ATTACH ? AS src", [source])
        p = f"'{store_id}:' || "
        conn.execute(f"INSERT INTO memories SELECT {p}id, content, tier, importance, embedding_blob, "
                     "created_at, last_accessed FROM src.memories")  # fmt: skip
        conn.execute(f"INSERT INTO causal_edges SELECT {p}id, {p}from_memory, {p}to_memory, weight, "
                     "edge_type, created_at FROM src.causal_edges")  # fmt: skip
        conn.execute(f"INSERT INTO reflexion_episodes SELECT {p}id, {p}memory_id, trigger, context, "
                     "action, outcome, created_at FROM src.reflexion_episodes")  # fmt: skip
        conn.execute("DETACH src")
    conn.close()
    return path


def union_reference(ids: dict[str, str], union: str, name: str, **kw: Any) -> pd.DataFrame:
    """The statistic over the whole fleet, from its definition."""
    if name == "overview":  # the union's counts are the sums of the stores' counts
        df = per_store(ids, "overview").groupby("entity", sort=False, as_index=False)["count"].sum()
        return df.astype({"entity": STR, "count": "int64"})
    with OmegaStore(union) as s, s.analytics() as a, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        df = getattr(a, name)(**kw)
    if name == "degree_table":  # "<store>:<memory id>" back to (store, memory id); store ids are all 32 long
        split = df["memory_id"].str.split(":", n=1)
        df.insert(0, "store", split.str[0].astype(STR))
        df["memory_id"] = split.str[1].astype(STR)
    return df


def to_pandas(frame: Any, like: pd.DataFrame) -> pd.DataFrame:
    """A Spark DataFrame's rows as a pandas frame with ``like``'s dtypes (collected as Python
    values: timestamps of years 1..9999 would not survive a conversion through nanoseconds)."""
    got = pd.DataFrame.from_records([tuple(r) for r in frame.collect()], columns=frame.columns)
    return got.astype(like.dtypes.to_dict())


def same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def duck(fleet: tuple[str, dict[str, str]]) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return statistics(None, fleet[0])


@pytest.fixture(scope="module")
def union(fleet: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> str:
    return union_store(fleet[1], str(tmp_path_factory.mktemp("union") / "union.db"))


def engine_frames(request: pytest.FixtureRequest, engine: str, out: str, **kw: Any) -> Callable[..., Any]:
    """``get(name, like)``: statistic ``name`` of ``out`` from ``engine`` as pandas (Spark's collected)."""
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        frames = statistics(spark, out, **kw)

    def get(name: str, like: pd.DataFrame) -> pd.DataFrame:
        return frames[name] if spark is None else to_pandas(frames[name], like)

    return get


_CACHE: dict[tuple[Any, ...], Callable[..., Any]] = {}


def cached_frames(request: pytest.FixtureRequest, engine: str, out: str, **kw: Any) -> Callable[..., Any]:
    """One statistics() call per engine, fleet and options for the whole module."""
    key = (engine, out, tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = engine_frames(request, engine, out, **kw)
    return _CACHE[key]


ENGINES = ["duckdb", "spark"]


# ----- the statistics, per store and over the fleet ---------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", STATISTICS)
def test_per_store_equals_each_stores_statistic(
    request: pytest.FixtureRequest, fleet: tuple[str, dict[str, str]], engine: str, name: str
) -> None:
    out, ids = fleet
    want = per_store(ids, name)
    got = cached_frames(request, engine, out)(name, want)
    assert list(got.columns) == list(COLUMNS[name]) == ["store", *[c for c in want.columns if c != "store"]]
    same(got, want)
    if name == "overview":  # every store, every entity, zeros included
        assert len(got) == 7 * len(ids) and (got["count"] == 0).sum() >= 7 + 4


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", STATISTICS)
def test_over_the_fleet_equals_the_statistic_of_the_union(
    request: pytest.FixtureRequest, fleet: tuple[str, dict[str, str]], union: str, engine: str, name: str
) -> None:
    out, ids = fleet
    want = union_reference(ids, union, name)
    got = cached_frames(request, engine, out, per_store=False)(name, want)
    assert ("store" in got.columns) == (name == "degree_table")
    same(got, want)


def test_the_fleet_exercises_what_it_should(duck: dict[str, pd.DataFrame], fleet: tuple[str, dict]) -> None:
    """The cases the fleet is meant to cover are in the answers (so the comparisons above test them)."""
    degrees = duck["degree_table"]
    assert "ghost" in set(degrees["memory_id"])  # an edge endpoint missing from memories
    assert ((degrees["out_degree"] + degrees["in_degree"]) == 0).sum() >= 25  # memories without edges
    tiers = duck["tier_summary"]
    assert tiers["median_importance"].notna().all() and tiers["tier"].nunique() >= 5
    assert duck["edge_type_summary"]["edge_type"].nunique() == 5  # the four forward types and feedback
    activity = duck["activity"]
    assert (activity[["memories", "edges", "reflexions"]].sum(axis=1) == 0).any()  # filled periods
    assert activity.groupby("store").size().min() >= 1


@pytest.mark.parametrize("freq", ["hour", "week", "month", "quarter", "year"])
def test_activity_per_period_on_duckdb(fleet: tuple[str, dict[str, str]], freq: str) -> None:
    out, ids = fleet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        got = statistics(None, out, freq=freq)["activity"]
    same(got, per_store(ids, "activity", freq))


def test_activity_by_week_on_spark(request: pytest.FixtureRequest, fleet: tuple[str, dict[str, str]]) -> None:
    out, ids = fleet
    want = per_store(ids, "activity", "week")
    assert (want["period"].dt.day_of_week == 0).all()
    same(cached_frames(request, "spark", out, freq="week")("activity", want), want)


def unusable(path: str) -> int:
    """Records whose created_at is not an integer within years 1..9999 (plain sqlite3)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sum(
            conn.execute(
                f"SELECT count(*) FROM {t} WHERE typeof(created_at) != 'integer' "
                f"OR created_at NOT BETWEEN {YEAR_1} AND {YEAR_9999}"
            ).fetchone()[0]
            for t in ("memories", "causal_edges", "reflexion_episodes")
        )
    finally:
        conn.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_unusable_timestamps_are_skipped_with_a_warning(
    request: pytest.FixtureRequest, fleet: tuple[str, dict[str, str]], engine: str
) -> None:
    out, ids = fleet
    dirty = next(s for s, p in ids.items() if p.endswith("dirty.db"))
    n = unusable(ids[dirty])
    assert n == 6
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    with pytest.warns(DataQualityWarning, match=rf"^{n} records of 1 store\(s\) \({dirty}\) have no usable"):
        statistics(spark, out, stores=[dirty])


@pytest.mark.parametrize("engine", ENGINES)
def test_the_first_and_last_usable_years(request: pytest.FixtureRequest, tmp_path: Path, engine: str) -> None:
    """Times at the edges of years 1..9999 count; one second outside does not; an hourly grid of
    8,000 years is refused as the per-store statistic refuses it."""
    times = [YEAR_1, YEAR_9999, YEAR_1 - 1, YEAR_9999 + 1, 0]
    path = raw_store(str(tmp_path / "edges.db"), [(1, 0.5, None, t) for t in times], [], [])
    ids = export_fleet([path], str(tmp_path / "out"))
    want = per_store(ids, "activity", "year")
    assert len(want) == 9999 and want["memories"].sum() == 3
    get = engine_frames(request, engine, str(tmp_path / "out"), freq="year")
    same(get("activity", want), want)
    if engine == "duckdb":
        with pytest.raises(ValidationError, match=r"freq = 'hour'.*coarser period: store '[0-9a-f]{32}' has"):
            with pytest.warns(DataQualityWarning, match="^2 records of 1 store"):
                statistics(None, str(tmp_path / "out"), freq="hour")
        with OmegaStore(path) as store, store.analytics() as a, pytest.warns(DataQualityWarning):
            with pytest.raises(ValidationError, match="coarser period"):
                a.activity("hour")


# ----- choosing stores, empty fleets, bad input ----------------------------------------------------
def test_a_subset_of_stores(fleet: tuple[str, dict[str, str]], duck: dict[str, pd.DataFrame]) -> None:
    out, ids = fleet
    some = sorted(ids)[1::3]
    got = statistics(None, out, stores=reversed(some))
    for name in STATISTICS:
        want = duck[name][duck[name]["store"].isin(some)].reset_index(drop=True)
        same(got[name], want)
    assert statistics(None, out, stores=[])["overview"].empty


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_fleet_has_the_columns_and_no_rows(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str
) -> None:
    write_manifest(tmp_path, Manifest())
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    frames = statistics(spark, tmp_path)
    assert list(frames) == list(STATISTICS)
    for name, frame in frames.items():
        assert list(frame.columns) == list(COLUMNS[name])
        if spark is None:
            assert frame.empty
            assert [str(t) for t in frame.dtypes] == [
                str(STR) if t == "str" else t for t in COLUMNS[name].values()
            ]
    if spark is None:
        overall = statistics(None, tmp_path, per_store=False)
        assert overall["overview"]["count"].tolist() == [0] * 7
        assert all(overall[n].empty for n in STATISTICS if n != "overview")
    else:
        schema = {f.name: f.dataType.simpleString() for f in frames["activity"].schema.fields}
        assert schema == {"store": "string", "period": "timestamp_ntz", "memories": "bigint",
                          "edges": "bigint", "reflexions": "bigint"}  # fmt: skip
        assert frames["tier_summary"].count() == 0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"freq": "fortnight"}, ValidationError, r"freq = 'fortnight' is invalid: expected one of hour, day"),
    ({"freq": None}, ValidationError, "freq = None"),
    ({"per_store": "yes"}, ValidationError, "per_store = 'yes'"),
    ({"stores": "abc"}, ValidationError, "stores = 'abc'"),
    ({"stores": [1]}, ValidationError, r"stores = \[1\]"),
    ({"stores": ["no-such-store"]}, NotFoundError, "store 'no-such-store' not found; give store ids"),
])  # fmt: skip
def test_bad_arguments(fleet: tuple[str, dict[str, str]], kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        statistics(None, fleet[0], **kwargs)


def test_a_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="fleet export .* not found; give a directory written by"):
        statistics(None, tmp_path)
    with pytest.raises(NotFoundError):
        statistics(None, tmp_path / "missing")
    write_manifest(tmp_path, Manifest())
    with pytest.raises(ValidationError, match="spark_or_none = 'duckdb'"):
        statistics("duckdb", tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_listed_file_that_is_gone(request: pytest.FixtureRequest, tmp_path: Path, engine: str) -> None:
    generate_store(tmp_path / "a.db", memories=10, edges=10, seed=1).close()
    out = tmp_path / "out"
    export_fleet([str(tmp_path / "a.db")], str(out))
    entry = read_manifest(out).stores[0]
    os.remove(out / entry.files["causal_edges"])
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    with pytest.raises(DatabaseError, match="cannot read the fleet export .*; export the fleet again"):
        statistics(spark, out)


# ----- one definition ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", STATISTICS)
def test_one_template_two_dialects(name: str) -> None:
    duck, spark = (statistic_sql(name, d, freq="week") for d in (DUCKDB, SPARK))
    for piece in ("make_timestamp", "median(", "generate_series", "unnest("):
        assert piece not in spark
    for piece in ("timestampadd", "percentile(", "sequence(", "explode("):
        assert piece not in duck
    keys = {"overview": "GROUP BY store", "degree_table": "GROUP BY store, memory_id"}
    assert (
        keys.get(name, f"GROUP BY store, {'period' if name == 'activity' else name.split('_s')[0]}") in duck
    )


# ----- random stores (DuckDB) ----------------------------------------------------------------------------
_times = st.one_of(st.integers(T0 - 40 * 86_400, T0 + 40 * 86_400), st.just(b"\0"), st.just("later"),
                   st.sampled_from([YEAR_1 - 1, YEAR_9999 + 1, -86_400]))  # fmt: skip
_memory = st.tuples(st.one_of(st.integers(1, 4), st.just(b"\3"), st.just(1.5)),
                    st.one_of(st.floats(0, 1), st.just(b"\4"), st.just("high")),
                    st.one_of(st.none(), st.just(b"\1\2")), _times)  # fmt: skip
_edge = st.tuples(st.integers(0, 7), st.integers(0, 7),
                  st.one_of(st.floats(0, 1), st.just(b"\5"), st.just("strong")),
                  st.sampled_from(["causes", "enables", b"t"]), _times)  # fmt: skip
_store = st.tuples(st.lists(_memory, max_size=8), st.lists(_edge, max_size=12), st.lists(_times, max_size=3))


def raw_store(path: str, memories: list, edges: list, reflexions: list) -> str:
    """A store file with these rows, inserted as given (any SQLite type; edge ends may be missing)."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.executemany("INSERT INTO memories VALUES (?, 'x', ?, ?, ?, ?, 0)",
                     [(f"m{i}", *row) for i, row in enumerate(memories)])  # fmt: skip
    rows = [(f"e{i}", f"m{a}", f"m{b}", w, t, c) for i, (a, b, w, t, c) in enumerate(edges)]
    conn.executemany("INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO reflexion_episodes VALUES (?, 'm0', 't', '{}', 'a', 'ok', ?)",
                     [(f"r{i}", c) for i, c in enumerate(reflexions)])  # fmt: skip
    conn.close()
    return path


@settings(max_examples=12)
@given(stores=st.lists(_store, min_size=1, max_size=3))
def test_random_small_fleets_on_duckdb(stores: list) -> None:
    with tempfile.TemporaryDirectory() as root:
        paths = [raw_store(os.path.join(root, f"s{i}.db"), *s) for i, s in enumerate(stores)]
        ids = export_fleet(paths, os.path.join(root, "out"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            got = statistics(None, os.path.join(root, "out"), freq="week")
        for name in STATISTICS:
            want = per_store(ids, name, "week")
            if want.empty:
                assert got[name].empty and list(got[name].columns) == list(want.columns)
            else:
                same(got[name], want)


@pytest.fixture(autouse=True, scope="module")
def _forget_frames() -> Iterator[None]:
    yield
    _CACHE.clear()
    _REFERENCES.clear()


def test_the_reference_is_what_analytics_of_the_file_answers(fleet: tuple[str, dict[str, str]]) -> None:
    """``OmegaStore(path).analytics()`` (the references above) and ``Analytics(path)`` agree."""
    _, ids = fleet
    some = {s: p for s, p in ids.items() if "gen" in p or "rich" in p}
    for store_id, path in sorted(some.items())[:2]:
        with Analytics(path) as a:
            for name in STATISTICS:
                want = per_store({store_id: path}, name).drop(columns="store")
                same(getattr(a, name)(), want)
