"""Records in and out of OmegaStore: constructors, CRUD, list orders (ties in insertion order), upserts in
place (the DESIGN.md table), references to missing records, statistics."""

from __future__ import annotations

import sqlite3
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omega_graph.errors import (
    ConflictError,
    DatabaseError,
    NotFoundError,
    OmegaGraphError,
    ValidationError,
)
from omega_graph.models import (
    DatabaseStatistics,
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
)
from omega_graph.store import OmegaStore

# ----- constructors and lifetime ----------------------------------------------------------------------


def test_open_creates_file_and_path_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with OmegaStore("relative.db") as store:
        assert store.path == str(tmp_path / "relative.db")
        assert Path(store.path).is_absolute()
    assert (tmp_path / "relative.db").is_file()


@pytest.mark.parametrize("make", [OmegaStore, OmegaStore.new], ids=["OmegaStore", "new"])
def test_constructors_accept_str_and_pathlike(make, tmp_path: Path, records) -> None:
    for path in (tmp_path / "a.db", str(tmp_path / "b.db")):
        with make(path) as store:
            store.store_memory(records.memory("m1"))
        with make(path) as store:
            assert store.get_memory("m1").id == "m1"
            assert store.path == str(Path(path))


def test_in_memory_store_has_no_path_and_vanishes(records) -> None:
    store = OmegaStore.new_in_memory()
    assert store.path is None
    store.store_memory(records.memory("m1"))
    store.close()
    with OmegaStore.new_in_memory() as other:
        assert other.get_statistics().memory_count == 0


def test_connection_settings(file_store: OmegaStore, mem_store: OmegaStore) -> None:
    conn = file_store.connection
    assert isinstance(conn, sqlite3.Connection)
    assert conn.isolation_level is None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    assert mem_store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_with_closes_and_later_calls_fail_cleanly(db_path: Path, records) -> None:
    with OmegaStore(db_path) as store:
        store.store_memory(records.memory("m1"))
    with pytest.raises(DatabaseError, match="closed"):
        store.get_memory("m1")
    store.close()  # closing twice is harmless


# ----- round trips and lookups ------------------------------------------------------------------------


def _one_of_each(store: OmegaStore, records) -> dict[str, object]:
    """Store one record of every kind (prerequisites first) and return them by kind."""
    mem = records.memory("m1", embedding_blob=b"\x00\x00\x80?" * 3, content="héllo\nworld")
    store.store_memory(mem)
    store.store_memory(records.memory("m2"))
    arch = records.architecture("a1", fitness_json='{"overall": 0.7, "per_task": [1, 2]}')
    store.store_architecture(arch)
    out = {
        "memory": mem,
        "architecture": arch,
        "skill": records.skill("s1", last_used=1_764_000_500, success_count=3),
        "intelligence": records.intelligence("a1", id="i1", maturity=1.0),
        "vector": records.vector("m1", [0.5, -1.0, 3.25], id="v1"),
        "reflexion": records.reflexion("m1", id="r1"),
        "causal_edge": records.edge("m1", "m2", id="e1", weight=0.0),
    }
    store.store_skill(out["skill"])  # type: ignore[arg-type]
    store.store_intelligence(out["intelligence"])  # type: ignore[arg-type]
    store.store_vector(out["vector"])  # type: ignore[arg-type]
    store.store_reflexion(out["reflexion"])  # type: ignore[arg-type]
    store.store_causal_edge(out["causal_edge"])  # type: ignore[arg-type]
    return out


def test_every_kind_round_trips(any_store: OmegaStore, records) -> None:
    made = _one_of_each(any_store, records)
    assert any_store.get_memory("m1") == made["memory"]
    assert any_store.get_skill("s1") == made["skill"]
    assert any_store.get_architecture("a1") == made["architecture"]
    assert any_store.get_intelligence("i1") == made["intelligence"]
    assert any_store.get_vector_by_memory("m1") == made["vector"]
    assert any_store.get_vector_by_memory("m1").values() == [0.5, -1.0, 3.25]
    assert any_store.get_reflexions_by_memory("m1") == [made["reflexion"]]
    assert any_store.get_causal_edges_from("m1") == [made["causal_edge"]]
    assert any_store.get_causal_edges_to("m2") == [made["causal_edge"]]
    assert isinstance(any_store.get_memory("m1"), StoredMemory)


def test_records_survive_reopen(db_path: Path, records) -> None:
    with OmegaStore(db_path) as store:
        made = _one_of_each(store, records)
    with OmegaStore(db_path) as store:
        assert store.get_memory("m1") == made["memory"]
        assert store.get_intelligence("i1") == made["intelligence"]
        assert store.get_causal_edges_to("m2") == [made["causal_edge"]]


@pytest.mark.parametrize(
    ("method", "entity"),
    [
        ("get_memory", "memory"),
        ("get_skill", "skill"),
        ("get_architecture", "architecture"),
        ("get_intelligence", "intelligence"),
        ("get_vector_by_memory", None),
    ],
)
def test_get_missing_raises_not_found(populated: OmegaStore, method: str, entity: str | None) -> None:
    with pytest.raises(NotFoundError, match="no-such-id") as info:
        getattr(populated, method)("no-such-id")
    assert isinstance(info.value, LookupError)
    assert info.value.id == "no-such-id"
    if entity:
        assert info.value.entity == entity


@pytest.mark.parametrize(
    "method",
    ["get_reflexions_by_memory", "get_causal_edges_from", "get_causal_edges_to", "get_intelligences_by_arch"],
)
def test_list_queries_on_unknown_ids_are_empty(populated: OmegaStore, method: str) -> None:
    assert getattr(populated, method)("no-such-id") == []


def test_query_by_tier_rejects_a_bad_tier(mem_store: OmegaStore) -> None:
    for tier in (0, 13, True):
        with pytest.raises(ValidationError, match="tier"):
            mem_store.query_memories_by_tier(tier)


# ----- list orders: key order, ties in insertion order (rowid), kept by in-place upserts -------------

KEYS = st.sampled_from([0.0, 0.25, 0.5, 1.0])


def _expected(items: list[tuple[str, float]], descending: bool = True) -> list[str]:
    """Stable sort by key (descending): ties keep insertion order."""
    return [i for i, _ in sorted(items, key=lambda t: -t[1] if descending else t[1])]


@given(keys=st.lists(KEYS, min_size=1, max_size=12), data=st.data())
def test_query_memories_by_tier_order(keys: list[float], data: st.DataObject) -> None:
    ids = data.draw(st.permutations([f"m{i:02d}" for i in range(len(keys))]))  # id order != insertion order
    with OmegaStore.new_in_memory() as store:
        for mid, k in zip(ids, keys, strict=True):
            store.store_memory(StoredMemory(mid, mid, 4, k, None, 0, 0))
        store.store_memory(StoredMemory("other-tier", "x", 5, 1.0, None, 0, 0))
        expected = _expected(list(zip(ids, keys, strict=True)))
        assert [m.id for m in store.query_memories_by_tier(4)] == expected
        # Re-storing every memory (newest first) updates in place: insertion order, hence ties, hold.
        for mid, k in reversed(list(zip(ids, keys, strict=True))):
            store.store_memory(StoredMemory(mid, mid + " again", 4, k, None, 1, 1))
        assert [m.id for m in store.query_memories_by_tier(4)] == expected


@given(keys=st.lists(KEYS, min_size=1, max_size=10), data=st.data())
def test_edge_queries_order_by_weight(keys: list[float], data: st.DataObject) -> None:
    ids = data.draw(st.permutations([f"e{i:02d}" for i in range(len(keys))]))
    with OmegaStore.new_in_memory() as store:
        for m in ("hub", "x", "y"):
            store.store_memory(StoredMemory(m, m, 1, 0.5, None, 0, 0))
        for n, (eid, k) in enumerate(zip(ids, keys, strict=True)):
            other = "x" if n % 2 else "y"
            store.store_causal_edge(StoredCausalEdge(eid + "-out", "hub", other, k, "causes", 0))
            store.store_causal_edge(StoredCausalEdge(eid + "-in", other, "hub", k, "enables", 0))
        items = list(zip(ids, keys, strict=True))
        assert [e.id for e in store.get_causal_edges_from("hub")] == [i + "-out" for i in _expected(items)]
        assert [e.id for e in store.get_causal_edges_to("hub")] == [i + "-in" for i in _expected(items)]
        for eid, k in reversed(items):  # in-place re-store keeps ties in place
            store.store_causal_edge(StoredCausalEdge(eid + "-out", "hub", "x", k, "causes", 5))
        assert [e.id for e in store.get_causal_edges_from("hub")] == [i + "-out" for i in _expected(items)]


@given(keys=st.lists(st.integers(0, 3), min_size=1, max_size=10), data=st.data())
def test_skill_queries_order_by_success(keys: list[int], data: st.DataObject) -> None:
    ids = data.draw(st.permutations([f"s{i:02d}" for i in range(len(keys))]))
    with OmegaStore.new_in_memory() as store:
        for sid, k in zip(ids, keys, strict=True):
            store.store_skill(StoredSkill(sid, "name-" + sid, "", "deploy", k, None, 0))
        expected = _expected(list(zip(ids, keys, strict=True)))  # type: ignore[arg-type]
        assert [s.id for s in store.get_skills_by_pattern("DEPLOY")] == expected
        assert [s.id for s in store.match_skills("please deploy now")] == expected


@given(keys=st.lists(st.integers(0, 3), min_size=1, max_size=10), data=st.data())
def test_newest_first_orders(keys: list[int], data: st.DataObject) -> None:
    ids = data.draw(st.permutations([f"x{i:02d}" for i in range(len(keys))]))
    with OmegaStore.new_in_memory() as store:
        store.store_memory(StoredMemory("m", "m", 1, 0.5, None, 0, 0))
        for xid, k in zip(ids, keys, strict=True):
            store.store_architecture(StoredArchitecture(xid, xid, "hybrid", "s", "{}", "{}", k))
            store.store_reflexion(StoredReflexionEpisode(xid, "m", "t", "c", "a", "o", k))
        store.store_architecture(StoredArchitecture("other", "o", "neural", "s", "{}", "{}", 9))
        expected = _expected(list(zip(ids, keys, strict=True)))  # type: ignore[arg-type]
        assert [a.id for a in store.get_architectures_by_paradigm("hybrid")] == expected
        assert [r.id for r in store.get_reflexions_by_memory("m")] == expected


@given(keys=st.lists(KEYS, min_size=1, max_size=10), data=st.data())
def test_intelligences_order_by_maturity(keys: list[float], data: st.DataObject) -> None:
    ids = data.draw(st.permutations([f"i{i:02d}" for i in range(len(keys))]))
    with OmegaStore.new_in_memory() as store:
        store.store_architecture(StoredArchitecture("a", "A", "neural", "s", "{}", "{}", 0))
        store.store_architecture(StoredArchitecture("b", "B", "neural", "s", "{}", "{}", 0))
        for iid, k in zip(ids, keys, strict=True):
            store.store_intelligence(StoredIntelligence(iid, iid, "a", k, "[]", "[]", "{}", 0, 0))
        store.store_intelligence(StoredIntelligence("elsewhere", "e", "b", 1.0, "[]", "[]", "{}", 0, 0))
        expected = _expected(list(zip(ids, keys, strict=True)))
        assert [i.id for i in store.get_intelligences_by_arch("a")] == expected


# ----- upserts in place (DESIGN.md: semantics that differ from the crate) -----------------------------


def _rowid(store: OmegaStore, table: str, id: str) -> int:
    return store.connection.execute(f"SELECT rowid FROM {table} WHERE id = ?", (id,)).fetchone()[0]


def test_restoring_a_memory_keeps_its_dependents(populated: OmegaStore, records) -> None:
    before = populated.get_statistics()
    rowid = _rowid(populated, "memories", "m-b")
    populated.store_memory(records.memory("m-b", content="rewritten", tier=12, importance=1.0))
    assert populated.get_memory("m-b").content == "rewritten"
    assert populated.get_statistics() == before
    assert [e.id for e in populated.get_causal_edges_to("m-b")] == ["e-ab"]
    assert [e.id for e in populated.get_causal_edges_from("m-b")] == ["e-bc"]
    assert _rowid(populated, "memories", "m-b") == rowid
    populated.store_memory(records.memory("m-a"))  # the memory with a vector and a reflexion
    assert populated.get_vector_by_memory("m-a").id == "v-a"
    assert [r.id for r in populated.get_reflexions_by_memory("m-a")] == ["r-a"]


def test_restoring_an_architecture_with_intelligences_updates_it(populated: OmegaStore, records) -> None:
    updated = records.architecture("arch-1", name="Renamed", paradigm="symbolic")
    populated.store_architecture(updated)
    assert populated.get_architecture("arch-1") == updated
    assert [i.id for i in populated.get_intelligences_by_arch("arch-1")] == ["intel-1"]


def test_skill_name_taken_by_another_id_conflicts_and_changes_nothing(
    populated: OmegaStore, records, dump
) -> None:
    taken = populated.get_skill("s-1")
    before = dump(populated.connection)
    with pytest.raises(ConflictError, match=taken.name) as info:
        populated.store_skill(records.skill("s-2", name=taken.name))
    assert "s-1" in str(info.value)
    assert isinstance(info.value, OmegaGraphError)
    assert dump(populated.connection) == before
    assert populated.get_skill("s-1") == taken
    with pytest.raises(NotFoundError):
        populated.get_skill("s-2")


def test_skill_upsert_same_id_and_rename(populated: OmegaStore, records) -> None:
    old = populated.get_skill("s-1")
    populated.store_skill(replace(old, description="better", success_count=9))
    assert populated.get_skill("s-1").description == "better"
    populated.store_skill(replace(old, name="renamed"))
    populated.store_skill(records.skill("s-2", name=old.name))  # the old name is free again
    assert populated.get_skill("s-2").name == old.name
    assert populated.get_statistics().skill_count == 2


def test_restoring_edge_vector_reflexion_intelligence_updates_in_place(
    populated: OmegaStore, records
) -> None:
    rowid = _rowid(populated, "causal_edges", "e-ab")
    populated.store_causal_edge(records.edge("m-a", "m-c", id="e-ab", weight=0.9, edge_type="inhibits"))
    assert populated.get_causal_edges_from("m-a")[0].weight == 0.9
    assert populated.get_causal_edges_to("m-c")[0].id == "e-ab"  # (e-ab first: weight 0.9 > 0.5)
    assert populated.get_causal_edges_to("m-b") == []
    assert _rowid(populated, "causal_edges", "e-ab") == rowid
    populated.store_vector(records.vector("m-b", [1.0, 2.0], id="v-a"))  # moved to another memory
    assert populated.get_vector_by_memory("m-b").values() == [1.0, 2.0]
    with pytest.raises(NotFoundError):
        populated.get_vector_by_memory("m-a")
    populated.store_reflexion(records.reflexion("m-a", id="r-a", outcome="escalated"))
    assert [r.outcome for r in populated.get_reflexions_by_memory("m-a")] == ["escalated"]
    populated.store_intelligence(records.intelligence("arch-1", id="intel-1", maturity=0.99))
    assert populated.get_intelligence("intel-1").maturity == 0.99
    assert populated.get_statistics() == DatabaseStatistics(3, 1, 1, 1, 2, 1, 1)


# ----- references to missing records -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "missing_entity"),
    [
        ("vector", "memory"),
        ("reflexion", "memory"),
        ("edge_from", "memory"),
        ("edge_to", "memory"),
        ("intelligence", "architecture"),
    ],
)
def test_reference_to_missing_record_raises_not_found(
    populated: OmegaStore, records, dump, kind: str, missing_entity: str
) -> None:
    before = dump(populated.connection)
    call = {
        "vector": lambda: populated.store_vector(records.vector("ghost")),
        "reflexion": lambda: populated.store_reflexion(records.reflexion("ghost")),
        "edge_from": lambda: populated.store_causal_edge(records.edge("ghost", "m-a")),
        "edge_to": lambda: populated.store_causal_edge(records.edge("m-a", "ghost")),
        "intelligence": lambda: populated.store_intelligence(records.intelligence("ghost")),
    }[kind]
    with pytest.raises(NotFoundError, match="ghost") as info:
        call()
    assert info.value.entity == missing_entity
    assert info.value.id == "ghost"
    assert dump(populated.connection) == before


# ----- the crate's two update methods ------------------------------------------------------------------


def test_update_memory_access(populated: OmegaStore) -> None:
    old = populated.get_memory("m-a")
    populated.update_memory_access("m-a", 1_800_000_000)
    assert populated.get_memory("m-a") == replace(old, last_accessed=1_800_000_000)
    with pytest.raises(NotFoundError, match="ghost"):
        populated.update_memory_access("ghost", 1)
    with pytest.raises(ValidationError, match="last_accessed"):
        populated.update_memory_access("m-a", 1.5)  # type: ignore[arg-type]
    assert populated.get_memory("m-a").last_accessed == 1_800_000_000


def test_increment_skill_success(populated: OmegaStore) -> None:
    old = populated.get_skill("s-1")
    populated.increment_skill_success("s-1", 1_800_000_000)
    populated.increment_skill_success("s-1", 1_800_000_060)
    assert populated.get_skill("s-1") == replace(
        old, success_count=old.success_count + 2, last_used=1_800_000_060
    )
    with pytest.raises(NotFoundError, match="ghost") as info:
        populated.increment_skill_success("ghost", 1)
    assert info.value.entity == "skill"


@pytest.mark.parametrize("count", [2**31 - 1, 2**31, "many"])
def test_increment_skill_success_stops_at_the_crates_i32_limit(populated: OmegaStore, count: object) -> None:
    """The original crate reads success_count as an i32: one past 2,147,483,647 would make it fail to
    read the skill (and every pattern query returning it), so the increment is refused, row unchanged."""
    conn = populated.connection
    conn.execute("UPDATE skills SET success_count = ? WHERE id = 's-1'", (count,))
    before = conn.execute("SELECT * FROM skills WHERE id = 's-1'").fetchone()
    with pytest.raises(ValidationError, match="32-bit") as info:
        populated.increment_skill_success("s-1", 1_900_000_000)
    assert info.value.field == "success_count" and info.value.value == count
    assert conn.execute("SELECT * FROM skills WHERE id = 's-1'").fetchone() == before


@pytest.mark.parametrize("count, ok", [(2**31 - 1, True), (2**31, False), (2**63 - 1, False), (-1, False)])
def test_skill_success_count_within_what_the_crate_reads(populated: OmegaStore, count: int, ok: bool) -> None:
    skill = replace(populated.get_skill("s-1"), success_count=count)
    if ok:
        populated.store_skill(skill)
        assert populated.get_skill("s-1").success_count == count
    else:
        with pytest.raises(ValidationError, match="2,147,483,647"):
            populated.store_skill(skill)


# ----- statistics ----------------------------------------------------------------------------------------


def test_statistics_fields_in_the_crate_order_then_two_more() -> None:
    assert [f.name for f in fields(DatabaseStatistics)] == [
        "memory_count",
        "skill_count",
        "architecture_count",
        "intelligence_count",
        "causal_edge_count",
        "vector_count",
        "reflexion_count",
    ]


def test_statistics_count_everything(populated: OmegaStore, records) -> None:
    stats = populated.get_statistics()
    assert isinstance(stats, DatabaseStatistics)
    assert stats == DatabaseStatistics(3, 1, 1, 1, 2, 1, 1)
    populated.store_vector(records.vector("m-b"))
    populated.store_reflexion(records.reflexion("m-c"))
    assert populated.get_statistics() == DatabaseStatistics(3, 1, 1, 1, 2, 2, 2)
    assert all(type(v) is int for v in populated.get_statistics().as_tuple())


def test_statistics_of_an_empty_store(mem_store: OmegaStore) -> None:
    assert mem_store.get_statistics() == DatabaseStatistics(0, 0, 0, 0, 0, 0, 0)


def test_vector_helpers(mem_store: OmegaStore, records) -> None:
    mem_store.store_memory(records.memory("m"))
    v = StoredVector.from_values("v", "m", [0.1, 0.2])
    mem_store.store_vector(v)
    got = mem_store.get_vector_by_memory("m")
    assert got == v
    assert got.dimensions == 2 and len(got.data_blob) == 8
