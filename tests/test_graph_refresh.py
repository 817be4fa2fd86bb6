"""refresh() equals a full rebuild: inserts, updates, deletes, cascades, the crate's INSERT OR REPLACE
from another connection, filters, a pruned log; and edge ids stay those of the snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph.graph import CausalGraph, _refresh, loading
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore


def assert_same(refreshed: CausalGraph, fresh: CausalGraph) -> None:
    a, b = refreshed._data, fresh._data
    assert a.node_ids == b.node_ids
    assert a.state == b.state
    for name in ("node_rowid", "tier", "importance", "src", "dst", "weight", "created", "erowid"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.edge_ids_at() == b.edge_ids_at()
    np.testing.assert_array_equal(a.edge_hashes(), b.edge_hashes())
    assert [a.type_names[c] for c in a.etype] == [b.type_names[c] for c in b.etype]
    ga, gb = refreshed.to_networkx(), fresh.to_networkx()
    assert sorted(ga.nodes(data=True)) == sorted(gb.nodes(data=True))
    assert sorted(ga.edges(keys=True, data=True)) == sorted(gb.edges(keys=True, data=True))


def memory(m: str, i: int = 0) -> StoredMemory:
    return StoredMemory(m, f"note {m}", 1 + i % 12, (i % 10) / 10, None, 1764000000 + i, 1764000000 + i)


def edge(eid: str, u: str, v: str, w: float = 0.5, t: str = "causes", c: int = 100) -> StoredCausalEdge:
    return StoredCausalEdge(eid, u, v, w, t, c)


@pytest.fixture(params=["memory", "file-sqlite3", "file-duckdb"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OmegaStore]:
    """In memory, on file read through sqlite3, and on file read through DuckDB's scanner."""
    if request.param == "file-duckdb":
        monkeypatch.setattr(loading, "DUCKDB_MIN_EDGES", 0)
    s = OmegaStore.new_in_memory() if request.param == "memory" else OmegaStore(tmp_path / "r.db")
    s.store_memories(memory(f"m{i}", i) for i in range(8))
    s.store_causal_edges(
        [edge("e1", "m0", "m1", 0.9), edge("e2", "m1", "m2", 0.5, "enables"), edge("e3", "m0", "m2", 0.2),
         edge("e4", "m2", "m3", 0.0), edge("e5", "m3", "m4", 1.0, c=50), edge("e6", "m0", "m1", 0.4)]
    )  # fmt: skip
    yield s
    s.close()


def crate_connection(store: OmegaStore) -> sqlite3.Connection:
    """A plain connection like the original crate's (autocommit, foreign keys on)."""
    conn = sqlite3.connect(store.path, isolation_level=None) if store.path else store.connection
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def test_refresh_without_changes_is_a_no_op(store: OmegaStore) -> None:
    g = store.causal_graph()
    before = g._data
    assert g.refresh() is g and g._data is before


@pytest.mark.parametrize(
    "change",
    ["insert", "update", "delete", "delete_tail_then_insert", "memory_delete", "memory_insert",
     "memory_update", "memory_update_elsewhere", "memory_rekey", "memory_delete_then_restore", "mixed"],
)  # fmt: skip
@pytest.mark.parametrize("search_max", [20_000, 0], ids=["search-per-edge", "search-all-keys"])
def test_refresh_equals_rebuild(
    store: OmegaStore, change: str, search_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_refresh, "MERGE_SEARCH_MAX", search_max)  # both ways of merging new edges
    g = store.causal_graph()
    g.strongest_path("m0", "m2")  # warm the derived caches: a refresh must not reuse them stale
    if change == "insert":
        store.store_causal_edges([edge("e7", "m4", "m5", 0.3), edge("e8", "m5", "m0", 0.7, "inhibits")])
    elif change == "update":
        store.store_causal_edge(edge("e2", "m1", "m6", 0.8, "correlates", 7))
        store.store_causal_edge(edge("e1", "m0", "m1", 0.1))
    elif change == "delete":
        store.delete_causal_edge("e1")
        store.delete_causal_edge("e3")
    elif change == "delete_tail_then_insert":  # the freed rowid at the tail is reused by SQLite
        store.delete_causal_edge("e6")
        store.store_causal_edge(edge("e9", "m6", "m7", 0.6))
    elif change == "memory_delete":  # cascades to its edges, logged by the delete trigger
        store.delete_memory("m1")
    elif change == "memory_insert":
        store.store_memories([memory("m10", 3), memory("a-first", 4)])
        store.store_causal_edge(edge("e7", "m10", "a-first", 0.5))
    elif change == "memory_update":  # tier and importance changed in place: the memory log has them
        store.store_memory(memory("m2", 7))
        store.store_memory(memory("m7", 5))
    elif change == "memory_update_elsewhere":
        conn = crate_connection(store)
        conn.execute("UPDATE memories SET tier = 11, importance = 0.05 WHERE id IN ('m0', 'm4')")
        if store.path:
            conn.close()
    elif change == "memory_rekey":  # an edgeless memory renamed (foreign keys forbid it otherwise)
        store.connection.execute("UPDATE memories SET id = 'a-renamed' WHERE id = 'm7'")
    elif change == "memory_delete_then_restore":  # the last memory, edgeless: same count, same last id
        store.delete_memory("m7")
        store.store_memory(memory("m7", 2))
    else:
        store.delete_memory("m3")
        store.store_memories([memory("m9", 9)])
        store.store_causal_edges([edge("e3", "m9", "m0", 0.25), edge("e10", "m0", "m9", 1.0)])
        store.delete_causal_edge("e10")
        store.store_causal_edge(edge("e11", "m2", "m9", 0.0, "enables"))
    assert_same(g.refresh(), store.causal_graph())
    # and the refreshed snapshot answers like a new one
    fresh = store.causal_graph()
    assert g.effects("m0").equals(fresh.effects("m0"))
    assert g.influence().equals(fresh.influence())


def test_memory_given_a_wrong_type_elsewhere_is_seen_and_named(store: OmegaStore) -> None:
    from omega_graph.analytics import DataQualityWarning

    g = store.causal_graph()
    conn = crate_connection(store)
    conn.execute("UPDATE memories SET importance = 'high' WHERE id = 'm5'")
    if store.path:
        conn.close()
    with pytest.warns(DataQualityWarning, match="memory 'm5' holds 'high'"):
        g.refresh()
    assert g.to_networkx().nodes["m5"]["importance"] is None
    with pytest.warns(DataQualityWarning):
        assert_same(g, store.causal_graph())


def test_crate_insert_or_replace_from_another_connection(store: OmegaStore) -> None:
    """The crate re-stores with INSERT OR REPLACE: a new rowid, the old row deleted without a log entry;
    re-storing a memory deletes every edge touching it (cascade, logged) and gives it a new rowid."""
    g = store.causal_graph()
    conn = crate_connection(store)
    conn.execute("INSERT OR REPLACE INTO causal_edges VALUES ('e2', 'm2', 'm5', 0.35, 'inhibits', 9)")
    conn.execute("INSERT OR REPLACE INTO causal_edges VALUES ('e12', 'm5', 'm6', 0.5, 'causes', 10)")
    conn.execute(
        "INSERT OR REPLACE INTO memories VALUES ('m0', 'again', 5, 0.25, NULL, 1764000000, 1764000000)"
    )
    if store.path:
        conn.close()
    assert store.connection.execute(
        "SELECT count(*) FROM causal_edges WHERE from_memory = 'm0'"
    ).fetchone() == (0,)
    refreshed = g.refresh()
    assert_same(refreshed, store.causal_graph())
    assert refreshed.to_networkx().nodes["m0"]["tier"] == 5


def test_refresh_after_pruned_log_rebuilds(store: OmegaStore) -> None:
    g = store.causal_graph()
    store.delete_causal_edge("e1")
    store.store_causal_edge(edge("e2", "m1", "m2", 0.05))
    conn = crate_connection(store)
    conn.execute("DELETE FROM omega_edge_log")  # someone pruned the log
    if store.path:
        conn.close()
    assert_same(g.refresh(), store.causal_graph())


@pytest.mark.parametrize(
    "filters",
    [{"min_weight": 0.3}, {"edge_types": ["causes", "inhibits"]}, {"as_of": 100}, {"edge_types": []}],
)
def test_refresh_keeps_the_filters(store: OmegaStore, filters: dict) -> None:
    g = store.causal_graph(**filters)
    store.store_causal_edge(edge("e1", "m0", "m1", 0.2, "inhibits", 99))  # may leave or enter the filter
    store.store_causal_edge(edge("e4", "m2", "m3", 0.6, "causes", 101))
    store.store_causal_edge(edge("e13", "m6", "m7", 0.3, "causes", 100))
    assert_same(g.refresh(), store.causal_graph(**filters))


def test_edge_ids_are_those_of_the_snapshot(store: OmegaStore) -> None:
    """Answers name the snapshot's edges even after the store changed (log and new rows are searched)."""
    g = store.causal_graph()
    store.store_causal_edge(edge("e1", "m0", "m7", 0.9))  # e1's row now links other memories
    store.delete_causal_edge("e2")
    conn = crate_connection(store)
    conn.execute("INSERT OR REPLACE INTO causal_edges VALUES ('e5', 'm3', 'm4', 0.1, 'causes', 1)")
    if store.path:
        conn.close()
    p = g.strongest_path("m0", "m2")
    assert p.nodes == ("m0", "m1", "m2") and p.edge_ids == ("e1", "e2") and p.weights == (0.9, 0.5)
    q = g.shortest_path("m0", "m4")
    assert q.nodes == ("m0", "m2", "m3", "m4") and q.edge_ids == ("e3", "e4", "e5")
    assert q.weights == (0.2, 0.0, 1.0) and q.strength == 0.0
    keys = {k for _, _, k in g.to_networkx().edges(keys=True)}
    assert keys == {"e1", "e2", "e3", "e4", "e5", "e6"}


def test_refresh_of_memory_attributes_keeps_the_derived_structures(store: OmegaStore) -> None:
    """A tier or importance change rebuilds nothing: the adjacency and matrices stay those built."""
    g = store.causal_graph()
    g.strongest_path("m0", "m2")
    forward, cost = g._data.forward(), g._data.cost_matrix(True)
    store.store_memory(memory("m2", 7))
    refreshed = g.refresh()
    assert refreshed._data.forward() is forward and refreshed._data.cost_matrix(True) is cost
    assert_same(refreshed, store.causal_graph())
    store.store_causal_edge(edge("e1", "m0", "m1", 0.3))  # an edge change rebuilds them
    assert g.refresh()._data.forward() is not forward


def answers(g: CausalGraph) -> tuple:
    """Everything a snapshot answers, as plain values."""
    nx_g = g.to_networkx()
    return (
        sorted(nx_g.nodes(data=True)),
        sorted(nx_g.edges(keys=True, data=True)),
        g.strongest_path("m0", "m2"),
        g.shortest_path("m0", "m4"),
        g.effects("m0").to_dict("list"),
        g.causes("m4").to_dict("list"),
        g.influence().to_dict("list"),
        g.memory_ids,
        g.number_of_edges(),
    )


def _drop_everything(store: OmegaStore, conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM causal_edges")
    conn.execute("DELETE FROM memories")


SNAPSHOT_CHANGES = {
    "store deletes an edge and prunes the log": lambda s, c: (
        s.delete_causal_edge("e2"),
        c.execute("DELETE FROM omega_edge_log"),
    ),
    "store re-stores edges elsewhere": lambda s, c: (
        s.store_causal_edge(edge("e1", "m5", "m6", 0.1, "inhibits", 9)),
        s.store_causal_edge(edge("e5", "m0", "m4", 0.3)),
    ),
    "crate INSERT OR REPLACE of an edge": lambda s, c: c.execute(
        "INSERT OR REPLACE INTO causal_edges VALUES ('e3', 'm4', 'm0', 0.7, 'causes', 1)"
    ),
    "crate re-keys edges": lambda s, c: c.execute("UPDATE causal_edges SET id = id || '-x'"),
    "crate re-keys and re-tiers memories": lambda s, c: (
        c.execute("UPDATE memories SET tier = 12, importance = 0.01"),
        c.execute("UPDATE memories SET id = 'z' || id WHERE id IN ('m6', 'm7')"),
    ),
    "crate INSERT OR REPLACE of a memory (cascade)": lambda s, c: c.execute(
        "INSERT OR REPLACE INTO memories VALUES ('m1', 'x', 3, 0.2, NULL, 1, 1)"
    ),
    "everything deleted": _drop_everything,
}


@pytest.mark.parametrize("change", list(SNAPSHOT_CHANGES))
def test_snapshot_answers_from_what_it_holds(store: OmegaStore, change: str) -> None:
    """Snapshot isolation: until refresh(), no write anywhere changes an answer or makes one fail."""
    g = store.causal_graph()
    before = answers(g)
    conn = crate_connection(store)
    SNAPSHOT_CHANGES[change](store, conn)
    if store.path:
        conn.close()
    assert answers(g) == before
    assert_same(g.refresh(), store.causal_graph())


def test_file_snapshot_sees_other_connections(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    with OmegaStore(path) as writer, OmegaStore(path) as reader:
        writer.store_memories([memory("a"), memory("b")])
        g = reader.causal_graph()
        assert g.number_of_edges() == 0
        writer.store_causal_edge(edge("ab", "a", "b", 0.5))
        assert g.refresh().strongest_path("a", "b").edge_ids == ("ab",)


# ----- random sequences of changes ----------------------------------------------------------------
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("edge"), st.integers(0, 11), st.integers(0, 6), st.integers(0, 6),
                  st.sampled_from([0.0, 0.3, 0.7, 1.0]), st.sampled_from("abc")),
        st.tuples(st.just("delete_edge"), st.integers(0, 11)),
        st.tuples(st.just("memory"), st.integers(0, 6)),
        st.tuples(st.just("touch_memory"), st.integers(0, 6)),
        st.tuples(st.just("delete_memory"), st.integers(0, 6)),
        st.tuples(st.just("replace_edge"), st.integers(0, 11), st.integers(0, 6), st.integers(0, 6)),
        st.tuples(st.just("replace_memory"), st.integers(0, 6)),
        st.tuples(st.just("refresh")),
    ),
    max_size=25,
)  # fmt: skip


def apply(store: OmegaStore, conn: sqlite3.Connection, op: tuple, version: list[int]) -> None:
    """One change: memories are also re-stored after a delete, updated in place by the store and by
    another connection, and replaced the crate's way."""
    kind = op[0]
    present = {r[0] for r in store.connection.execute("SELECT id FROM memories")}
    version[0] += 1  # a new tier and importance each time a memory is stored again
    if kind == "edge" and f"m{op[2]}" in present and f"m{op[3]}" in present:
        store.store_causal_edge(edge(f"e{op[1]}", f"m{op[2]}", f"m{op[3]}", op[4], op[5], op[1]))
    elif kind == "delete_edge":
        store.connection.execute("DELETE FROM causal_edges WHERE id = ?", (f"e{op[1]}",))
    elif kind == "memory":
        store.store_memory(memory(f"m{op[1]}", op[1] + version[0]))
    elif kind == "touch_memory":
        conn.execute(
            "UPDATE memories SET tier = ?, importance = ? WHERE id = ?",
            (1 + version[0] % 12, (version[0] % 10) / 10, f"m{op[1]}"),
        )
    elif kind == "delete_memory":
        store.connection.execute("DELETE FROM memories WHERE id = ?", (f"m{op[1]}",))
    elif kind == "replace_edge" and f"m{op[2]}" in present and f"m{op[3]}" in present:
        conn.execute(
            "INSERT OR REPLACE INTO causal_edges VALUES (?, ?, ?, 0.5, 'r', 3)",
            (f"e{op[1]}", f"m{op[2]}", f"m{op[3]}"),
        )
    elif kind == "replace_memory":
        conn.execute("INSERT OR REPLACE INTO memories VALUES (?, 'x', 2, 0.5, NULL, 0, 0)", (f"m{op[1]}",))


def run_sequence(store: OmegaStore, conn: sqlite3.Connection, ops: list[tuple], **filters: object) -> None:
    store.store_memories(memory(f"m{i}", i) for i in range(5))
    g = store.causal_graph(**filters)
    version = [0]
    for op in ops:
        if op[0] == "refresh":
            assert_same(g.refresh(), store.causal_graph(**filters))
        else:
            apply(store, conn, op, version)
    assert_same(g.refresh(), store.causal_graph(**filters))


@settings(max_examples=60)
@given(OPS, st.sampled_from([{}, {"min_weight": 0.3}, {"edge_types": ["a", "r"]}, {"as_of": 5}]))
def test_random_changes_refresh_equals_rebuild_in_memory(ops: list[tuple], filters: dict) -> None:
    with OmegaStore.new_in_memory() as store:
        run_sequence(store, store.connection, ops, **filters)


@settings(max_examples=25)
@given(OPS)
def test_random_changes_refresh_equals_rebuild_on_file(ops: list[tuple]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, OmegaStore(Path(tmp) / "h.db") as store:
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            run_sequence(store, conn, ops)
        finally:
            conn.close()


def test_networkx_view_after_refresh_is_consistent(store: OmegaStore) -> None:
    g = store.causal_graph()
    store.store_causal_edge(edge("e7", "m6", "m6", 0.5))  # a self-loop
    view = g.refresh().to_networkx()
    assert isinstance(view, nx.MultiDiGraph) and view.has_edge("m6", "m6", key="e7")
    assert not g.is_dag() and ["m6"] in g.find_cycles()
