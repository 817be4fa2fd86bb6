"""Validation at the boundary, fuzzed with hypothesis: valid records of every kind round-trip exactly;
a record with one bad field raises a clean ValidationError naming the entity and field, and the file is
left byte-for-byte unchanged in content (compared by a full dump before and after)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import KINDS, RECORDS, invalid_records, valid_records

from omega_graph.errors import OmegaGraphError, ValidationError
from omega_graph.models import (
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
)
from omega_graph.store import OmegaStore

STORE = {
    "memory": "store_memory",
    "skill": "store_skill",
    "architecture": "store_architecture",
    "intelligence": "store_intelligence",
    "vector": "store_vector",
    "reflexion": "store_reflexion",
    "causal_edge": "store_causal_edge",
}


def _prerequisites(store: OmegaStore, record: Any) -> None:
    """Store what a record refers to (memories, an architecture) so only its own validity matters."""
    for name in ("memory_id", "from_memory", "to_memory"):
        mid = getattr(record, name, None)
        if isinstance(mid, str) and mid:
            store.store_memory(StoredMemory(mid, "referenced", 1, 0.5, None, 0, 0))
    arch = getattr(record, "arch_id", None)
    if isinstance(arch, str) and arch:
        store.store_architecture(StoredArchitecture(arch, "A", "p", "s", "{}", "{}", 0))


def _read_back(store: OmegaStore, kind: str, record: Any) -> Any:
    """The stored record of ``kind`` with ``record.id``, through the public API."""
    if kind == "memory":
        return store.get_memory(record.id)
    if kind == "skill":
        return store.get_skill(record.id)
    if kind == "architecture":
        return store.get_architecture(record.id)
    if kind == "intelligence":
        return store.get_intelligence(record.id)
    if kind == "vector":
        return store.get_vector_by_memory(record.memory_id)
    if kind == "reflexion":
        return next(r for r in store.get_reflexions_by_memory(record.memory_id) if r.id == record.id)
    return next(e for e in store.get_causal_edges_from(record.from_memory) if e.id == record.id)


def _same(a: Any, b: Any) -> bool:
    """Record equality where NaN bit patterns inside blobs compare as bytes (they are bytes)."""
    return type(a) is type(b) and a.as_tuple() == b.as_tuple()


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60)
@given(data=st.data())
def test_valid_records_round_trip(kind: str, data: st.DataObject) -> None:
    record = data.draw(valid_records(kind))
    with OmegaStore.new_in_memory() as store:
        _prerequisites(store, record)
        getattr(store, STORE[kind])(record)
        got = _read_back(store, kind, record)
        assert _same(got, record), (got, record)
        # Storing the same record again is an in-place no-op.
        getattr(store, STORE[kind])(record)
        assert _same(_read_back(store, kind, record), record)


@pytest.fixture(scope="module")
def guarded_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OmegaStore]:
    """A file store holding one record of each kind; invalid writes must leave it exactly as it is."""
    path = tmp_path_factory.mktemp("validation") / "guarded.db"
    with OmegaStore(path) as store:
        store.store_memory(StoredMemory("m", "kept", 3, 0.5, b"\x00\x00\x80?", 1, 2))
        store.store_memory(StoredMemory("n", "kept too", 3, 0.5, None, 1, 2))
        store.store_architecture(StoredArchitecture("a", "A", "neural", "s", "{}", "[]", 1))
        store.store_intelligence(StoredIntelligence("i", "I", "a", 0.5, "[]", "[]", "{}", 1, 1))
        store.store_skill(StoredSkill("s", "skill", "d", "p", 1, None, 1))
        store.store_vector(StoredVector.from_values("v", "m", [1.0]))
        store.store_reflexion(StoredReflexionEpisode("r", "m", "t", "c", "a", "o", 1))
        store.store_causal_edge(StoredCausalEdge("e", "m", "n", 0.5, "causes", 1))
        yield store


def _state(store: OmegaStore) -> list[str]:
    assert store.path is not None
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=80)
@given(data=st.data())
def test_invalid_records_are_rejected_and_nothing_changes(
    guarded_store: OmegaStore, kind: str, data: st.DataObject
) -> None:
    record, field = data.draw(invalid_records(kind))
    entity = RECORDS[kind][3]
    before = _state(guarded_store)
    own_before = list(guarded_store.connection.iterdump())
    with pytest.raises(ValidationError) as info:
        getattr(guarded_store, STORE[kind])(record)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, OmegaGraphError)
    assert (err.entity, err.field) == (entity, field), str(err)
    assert f"{entity}.{field}" in str(err) and "expected" in str(err)
    assert not guarded_store.connection.in_transaction
    assert list(guarded_store.connection.iterdump()) == own_before
    assert _state(guarded_store) == before


@pytest.mark.parametrize("kind", KINDS)
def test_not_a_record_is_a_validation_error(mem_store: OmegaStore, kind: str) -> None:
    other = (
        StoredSkill("x", "x", "", "", 0, None, 0)
        if kind != "skill"
        else StoredMemory("x", "", 1, 0, None, 0, 0)
    )
    for bad in ({"id": "x"}, ("x",), None, other):
        with pytest.raises(ValidationError, match=RECORDS[kind][3]):
            getattr(mem_store, STORE[kind])(bad)
    assert mem_store.get_statistics().as_tuple() == (0,) * 7


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("tier", 0, "1 to 12"),
        ("tier", 13, "1 to 12"),
        ("tier", True, "1 to 12"),
        ("importance", 1.5, r"\[0, 1\]"),
        ("importance", math.nan, r"\[0, 1\]"),
        ("importance", -math.inf, r"\[0, 1\]"),
        ("created_at", 2**63, "64-bit"),
        ("created_at", 1.0, "64-bit"),
        ("id", "", "non-empty"),
        ("embedding_blob", b"\x00" * 5, "multiple of 4"),
    ],
)
def test_messages_name_field_value_and_allowed_range(
    mem_store: OmegaStore, field: str, value: object, expected: str
) -> None:
    good = StoredMemory("m", "c", 1, 0.5, None, 0, 0)
    bad = StoredMemory(**{**dict(zip(good.columns(), good.as_tuple(), strict=True)), field: value})
    with pytest.raises(ValidationError, match=expected) as info:
        mem_store.store_memory(bad)
    assert f"memory.{field}" in str(info.value)
    if field != "embedding_blob":
        assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("record", "field", "expected"),
    [
        (StoredVector("v", "m", 3, b"\x00" * 8), "data_blob", "12 bytes"),
        (StoredVector("v", "m", 0, b""), "dimensions", "positive"),
        (StoredArchitecture("a", "A", "p", "s", "{oops", "{}", 0), "fitness_json", "JSON"),
        (StoredIntelligence("i", "I", "a", 1.01, "[]", "[]", "{}", 0, 0), "maturity", r"\[0, 1\]"),
        (StoredCausalEdge("e", "m", "m", -0.1, "causes", 0), "weight", r"\[0, 1\]"),
        (StoredSkill("s", "n", "d", "p", -1, None, 0), "success_count", "non-negative"),
    ],
)
def test_specific_rules(mem_store: OmegaStore, record: Any, field: str, expected: str) -> None:
    mem_store.store_memory(StoredMemory("m", "c", 1, 0.5, None, 0, 0))
    mem_store.store_architecture(StoredArchitecture("a", "A", "p", "s", "{}", "{}", 0))
    kind = next(k for k in KINDS if RECORDS[k][0] is type(record))
    before = mem_store.get_statistics()
    with pytest.raises(ValidationError, match=expected) as info:
        getattr(mem_store, STORE[kind])(record)
    assert info.value.field == field
    assert mem_store.get_statistics() == before


def test_json_text_and_ids_are_stored_verbatim(mem_store: OmegaStore) -> None:
    """JSON is kept as the given text (not re-serialised); ids and text keep every character."""
    odd = '  {"b": 1,   "a": [1.0, 2e3]}  '
    weird_id = "id with spaces/ünïcödé 🧠 'quotes\" %_"
    mem_store.store_architecture(StoredArchitecture(weird_id, "n", "p", "s", odd, "null", 0))
    assert mem_store.get_architecture(weird_id).fitness_json == odd
    mem_store.store_memory(StoredMemory(weird_id, "tab\tnewline\n", 1, 0.5, None, 0, 0))
    assert mem_store.get_memory(weird_id).content == "tab\tnewline\n"


def test_boundaries_are_accepted(mem_store: OmegaStore) -> None:
    edge_cases = [
        StoredMemory("lo", "", 1, 0.0, b"", -(2**63), -(2**63)),
        StoredMemory("hi", "", 12, 1.0, None, 2**63 - 1, 2**63 - 1),
        StoredMemory("int", "", 6, 1, None, 0, 0),
    ]
    for m in edge_cases:
        mem_store.store_memory(m)
        assert mem_store.get_memory(m.id) == m
    assert type(mem_store.get_memory("int").importance) is float


def test_bulk_rejects_a_bad_record_anywhere_and_writes_nothing(guarded_store: OmegaStore) -> None:
    before = _state(guarded_store)
    good = [StoredMemory(f"bulk-{i}", "x", 1, 0.5, None, 0, 0) for i in range(50)]
    for position in (0, 25, 49):
        batch = list(good)
        batch[position] = StoredMemory(f"bulk-{position}", "x", 1, 0.5, None, 0.5, 0)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="created_at"):
            guarded_store.store_memories(batch)
        assert _state(guarded_store) == before
    edges = [StoredCausalEdge(f"be-{i}", "m", "n", 0.5, "causes", 0) for i in range(10)]
    edges[7] = StoredCausalEdge("be-7", "m", "n", 2.0, "causes", 0)
    with pytest.raises(ValidationError, match="weight"):
        guarded_store.store_causal_edges(edges)
    assert _state(guarded_store) == before


def test_validation_error_is_not_a_sqlite_error(mem_store: OmegaStore, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        mem_store.store_memory(StoredMemory("m", "c", 99, 0.5, None, 0, 0))
    assert not isinstance(info.value, sqlite3.Error)
