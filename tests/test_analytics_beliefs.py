"""``Analytics.edge_churn`` and ``Analytics.belief_changes`` against references computed here.

Two independent references: pandas over the rows plain ``sqlite3`` reads from the same file, and,
for hypothesis-generated sequences of writes (store API and a second connection acting as the
original crate), a model kept from the writes themselves. Stores are real files; DuckDB reads them
in this process ("live"), in the worker process ("worker", this process holds the file open), and
in-memory stores through their snapshot.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import compat_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from test_analytics import generate_store

from omega_graph import OmegaStore, SchemaError, StoredCausalEdge, StoredMemory, ValidationError
from omega_graph.analytics import Analytics
from omega_graph.analytics.statistics import FREQUENCIES
from omega_graph.errors import DatabaseError, DataQualityWarning

T0 = 1_764_000_000
DAY = 86_400
CHURN_COLUMNS = ["period", "created", "invalidated", "reinstated"]
CHANGES_COLUMNS = ["edge_id", "changes", "last_reason"]
CRATE_REPLACE = (
    "INSERT OR REPLACE INTO causal_edges (id, from_memory, to_memory, weight, edge_type, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


# ----- references: pandas over plain sqlite3 rows ----------------------------------------------------
def query(path: str | Path, sql: str) -> pd.DataFrame:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = conn.execute(sql)
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        conn.close()


def bucket(seconds: pd.Series, freq: str) -> pd.Series:
    """The start of the UTC period holding each time, as pandas computes it."""
    ts = pd.to_datetime(seconds.astype("int64"), unit="s")
    if freq in ("hour", "day"):
        return ts.dt.floor("h" if freq == "hour" else "D")
    alias = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}[freq]
    return ts.dt.to_period(alias).dt.start_time


def empty_churn() -> pd.DataFrame:
    out = pd.DataFrame({"period": pd.Series([], dtype="datetime64[us]")})
    return out.assign(**{c: pd.Series([], dtype="int64") for c in CHURN_COLUMNS[1:]})


def churn_from_times(times: dict[str, list[int]], freq: str) -> pd.DataFrame:
    """``{column: [unix seconds, ...]}`` counted per period: the periods with any count, in order."""
    parts = [
        bucket(pd.Series(v, dtype="int64"), freq).value_counts().rename(c) for c, v in times.items() if v
    ]
    if not parts:
        return empty_churn()
    counts = pd.concat(parts, axis=1, sort=True).reindex(columns=CHURN_COLUMNS[1:]).fillna(0)
    out = counts.sort_index().rename_axis("period").reset_index()
    return out.astype({"period": "datetime64[us]", **{c: "int64" for c in CHURN_COLUMNS[1:]}})


def ref_churn(path: str | Path, freq: str) -> pd.DataFrame:
    edges = query(path, "SELECT id, created_at FROM causal_edges")
    events = query(path, "SELECT edge_id, event, at FROM omega_edge_events")
    events = events[events["edge_id"].isin(set(edges["id"]))]
    return churn_from_times({
        "created": edges["created_at"].tolist(),
        "invalidated": events.loc[events["event"] == "invalidated", "at"].tolist(),
        "reinstated": events.loc[events["event"] == "reinstated", "at"].tolist(),
    }, freq)  # fmt: skip


def changes_from(counts: dict[str, int], reasons: dict[str, str | None], top: int) -> list[tuple]:
    rows = [(e, n, reasons.get(e)) for e, n in counts.items() if n > 0]
    return sorted(rows, key=lambda r: (-r[1], r[0]))[:top]


def ref_changes(path: str | Path, top: int) -> list[tuple]:
    """``(edge_id, changes, last_reason)`` rows from the file's rows."""
    existing = set(query(path, "SELECT id FROM causal_edges")["id"])
    events = query(path, "SELECT seq, edge_id, event, reason FROM omega_edge_events ORDER BY seq")
    weights = query(path, "SELECT edge_id FROM omega_edge_weight_log")
    events = events[events["edge_id"].isin(existing)]
    weights = weights[weights["edge_id"].isin(existing)]
    counts = events.groupby("edge_id").size().add(weights.groupby("edge_id").size(), fill_value=0)
    belief = events[events["event"].isin(["invalidated", "reinstated"])]
    latest = belief.drop_duplicates("edge_id", keep="last")
    reasons = {
        e: (None if pd.isna(r) else r) for e, r in zip(latest["edge_id"], latest["reason"], strict=True)
    }
    return changes_from({e: int(n) for e, n in counts.items()}, reasons, top)


def as_rows(frame: pd.DataFrame) -> list[tuple]:
    return [(e, int(n), r) for e, n, r in frame[CHANGES_COLUMNS].itertuples(index=False, name=None)]


def check_churn(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == CHURN_COLUMNS
    assert got["period"].dtype == "datetime64[us]"
    assert all(got[c].dtype == "int64" for c in CHURN_COLUMNS[1:])
    assert got["period"].is_monotonic_increasing and got["period"].is_unique
    assert (got[CHURN_COLUMNS[1:]].sum(axis=1) > 0).all()
    assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def check_changes(got: pd.DataFrame, want: list[tuple]) -> None:
    assert list(got.columns) == CHANGES_COLUMNS
    assert got["changes"].dtype == "int64"
    assert all(r is None or isinstance(r, str) for r in got["last_reason"])
    assert as_rows(got) == want


# ----- a store with real belief history --------------------------------------------------------------
def add_history(path: str, seed: int) -> None:
    """Invalidate, reinstate, bulk-invalidate, set validity and re-weight edges through the store API;
    a second connection re-stores and deletes edges the way the original crate does."""
    rng = np.random.default_rng(seed)
    reasons = ["refuted by a later episode", "redeploy", None, "seen again", "contradicted | by r3"]
    with OmegaStore(path) as store:
        edges = sorted(store.iter_causal_edges(), key=lambda e: e.id)
        for k, edge in enumerate(edges[:120]):
            at = edge.created_at + int(rng.integers(0, 30)) * DAY + int(rng.integers(0, DAY))
            for step in range(int(rng.integers(1, 5))):
                reason = reasons[int(rng.integers(0, len(reasons)))]
                if step % 2 == 0:
                    store.invalidate_causal_edge(edge.id, at=at, reason=reason)
                else:
                    store.reinstate_causal_edge(edge.id, at=at, reason=reason)
                at += int(rng.integers(0, 5 * DAY))
            if k % 3 == 0:
                store.set_edge_validity(
                    edge.id, valid_from=T0 - DAY, valid_to=T0 + int(rng.integers(1, 60)) * DAY
                )
            if k % 4 == 1:
                store.store_causal_edge(dataclasses.replace(edge, weight=round(float(rng.random()), 3)))
        fresh = [e.id for e in edges[120:180]]
        assert (
            store.invalidate_causal_edges(fresh, at=T0 + 45 * DAY, reason="bulk: stale after redeploy") == 60
        )
        for edge in edges[180:200]:
            for w in (0.11, 0.22, 0.33):
                store.store_causal_edge(dataclasses.replace(edge, weight=w))
    crate = sqlite3.connect(path)
    try:
        with crate:
            for edge in edges[0:10]:  # the crate re-stores an edge: its beliefs stay
                crate.execute(CRATE_REPLACE, (edge.id, edge.from_memory, edge.to_memory, 0.5, edge.edge_type,
                                              edge.created_at + DAY))  # fmt: skip
            crate.execute("DELETE FROM causal_edges WHERE id IN (?, ?, ?)", tuple(e.id for e in edges[10:13]))
    finally:
        crate.close()


@pytest.fixture(scope="module", params=[1, 2])
def belief_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = generate_store(str(tmp_path_factory.mktemp("beliefs") / "b.db"), seed=request.param)
    add_history(path, seed=request.param)
    return path


@pytest.fixture(scope="module", params=["live", "worker"])
def analytics(request: pytest.FixtureRequest, belief_file: str) -> Iterator[Analytics]:
    """DuckDB in this process, and in the worker while this process holds the file through sqlite3."""
    holder = sqlite3.connect(belief_file) if request.param == "worker" else None
    try:
        with Analytics(belief_file) as a:
            assert a.mode == request.param
            yield a
    finally:
        if holder is not None:
            holder.close()


# ----- the statistics on stores with real data -------------------------------------------------------
@pytest.mark.parametrize("freq", list(FREQUENCIES))
def test_edge_churn_matches_the_file(analytics: Analytics, belief_file: str, freq: str) -> None:
    got = analytics.edge_churn(freq)
    want = ref_churn(belief_file, freq)
    check_churn(got, want)
    assert got["invalidated"].sum() > 60 and got["reinstated"].sum() > 0  # the history is really there


@pytest.mark.parametrize("top", [1, 5, 20, 10_000])
def test_belief_changes_match_the_file(analytics: Analytics, belief_file: str, top: int) -> None:
    got = analytics.belief_changes(top)
    want = ref_changes(belief_file, top)
    check_changes(got, want)
    assert len(got) == min(top, len(ref_changes(belief_file, 10**9)))


def test_belief_changes_default_is_the_top_20(analytics: Analytics, belief_file: str) -> None:
    check_changes(analytics.belief_changes(), ref_changes(belief_file, 20))


@pytest.mark.parametrize("freq", list(FREQUENCIES))
def test_edge_churn_uses_the_periods_of_activity(analytics: Analytics, freq: str) -> None:
    """``created`` is ``activity``'s ``edges``, period for period (activity also lists empty periods)."""
    churn = analytics.edge_churn(freq)
    activity = analytics.activity(freq)
    created = churn.loc[churn["created"] > 0, ["period", "created"]].reset_index(drop=True)
    edges = activity.loc[activity["edges"] > 0, ["period", "edges"]].reset_index(drop=True)
    assert_frame_equal(created, edges.rename(columns={"edges": "created"}))
    start = min(churn["period"].min(), activity["period"].min())
    end = max(churn["period"].max(), activity["period"].max())
    assert set(churn["period"]) <= set(pd.date_range(start, end, freq=FREQUENCIES[freq][1]))


def test_the_worker_gives_the_frames_of_this_process(belief_file: str) -> None:
    with Analytics(belief_file) as live:
        want = {f: live.edge_churn(f) for f in FREQUENCIES} | {"changes": live.belief_changes(50)}
    holder = sqlite3.connect(belief_file)
    try:
        with Analytics(belief_file) as worker:
            assert worker.mode == "worker"
            got = {f: worker.edge_churn(f) for f in FREQUENCIES} | {"changes": worker.belief_changes(50)}
    finally:
        holder.close()
    for key, frame in want.items():
        assert_frame_equal(got[key], frame, obj=key)
    assert any(r is None for r in want["changes"]["last_reason"])  # None, not NaN, both ways


def test_edges_the_crate_re_stored_keep_their_changes(belief_file: str) -> None:
    """The crate's ``INSERT OR REPLACE`` of e00000-e00009 (``add_history``) kept their belief events."""
    replaced = [f"e{k:05d}" for k in range(10)]
    with Analytics(belief_file) as a:
        counted = {e: n for e, n, _ in as_rows(a.belief_changes(10_000))}
    events = query(belief_file, "SELECT edge_id, count(*) AS n FROM omega_edge_events GROUP BY edge_id")
    n_events = dict(zip(events["edge_id"], events["n"], strict=True))
    assert all(counted[e] >= n_events[e] >= 1 for e in replaced)
    assert not {"e00010", "e00011", "e00012"} & (set(counted) | set(n_events))  # deleted: gone with them


# ----- writes while a session is open ----------------------------------------------------------------
def test_another_connection_s_writes_are_seen(tmp_path: Path) -> None:
    """A session open in the worker sees belief events a second connection commits (no stale cache)."""
    path = generate_store(str(tmp_path / "w.db"), seed=5, n_mem=30, n_edges=40)
    with OmegaStore(path) as store, store.analytics() as a:
        assert a.mode == "worker"
        assert a.belief_changes().empty and a.edge_churn()["invalidated"].sum() == 0
        store.invalidate_causal_edge("e00003", at=T0 + 50 * DAY, reason="first")
        check_changes(a.belief_changes(), [("e00003", 1, "first")])
        other = sqlite3.connect(path)
        try:
            with other:
                other.execute("UPDATE causal_edges SET weight = 0.999 WHERE id = 'e00007'")
                other.execute(
                    "INSERT INTO omega_edge_events (edge_id, event, at, recorded_at, reason) "
                    "VALUES ('e00003', 'reinstated', ?, ?, 'second')",
                    (T0 + 51 * DAY, T0 + 51 * DAY),
                )
                # rows naming no stored edge (the side tables have no foreign keys): not counted
                other.execute(
                    "INSERT INTO omega_edge_events (edge_id, event, at, recorded_at) "
                    "VALUES ('ghost', 'invalidated', ?, ?)",
                    (T0 + 52 * DAY, T0 + 52 * DAY),
                )
                other.execute(
                    "INSERT INTO omega_edge_weight_log (edge_id, new_weight, at) VALUES ('ghost', 1, 0)"
                )
        finally:
            other.close()
        check_changes(a.belief_changes(), [("e00003", 2, "second"), ("e00007", 1, None)])
        churn = a.edge_churn("week")
        check_churn(churn, ref_churn(path, "week"))
        assert churn[["invalidated", "reinstated"]].sum().tolist() == [1, 1]


def test_in_memory_store_reads_its_snapshot_again_after_a_commit() -> None:
    with OmegaStore.new_in_memory() as store, store.analytics() as a:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, T0, T0) for m in "abc")
        store.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.5, "causes", T0),
                                  StoredCausalEdge("bc", "b", "c", 0.5, "causes", T0 + DAY)])  # fmt: skip
        assert a.mode == "snapshot" and a.belief_changes().empty
        store.invalidate_causal_edge("bc", at=T0 + 2 * DAY, reason="why not")
        store.set_edge_validity("ab", valid_to=T0 + 9 * DAY)
        check_changes(a.belief_changes(), [("ab", 1, None), ("bc", 1, "why not")])
        want = churn_from_times({"created": [T0, T0 + DAY], "invalidated": [T0 + 2 * DAY]}, "day")
        check_churn(a.edge_churn(), want)


def test_snapshot_session_of_a_file(belief_file: str) -> None:
    with Analytics(belief_file, snapshot=True) as a:
        check_churn(a.edge_churn("day"), ref_churn(belief_file, "day"))
        check_changes(a.belief_changes(), ref_changes(belief_file, 20))


# ----- empty stores, the crate's files, bad data and bad arguments -----------------------------------
@pytest.fixture(params=["memory", "live", "worker"])
def empty_analytics(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Analytics]:
    if request.param == "memory":
        with OmegaStore.new_in_memory() as store, store.analytics() as a:
            yield a
        return
    path = tmp_path / "empty.db"
    OmegaStore(path).close()
    holder = sqlite3.connect(path) if request.param == "worker" else None
    try:
        with Analytics(path) as a:
            assert a.mode == request.param
            yield a
    finally:
        if holder is not None:
            holder.close()


@pytest.mark.parametrize("freq", list(FREQUENCIES))
def test_empty_store_gives_typed_empty_frames(empty_analytics: Analytics, freq: str) -> None:
    churn = empty_analytics.edge_churn(freq)
    assert_frame_equal(churn, empty_churn())
    changes = empty_analytics.belief_changes()
    assert list(changes.columns) == CHANGES_COLUMNS and changes.empty
    assert changes["changes"].dtype == "int64"


def test_edges_without_changes_are_not_listed(tmp_path: Path) -> None:
    path = generate_store(str(tmp_path / "g.db"), seed=3, n_mem=20, n_edges=15)
    with Analytics(path) as a:
        assert a.belief_changes(100).empty
        churn = a.edge_churn("month")
    assert churn["created"].sum() == 15 and churn[["invalidated", "reinstated"]].to_numpy().sum() == 0


@pytest.mark.parametrize("name", ["omega-rust-asia.db", "omega-rust-sachs_cdt_consensus.db"])
def test_a_file_of_the_crate(tmp_path: Path, name: str) -> None:
    """Unmigrated: a clear SchemaError. Migrated by opening: empty side tables, edges per period."""
    path = tmp_path / name
    shutil.copyfile(compat_dir() / name, path)
    path.chmod(0o644)
    for method, args in (("edge_churn", ("day",)), ("belief_changes", (5,))):
        with Analytics(path) as a, pytest.raises(SchemaError, match=rf"{method} reads .*OmegaStore\(path\)"):
            getattr(a, method)(*args)
    OmegaStore(path).close()
    with Analytics(path) as a:
        assert a.belief_changes().empty
        check_churn(a.edge_churn("day"), ref_churn(path, "day"))
        assert a.edge_churn("year")["created"].sum() == len(query(path, "SELECT id FROM causal_edges"))


def test_unusable_times_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = generate_store(str(tmp_path / "t.db"), seed=4, n_mem=20, n_edges=12)
    with OmegaStore(path) as store:
        store.invalidate_causal_edge("e00001", at=T0 + 60 * DAY, reason="ok")
        store.invalidate_causal_edge("e00002", at=T0 + 60 * DAY)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE omega_edge_events SET at = 253402300800 WHERE edge_id = 'e00002'")  # year 10000
        conn.execute("UPDATE causal_edges SET created_at = -62135596801 WHERE id = 'e00003'")  # before year 1
    conn.close()
    with (
        Analytics(path) as a,
        pytest.warns(DataQualityWarning, match="^2 edges or belief events have no usable"),
    ):
        got = a.edge_churn("day")
    assert got["created"].sum() == 11 and got["invalidated"].sum() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        check_churn(got, ref_churn_usable(path))


@pytest.mark.parametrize("hold", [False, True], ids=["live", "worker"])
def test_a_wrongly_typed_side_table_value_is_a_database_error(tmp_path: Path, hold: bool) -> None:
    """Not mistaken for a missing table: the side tables are there, one value is not an integer."""
    path = generate_store(str(tmp_path / "x.db"), seed=6, n_mem=20, n_edges=5)
    with OmegaStore(path) as store:
        store.invalidate_causal_edge("e00001", at=T0 + 60 * DAY)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE omega_edge_events SET at = 'soon'")
    holder = conn if hold else None
    if not hold:
        conn.close()
    try:
        with Analytics(path) as a:
            assert a.mode == ("worker" if hold else "live")
            with pytest.raises(DatabaseError) as err:
                a.edge_churn()
            assert not isinstance(err.value, SchemaError)
    finally:
        if holder is not None:
            holder.close()


def ref_churn_usable(path: Path) -> pd.DataFrame:
    lo, hi = -62135596800, 253402300799
    edges = query(path, "SELECT id, created_at FROM causal_edges")
    events = query(path, "SELECT edge_id, event, at FROM omega_edge_events")
    ok_edges = edges[edges["created_at"].between(lo, hi)]
    ok_events = events[events["at"].between(lo, hi) & events["edge_id"].isin(set(edges["id"]))]
    return churn_from_times({
        "created": ok_edges["created_at"].tolist(),
        "invalidated": ok_events.loc[ok_events["event"] == "invalidated", "at"].tolist(),
    }, "day")  # fmt: skip


@pytest.mark.parametrize(("method", "kwargs", "match"), [
    ("edge_churn", {"freq": "fortnight"}, r"edge_churn\.freq = 'fortnight' is invalid: expected one of hour, day"),
    ("edge_churn", {"freq": None}, r"freq = None is invalid"),
    ("belief_changes", {"top": 0}, r"belief_changes\.top = 0 is invalid: expected a positive integer"),
    ("belief_changes", {"top": -3}, r"top = -3 is invalid"),
    ("belief_changes", {"top": 2.5}, r"top = 2\.5 is invalid"),
    ("belief_changes", {"top": True}, r"top = True is invalid"),
    ("belief_changes", {"top": "5"}, r"top = '5' is invalid"),
    ("belief_changes", {"top": None}, r"top = None is invalid"),
])  # fmt: skip
def test_bad_arguments(empty_analytics: Analytics, method: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        getattr(empty_analytics, method)(**kwargs)


# ----- hypothesis: sequences of writes against a model of them ---------------------------------------
@dataclass
class Model:
    """What the writes imply, kept independently of the store: per edge, its creation time, belief
    events (kind, at, reason), validity settings and logged weight changes."""

    created: dict[str, int] = field(default_factory=dict)
    weight: dict[str, float] = field(default_factory=dict)
    beliefs: dict[str, list[tuple[str, int, str | None]]] = field(default_factory=dict)
    validity: dict[str, int] = field(default_factory=dict)
    reweights: dict[str, int] = field(default_factory=dict)

    def forget(self, edge: str) -> None:
        for d in (self.created, self.weight, self.beliefs, self.validity, self.reweights):
            d.pop(edge, None)

    def churn(self, freq: str) -> pd.DataFrame:
        events = [ev for evs in self.beliefs.values() for ev in evs]
        return churn_from_times({
            "created": list(self.created.values()),
            "invalidated": [at for kind, at, _ in events if kind == "invalidated"],
            "reinstated": [at for kind, at, _ in events if kind == "reinstated"],
        }, freq)  # fmt: skip

    def changes(self, top: int) -> list[tuple]:
        counts = {e: len(self.beliefs.get(e, [])) + self.validity.get(e, 0) + self.reweights.get(e, 0)
                  for e in self.created}  # fmt: skip
        reasons = {e: evs[-1][2] for e, evs in self.beliefs.items() if evs}
        return changes_from(counts, reasons, top)


EDGES = [f"e{k}" for k in range(4)]
edge_ids = st.sampled_from(EDGES)
reasons = st.sampled_from([None, "refuted", "redeploy", "seen again", ""])
weights = st.sampled_from([0.0, 0.25, 0.5, 1.0])
#: A few edges first, then writes of every kind (belief moves drawn more often than the rest).
OPS = st.tuples(
    st.lists(st.tuples(st.just("create"), edge_ids, st.integers(0, 40), weights), min_size=1, max_size=6),
    st.lists(
        st.one_of(
            st.tuples(st.just("create"), edge_ids, st.integers(0, 40), weights),
            st.tuples(st.just("reweight"), edge_ids, weights),
            st.tuples(
                st.sampled_from(["invalidate", "reinstate"]), edge_ids, st.integers(0, 10 * DAY), reasons
            ),
            st.tuples(
                st.sampled_from(["invalidate", "reinstate"]), edge_ids, st.integers(0, 10 * DAY), reasons
            ),
            st.tuples(
                st.just("bulk"),
                st.lists(edge_ids, min_size=1, max_size=4, unique=True),
                st.integers(0, 20 * DAY),
            ),  # fmt: skip
            st.tuples(st.just("validity"), edge_ids, st.integers(-5, 5), st.integers(0, 5)),
            st.tuples(st.just("crate_replace"), edge_ids, st.integers(0, 40), weights),
            st.tuples(st.just("delete"), edge_ids, st.booleans()),
        ),
        min_size=8,
        max_size=40,
    ),
).map(lambda parts: parts[0] + parts[1])


def apply(store: OmegaStore, crate: sqlite3.Connection, model: Model, op: tuple) -> None:
    kind, edge = op[0], op[1]
    exists = isinstance(edge, str) and edge in model.created
    last = model.beliefs.get(edge, []) if isinstance(edge, str) else []
    if kind == "create" and not exists:
        created = T0 + op[2] * DAY
        store.store_causal_edge(StoredCausalEdge(edge, "a", "b", op[3], "causes", created))
        model.created[edge], model.weight[edge] = created, op[3]
    elif kind == "reweight" and exists:
        old = store.get_causal_edge(edge)
        store.store_causal_edge(dataclasses.replace(old, weight=op[2]))
        model.reweights[edge] = model.reweights.get(edge, 0) + (op[2] != model.weight[edge])
        model.weight[edge] = op[2]
    elif kind in ("invalidate", "reinstate") and exists:
        invalidated = bool(last) and last[-1][0] == "invalidated"
        if invalidated == (kind == "reinstate"):  # only the moves the store allows
            at = max(last[-1][1] if last else T0, model.created[edge]) + op[2]
            getattr(store, f"{kind}_causal_edge")(edge, at=at, reason=op[3])
            model.beliefs.setdefault(edge, []).append((f"{kind}d", at, op[3]))
    elif kind == "bulk":
        ok = [
            e
            for e in edge
            if e in model.created and not (model.beliefs.get(e) and model.beliefs[e][-1][0] == "invalidated")
        ]
        at = max(
            [T0]
            + [model.created[e] for e in ok]
            + [model.beliefs[e][-1][1] for e in ok if model.beliefs.get(e)]
        )
        at += op[2]
        assert store.invalidate_causal_edges(ok, at=at, reason="bulk") == len(ok)
        for e in ok:
            model.beliefs.setdefault(e, []).append(("invalidated", at, "bulk"))
    elif kind == "validity" and exists:
        lo = T0 + op[2] * DAY
        store.set_edge_validity(edge, valid_from=lo, valid_to=lo + op[3] * DAY)
        model.validity[edge] = model.validity.get(edge, 0) + 1
    elif kind == "crate_replace":
        created = T0 + op[2] * DAY
        with crate:  # the crate's upsert: no trigger sees its implicit delete, the side tables stay
            crate.execute(CRATE_REPLACE, (edge, "a", "b", op[3], "causes", created))
        model.created[edge], model.weight[edge] = created, op[3]
    elif kind == "delete" and exists:
        if op[2]:
            store.delete_causal_edge(edge)
        else:
            with crate:
                crate.execute("DELETE FROM causal_edges WHERE id = ?", (edge,))
        model.forget(edge)


@settings(max_examples=40)
@given(OPS, st.sampled_from(["day", "week", "month"]), st.integers(1, 7))
def test_random_write_sequences(tmp_path_factory: pytest.TempPathFactory, ops: list[tuple], freq: str,
                                top: int) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("seq") / "s.db"
    model = Model()
    with OmegaStore(path) as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, T0, T0) for m in "ab")
        crate = sqlite3.connect(path, isolation_level=None)
        crate.execute("PRAGMA foreign_keys = ON")
        try:
            for op in ops:
                apply(store, crate, model, op)
        finally:
            crate.close()
    with Analytics(path) as a:
        assert a.mode == "live"
        churn, changes = a.edge_churn(freq), a.belief_changes(top)
    check_churn(churn, model.churn(freq))
    check_churn(churn, ref_churn(path, freq))
    check_changes(changes, model.changes(top))
    check_changes(changes, ref_changes(path, top))
