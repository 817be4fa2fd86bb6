"""The fleet generator: determinism (rows and identities), and the shape its docstring promises."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from omega_graph import OmegaStore
from omega_graph.errors import ConflictError, ValidationError
from omega_graph.fleet import export
from omega_graph.fleet._generate import fleet_store, generate, store_identity
from omega_graph.generate import edge_batches
from omega_graph.schema import CRATE_TABLES

EDGES = (40, 120)


def dump(path: str | Path) -> dict[str, list[tuple]]:
    """Every row of the crate tables and the identity row, by plain sqlite3."""
    conn = sqlite3.connect(path)
    try:
        rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in CRATE_TABLES}
        rows["identity"] = conn.execute("SELECT * FROM omega_store_identity").fetchall()
        return rows
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return generate(tmp_path_factory.mktemp("gen") / "fleet", stores=20, seed=4, edges=EDGES)


def test_same_arguments_give_the_same_rows_and_identities(fleet: list[str], tmp_path: Path) -> None:
    again = generate(tmp_path / "again", stores=20, seed=4, edges=EDGES)
    assert [Path(p).name for p in again] == [Path(p).name for p in fleet]
    for a, b in zip(fleet, again, strict=True):
        assert dump(a) == dump(b)
    other = generate(tmp_path / "other", stores=3, seed=5, edges=EDGES)
    assert dump(other[0])["causal_edges"] != dump(fleet[0])["causal_edges"]


def test_store_i_depends_only_on_seed_index_and_edges(fleet: list[str], tmp_path: Path) -> None:
    prefix = generate(tmp_path / "prefix", stores=4, seed=4, edges=EDGES)
    assert [dump(p) for p in prefix] == [dump(p) for p in fleet[:4]]


def test_identities_are_derived_from_seed_and_index_and_become_the_store_ids(
    fleet: list[str], tmp_path: Path
) -> None:
    expected = [store_identity(4, i) for i in range(20)]
    for path, identity in zip(fleet, expected, strict=True):
        with OmegaStore(path) as store:
            assert store.identity == identity
    assert len(set(expected)) == 20 and all(len(i) == 32 and int(i, 16) >= 0 for i in expected)
    result = export([Path(fleet[0]).parent], tmp_path / "out")
    assert result.ok and sorted(result.exported) == sorted(expected)


def test_sizes_versions_and_cycles_follow_the_index(fleet: list[str]) -> None:
    lo, hi = EDGES
    for i, path in enumerate(fleet):
        with OmegaStore(path) as store:
            stats = store.get_statistics()
            graph = store.causal_graph()
            arch = store.get_architectures_by_paradigm("hybrid" if i % 3 == 2 else "neural")
        cyclic, version = i % 8 == 5, 2 if i % 3 == 2 else 1
        edges = stats.causal_edge_count - (1 if cyclic else 0)  # the closing edge e_cycle
        if i % 16 == 9:
            assert lo // 10 <= edges < lo
        else:
            assert lo <= edges <= hi
        assert stats.memory_count == max(2, edges // 3)
        assert path.endswith(f"-v{version}.db") and [a.name for a in arch] == [f"agent-v{version}"]
        assert stats.intelligence_count == 1 and stats.skill_count == 2
        m = stats.memory_count
        assert max(1, round(0.05 * m)) <= stats.vector_count <= max(1, round(0.2 * m))
        assert max(1, round(0.02 * m)) <= stats.reflexion_count <= max(1, round(0.08 * m))
        assert graph.is_dag() is not cyclic, i


def test_version_2_weights_are_the_square_roots_of_the_drawn_weights(fleet: list[str]) -> None:
    shape = fleet_store(4, 2, EDGES)
    drawn = [
        e
        for batch in edge_batches(shape.memories, shape.edges, shape.seed, back_edge_fraction=0.0)
        for e in batch
    ]
    stored = dict((r[0], r[3]) for r in dump(fleet[2])["causal_edges"])
    assert stored == {e.id: round(math.sqrt(e.weight), 6) for e in drawn}
    mean = {
        v: sum(w for p in fleet if p.endswith(f"-v{v}.db") for w in [r[3] for r in dump(p)["causal_edges"]])
        / sum(len(dump(p)["causal_edges"]) for p in fleet if p.endswith(f"-v{v}.db"))
        for v in (1, 2)
    }
    assert 0.35 < mean[1] < 0.45 and 0.57 < mean[2] < 0.67


def test_progress_overwrite_and_bad_arguments(tmp_path: Path) -> None:
    calls: list[tuple[int, int, str | None]] = []
    paths = generate(tmp_path / "f", stores=2, seed=1, edges=(5, 10), progress=lambda *a: calls.append(a))
    assert calls == [(0, 2, None), (1, 2, paths[0]), (2, 2, paths[1])]
    before = [dump(p) for p in paths]
    with pytest.raises(ConflictError, match="already exist"):
        generate(tmp_path / "f", stores=2, seed=2, edges=(5, 10))
    assert [dump(p) for p in paths] == before
    assert generate(tmp_path / "f", stores=2, seed=1, edges=(5, 10), overwrite=True) == paths
    assert [dump(p) for p in paths] == before
    for kwargs, field in [
        ({"stores": -1}, "stores"),
        ({"seed": "1"}, "seed"),
        ({"edges": (10, 5)}, "edges"),
        ({"edges": (0, 5)}, "edges"),
    ]:
        with pytest.raises(ValidationError, match=field):
            generate(tmp_path / "bad", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "bad").exists()
