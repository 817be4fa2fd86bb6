"""Transactions and savepoints, bulk writes (all-or-nothing, counted), delete_* with cascades, and
iter_* streaming."""

from __future__ import annotations

import inspect
import sqlite3
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from omega_graph.errors import ConflictError, NotFoundError, ValidationError
from omega_graph.models import DatabaseStatistics, StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore


class Boom(Exception):
    """Raised inside a transaction block to roll it back."""


def _memory(i: int | str, content: str = "x") -> StoredMemory:
    return StoredMemory(f"m{i}", content, 1, 0.5, None, 0, 0)


# ----- transactions ------------------------------------------------------------------------------------


def test_transaction_commits_on_success(file_store: OmegaStore, file_dump) -> None:
    with file_store.transaction():
        file_store.store_memory(_memory(1))
        file_store.store_memory(_memory(2))
    assert file_store.get_statistics().memory_count == 2
    assert any("'m2'" in line for line in file_dump(file_store.path))  # visible to other connections


def test_transaction_rolls_back_everything_on_error(populated: OmegaStore, dump, records) -> None:
    before = dump(populated.connection)
    with pytest.raises(Boom):
        with populated.transaction():
            populated.store_memory(records.memory("new"))
            populated.store_causal_edge(records.edge("new", "m-a", id="e-new"))
            populated.store_memory(records.memory("m-a", content="changed"))
            populated.delete_memory("m-c")
            populated.increment_skill_success("s-1", 5)
            raise Boom
    assert dump(populated.connection) == before
    assert not populated.connection.in_transaction


def test_uncommitted_writes_are_invisible_to_other_connections(file_store: OmegaStore) -> None:
    other = sqlite3.connect(file_store.path)
    try:
        with file_store.transaction():
            file_store.store_memory(_memory(1))
            assert file_store.get_statistics().memory_count == 1  # the store sees its own writes
            assert other.execute("SELECT count(*) FROM memories").fetchone()[0] == 0
        assert other.execute("SELECT count(*) FROM memories").fetchone()[0] == 1
    finally:
        other.close()


def test_nested_transaction_rolls_back_only_the_inner_block(mem_store: OmegaStore) -> None:
    with mem_store.transaction():
        mem_store.store_memory(_memory("outer"))
        with pytest.raises(Boom):
            with mem_store.transaction():
                mem_store.store_memory(_memory("inner"))
                raise Boom
        with mem_store.transaction():
            mem_store.store_memory(_memory("inner2"))
            with mem_store.transaction():
                mem_store.store_memory(_memory("deepest"))
    assert [m.id for m in mem_store.iter_memories()] == ["mouter", "minner2", "mdeepest"]


def test_outer_failure_undoes_committed_inner_blocks(mem_store: OmegaStore) -> None:
    with pytest.raises(Boom):
        with mem_store.transaction():
            with mem_store.transaction():
                mem_store.store_memory(_memory(1))
            mem_store.store_memories([_memory(2), _memory(3)])  # a bulk write joins the outer transaction
            raise Boom
    assert mem_store.get_statistics().memory_count == 0
    with mem_store.transaction():  # the store is usable afterwards
        mem_store.store_memory(_memory(4))
    assert mem_store.get_statistics().memory_count == 1


def test_store_errors_inside_a_transaction_roll_it_back(populated: OmegaStore, dump, records) -> None:
    before = dump(populated.connection)
    with pytest.raises(ConflictError):
        with populated.transaction():
            populated.store_memory(records.memory("new"))
            populated.store_skill(records.skill("s-2", name=populated.get_skill("s-1").name))
    with pytest.raises(NotFoundError):
        with populated.transaction():
            populated.store_memory(records.memory("new"))
            populated.store_causal_edge(records.edge("new", "ghost"))
    assert dump(populated.connection) == before


def test_caught_error_inside_a_savepoint_keeps_the_rest(mem_store: OmegaStore) -> None:
    with mem_store.transaction():
        mem_store.store_memory(_memory(1))
        try:
            with mem_store.transaction():
                mem_store.store_memory(_memory(2))
                mem_store.store_memory(StoredMemory("bad", "x", 0, 0.5, None, 0, 0))
        except ValidationError:
            pass
        mem_store.store_memory(_memory(3))
    assert [m.id for m in mem_store.iter_memories()] == ["m1", "m3"]


def test_a_second_writer_waits_for_the_open_transaction(file_store: OmegaStore) -> None:
    """Another store (its own thread and connection) blocks on the busy timeout, then commits."""
    outcome: list[object] = []
    started = threading.Event()

    def other_writer() -> None:
        try:
            with OmegaStore(file_store.path) as other:
                started.set()
                other.store_memory(_memory("from-other"))
                outcome.append(other.get_statistics().memory_count)
        except Exception as err:  # reported below, in the main thread
            outcome.append(err)
        finally:
            started.set()

    with file_store.transaction():
        file_store.store_memory(_memory("mine"))
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert started.wait(10)
        time.sleep(0.3)  # the other writer is now waiting for our write lock
        assert file_store.get_statistics().memory_count == 1
    thread.join(30)
    assert outcome == [2]
    assert {m.id for m in file_store.iter_memories()} == {"mmine", "mfrom-other"}


# ----- bulk writes ---------------------------------------------------------------------------------------


def test_bulk_memories_accepts_any_iterable_and_counts(mem_store: OmegaStore) -> None:
    assert mem_store.store_memories([]) == 0
    assert mem_store.store_memories(_memory(i) for i in range(1000)) == 1000
    assert mem_store.store_memories(iter([_memory("a"), _memory("b")])) == 2
    assert mem_store.store_memories(_memory(i, "updated") for i in range(10)) == 10  # upserts count
    assert mem_store.get_statistics().memory_count == 1002
    assert mem_store.get_memory("m5").content == "updated"
    assert [m.id for m in mem_store.iter_memories()][:3] == ["m0", "m1", "m2"]  # updated in place


def test_bulk_larger_than_any_internal_batch(mem_store: OmegaStore) -> None:
    n = 45_001
    assert mem_store.store_memories(_memory(i) for i in range(n)) == n
    edges = (StoredCausalEdge(f"e{i}", f"m{i}", f"m{(i * 7) % n}", 0.5, "causes", i) for i in range(n))
    assert mem_store.store_causal_edges(edges) == n
    stats = mem_store.get_statistics()
    assert (stats.memory_count, stats.causal_edge_count) == (n, n)


def test_bulk_edges_all_or_nothing_on_a_missing_memory(mem_store: OmegaStore, dump) -> None:
    mem_store.store_memories(_memory(i) for i in range(30_000))
    before = dump(mem_store.connection)
    edges = [StoredCausalEdge(f"e{i}", f"m{i}", f"m{i + 1}", 0.5, "causes", i) for i in range(25_000)]
    edges.append(StoredCausalEdge("e-bad", "m1", "ghost-memory", 0.5, "causes", 0))  # after a full batch
    with pytest.raises(NotFoundError, match="ghost-memory") as info:
        mem_store.store_causal_edges(edges)
    assert info.value.entity == "memory"
    assert mem_store.get_statistics().causal_edge_count == 0
    assert dump(mem_store.connection) == before


def test_bulk_failure_mid_generator_writes_nothing(file_store: OmegaStore, file_dump) -> None:
    file_store.store_memory(_memory("kept"))
    before = file_dump(file_store.path)

    def records() -> Iterator[StoredMemory]:
        for i in range(30_000):
            yield _memory(i)
        raise Boom("the producer failed")

    with pytest.raises(Boom):
        file_store.store_memories(records())
    assert file_dump(file_store.path) == before
    assert file_store.get_statistics().memory_count == 1
    assert not file_store.connection.in_transaction


def test_bulk_invalid_record_after_a_full_batch_writes_nothing(file_store: OmegaStore, file_dump) -> None:
    file_store.store_memory(_memory("kept"))
    before = file_dump(file_store.path)
    records = [_memory(i) for i in range(45_000)]
    records[41_234] = StoredMemory("m41234", "x", 1, 1.5, None, 0, 0)
    with pytest.raises(ValidationError, match="importance"):
        file_store.store_memories(records)
    assert file_dump(file_store.path) == before


def test_failed_bulk_inside_a_transaction_undoes_only_itself(mem_store: OmegaStore) -> None:
    with mem_store.transaction():
        mem_store.store_memory(_memory("before"))
        with pytest.raises(ValidationError):
            mem_store.store_memories([_memory("bulk-1"), StoredMemory("bulk-2", "x", 0, 0.5, None, 0, 0)])
        with pytest.raises(NotFoundError):
            mem_store.store_causal_edges([StoredCausalEdge("e", "mbefore", "ghost", 0.5, "causes", 0)])
        mem_store.store_memory(_memory("after"))
    assert [m.id for m in mem_store.iter_memories()] == ["mbefore", "mafter"]
    assert mem_store.get_statistics().causal_edge_count == 0


def test_bulk_edges_count_and_content(mem_store: OmegaStore) -> None:
    mem_store.store_memories(_memory(i) for i in range(4))
    edges = [StoredCausalEdge(f"e{i}", f"m{i}", f"m{i + 1}", i / 4, "causes", i) for i in range(3)]
    assert mem_store.store_causal_edges(iter(edges)) == 3
    assert mem_store.store_causal_edges([]) == 0
    assert list(mem_store.iter_causal_edges()) == edges


# ----- deletes -------------------------------------------------------------------------------------------


def test_delete_memory_cascades_to_vectors_reflexions_and_edges(populated: OmegaStore) -> None:
    assert populated.delete_memory("m-a") is None
    with pytest.raises(NotFoundError):
        populated.get_memory("m-a")
    with pytest.raises(NotFoundError):
        populated.get_vector_by_memory("m-a")
    assert populated.get_reflexions_by_memory("m-a") == []
    assert populated.get_causal_edges_to("m-b") == []
    assert [e.id for e in populated.get_causal_edges_from("m-b")] == ["e-bc"]
    assert populated.get_statistics() == DatabaseStatistics(2, 1, 1, 1, 1, 0, 0)
    assert populated.connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert populated.search_memories("memory number") and all(
        m.id != "m-a" for m in populated.search_memories("memory number", limit=100)
    )


@pytest.mark.parametrize(
    ("method", "id", "after"),
    [
        ("delete_skill", "s-1", DatabaseStatistics(3, 0, 1, 1, 2, 1, 1)),
        ("delete_intelligence", "intel-1", DatabaseStatistics(3, 1, 1, 0, 2, 1, 1)),
        ("delete_vector", "v-a", DatabaseStatistics(3, 1, 1, 1, 2, 0, 1)),
        ("delete_reflexion", "r-a", DatabaseStatistics(3, 1, 1, 1, 2, 1, 0)),
        ("delete_causal_edge", "e-ab", DatabaseStatistics(3, 1, 1, 1, 1, 1, 1)),
        ("delete_memory", "m-c", DatabaseStatistics(2, 1, 1, 1, 1, 1, 1)),
    ],
)
def test_delete_each_kind(populated: OmegaStore, method: str, id: str, after: DatabaseStatistics) -> None:
    assert getattr(populated, method)(id) is None
    assert populated.get_statistics() == after
    with pytest.raises(NotFoundError, match=id) as info:
        getattr(populated, method)(id)  # already gone
    assert info.value.id == id


@pytest.mark.parametrize(
    "method",
    [
        "delete_memory",
        "delete_skill",
        "delete_architecture",
        "delete_intelligence",
        "delete_vector",
        "delete_reflexion",
        "delete_causal_edge",
    ],
)
def test_delete_missing_raises_not_found(populated: OmegaStore, dump, method: str) -> None:
    before = dump(populated.connection)
    with pytest.raises(NotFoundError, match="ghost"):
        getattr(populated, method)("ghost")
    assert dump(populated.connection) == before


def test_delete_architecture_in_use_is_refused(populated: OmegaStore, dump) -> None:
    before = dump(populated.connection)
    with pytest.raises(ConflictError, match="arch-1"):
        populated.delete_architecture("arch-1")
    assert dump(populated.connection) == before
    populated.delete_intelligence("intel-1")
    populated.delete_architecture("arch-1")
    assert populated.get_statistics().architecture_count == 0


def test_delete_inside_a_rolled_back_transaction_restores_cascaded_rows(populated: OmegaStore, dump) -> None:
    before = dump(populated.connection)
    with pytest.raises(Boom):
        with populated.transaction():
            populated.delete_memory("m-b")
            assert populated.get_statistics().causal_edge_count == 0
            raise Boom
    assert dump(populated.connection) == before


# ----- iter_* ----------------------------------------------------------------------------------------------

ITERATORS = {
    "iter_memories": "memory_count",
    "iter_skills": "skill_count",
    "iter_architectures": "architecture_count",
    "iter_intelligences": "intelligence_count",
    "iter_vectors": "vector_count",
    "iter_reflexions": "reflexion_count",
    "iter_causal_edges": "causal_edge_count",
}


@pytest.mark.parametrize("method", sorted(ITERATORS))
def test_iterators_are_generators_over_every_record(populated: OmegaStore, method: str) -> None:
    it = getattr(populated, method)()
    assert inspect.isgenerator(it)
    items = list(it)
    assert len(items) == getattr(populated.get_statistics(), ITERATORS[method])
    assert len({x.id for x in items}) == len(items)


def test_iterators_yield_insertion_order_and_exact_records(mem_store: OmegaStore) -> None:
    made = [StoredMemory(f"z{9 - i}", f"c{i}", i % 12 + 1, i / 10, None, i, i) for i in range(10)]
    for m in made:
        mem_store.store_memory(m)
    assert list(mem_store.iter_memories()) == made
    assert list(mem_store.iter_memories()) == made  # repeatable


def test_iter_memories_streams_instead_of_loading_everything(mem_store: OmegaStore) -> None:
    n, size = 20_000, 1_000
    mem_store.store_memories(StoredMemory(f"m{i}", "x" * size, 1, 0.5, None, i, i) for i in range(n))
    total = n * size  # ~20 MB of content
    tracemalloc.start()
    try:
        it = mem_store.iter_memories()
        first = [next(it) for _ in range(10)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m.id for m in first] == [f"m{i}" for i in range(10)]
    assert peak < total / 5, f"reading 10 memories allocated {peak} bytes; all of them hold {total}"
    assert sum(1 for _ in it) == n - 10


def test_iter_causal_edges_streams(mem_store: OmegaStore) -> None:
    n = 30_000
    mem_store.store_memories(_memory(i) for i in range(100))
    mem_store.store_causal_edges(
        StoredCausalEdge(
            f"edge-with-a-long-identifier-{i:08d}" * 4, f"m{i % 100}", f"m{(i + 1) % 100}", 0.5, "c", i
        )
        for i in range(n)
    )
    tracemalloc.start()
    try:
        it = mem_store.iter_causal_edges()
        next(it)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * 160 / 5
    assert sum(1 for _ in it) == n - 1


def test_abandoned_iterator_does_not_block_writes(file_store: OmegaStore, tmp_path: Path) -> None:
    file_store.store_memories(_memory(i) for i in range(5000))
    it = file_store.iter_memories()
    next(it)
    del it
    file_store.store_memory(_memory("after"))
    with OmegaStore(file_store.path) as other:
        other.store_memory(_memory("other"))
    assert file_store.get_statistics().memory_count == 5002
