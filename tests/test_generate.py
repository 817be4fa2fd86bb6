"""The synthetic store generator: counts, determinism, validity and shape."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from omega_graph import ConflictError, OmegaStore, ValidationError
from omega_graph.generate import (
    CHUNK,
    edge_batches,
    generate_store,
    memory_batches,
    memory_id,
    reflexion_batches,
    vector_batches,
)
from omega_graph.schema import CRATE_TABLES
from omega_graph.validation import edge_row, memory_row, reflexion_row, vector_row


def table_dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in CRATE_TABLES}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store spanning several generation chunks."""
    path = tmp_path_factory.mktemp("gen") / "medium.db"
    generate_store(path, 20_000, CHUNK + 5_000, seed=11, vectors=300, reflexions=500).close()
    return path


@pytest.fixture(scope="module")
def medium_edges(medium: Path) -> list[tuple]:
    return table_dump(medium)["causal_edges"]


@pytest.mark.parametrize(
    ("memories", "edges", "vectors", "reflexions"),
    [(0, 0, 0, 0), (1, 0, 1, 1), (2, 1, 0, 0), (500, 2_000, 50, 80)],
)
def test_counts_are_exact(tmp_path: Path, memories: int, edges: int, vectors: int, reflexions: int) -> None:
    with generate_store(
        tmp_path / "g.db", memories, edges, seed=3, vectors=vectors, reflexions=reflexions
    ) as s:
        stats = s.get_statistics()
    assert (stats.memory_count, stats.causal_edge_count, stats.vector_count, stats.reflexion_count) == (
        memories,
        edges,
        vectors,
        reflexions,
    )


def test_medium_store_counts(medium: Path) -> None:
    with OmegaStore(medium) as store:
        stats = store.get_statistics()
    assert (stats.memory_count, stats.causal_edge_count) == (20_000, CHUNK + 5_000)
    assert (stats.vector_count, stats.reflexion_count) == (300, 500)


def test_same_seed_same_store(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{x}.db" for x in "abc")
    for path, seed in ((a, 5), (b, 5), (c, 6)):
        generate_store(path, 3_000, 9_000, seed=seed, vectors=10, reflexions=10).close()
    assert table_dump(a) == table_dump(b)
    assert table_dump(a)["causal_edges"] != table_dump(c)["causal_edges"]


def test_chunks_do_not_depend_on_how_they_are_consumed() -> None:
    first = [e for batch in edge_batches(1_000, CHUNK + 10, seed=2) for e in batch]
    again = list(edge_batches(1_000, CHUNK + 10, seed=2))
    assert [len(b) for b in again] == [CHUNK, 10]
    assert first == [e for batch in again for e in batch]


def test_every_generated_record_passes_validation() -> None:
    for batch in memory_batches(2_000, seed=1):
        for m in batch:
            memory_row(m)
    for batch in edge_batches(2_000, 6_000, seed=1):
        for e in batch:
            edge_row(e)
            assert e.from_memory != e.to_memory
    for batch in vector_batches(2_000, 100, seed=1):
        for v in batch:
            vector_row(v)
    for batch in reflexion_batches(2_000, 100, seed=1):
        for r in batch:
            reflexion_row(r)


def test_memories_have_every_tier_and_ordered_creation() -> None:
    memories = [m for batch in memory_batches(5_000, seed=4) for m in batch]
    assert [m.id for m in memories] == sorted(m.id for m in memories)
    assert memories[0].id == memory_id(0, 5_000) == "m0000"
    created = [m.created_at for m in memories]
    assert created == sorted(created) and created[-1] - created[0] > 300 * 86_400
    assert all(m.last_accessed >= m.created_at for m in memories)
    tiers = Counter(m.tier for m in memories)
    assert set(tiers) == set(range(1, 13)) and tiers[1] > tiers[6] > tiers[11]
    with_blob = sum(m.embedding_blob is not None for m in memories)
    assert 0.05 * 5_000 < with_blob < 0.15 * 5_000


def test_edges_reference_generated_memories(medium: Path) -> None:
    conn = sqlite3.connect(medium)
    try:
        dangling = conn.execute(
            "SELECT count(*) FROM causal_edges WHERE from_memory NOT IN (SELECT id FROM memories) "
            "OR to_memory NOT IN (SELECT id FROM memories)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert dangling == 0


def test_out_degree_is_heavy_tailed(medium_edges: list[tuple]) -> None:
    out = np.array(sorted(Counter(row[1] for row in medium_edges).values(), reverse=True))
    mean = len(medium_edges) / 20_000
    assert out[0] > 20 * mean  # hubs
    assert out[: len(out) // 100].sum() > 0.1 * len(medium_edges)  # top 1% of sources: over 10% of edges


def test_edges_mostly_forward_back_edges_are_feedback(medium_edges: list[tuple]) -> None:
    back = [row for row in medium_edges if row[1] > row[2]]  # ids are zero-padded: order = creation order
    share = len(back) / len(medium_edges)
    assert 0.03 < share < 0.07
    assert {row[4] for row in back} == {"feedback"}
    assert {row[4] for row in medium_edges if row[1] < row[2]} == {
        "causes",
        "enables",
        "correlates",
        "inhibits",
    }


def test_weights_in_unit_interval_with_zeros(medium_edges: list[tuple]) -> None:
    weights = np.array([row[3] for row in medium_edges])
    assert weights.min() == 0.0 and weights.max() <= 1.0
    assert 0.01 < (weights == 0).mean() < 0.03
    assert np.all(np.round(weights, 6) == weights)


def test_edge_time_follows_its_endpoints(medium: Path) -> None:
    conn = sqlite3.connect(medium)
    try:
        early = conn.execute(
            "SELECT count(*) FROM causal_edges e JOIN memories a ON a.id = e.from_memory "
            "JOIN memories b ON b.id = e.to_memory WHERE e.created_at < max(a.created_at, b.created_at)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert early == 0


@pytest.mark.parametrize("back", [0.0, 0.2])
def test_without_back_edges_the_graph_is_a_dag(back: float) -> None:
    graph = nx.DiGraph()
    graph.add_edges_from(
        (e.from_memory, e.to_memory)
        for b in edge_batches(300, 1_500, seed=9, back_edge_fraction=back)
        for e in b
    )
    assert nx.is_directed_acyclic_graph(graph) == (back == 0.0)


def test_feedback_filter_leaves_a_dag() -> None:
    edges = [e for b in edge_batches(300, 1_500, seed=9, back_edge_fraction=0.3) for e in b]
    graph = nx.DiGraph((e.from_memory, e.to_memory) for e in edges if e.edge_type != "feedback")
    assert nx.is_directed_acyclic_graph(graph)


def test_vectors_on_distinct_memories(medium: Path) -> None:
    rows = table_dump(medium)["vectors"]
    assert len({row[1] for row in rows}) == len(rows) == 300
    assert all(len(row[3]) == 4 * row[2] for row in rows)


def test_reflexion_outcomes(medium: Path) -> None:
    outcomes = Counter(row[5] for row in table_dump(medium)["reflexion_episodes"])
    assert set(outcomes) == {"resolved", "partially_resolved", "escalated", "deferred"}


def test_progress_reports_counts(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate_store(
        tmp_path / "p.db", 1_000, CHUNK + 1, seed=0, progress=lambda d, t: calls.append((d, t))
    ).close()
    total = 1_000 + CHUNK + 1
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(done) == 4  # start, memories, two edge chunks


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"memories": -1, "edges": 0}, r"generate.memories = -1 is invalid"),
        ({"memories": 1, "edges": 5}, r"at least 2 when edges are requested"),
        ({"memories": 10, "edges": 5, "seed": -3}, r"generate.seed = -3"),
        ({"memories": 10, "edges": 5, "seed": 1.5}, r"generate.seed = 1.5"),
        ({"memories": 10, "edges": 5, "vectors": 11}, r"at most the number of memories"),
        ({"memories": 10, "edges": 5, "back_edge_fraction": 1.5}, r"back_edge_fraction = 1.5"),
        ({"memories": 10, "edges": 5, "zero_weight_fraction": -0.1}, r"zero_weight_fraction = -0.1"),
        ({"memories": 10, "edges": 2.0}, r"generate.edges = 2.0"),
    ],
)
def test_bad_arguments_create_nothing(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        generate_store(tmp_path / "bad.db", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_needs_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    generate_store(path, 10, 10).close()
    with pytest.raises(ConflictError, match="already exists"):
        generate_store(path, 20, 20)
    with generate_store(path, 20, 20, overwrite=True) as store:
        assert store.get_statistics().memory_count == 20


def test_interrupted_generation_leaves_no_file(tmp_path: Path) -> None:
    def stop(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_store(tmp_path / "g.db", 100, 100, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_in_memory_store() -> None:
    with generate_store(None, 50, 100, seed=1) as store:
        assert store.path is None
        assert len(store.get_causal_edges_from(store.get_causal_edge("e00").from_memory)) >= 1


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"hub_shape": 0}, "hub_shape = 0"), ({"span_days": 0}, "span_days = 0")]
)
def test_bad_shape_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        next(edge_batches(10, 10, **kwargs))
