"""Beliefs about causal edges in the store (issue 13): validity windows, invalidation and
reinstatement, evidence, and the history that tells it all.

- every method's happy paths, table-driven, read back through the side tables, ``edge_history`` and
  ``edge_evidence`` (columns, dtypes, time order, and the order at equal times: the creation, weight
  changes, belief events, evidence);
- bad input: each case raises the documented class with a message naming the edge and the value,
  and leaves the file exactly as it was (a dump of every table through a second, plain connection);
- conflicts (invalidating twice, reinstating what is not invalidated), and the bulk form all or
  nothing (one bad id among 1000: nothing written);
- what the side tables hold survives the original crate's ``INSERT OR REPLACE`` of the edge (run
  through a plain sqlite3 connection with foreign keys on, as the crate does); a real delete (ours,
  another connection's, a cascade from a memory) removes it; evidence goes with its memory or
  reflexion episode; re-keying an edge by a plain ``UPDATE`` moves everything to the new id.

Everything is real: SQLite files under ``tmp_path``, a second sqlite3 connection for "another
connection", no mocks.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from omega_graph.errors import ConflictError, NotFoundError, OmegaGraphError, ValidationError
from omega_graph.models import StoredCausalEdge, StoredMemory, StoredReflexionEpisode
from omega_graph.schema import MIGRATIONS
from omega_graph.store import OmegaStore
from omega_graph.store._beliefs import TIME_MAX, TIME_MIN

SIDE_TABLES = ("omega_edge_events", "omega_edge_evidence", "omega_edge_weight_log")
#: The original crate's statements for the rows these tests touch (as in test_store_migrations.CRATE).
CRATE_REPLACE_EDGE = (
    "INSERT OR REPLACE INTO causal_edges (id, from_memory, to_memory, weight, edge_type, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
)
CRATE_REPLACE_MEMORY = (
    "INSERT OR REPLACE INTO memories (id, content, tier, importance, embedding_blob, created_at, "
    "last_accessed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
)
#: The small known graph of every test: a -> b -> c -> d and a -> d.
EDGES = {
    "e-ab": ("m-a", "m-b", 0.9, "causes", 100),
    "e-bc": ("m-b", "m-c", 0.5, "enables", 200),
    "e-cd": ("m-c", "m-d", 0.3, "causes", 300),
    "e-ad": ("m-a", "m-d", 0.7, "inhibits", 400),
}


def names(*parts: object) -> str:
    """A regex that finds every part (``repr`` of non-strings, strings as given) anywhere, any order.

    >>> bool(re.search(names("'e1'", 1.5), "causal edge 'e1'.at = 1.5 is invalid"))
    True
    >>> bool(re.search(names("'e2'"), "causal edge 'e1'.at = 1.5 is invalid"))
    False
    """
    return "^" + "".join(f"(?=.*{re.escape(p if isinstance(p, str) else repr(p))})" for p in parts)


def edge(eid: str, **changes: Any) -> StoredCausalEdge:
    """The edge ``eid`` of :data:`EDGES`, with ``changes`` to its fields."""
    return dataclasses.replace(StoredCausalEdge(eid, *EDGES[eid]), **changes)


def ids(store: OmegaStore, **query: Any) -> set[str]:
    """The edge ids of a snapshot."""
    return {k for _, _, k in store.causal_graph(**query).to_networkx().edges(keys=True)}


def side_rows(conn: sqlite3.Connection, edge_id: str) -> dict[str, list[tuple]]:
    """Every side-table row of one edge, ``seq`` included, in the order written."""
    return {
        t: conn.execute(f"SELECT * FROM {t} WHERE edge_id = ? ORDER BY seq", (edge_id,)).fetchall()
        for t in SIDE_TABLES
    }


def dump(path: str | Path) -> str:
    """Every schema object and row of the file's committed state, read by a second plain connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OmegaStore]:
    """A file store with memories m-a..m-d, reflexion episodes r-a (on m-a) and r-c (on m-c), and
    the edges of :data:`EDGES`."""
    s = OmegaStore(tmp_path / "beliefs.db")
    s.store_memories(StoredMemory(m, f"note {m}", 1, 0.5, None, 10, 10) for m in ("m-a", "m-b", "m-c", "m-d"))
    for rid, mid in (("r-a", "m-a"), ("r-c", "m-c")):
        s.store_reflexion(StoredReflexionEpisode(rid, mid, "t", "{}", "a", "o", 20))
    s.store_causal_edges(edge(e) for e in EDGES)
    yield s
    s.close()


@pytest.fixture
def other(store: OmegaStore) -> Iterator[sqlite3.Connection]:
    """Another connection to the store's file, like the original crate's: autocommit, foreign keys on."""
    assert store.path is not None
    conn = sqlite3.connect(store.path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA foreign_keys = ON")
    yield conn
    conn.close()


def evidence_rows(frame: pd.DataFrame) -> list[tuple]:
    """The rows of an ``edge_evidence`` frame; absent values must be None (not NaN) in every column."""
    for column in frame.columns:
        assert frame[column].dtype == ("int64" if column == "added_at" else object), column
    return list(frame.itertuples(index=False, name=None))


def history(store: OmegaStore, edge_id: str) -> list[tuple[int, str, str]]:
    frame = store.edge_history(edge_id)
    assert list(frame.columns) == ["at", "event", "detail"]
    assert frame["at"].dtype == "int64"
    return list(frame.itertuples(index=False, name=None))


# ----- valid time ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("valid_from", "valid_to", "detail", "inside", "outside"),
    [
        (100, 200, "valid from 100 to 200", [100, 150, 200], [99, 201]),
        (None, 200, "valid from - to 200", [TIME_MIN, 200], [201]),
        (100, None, "valid from 100 to -", [100, TIME_MAX], [99]),
        (None, None, "valid from - to -", [TIME_MIN, 0, TIME_MAX], []),
        (5, 5, "valid from 5 to 5", [5], [4, 6]),
        (TIME_MIN, TIME_MAX, f"valid from {TIME_MIN} to {TIME_MAX}", [TIME_MIN, TIME_MAX], []),
        (-1000, -10, "valid from -1000 to -10", [-1000, -10], [-1001, -9, 0]),
    ],
)
def test_set_edge_validity_records_the_window(
    store: OmegaStore,
    valid_from: int | None,
    valid_to: int | None,
    detail: str,
    inside: list[int],
    outside: list[int],
) -> None:
    before = int(time.time())
    store.set_edge_validity("e-ab", valid_from=valid_from, valid_to=valid_to)
    after = int(time.time())
    rows = store.connection.execute(
        "SELECT event, at, recorded_at, valid_from, valid_to FROM omega_edge_events WHERE edge_id = 'e-ab'"
    ).fetchall()
    assert len(rows) == 1
    event, at, recorded_at, lo, hi = rows[0]
    assert (event, lo, hi) == ("validity_set", valid_from, valid_to)
    assert before <= at == recorded_at <= after  # no time of its own: the time it was recorded
    (last,) = history(store, "e-ab")[1:]
    assert last[1:] == ("validity_set", detail) and before <= last[0] <= after
    for t in inside:
        assert "e-ab" in ids(store, valid_at=t), t
    for t in outside:
        assert "e-ab" not in ids(store, valid_at=t), t
    assert ids(store, valid_at=outside[0] if outside else 0) >= {"e-bc", "e-cd", "e-ad"}  # no window: valid


def test_the_latest_validity_setting_counts_and_the_earlier_stay_on_record(store: OmegaStore) -> None:
    store.set_edge_validity("e-ab", 100, 200)
    store.set_edge_validity("e-ab", 300, 400)
    assert [(t, d) for _, t, d in history(store, "e-ab")[1:]] == [
        ("validity_set", "valid from 100 to 200"),
        ("validity_set", "valid from 300 to 400"),
    ]
    assert "e-ab" not in ids(store, valid_at=150)
    assert "e-ab" in ids(store, valid_at=350)
    store.set_edge_validity("e-ab")  # open at both ends again: valid at every time
    assert "e-ab" in ids(store, valid_at=150)


# ----- transaction time: invalidate, reinstate ---------------------------------------------------------
#: (op, at, reason, superseded_by) steps on e-ab; each is recorded as one event with these values.
BELIEF_STEPS: list[Any] = [
    pytest.param([("invalidate", 500, "refuted by a later episode", None)], id="reason"),
    pytest.param([("invalidate", 500, None, None)], id="no-reason"),
    pytest.param([("invalidate", 500, "", None)], id="empty-reason"),
    pytest.param([("invalidate", 500, "replaced", "e-ad")], id="superseded-with-reason"),
    pytest.param([("invalidate", 500, None, "e-bc")], id="superseded"),
    pytest.param([("invalidate", 500, "r1", None), ("reinstate", 600, "r2", None)], id="reinstated"),
    pytest.param(
        [("invalidate", 7, None, None), ("reinstate", 7, None, None), ("invalidate", 7, "x", None)],
        id="equal-times-keep-the-order-written",
    ),
    pytest.param(
        [("invalidate", TIME_MIN, None, None), ("reinstate", TIME_MAX, None, None)], id="range-ends"
    ),
    pytest.param(
        [("invalidate", -5, None, None), ("reinstate", 0, "é ✓", None), ("invalidate", 1, None, "e-cd")],
        id="before-1970-and-unicode",
    ),
]


def _detail(reason: str | None, superseded_by: str | None) -> str:
    parts = [reason or ""] + ([f"superseded by {superseded_by!r}"] if superseded_by else [])
    return "; ".join(p for p in parts if p)


@pytest.mark.parametrize("steps", BELIEF_STEPS)
def test_invalidate_and_reinstate_are_recorded_in_order(
    store: OmegaStore, steps: list[tuple[str, int, str | None, str | None]]
) -> None:
    store.store_causal_edge(edge("e-ab", created_at=TIME_MIN))  # any time is after its creation
    before = int(time.time())
    for op, at, reason, sup in steps:
        if op == "invalidate":
            store.invalidate_causal_edge("e-ab", at=at, reason=reason, superseded_by=sup)
        else:
            store.reinstate_causal_edge("e-ab", at=at, reason=reason)
    after = int(time.time())
    rows = store.connection.execute(
        "SELECT event, at, reason, superseded_by, valid_from, valid_to, recorded_at FROM omega_edge_events "
        "WHERE edge_id = 'e-ab' ORDER BY seq"
    ).fetchall()
    assert [r[:6] for r in rows] == [(f"{op}d", at, reason, sup, None, None) for op, at, reason, sup in steps]
    assert all(before <= r[6] <= after for r in rows)  # recorded now, whatever ``at`` says
    told = history(store, "e-ab")
    assert [r for r in told if r[1] != "created"] == [
        (at, f"{op}d", _detail(r, sup)) for op, at, r, sup in steps
    ]
    assert told == sorted(told, key=lambda r: r[0])  # time order: the creation (at 100) among them
    invalidated_now = steps[-1][0] == "invalidate"
    assert ("e-ab" in ids(store)) is not invalidated_now
    assert "e-ab" in ids(store, include_invalidated=True)
    assert store.connection.execute("SELECT count(*) FROM causal_edges").fetchone() == (4,)  # no delete


@pytest.mark.parametrize("op", ["invalidate", "reinstate"])
def test_at_defaults_to_now(store: OmegaStore, op: str) -> None:
    if op == "reinstate":
        store.invalidate_causal_edge("e-ab", at=1_000)
    before = int(time.time())
    getattr(store, f"{op}_causal_edge")("e-ab")
    after = int(time.time())
    at, event = history(store, "e-ab")[-1][:2]
    assert event == f"{op}d" and before <= at <= after


@pytest.mark.parametrize(
    "make_ids",
    [
        pytest.param(lambda e: list(e), id="list"),
        pytest.param(lambda e: tuple(e), id="tuple"),
        pytest.param(lambda e: (x for x in e), id="generator"),
        pytest.param(lambda e: dict.fromkeys(e), id="dict-keys"),
        pytest.param(lambda e: iter(sorted(e, reverse=True)), id="iterator"),
    ],
)
def test_invalidate_causal_edges_takes_any_iterable(
    store: OmegaStore, make_ids: Callable[[list[str]], Any]
) -> None:
    wanted = ["e-ab", "e-cd", "e-ad"]
    assert store.invalidate_causal_edges(make_ids(wanted), at=900, reason="bulk") == 3
    for eid in wanted:
        assert history(store, eid)[-1] == (900, "invalidated", "bulk")
    assert history(store, "e-bc") == [(200, "created", "weight 0.5")]
    assert ids(store) == {"e-bc"}
    assert ids(store, known_at=899) == set(EDGES)


@pytest.mark.parametrize(
    "edge_id",
    ['e "quoted" \\ back', "e-ünïcødé-😀", "e\x00nul", "e\nnewline\ttab", "e-[1, 2]"],
    ids=["quotes", "non-ascii", "nul", "control", "json-like"],
)
def test_invalidate_causal_edges_keeps_every_id_exact(store: OmegaStore, edge_id: str) -> None:
    """The ids travel to SQLite as one JSON array (or bound one by one when JSON cannot carry them)."""
    store.store_causal_edge(StoredCausalEdge(edge_id, "m-a", "m-c", 0.5, "causes", 300))
    assert store.invalidate_causal_edges([edge_id, "e-ab"], at=900, reason="odd") == 2
    assert history(store, edge_id)[-1] == (900, "invalidated", "odd")
    assert edge_id not in ids(store) and "e-ab" not in ids(store)


def test_invalidate_causal_edges_of_nothing_writes_nothing(store: OmegaStore) -> None:
    assert store.path is not None
    before = dump(store.path)
    assert store.invalidate_causal_edges([], at=5) == 0
    assert store.invalidate_causal_edges(iter(()), at=5) == 0
    assert dump(store.path) == before


def test_invalidate_causal_edges_defaults_at_to_now_and_follows_reinstatements(store: OmegaStore) -> None:
    store.invalidate_causal_edge("e-ab", at=100)
    store.reinstate_causal_edge("e-ab", at=200)
    before = int(time.time())
    assert store.invalidate_causal_edges(["e-ab", "e-bc"]) == 2
    after = int(time.time())
    for eid in ("e-ab", "e-bc"):
        at, event, detail = history(store, eid)[-1]
        assert event == "invalidated" and detail == "" and before <= at <= after


def test_superseded_by_may_name_an_invalidated_edge(store: OmegaStore) -> None:
    store.invalidate_causal_edge("e-ad", at=410)
    store.invalidate_causal_edge("e-ab", at=420, superseded_by="e-ad")
    assert history(store, "e-ab")[-1] == (420, "invalidated", "superseded by 'e-ad'")


# ----- evidence ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "row", "detail"),
    [
        ({"memory_id": "m-c"}, ("m-c", None, None), "memory 'm-c'"),
        ({"reflexion_id": "r-a"}, (None, "r-a", None), "reflexion 'r-a'"),
        ({"note": "seen in the logs"}, (None, None, "seen in the logs"), "seen in the logs"),
        ({"note": ""}, (None, None, ""), ""),
        (
            {"memory_id": "m-a", "reflexion_id": "r-c", "note": "both"},
            ("m-a", "r-c", "both"),
            "memory 'm-a'; reflexion 'r-c'; both",
        ),
        ({"memory_id": "m-b", "note": "n"}, ("m-b", None, "n"), "memory 'm-b'; n"),
    ],
)
def test_add_edge_evidence_and_read_it_back(
    store: OmegaStore, kwargs: dict[str, Any], row: tuple, detail: str
) -> None:
    before = int(time.time())
    store.add_edge_evidence("e-ab", **kwargs)
    after = int(time.time())
    frame = store.edge_evidence("e-ab")
    assert list(frame.columns) == ["memory_id", "reflexion_id", "note", "added_at"]
    assert frame["added_at"].dtype == "int64"
    (got,) = evidence_rows(frame)
    assert got[:3] == row and before <= got[3] <= after
    assert history(store, "e-ab")[-1] == (got[3], "evidence_added", detail)
    assert store.edge_evidence("e-bc").empty  # other edges untouched
    assert list(store.edge_evidence("e-bc").columns) == list(frame.columns)


def test_edge_evidence_lists_every_link_in_the_order_added(
    store: OmegaStore, other: sqlite3.Connection
) -> None:
    store.add_edge_evidence("e-ab", memory_id="m-c", note="first")
    store.add_edge_evidence("e-ab", reflexion_id="r-a")
    store.add_edge_evidence("e-ab", memory_id="m-c", note="the same memory again")
    store.add_edge_evidence("e-bc", note="another edge")
    frame = store.edge_evidence("e-ab")
    assert evidence_rows(frame[["memory_id", "reflexion_id", "note"]]) == [
        ("m-c", None, "first"),
        (None, "r-a", None),
        ("m-c", None, "the same memory again"),
    ]
    # time order first (added_at), then the order written
    other.execute("UPDATE omega_edge_evidence SET added_at = 5 WHERE note = 'the same memory again'")
    assert [r[2] for r in evidence_rows(store.edge_evidence("e-ab"))] == [
        "the same memory again",
        "first",
        None,
    ]


# ----- history: columns and order ---------------------------------------------------------------------
def test_edge_history_of_an_untouched_edge_is_its_creation(store: OmegaStore) -> None:
    for eid, (_, _, weight, _, created) in EDGES.items():
        assert history(store, eid) == [(created, "created", f"weight {weight}")]


@pytest.mark.parametrize(
    ("change", "logged"),
    [
        pytest.param(lambda s, o: s.store_causal_edge(edge("e-ab", weight=0.4)), ["0.9 -> 0.4"], id="store-upsert"),
        pytest.param(lambda s, o: o.execute("UPDATE causal_edges SET weight = 0.25 WHERE id = 'e-ab'"), ["0.9 -> 0.25"], id="plain-update"),
        pytest.param(lambda s, o: s.store_causal_edge(edge("e-ab")), [], id="same-weight-is-no-change"),
        pytest.param(lambda s, o: o.execute("UPDATE causal_edges SET edge_type = 'x' WHERE id = 'e-ab'"), [], id="other-column"),
        pytest.param(lambda s, o: o.execute(CRATE_REPLACE_EDGE, ("e-ab", "m-a", "m-b", 0.1, "causes", 100)), [], id="crate-replace-unseen"),
    ],
)  # fmt: skip
def test_weight_changes_in_place_are_in_the_history(
    store: OmegaStore,
    other: sqlite3.Connection,
    change: Callable[[OmegaStore, sqlite3.Connection], Any],
    logged: list[str],
) -> None:
    before = int(time.time())
    change(store, other)
    after = int(time.time())
    rows = history(store, "e-ab")
    assert rows[0][:2] == (100, "created")
    assert [d for _, e, d in rows if e == "weight_changed"] == logged
    assert all(before <= at <= after for at, e, _ in rows if e == "weight_changed")


def test_edge_history_orders_by_time_then_creation_weights_beliefs_evidence(
    store: OmegaStore, other: sqlite3.Connection
) -> None:
    """Written in a scrambled order, nearly all at time 100 (validity and evidence by ``at=``, the
    weight log's times by plain SQL): the history sorts by time, and at equal times puts the creation
    first, then weight changes, belief events and evidence, each kind in the order written."""
    store.add_edge_evidence("e-ab", note="evidence 1", at=100)
    store.invalidate_causal_edge("e-ab", at=100, reason="r1")
    store.store_causal_edge(edge("e-ab", weight=0.4))
    store.set_edge_validity("e-ab", 10, 20, at=100)
    store.reinstate_causal_edge("e-ab", at=100, reason="r2")
    store.add_edge_evidence("e-ab", memory_id="m-c", at=100)
    other.execute("UPDATE causal_edges SET weight = 0.6 WHERE id = 'e-ab'")
    store.add_edge_evidence("e-ab", reflexion_id="r-a", at=50)  # before the edge's creation
    store.invalidate_causal_edge("e-ab", at=150, reason="r3", superseded_by="e-ad")
    store.set_edge_validity("e-ab", None, 30, at=TIME_MAX)
    other.execute("UPDATE omega_edge_weight_log SET at = 100")
    assert history(store, "e-ab") == [
        (50, "evidence_added", "reflexion 'r-a'"),
        (100, "created", "weight 0.6"),
        (100, "weight_changed", "0.9 -> 0.4"),
        (100, "weight_changed", "0.4 -> 0.6"),
        (100, "invalidated", "r1"),
        (100, "validity_set", "valid from 10 to 20"),
        (100, "reinstated", "r2"),
        (100, "evidence_added", "evidence 1"),
        (100, "evidence_added", "memory 'm-c'"),
        (150, "invalidated", "r3; superseded by 'e-ad'"),
        (TIME_MAX, "validity_set", "valid from - to 30"),
    ]
    assert history(store, "e-ad") == [(400, "created", "weight 0.7")]  # superseding edge: untouched
    assert [r[3] for r in evidence_rows(store.edge_evidence("e-ab"))] == [50, 100, 100]


@pytest.mark.parametrize("at", [TIME_MIN, -1, 0, 100, TIME_MAX])
def test_validity_and_evidence_take_the_time_they_were_stated(store: OmegaStore, at: int) -> None:
    """``at=`` back-fills a history: the validity setting and the evidence are dated ``at``; the
    validity event still records when it was written."""
    before = int(time.time())
    store.set_edge_validity("e-ab", 1, 2, at=at)
    store.add_edge_evidence("e-ab", note="back-filled", at=at)
    after = int(time.time())
    at_, recorded = store.connection.execute(
        "SELECT at, recorded_at FROM omega_edge_events WHERE edge_id = 'e-ab'"
    ).fetchone()
    assert at_ == at and before <= recorded <= after
    assert evidence_rows(store.edge_evidence("e-ab")) == [(None, None, "back-filled", at)]
    assert [r for r in history(store, "e-ab") if r[1] != "created"] == [
        (at, "validity_set", "valid from 1 to 2"),
        (at, "evidence_added", "back-filled"),
    ]
    assert "e-ab" not in ids(store, valid_at=3)  # the window counts whatever its date


# ----- bad input: a clean error naming the edge and the value; the file unchanged ---------------------
def _invalidated(s: OmegaStore) -> None:
    s.invalidate_causal_edge("e-ab", at=500)


def _reinstated(s: OmegaStore) -> None:
    s.invalidate_causal_edge("e-ab", at=500)
    s.reinstate_causal_edge("e-ab", at=600)


BAD: list[Any] = [
    # unknown edges (and ids that are no ids)
    ("validity-unknown-edge", None, lambda s: s.set_edge_validity("ghost", 1, 2), NotFoundError, ["'ghost'"]),
    ("invalidate-unknown-edge", None, lambda s: s.invalidate_causal_edge("ghost", at=1), NotFoundError, ["'ghost'"]),
    ("reinstate-unknown-edge", None, lambda s: s.reinstate_causal_edge("ghost", at=1), NotFoundError, ["'ghost'"]),
    ("evidence-unknown-edge", None, lambda s: s.add_edge_evidence("ghost", note="n"), NotFoundError, ["'ghost'"]),
    ("evidence-of-unknown-edge", None, lambda s: s.edge_evidence("ghost"), NotFoundError, ["'ghost'"]),
    ("history-of-unknown-edge", None, lambda s: s.edge_history("ghost"), NotFoundError, ["'ghost'"]),
    ("edge-id-none", None, lambda s: s.invalidate_causal_edge(None, at=1), ValidationError, ["None"]),
    ("edge-id-int", None, lambda s: s.set_edge_validity(5, 1, 2), ValidationError, ["= 5"]),
    ("edge-id-empty", None, lambda s: s.add_edge_evidence("", note="n"), ValidationError, ["''"]),
    ("edge-id-other-case", None, lambda s: s.invalidate_causal_edge("E-AB", at=1), NotFoundError, ["'E-AB'"]),
    # valid_to < valid_from, and times that are no Unix seconds in years 1..9999
    ("valid-to-before-from", None, lambda s: s.set_edge_validity("e-ab", 200, 100), ValidationError, ["'e-ab'", "valid_to", "100", "200"]),
    ("valid-from-float", None, lambda s: s.set_edge_validity("e-ab", 1.5, None), ValidationError, ["'e-ab'", "valid_from", 1.5]),
    ("valid-from-integral-float", None, lambda s: s.set_edge_validity("e-ab", 100.0, None), ValidationError, ["'e-ab'", "valid_from", 100.0]),
    ("valid-to-str", None, lambda s: s.set_edge_validity("e-ab", None, "200"), ValidationError, ["'e-ab'", "valid_to", "'200'"]),
    ("valid-to-bool", None, lambda s: s.set_edge_validity("e-ab", None, True), ValidationError, ["'e-ab'", "valid_to", True]),
    ("valid-from-before-year-1", None, lambda s: s.set_edge_validity("e-ab", TIME_MIN - 1), ValidationError, ["'e-ab'", TIME_MIN - 1]),
    ("valid-to-after-year-9999", None, lambda s: s.set_edge_validity("e-ab", None, TIME_MAX + 1), ValidationError, ["'e-ab'", TIME_MAX + 1]),
    ("at-float", None, lambda s: s.invalidate_causal_edge("e-ab", at=1.5e9), ValidationError, ["'e-ab'", "at", 1.5e9]),
    ("at-str", None, lambda s: s.invalidate_causal_edge("e-ab", at="now"), ValidationError, ["'e-ab'", "'now'"]),
    ("at-bool", None, lambda s: s.invalidate_causal_edge("e-ab", at=False), ValidationError, ["'e-ab'", "False"]),
    ("at-after-year-9999", None, lambda s: s.invalidate_causal_edge("e-ab", at=TIME_MAX + 1), ValidationError, ["'e-ab'", TIME_MAX + 1]),
    ("at-before-year-1", None, lambda s: s.invalidate_causal_edge("e-ab", at=TIME_MIN - 1), ValidationError, ["'e-ab'", TIME_MIN - 1]),
    ("at-huge", None, lambda s: s.invalidate_causal_edge("e-ab", at=2**63), ValidationError, ["'e-ab'", 2**63]),
    ("invalidate-before-creation", None, lambda s: s.invalidate_causal_edge("e-ab", at=99), ValidationError, ["'e-ab'", "at = 99", "created_at", "100"]),
    ("bulk-before-creation", None, lambda s: s.invalidate_causal_edges(["e-ab", "e-ad"], at=399), ValidationError, ["'e-ad'", "399", "created_at", "400"]),
    ("validity-at-float", None, lambda s: s.set_edge_validity("e-ab", 1, 2, at=1.5), ValidationError, ["'e-ab'", "at", 1.5]),
    ("validity-at-after-year-9999", None, lambda s: s.set_edge_validity("e-ab", 1, 2, at=TIME_MAX + 1), ValidationError, ["'e-ab'", TIME_MAX + 1]),
    ("evidence-at-str", None, lambda s: s.add_edge_evidence("e-ab", note="n", at="today"), ValidationError, ["'e-ab'", "at", "'today'"]),
    ("evidence-at-bool", None, lambda s: s.add_edge_evidence("e-ab", note="n", at=True), ValidationError, ["'e-ab'", "at", True]),
    ("evidence-at-before-year-1", None, lambda s: s.add_edge_evidence("e-ab", note="n", at=TIME_MIN - 1), ValidationError, ["'e-ab'", TIME_MIN - 1]),
    ("reinstate-at-float", _invalidated, lambda s: s.reinstate_causal_edge("e-ab", at=600.0), ValidationError, ["'e-ab'", 600.0]),
    ("reinstate-before-invalidation", _invalidated, lambda s: s.reinstate_causal_edge("e-ab", at=499), ValidationError, ["'e-ab'", "499", "500"]),
    ("invalidate-before-reinstatement", _reinstated, lambda s: s.invalidate_causal_edge("e-ab", at=599), ValidationError, ["'e-ab'", "599", "600"]),
    ("reason-not-text", None, lambda s: s.invalidate_causal_edge("e-ab", at=1000, reason=5), ValidationError, ["'e-ab'", "reason", "5"]),
    ("reinstate-reason-not-text", _invalidated, lambda s: s.reinstate_causal_edge("e-ab", at=600, reason=b"x"), ValidationError, ["'e-ab'", "reason", b"x"]),
    # superseded_by naming the edge itself or an unknown edge
    ("superseded-by-itself", None, lambda s: s.invalidate_causal_edge("e-ab", at=1000, superseded_by="e-ab"), ValidationError, ["'e-ab'", "superseded_by"]),
    ("superseded-by-unknown", None, lambda s: s.invalidate_causal_edge("e-ab", at=1000, superseded_by="ghost"), NotFoundError, ["'e-ab'", "'ghost'"]),
    ("superseded-by-not-an-id", None, lambda s: s.invalidate_causal_edge("e-ab", at=1000, superseded_by=7), ValidationError, ["'e-ab'", "superseded_by", "7"]),
    # evidence pointing at a missing memory or episode, or at nothing
    ("evidence-missing-memory", None, lambda s: s.add_edge_evidence("e-ab", memory_id="m-ghost"), NotFoundError, ["'e-ab'", "'m-ghost'"]),
    ("evidence-missing-episode", None, lambda s: s.add_edge_evidence("e-ab", reflexion_id="r-ghost"), NotFoundError, ["'e-ab'", "'r-ghost'"]),
    ("evidence-memory-ok-episode-missing", None, lambda s: s.add_edge_evidence("e-ab", memory_id="m-a", reflexion_id="r-ghost"), NotFoundError, ["'e-ab'", "'r-ghost'"]),
    ("evidence-episode-id-as-memory", None, lambda s: s.add_edge_evidence("e-ab", memory_id="r-a"), NotFoundError, ["'e-ab'", "'r-a'"]),
    ("evidence-memory-not-an-id", None, lambda s: s.add_edge_evidence("e-ab", memory_id=3), ValidationError, ["'e-ab'", "memory_id", "3"]),
    ("evidence-memory-empty", None, lambda s: s.add_edge_evidence("e-ab", memory_id=""), ValidationError, ["'e-ab'", "memory_id", "''"]),
    ("evidence-note-not-text", None, lambda s: s.add_edge_evidence("e-ab", note=1.5), ValidationError, ["'e-ab'", "note", "1.5"]),
    ("evidence-of-nothing", None, lambda s: s.add_edge_evidence("e-ab"), ValidationError, ["'e-ab'", "evidence"]),
    # the bulk form
    ("bulk-one-str", None, lambda s: s.invalidate_causal_edges("e-ab", at=1000), ValidationError, ["edge_ids", "'e-ab'"]),
    ("bulk-at-float", None, lambda s: s.invalidate_causal_edges(["e-ab"], at=1.0), ValidationError, ["at", "1.0"]),
    ("bulk-at-after-year-9999", None, lambda s: s.invalidate_causal_edges(["e-ab"], at=TIME_MAX + 1), ValidationError, [TIME_MAX + 1]),
    ("bulk-reason-not-text", None, lambda s: s.invalidate_causal_edges(["e-ab"], at=1000, reason=["r"]), ValidationError, ["reason", "['r']"]),
    ("bulk-unknown", None, lambda s: s.invalidate_causal_edges(["e-ab", "ghost"], at=1000), NotFoundError, ["'ghost'"]),
    ("bulk-not-an-id", None, lambda s: s.invalidate_causal_edges(["e-ab", 5], at=1000), ValidationError, ["edge_ids", "5"]),
    ("bulk-before-reinstatement", _reinstated, lambda s: s.invalidate_causal_edges(["e-bc", "e-ab"], at=599), ValidationError, ["'e-ab'", "599", "600"]),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "call", "error", "parts"), [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_input_raises_names_the_edge_and_value_and_changes_nothing(
    store: OmegaStore,
    setup: Callable[[OmegaStore], None] | None,
    call: Callable[[OmegaStore], Any],
    error: type[OmegaGraphError],
    parts: list[object],
) -> None:
    assert store.path is not None
    if setup is not None:
        setup(store)
    before = dump(store.path)
    with pytest.raises(error, match=names(*parts)) as info:
        call(store)
    assert isinstance(info.value, OmegaGraphError)
    assert isinstance(info.value, LookupError if error is NotFoundError else ValueError)
    assert dump(store.path) == before
    assert not store.connection.in_transaction  # and the store goes on working
    store.add_edge_evidence("e-cd", note="still writable")


CONFLICTS: list[Any] = [
    ("invalidate-twice", _invalidated, lambda s: s.invalidate_causal_edge("e-ab", at=700), ["'e-ab'", "already invalidated", "500"]),
    ("invalidate-twice-same-time", _invalidated, lambda s: s.invalidate_causal_edge("e-ab", at=500), ["'e-ab'", "already invalidated"]),
    ("invalidate-twice-earlier", _invalidated, lambda s: s.invalidate_causal_edge("e-ab", at=1), ["'e-ab'"]),
    ("invalidate-twice-superseded", _invalidated, lambda s: s.invalidate_causal_edge("e-ab", at=700, superseded_by="e-bc"), ["'e-ab'"]),
    ("reinstate-never-invalidated", None, lambda s: s.reinstate_causal_edge("e-ab", at=700), ["'e-ab'", "not invalidated"]),
    ("reinstate-twice", _reinstated, lambda s: s.reinstate_causal_edge("e-ab", at=700), ["'e-ab'", "not invalidated"]),
    ("reinstate-only-validity-set", lambda s: s.set_edge_validity("e-ab", 1, 2), lambda s: s.reinstate_causal_edge("e-ab"), ["'e-ab'"]),
    ("bulk-one-already-invalidated", _invalidated, lambda s: s.invalidate_causal_edges(["e-bc", "e-ab", "e-cd"], at=700), ["'e-ab'", "already invalidated"]),
    ("bulk-named-twice", None, lambda s: s.invalidate_causal_edges(["e-ab", "e-bc", "e-ab"], at=700), ["'e-ab'", "twice"]),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "call", "parts"), [pytest.param(*c[1:], id=c[0]) for c in CONFLICTS])
def test_conflicts_raise_and_change_nothing(
    store: OmegaStore,
    setup: Callable[[OmegaStore], None] | None,
    call: Callable[[OmegaStore], Any],
    parts: list[object],
) -> None:
    assert store.path is not None
    if setup is not None:
        setup(store)
    before = dump(store.path)
    with pytest.raises(ConflictError, match=names(*parts)):
        call(store)
    assert dump(store.path) == before
    assert not store.connection.in_transaction


# ----- bulk: all or nothing -----------------------------------------------------------------------------
@pytest.fixture
def big(tmp_path: Path) -> Iterator[OmegaStore]:
    """A file store with 1010 edges b0000..b1009 among 50 memories; b0007 invalidated at 500 and
    b0011 invalidated at 500, reinstated at 600."""
    s = OmegaStore(tmp_path / "big.db")
    s.store_memories(StoredMemory(f"n{i}", "", 1, 0.5, None, 0, 0) for i in range(50))
    s.store_causal_edges(
        StoredCausalEdge(f"b{i:04d}", f"n{i % 50}", f"n{(i * 7 + 1) % 50}", 0.5, "causes", 0)
        for i in range(1010)
    )
    s.invalidate_causal_edge("b0007", at=500)
    s.invalidate_causal_edge("b0011", at=500)
    s.reinstate_causal_edge("b0011", at=600)
    yield s
    s.close()


def _thousand(bad_at: int, bad: object) -> list[object]:
    """1000 ids: 999 edges that can be invalidated (b0010 on, but b0011), ``bad`` at ``bad_at``."""
    out: list[object] = [f"b{i:04d}" for i in range(10, 1010) if i != 11]
    out.insert(bad_at, bad)
    return out


@pytest.mark.parametrize(
    ("position", "bad", "at", "error", "parts"),
    [
        (500, "ghost", 700, NotFoundError, ["'ghost'"]),
        (0, "ghost", 700, NotFoundError, ["'ghost'"]),
        (999, "ghost", 700, NotFoundError, ["'ghost'"]),
        (500, "b0007", 700, ConflictError, ["'b0007'", "already invalidated"]),
        (999, "b0100", 700, ConflictError, ["'b0100'", "twice"]),
        (500, "b0011", 599, ValidationError, ["'b0011'", "599", "600"]),
        (500, None, 700, ValidationError, ["edge_ids", "None"]),
        (999, "", 700, ValidationError, ["edge_ids", "''"]),
        (250, 42, 700, ValidationError, ["edge_ids", "42"]),
    ],
    ids=["unknown-middle", "unknown-first", "unknown-last", "already-invalidated", "named-twice",
         "before-its-reinstatement", "none", "empty", "int"],
)  # fmt: skip
def test_bulk_invalidation_with_one_bad_id_among_1000_writes_nothing(
    big: OmegaStore, position: int, bad: object, at: int, error: type[Exception], parts: list[object]
) -> None:
    assert big.path is not None
    edge_ids: list[Any] = _thousand(position, bad)
    assert len(edge_ids) == 1000
    before = dump(big.path)
    with pytest.raises(error, match=names(*parts)):
        big.invalidate_causal_edges(iter(edge_ids), at=at, reason="bulk")
    assert dump(big.path) == before
    assert not big.connection.in_transaction
    # and without the bad id, the same call writes every row
    clean = [e for i, e in enumerate(edge_ids) if i != position]
    assert big.invalidate_causal_edges(clean, at=at, reason="bulk") == 999
    rows = big.connection.execute(
        "SELECT edge_id, at, reason FROM omega_edge_events WHERE event = 'invalidated' AND at = ?", (at,)
    ).fetchall()
    assert sorted(rows) == sorted((e, at, "bulk") for e in clean)
    assert ids(big) == {f"b{i:04d}" for i in range(1010)} - {"b0007"} - set(clean)


def test_bulk_invalidation_inside_a_transaction_rolls_back_with_it(big: OmegaStore) -> None:
    assert big.path is not None
    before = dump(big.path)
    with pytest.raises(RuntimeError), big.transaction():
        assert big.invalidate_causal_edges([f"b{i:04d}" for i in range(100, 200)], at=700) == 100
        big.set_edge_validity("b0001", 1, 2)
        big.add_edge_evidence("b0001", memory_id="n1")
        raise RuntimeError("changed my mind")
    assert dump(big.path) == before


# ----- survival: the crate's INSERT OR REPLACE keeps the beliefs ----------------------------------------
def _believe(store: OmegaStore) -> None:
    """Give e-ab a validity window, an invalidation, a reinstatement, evidence and a weight change;
    and e-bc an invalidation superseded by e-ab."""
    store.set_edge_validity("e-ab", 50, 5_000)
    store.invalidate_causal_edge("e-ab", at=500, reason="doubt", superseded_by="e-ad")
    store.reinstate_causal_edge("e-ab", at=600, reason="confirmed")
    store.add_edge_evidence("e-ab", memory_id="m-c", reflexion_id="r-a", note="why")
    store.add_edge_evidence("e-ab", note="second")
    store.store_causal_edge(edge("e-ab", weight=0.8))
    store.invalidate_causal_edge("e-bc", at=700, reason="replaced", superseded_by="e-ab")


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("e-ab", "m-a", "m-b", 0.8, "causes", 100), id="same-row"),
        pytest.param(("e-ab", "m-a", "m-b", 0.2, "causes", 100), id="new-weight"),
        pytest.param(("e-ab", "m-d", "m-c", 0.6, "enables", 150), id="new-endpoints-type-and-time"),
    ],
)
@pytest.mark.parametrize("crate_init", [False, True], ids=["", "after-crate-create-if-not-exists"])
def test_crate_insert_or_replace_keeps_validity_events_and_evidence(
    store: OmegaStore, other: sqlite3.Connection, row: tuple, crate_init: bool
) -> None:
    _believe(store)
    kept = {e: side_rows(store.connection, e) for e in EDGES}
    evidence = store.edge_evidence("e-ab")
    told = history(store, "e-ab")
    rowid = store.connection.execute("SELECT rowid FROM causal_edges WHERE id = 'e-ab'").fetchone()[0]
    if crate_init:  # the crate's OmegaStore::new re-runs its CREATE ... IF NOT EXISTS
        other.executescript(MIGRATIONS[0].sql)
    other.execute(CRATE_REPLACE_EDGE, row)
    other.execute(CRATE_REPLACE_EDGE, ("e-bc", "m-b", "m-c", 0.5, "enables", 200))
    # a real replace: the row is new (the crate's implicit delete) ...
    new_rowid = store.connection.execute("SELECT rowid FROM causal_edges WHERE id = 'e-ab'").fetchone()[0]
    assert new_rowid != rowid
    assert store.get_causal_edge("e-ab") == StoredCausalEdge(*row)
    # ... and everything the side tables held about it is still there, unchanged
    assert {e: side_rows(store.connection, e) for e in EDGES} == kept
    pd.testing.assert_frame_equal(store.edge_evidence("e-ab"), evidence)
    assert history(store, "e-ab")[1:] == [r for r in told if r[1] != "created"]
    assert history(store, "e-ab")[0] == (row[5], "created", f"weight {row[3]}")
    # and the snapshots still apply them
    assert ids(store) == {"e-ab", "e-cd", "e-ad"}  # e-bc stays invalidated
    assert ids(store, known_at=650) == {"e-ab", "e-bc", "e-cd", "e-ad"}
    assert ids(store, known_at=550) == {"e-bc", "e-cd", "e-ad"}  # e-ab invalidated in [500, 600)
    assert "e-ab" not in ids(store, valid_at=5_001)
    assert other.execute("PRAGMA foreign_key_check").fetchall() == []


def test_store_upsert_keeps_the_beliefs_and_logs_the_weight(store: OmegaStore) -> None:
    _believe(store)
    kept = side_rows(store.connection, "e-ab")
    store.store_causal_edge(edge("e-ab", weight=0.35, created_at=90))
    now = side_rows(store.connection, "e-ab")
    assert now["omega_edge_events"] == kept["omega_edge_events"]
    assert now["omega_edge_evidence"] == kept["omega_edge_evidence"]
    assert now["omega_edge_weight_log"][:-1] == kept["omega_edge_weight_log"]
    assert now["omega_edge_weight_log"][-1][1:4] == ("e-ab", 0.8, 0.35)
    assert history(store, "e-ab")[0] == (90, "created", "weight 0.35")


# ----- a real delete removes them --------------------------------------------------------------------
DELETES: list[Any] = [
    pytest.param(lambda s, o: s.delete_causal_edge("e-ab"), {"e-ab"}, id="store-delete-edge"),
    pytest.param(lambda s, o: o.execute("DELETE FROM causal_edges WHERE id = 'e-ab'"), {"e-ab"}, id="plain-delete-other-connection"),
    pytest.param(lambda s, o: s.delete_memory("m-b"), {"e-ab", "e-bc"}, id="store-delete-memory-cascade"),
    pytest.param(lambda s, o: o.execute("DELETE FROM memories WHERE id = 'm-b'"), {"e-ab", "e-bc"}, id="plain-delete-memory-cascade"),
    pytest.param(lambda s, o: o.execute(CRATE_REPLACE_MEMORY, ("m-b", "again", 2, 0.5, None, 1, 1)), {"e-ab", "e-bc"}, id="crate-replace-memory-cascade"),
    pytest.param(lambda s, o: s.delete_memory("m-a"), {"e-ab", "e-ad"}, id="store-delete-source-memory"),
]  # fmt: skip


@pytest.mark.parametrize(("delete", "gone"), DELETES)
def test_a_real_delete_removes_the_beliefs(
    store: OmegaStore,
    other: sqlite3.Connection,
    delete: Callable[[OmegaStore, sqlite3.Connection], Any],
    gone: set[str],
) -> None:
    _believe(store)
    store.add_edge_evidence("e-ad", note="about e-ad")
    store.set_edge_validity("e-cd", 1, 2)
    kept = {e: side_rows(store.connection, e) for e in set(EDGES) - gone}
    delete(store, other)
    assert {r[0] for r in store.connection.execute("SELECT id FROM causal_edges")} == set(EDGES) - gone
    for e in gone:
        assert side_rows(store.connection, e) == {t: [] for t in SIDE_TABLES}
        with pytest.raises(NotFoundError, match=names(e)):
            store.edge_history(e)
    assert {e: side_rows(store.connection, e) for e in kept} == kept  # the others keep theirs
    # an edge stored again under the same id starts a new story
    for m in ("m-a", "m-b"):
        store.store_memory(StoredMemory(m, f"note {m}", 1, 0.5, None, 10, 10))
    store.store_causal_edge(edge("e-ab"))
    assert history(store, "e-ab") == [(100, "created", "weight 0.9")]
    assert store.edge_evidence("e-ab").empty
    assert "e-ab" in ids(store, valid_at=10_000)


# ----- evidence goes with its memory or episode -----------------------------------------------------
EVIDENCE_DELETES: list[Any] = [
    pytest.param(lambda s, o: s.delete_memory("m-c"), {"memory m-c"}, id="store-delete-memory"),
    pytest.param(lambda s, o: o.execute("DELETE FROM memories WHERE id = 'm-c'"), {"memory m-c"}, id="plain-delete-memory"),
    pytest.param(lambda s, o: s.delete_reflexion("r-a"), {"episode r-a"}, id="store-delete-reflexion"),
    pytest.param(lambda s, o: o.execute("DELETE FROM reflexion_episodes WHERE id = 'r-a'"), {"episode r-a"}, id="plain-delete-reflexion"),
    pytest.param(lambda s, o: s.delete_memory("m-a"), {"episode r-a", "memory m-a"}, id="memory-cascades-to-its-episode"),
    pytest.param(lambda s, o: o.execute("DELETE FROM memories WHERE id = 'm-a'"), {"episode r-a", "memory m-a"}, id="plain-memory-cascades-to-its-episode"),
    pytest.param(lambda s, o: o.execute(CRATE_REPLACE_MEMORY, ("m-a", "again", 2, 0.5, None, 1, 1)), {"episode r-a"}, id="crate-replace-cascades-to-its-episode"),
    pytest.param(lambda s, o: o.execute(CRATE_REPLACE_MEMORY, ("m-c", "again", 2, 0.5, None, 1, 1)), set(), id="crate-replace-keeps-the-memory"),
    pytest.param(lambda s, o: s.delete_causal_edge("e-ab"), set(), id="another-edge-deleted"),
]  # fmt: skip


@pytest.mark.parametrize(("delete", "gone"), EVIDENCE_DELETES)
def test_evidence_goes_with_its_memory_or_episode(
    store: OmegaStore,
    other: sqlite3.Connection,
    delete: Callable[[OmegaStore, sqlite3.Connection], Any],
    gone: set[str],
) -> None:
    """Evidence for e-xy (between two memories no case deletes) citing m-c, r-a (an episode of m-a),
    m-a, and a plain note: only the links to what was deleted go. The crate's ``INSERT OR REPLACE`` of
    a memory keeps the memory (so its links), but cascades to its episodes (so theirs go)."""
    store.store_memories(StoredMemory(m, "", 1, 0.5, None, 0, 0) for m in ("m-x", "m-y"))
    store.store_causal_edge(StoredCausalEdge("e-xy", "m-x", "m-y", 0.5, "causes", 1))
    store.invalidate_causal_edge("e-xy", at=5, reason="kept")
    links = {
        "memory m-c": ("m-c", None, None),
        "episode r-a": (None, "r-a", None),
        "memory m-a": ("m-a", None, "about m-a"),
        "note": (None, None, "just a note"),
    }
    for memory_id, reflexion_id, note in links.values():
        store.add_edge_evidence("e-xy", memory_id=memory_id, reflexion_id=reflexion_id, note=note)
        store.add_edge_evidence("e-ad", note="other edge")
    events = side_rows(store.connection, "e-xy")["omega_edge_events"]
    delete(store, other)
    got = store.edge_evidence("e-xy")[["memory_id", "reflexion_id", "note"]]
    assert evidence_rows(got) == [v for k, v in links.items() if k not in gone]
    assert side_rows(store.connection, "e-xy")["omega_edge_events"] == events
    assert [e for _, e, _ in history(store, "e-xy")].count("evidence_added") == len(links) - len(gone)


def test_evidence_citing_a_memory_goes_when_only_that_memory_goes(
    store: OmegaStore, other: sqlite3.Connection
) -> None:
    store.add_edge_evidence("e-ab", memory_id="m-d")  # m-d is not an endpoint of e-ab
    store.add_edge_evidence("e-ab", memory_id="m-c", reflexion_id="r-c")
    store.add_edge_evidence("e-ad", memory_id="m-d")  # e-ad ends at m-d: deleted with it
    store.delete_memory("m-d")
    assert store.edge_evidence("e-ab")["memory_id"].tolist() == ["m-c"]
    assert store.connection.execute(
        "SELECT count(*) FROM omega_edge_evidence WHERE memory_id = 'm-d'"
    ).fetchone() == (0,)
    store.delete_reflexion("r-c")  # a link citing both goes when either goes
    assert store.edge_evidence("e-ab").empty
    assert history(store, "e-ab") == [(100, "created", "weight 0.9")]


# ----- re-keying an edge moves them ------------------------------------------------------------------
@pytest.mark.parametrize("via", ["other-connection", "store-connection"])
def test_rekeying_an_edge_by_plain_update_moves_its_beliefs(
    store: OmegaStore, other: sqlite3.Connection, via: str
) -> None:
    _believe(store)
    store.invalidate_causal_edge("e-ab", at=800, reason="late doubt")
    kept = side_rows(store.connection, "e-ab")
    others = {e: side_rows(store.connection, e) for e in ("e-bc", "e-cd", "e-ad")}
    told = history(store, "e-ab")
    evidence = store.edge_evidence("e-ab")
    conn = other if via == "other-connection" else store.connection
    conn.execute("UPDATE causal_edges SET id = 'e-ab-2' WHERE id = 'e-ab'")
    moved = side_rows(store.connection, "e-ab-2")
    assert {t: [r[:1] + r[2:] for r in rows] for t, rows in moved.items()} == {
        t: [r[:1] + r[2:] for r in rows] for t, rows in kept.items()
    }  # the same rows, seq and all, under the new id
    assert side_rows(store.connection, "e-ab") == {t: [] for t in SIDE_TABLES}
    assert {e: side_rows(store.connection, e) for e in others} == others
    assert history(store, "e-ab-2") == told
    pd.testing.assert_frame_equal(store.edge_evidence("e-ab-2"), evidence)
    with pytest.raises(NotFoundError, match=names("'e-ab'")):
        store.edge_history("e-ab")
    assert ids(store) == {"e-cd", "e-ad"}  # e-ab-2 is invalidated (800), e-bc too (700)
    assert ids(store, known_at=650) == {"e-ab-2", "e-bc", "e-cd", "e-ad"}
    store.reinstate_causal_edge("e-ab-2", at=900)
    assert ids(store) == {"e-ab-2", "e-cd", "e-ad"}
