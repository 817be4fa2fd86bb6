"""Schema migrations and file compatibility in both directions.

- fresh file, re-open (no-op), a version-1 file with data (FTS back-filled);
- the original crate's files in ``shared/compat`` adopted in place, every record kept, exactly as the
  compat README describes them;
- a file from a newer omega-graph, a SQLite file that is not an omega store, a reshaped crate table:
  ``SchemaError`` and the file's bytes untouched;
- after omega-graph has written a file, the crate's own SQL (plain SELECT / INSERT OR REPLACE with
  foreign keys on, through plain sqlite3) still works, and our triggers do not get in its way.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from omega_graph.errors import DatabaseError, NotFoundError, SchemaError
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
from omega_graph.schema import CRATE_TABLES as CRATE_COLUMNS
from omega_graph.schema import MIGRATIONS, SCHEMA_VERSION
from omega_graph.store import OmegaStore

CRATE_TABLES = {
    "memories",
    "vectors",
    "reflexion_episodes",
    "skills",
    "causal_edges",
    "architectures",
    "intelligences",
}


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return [*rows, ("user_version", conn.execute("PRAGMA user_version").fetchone()[0])]
    finally:
        conn.close()


def _assert_untouched(path: Path, before: bytes) -> None:
    after = path.read_bytes()
    if after != before:
        diff = next(
            (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
            min(len(before), len(after)),
        )
        hint = (
            " (bytes 18-19 are the journal-mode flags: the file was switched to WAL)"
            if diff in (18, 19)
            else ""
        )
        pytest.fail(f"the refused file was modified at byte {diff}{hint}")


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


# ----- fresh files and re-opens ----------------------------------------------------------------------------


def test_fresh_file_gets_the_current_schema(db_path: Path) -> None:
    with OmegaStore(db_path):
        pass
    assert _user_version(db_path) == SCHEMA_VERSION == MIGRATIONS[-1].version
    names = {row[1] for row in _schema(db_path)[:-1] if row[0] == "table"}
    assert CRATE_TABLES <= names
    assert {"omega_memory_fts", "omega_edge_log"} <= names
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for table in CRATE_TABLES:  # the crate's columns, unchanged
        assert [r[1] for r in conn.execute(f"PRAGMA table_info({table})")] == list(CRATE_COLUMNS[table])
    conn.close()


def test_reopen_is_a_no_op(db_path: Path, records, file_dump) -> None:
    with OmegaStore(db_path) as store:
        store.store_memory(records.memory("m1"))
    schema_before, content_before = _schema(db_path), file_dump(db_path)
    for _ in range(3):
        with OmegaStore(db_path) as store:
            assert store.get_memory("m1").id == "m1"
    assert _schema(db_path) == schema_before
    assert file_dump(db_path) == content_before


def test_version_1_file_with_data_is_migrated_and_search_backfilled(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.executescript(MIGRATIONS[0].sql)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO memories VALUES (?, ?, 1, 0.5, NULL, 0, 0)",
        [("m1", "pulmonary embolism"), ("m2", "broken leg")],
    )
    conn.close()
    with OmegaStore(db_path) as store:
        assert [m.id for m in store.search_memories("embolism")] == ["m1"]
        assert store.get_statistics().memory_count == 2
    assert _user_version(db_path) == SCHEMA_VERSION


def test_version_2_file_gets_the_memory_log(db_path: Path) -> None:
    """Version 3 adds the memory log: empty after the migration, then fed by plain SQL updates of
    id, tier or importance and by deletes (not by content or last_accessed)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for step in MIGRATIONS[:2]:
        conn.executescript(step.sql)
    conn.execute("PRAGMA user_version = 2")
    conn.executemany("INSERT INTO memories VALUES (?, 'x', 1, 0.5, NULL, 0, 0)", [("m1",), ("m2",), ("m3",)])
    conn.close()
    with OmegaStore(db_path):
        pass
    assert _user_version(db_path) == SCHEMA_VERSION
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert conn.execute("SELECT count(*) FROM omega_memory_log").fetchone() == (0,)
        conn.execute("UPDATE memories SET content = 'y', last_accessed = 9 WHERE id = 'm1'")
        conn.execute("UPDATE memories SET tier = 4 WHERE id = 'm2'")
        conn.execute("UPDATE memories SET id = 'm3b' WHERE id = 'm3'")
        conn.execute("DELETE FROM memories WHERE id = 'm1'")
        log = conn.execute("SELECT memory_rowid, op FROM omega_memory_log ORDER BY seq").fetchall()
        assert log == [(2, "update"), (3, "delete"), (3, "update"), (1, "delete")]
    finally:
        conn.close()


def test_version_3_and_crate_files_get_an_identity_that_reopening_keeps(db_path: Path, compat_copy) -> None:
    """Version 4 gives each store one random identity; reopening, writing and the crate's SQL keep it."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for step in MIGRATIONS[:3]:
        conn.executescript(step.sql)
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    identities = []
    for path in (db_path, compat_copy("asia")):
        with OmegaStore(path) as store:
            first = store.identity
            store.store_memory(StoredMemory("new", "x", 1, 0.5, None, 0, 0))
        crate = sqlite3.connect(path, isolation_level=None)
        crate.execute("INSERT OR REPLACE INTO memories VALUES ('new', 'y', 2, 0.1, NULL, 1, 1)")
        assert crate.execute("SELECT count(*) FROM omega_store_identity").fetchone() == (1,)
        crate.close()
        with OmegaStore(path) as store:
            assert store.identity == first and len(first) == 32
        identities.append(first)
    assert identities[0] != identities[1]


def test_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with OmegaStore(path) as store:
        assert store.get_statistics().memory_count == 0
    assert _user_version(path) == SCHEMA_VERSION


# ----- refusing files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_file_from_a_newer_omega_graph_is_refused_untouched(db_path: Path, records, journal: str) -> None:
    with OmegaStore(db_path) as store:
        store.store_memory(records.memory("m1"))
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal}").fetchone()
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 97}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(SchemaError, match=str(SCHEMA_VERSION + 97)) as info:
        OmegaStore(db_path)
    assert "upgrade" in str(info.value) and "newer" in str(info.value)
    assert isinstance(info.value, DatabaseError)
    _assert_untouched(db_path, before)
    wal = Path(f"{db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize(
    ("version", "with_memories"),
    # (0, True) is not here: a crate file holding only some tables is adopted (the crate makes them lazily)
    [(0, False), (1, False), (3, False), (SCHEMA_VERSION - 1, False), (1, True), (SCHEMA_VERSION - 1, True)],
)
def test_sqlite_file_with_unrelated_tables_is_refused_untouched(
    tmp_path: Path, version: int, with_memories: bool
) -> None:
    """Another application's database, whatever its own user_version, is never migrated into."""
    path = tmp_path / "other-app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    if with_memories:  # a table that happens to share a crate table's name and columns
        conn.execute(MIGRATIONS[0].sql.split(";")[0])
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError, match="not an omega store"):
        OmegaStore(path)
    _assert_untouched(path, before)
    assert _schema(path)[-1] == ("user_version", version)


def test_reshaped_crate_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reshaped.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE memories (id TEXT PRIMARY KEY, content TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError, match="tier"):
        OmegaStore(path)
    _assert_untouched(path, before)


# ----- the original crate's files ---------------------------------------------------------------------------

COMPAT = {
    "asia": {"counts": DatabaseStatistics(8, 4, 6, 9, 8, 4, 2), "csv": "asia.csv"},
    "sachs_cdt_consensus": {
        "counts": DatabaseStatistics(11, 4, 6, 9, 18, 6, 3),
        "csv": "sachs_cdt_consensus.csv",
    },
}


@pytest.mark.parametrize("name", sorted(COMPAT))
def test_compat_file_is_adopted_in_place_keeping_every_record(name: str, compat_copy, crate_rows) -> None:
    path = compat_copy(name)
    plain = sqlite3.connect(path)
    before = crate_rows(plain)
    plain.close()
    assert _user_version(path) == 0

    with OmegaStore(path) as store:
        assert store.get_statistics() == COMPAT[name]["counts"]
        for row in before["memories"]:
            assert store.get_memory(row[1]) == StoredMemory(*row[1:])
        for row in before["skills"]:
            assert store.get_skill(row[1]) == StoredSkill(*row[1:])
        for row in before["architectures"]:
            assert store.get_architecture(row[1]) == StoredArchitecture(*row[1:])
        for row in before["intelligences"]:
            assert store.get_intelligence(row[1]) == StoredIntelligence(*row[1:])
        for row in before["vectors"]:
            assert store.get_vector_by_memory(row[2]) == StoredVector(*row[1:])
        for row in before["reflexion_episodes"]:
            assert store.get_reflexions_by_memory(row[2]) == [StoredReflexionEpisode(*row[1:])]
        assert list(store.iter_causal_edges()) == [StoredCausalEdge(*r[1:]) for r in before["causal_edges"]]
        assert list(store.iter_memories()) == [StoredMemory(*r[1:]) for r in before["memories"]]
        everything = store.search_memories("Observation", limit=1000)
        assert {m.id for m in everything} == {r[1] for r in before["memories"]}

    assert _user_version(path) == SCHEMA_VERSION
    plain = sqlite3.connect(path)
    try:
        assert crate_rows(plain) == before  # same rows, same rowids
        assert plain.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert plain.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        plain.close()
    schema = _schema(path)
    with OmegaStore(path) as store:  # and a second open is a no-op
        assert store.get_statistics() == COMPAT[name]["counts"]
    assert _schema(path) == schema


@pytest.mark.parametrize("name", sorted(COMPAT))
def test_compat_file_reads_back_as_its_readme_describes(name: str, compat_copy, data_folder: Path) -> None:
    nodes = (data_folder / "nodes" / f"{name}.txt").read_text().split()
    with open(data_folder / COMPAT[name]["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    with OmegaStore(compat_copy(name)) as store:
        memories = list(store.iter_memories())
        assert [m.id for m in memories] == [f"mem-{n}" for n in nodes]
        for i, (m, node) in enumerate(zip(memories, nodes, strict=True)):
            assert m.content == f"Observation of {node}"
            assert 1 <= m.tier <= 12 and 0.0 <= m.importance < 1.0
            assert (m.created_at, m.last_accessed) == (1_764_000_000 + 60 * i, 1_764_000_005 + 60 * i)
            if i % 3 == 0:
                assert m.embedding_blob is not None and len(m.embedding_blob) == 16
                assert len(struct.unpack("<4f", m.embedding_blob)) == 4
            else:
                assert m.embedding_blob is None
            if i % 2 == 0:
                v = store.get_vector_by_memory(m.id)
                assert (v.id, v.dimensions, len(v.data_blob)) == (f"vec-{node}", 8, 32)
                assert len(v.values()) == 8
            refl = store.get_reflexions_by_memory(m.id)
            if i % 5 == 0:
                assert [(r.id, r.outcome) for r in refl] == [
                    (f"refl-{node}", "resolved" if i % 10 == 0 else "escalated")
                ]
            else:
                assert refl == []

        edges = list(store.iter_causal_edges())
        assert len(edges) == len(rows)
        for k, (e, row) in enumerate(zip(edges, rows, strict=True)):
            assert (e.id, e.from_memory, e.to_memory) == (
                f"edge-{k:05d}",
                f"mem-{row['source']}",
                f"mem-{row['target']}",
            )
            assert e.edge_type in {"causes", "enables", "inhibits", "correlates"}
            assert e.created_at == 1_764_100_000 + k
            if "weight" in row:
                assert e.weight == float(row["weight"])
            else:
                assert 0.0 <= e.weight < 1.0
        out = {n: [e.to_memory for e in store.get_causal_edges_from(f"mem-{n}")] for n in nodes}
        assert sum(map(len, out.values())) == len(rows)

        archs = list(store.iter_architectures())
        assert [a.id for a in archs] == [f"arch-{k}" for k in range(6)]
        for k, a in enumerate(archs):
            assert a.paradigm == ["neural", "symbolic", "hybrid"][k % 3]
            assert json.loads(a.fitness_json)["overall"] == pytest.approx(0.5 + 0.05 * k)
            parent = json.loads(a.lineage_json)["parent"]
            assert parent == (None if k == 0 else f"arch-{k - 1}")
        assert [a.id for a in store.get_architectures_by_paradigm("neural")] == ["arch-3", "arch-0"]
        intels = list(store.iter_intelligences())
        assert [(i.id, i.arch_id) for i in intels] == [(f"intel-{k}", f"arch-{k % 6}") for k in range(9)]
        assert [i.maturity for i in intels] == pytest.approx([(k + 1) / 10 for k in range(9)])
        assert [i.id for i in store.get_intelligences_by_arch("arch-0")] == ["intel-6", "intel-0"]

        skills = {s.name: s for s in store.iter_skills()}
        assert {n: s.success_count for n, s in skills.items()} == {
            "code_review": 10,
            "analyze_code": 7,
            "write_tests": 4,
            "plan_trip": 0,
        }
        assert skills["code_review"].trigger_pattern == "review.*code|code.*review"
        assert skills["plan_trip"].last_used is None
        assert [s.name for s in store.match_skills("please review this code")] == ["code_review"]
        assert [s.name for s in store.get_skills_by_pattern("CODE")] == ["code_review", "analyze_code"]


def test_compat_file_accepts_new_writes_and_keeps_the_old(compat_copy, records) -> None:
    path = compat_copy("asia")
    with OmegaStore(path) as store:
        store.store_memory(records.memory("mem-asia", content="rewritten asia"))  # upsert keeps dependents
        assert store.get_statistics() == COMPAT["asia"]["counts"]
        store.store_causal_edge(records.edge("mem-dysp", "mem-asia", id="edge-new"))
        store.increment_skill_success("skill-3", 1_800_000_000)
        assert [m.id for m in store.search_memories("rewritten")] == ["mem-asia"]
        assert store.search_memories("asia", limit=100)[0].id == "mem-asia"
    with OmegaStore(path) as store:
        assert store.get_statistics().causal_edge_count == 9
        assert store.get_skill("skill-3").success_count == 1


# ----- and back: the crate's own SQL on a file omega-graph wrote --------------------------------------------

CRATE = {
    "replace_memory": "INSERT OR REPLACE INTO memories (id, content, tier, importance, embedding_blob, created_at, last_accessed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "get_memory": "SELECT id, content, tier, importance, embedding_blob, created_at, last_accessed FROM memories WHERE id = ?1",
    "by_tier": "SELECT id, content, tier, importance, embedding_blob, created_at, last_accessed FROM memories WHERE tier = ?1 ORDER BY importance DESC",
    "touch": "UPDATE memories SET last_accessed = ?1 WHERE id = ?2",
    "replace_skill": "INSERT OR REPLACE INTO skills (id, name, description, trigger_pattern, success_count, last_used, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "skills_like": "SELECT id, name, description, trigger_pattern, success_count, last_used, created_at FROM skills WHERE trigger_pattern LIKE ?1 ORDER BY success_count DESC",
    "skill_success": "UPDATE skills SET success_count = success_count + 1, last_used = ?1 WHERE id = ?2",
    "replace_arch": "INSERT OR REPLACE INTO architectures (id, name, paradigm, substrate, fitness_json, lineage_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "by_paradigm": "SELECT id, name, paradigm, substrate, fitness_json, lineage_json, created_at FROM architectures WHERE paradigm = ?1 ORDER BY created_at DESC",
    "replace_intel": "INSERT OR REPLACE INTO intelligences (id, name, arch_id, maturity, capabilities_json, memories_json, state_json, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "by_arch": "SELECT id, name, arch_id, maturity, capabilities_json, memories_json, state_json, created_at, updated_at FROM intelligences WHERE arch_id = ?1 ORDER BY maturity DESC",
    "replace_vector": "INSERT OR REPLACE INTO vectors (id, memory_id, dimensions, data_blob) VALUES (?1, ?2, ?3, ?4)",
    "vector_by_memory": "SELECT id, memory_id, dimensions, data_blob FROM vectors WHERE memory_id = ?1",
    "replace_reflexion": "INSERT OR REPLACE INTO reflexion_episodes (id, memory_id, trigger, context, action, outcome, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "reflexions": "SELECT id, memory_id, trigger, context, action, outcome, created_at FROM reflexion_episodes WHERE memory_id = ?1 ORDER BY created_at DESC",
    "replace_edge": "INSERT OR REPLACE INTO causal_edges (id, from_memory, to_memory, weight, edge_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "edges_from": "SELECT id, from_memory, to_memory, weight, edge_type, created_at FROM causal_edges WHERE from_memory = ?1 ORDER BY weight DESC",
}


def _write_with_omega_graph(path: Path, records) -> None:
    with OmegaStore(path) as store:
        store.store_memories(records.memory(f"m{i}", tier=3, importance=i / 10) for i in range(6))
        store.store_causal_edges(
            records.edge(f"m{i}", f"m{(i + 1) % 6}", id=f"e{i}", weight=(i + 1) / 10) for i in range(6)
        )
        store.store_vector(records.vector("m0", id="v0"))
        store.store_reflexion(records.reflexion("m1", id="r1"))
        store.store_skill(
            records.skill("s1", name="code_review", trigger_pattern="review.*code", success_count=2)
        )
        store.store_architecture(records.architecture("a1", paradigm="neural"))
        store.store_intelligence(records.intelligence("a1", id="i1", maturity=0.3))
        with store.transaction():
            store.store_memory(records.memory("m2", content="updated in place", tier=3, importance=0.2))
            store.delete_causal_edge("e5")


def test_crate_sql_reads_what_omega_graph_wrote(db_path: Path, records) -> None:
    _write_with_omega_graph(db_path, records)
    crate = sqlite3.connect(db_path)
    crate.execute("PRAGMA foreign_keys = ON")
    try:
        with OmegaStore(db_path) as store:
            for i in range(6):
                assert StoredMemory(
                    *crate.execute(CRATE["get_memory"], (f"m{i}",)).fetchone()
                ) == store.get_memory(f"m{i}")
                assert [StoredCausalEdge(*r) for r in crate.execute(CRATE["edges_from"], (f"m{i}",))] == (
                    store.get_causal_edges_from(f"m{i}")
                )
            by_tier = [StoredMemory(*r) for r in crate.execute(CRATE["by_tier"], (3,))]
            assert sorted(by_tier, key=lambda m: -m.importance) == store.query_memories_by_tier(3)
            assert StoredVector(
                *crate.execute(CRATE["vector_by_memory"], ("m0",)).fetchone()
            ) == store.get_vector_by_memory("m0")
            assert [StoredReflexionEpisode(*r) for r in crate.execute(CRATE["reflexions"], ("m1",))] == (
                store.get_reflexions_by_memory("m1")
            )
            assert [StoredSkill(*r) for r in crate.execute(CRATE["skills_like"], ("%review%",))] == [
                store.get_skill("s1")
            ]
            assert [StoredArchitecture(*r) for r in crate.execute(CRATE["by_paradigm"], ("neural",))] == [
                store.get_architecture("a1")
            ]
            assert [StoredIntelligence(*r) for r in crate.execute(CRATE["by_arch"], ("a1",))] == [
                store.get_intelligence("i1")
            ]
            counts = [
                crate.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("memories", "skills", "architectures", "intelligences", "causal_edges")
            ]
            assert tuple(counts) == store.get_statistics().as_tuple()[:5]
    finally:
        crate.close()


def test_crate_sql_writes_on_a_file_omega_graph_wrote(db_path: Path, records) -> None:
    _write_with_omega_graph(db_path, records)
    crate = sqlite3.connect(db_path, isolation_level=None)
    crate.execute("PRAGMA foreign_keys = ON")
    try:
        crate.executescript(
            MIGRATIONS[0].sql
        )  # the crate's OmegaStore::new re-runs its CREATE ... IF NOT EXISTS
        crate.execute(CRATE["replace_memory"], ("m-crate", "written by the crate", 5, 0.5, None, 1, 1))
        crate.execute(CRATE["replace_memory"], ("m2", "replaced by the crate", 3, 0.9, b"\x00" * 8, 2, 2))
        crate.execute(CRATE["touch"], (99, "m1"))
        crate.execute(CRATE["replace_skill"], ("s1", "code_review", "d", "review.*code", 5, 7, 0))
        crate.execute(CRATE["replace_skill"], ("s9", "other", "d", "plan.*trip", 0, None, 0))
        crate.execute(CRATE["skill_success"], (8, "s9"))
        crate.execute(CRATE["replace_arch"], ("a2", "A2", "symbolic", "rust", "{}", "{}", 3))
        crate.execute(CRATE["replace_intel"], ("i2", "I2", "a2", 0.9, "[]", "[]", "{}", 3, 3))
        crate.execute(CRATE["replace_intel"], ("i1", "I1", "a1", 0.4, "[]", "[]", "{}", 3, 4))
        crate.execute(CRATE["replace_vector"], ("v-crate", "m-crate", 2, struct.pack("<2f", 1, 0)))
        crate.execute(CRATE["replace_reflexion"], ("r-crate", "m-crate", "t", "c", "a", "o", 3))
        crate.execute(CRATE["replace_edge"], ("e-crate", "m-crate", "m0", 0.77, "causes", 3))
        crate.execute(CRATE["replace_edge"], ("e0", "m0", "m-crate", 0.66, "enables", 4))
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):  # the crate's FKs still hold
            crate.execute(CRATE["replace_edge"], ("e-bad", "m0", "ghost", 0.5, "causes", 0))
        assert crate.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert crate.execute("PRAGMA foreign_key_check").fetchall() == []
        # The crate's REPLACE of m2 deleted (cascade) the edges touching it; our edge log saw them.
        logged = {r[0] for r in crate.execute("SELECT edge_id FROM omega_edge_log WHERE op = 'delete'")}
        assert {"e1", "e2", "e5"} <= logged
    finally:
        crate.close()

    with OmegaStore(db_path) as store:
        assert store.get_memory("m-crate").content == "written by the crate"
        assert store.get_memory("m2").importance == 0.9
        assert store.get_memory("m1").last_accessed == 99
        assert store.get_skill("s9").success_count == 1
        assert [i.id for i in store.get_intelligences_by_arch("a2")] == ["i2"]
        assert store.get_vector_by_memory("m-crate").values() == [1.0, 0.0]
        assert {e.id for e in store.get_causal_edges_to("m0")} == {"e-crate"}
        assert [e.id for e in store.get_causal_edges_to("m-crate")] == ["e0"]
        # equal bm25 scores: insertion order, and the crate's REPLACE gave m2 a new, later rowid
        assert [m.id for m in store.search_memories("crate", limit=50)] == ["m-crate", "m2"]
        assert store.search_memories("updated") == []  # m2's old text is gone from search
        store.store_memory(records.memory("m-after"))  # and omega-graph still writes it
        assert store.get_statistics().memory_count == 8


def test_crate_backup_api_copies_an_omega_graph_file(db_path: Path, tmp_path: Path, records) -> None:
    _write_with_omega_graph(db_path, records)
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(tmp_path / "crate-backup.db")
    src.backup(dst, pages=5)  # the crate copies 5 pages per step
    src.close()
    dst.close()
    with OmegaStore(tmp_path / "crate-backup.db") as store:
        assert store.get_statistics() == DatabaseStatistics(6, 1, 1, 1, 5, 1, 1)


# ----- beliefs (migration 5) on a file the crate wrote, and the crate's SQL on it afterwards ----------------

BELIEF_TABLES = ("omega_edge_events", "omega_edge_evidence", "omega_edge_weight_log")
#: Times around the asia file's edges (created 1764100000..1764100007) and the beliefs given below.
T0 = 1_764_100_000
BELIEF_QUERIES: list[dict[str, Any]] = [
    {},
    {"include_invalidated": True},
    {"known_at": T0 + 3},
    {"known_at": T0 + 150},
    {"known_at": T0 + 250},
    {"known_at": T0 + 350},
    {"valid_at": T0 + 50},
    {"valid_at": T0 + 5_000},
    {"known_at": T0 + 250, "valid_at": T0 + 5_000, "min_weight": 0.3},
    {"known_at": T0 + 350, "as_of": T0 + 4, "include_invalidated": True},
]


def _give_beliefs(store: OmegaStore) -> None:
    """Validity windows, invalidations (one superseded, one bulk), a reinstatement, evidence, and a
    weight changed in place, on the asia file's edges."""
    store.set_edge_validity("edge-00001", T0, T0 + 1_000)
    store.set_edge_validity("edge-00003", None, T0 + 100)
    store.invalidate_causal_edge("edge-00002", at=T0 + 100, reason="refuted", superseded_by="edge-00003")
    store.invalidate_causal_edge("edge-00004", at=T0 + 100)
    store.reinstate_causal_edge("edge-00004", at=T0 + 200, reason="confirmed again")
    assert store.invalidate_causal_edges(["edge-00005", "edge-00006"], at=T0 + 300, reason="bulk") == 2
    store.add_edge_evidence("edge-00001", memory_id="mem-smoke", note="seen twice")
    store.add_edge_evidence("edge-00002", reflexion_id="refl-either")
    store.add_edge_evidence("edge-00004", memory_id="mem-asia", reflexion_id="refl-asia")
    store.store_causal_edge(StoredCausalEdge("edge-00007", "mem-tub", "mem-either", 0.55, "inhibits", T0 + 7))


def _belief_answers(store: OmegaStore) -> dict[int, Any]:
    """For each of :data:`BELIEF_QUERIES`: the snapshot's edges (id -> ends, weight) and a question."""
    out: dict[int, Any] = {}
    for i, query in enumerate(BELIEF_QUERIES):
        g = store.causal_graph(**query)
        edges = {k: (u, v, d["weight"]) for u, v, k, d in g.to_networkx().edges(keys=True, data=True)}
        out[i] = (edges, g.effects("mem-smoke").to_dict("list"))
    return out


def _belief_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY seq").fetchall() for t in BELIEF_TABLES}


def _edge_ids(store: OmegaStore, **query: Any) -> set[str]:
    return {k for _, _, k in store.causal_graph(**query).to_networkx().edges(keys=True)}


def test_crate_sql_on_an_adopted_file_that_carries_beliefs(compat_copy: Any) -> None:
    """The crate's file, adopted (migration 5) and given beliefs; the crate's own SQL then reads it,
    writes to it and re-stores belief-carrying edges with INSERT OR REPLACE; reopened, the beliefs
    are all there and every snapshot answers as before (the crate's new edge aside)."""
    path = compat_copy("asia")
    with OmegaStore(path) as store:
        _give_beliefs(store)
        before = _belief_answers(store)
        histories = {e.id: store.edge_history(e.id) for e in store.iter_causal_edges()}
        evidence = {e: store.edge_evidence(e) for e in histories}
        edges = list(store.iter_causal_edges())
    assert _user_version(path) == SCHEMA_VERSION
    assert before[0][0].keys() == {f"edge-{i:05d}" for i in (0, 1, 3, 4, 7)}  # the beliefs took effect
    assert before[3][0].keys() == {f"edge-{i:05d}" for i in range(8)} - {"edge-00002", "edge-00004"}

    crate = sqlite3.connect(path, isolation_level=None)
    crate.execute("PRAGMA foreign_keys = ON")
    try:
        beliefs = _belief_rows(crate)
        crate.executescript(
            MIGRATIONS[0].sql
        )  # the crate's OmegaStore::new re-runs its CREATE ... IF NOT EXISTS
        # the crate reads what omega-graph wrote
        for e in edges:
            got = [StoredCausalEdge(*r) for r in crate.execute(CRATE["edges_from"], (e.from_memory,))]
            assert e in got
        assert StoredMemory(*crate.execute(CRATE["get_memory"], ("mem-smoke",)).fetchone()).content == (
            "Observation of smoke"
        )
        # and writes: new records, and the same edges re-stored (one reweighted) with INSERT OR REPLACE
        crate.execute(CRATE["replace_memory"], ("mem-crate", "written by the crate", 5, 0.5, None, 1, 1))
        crate.execute(
            CRATE["replace_edge"], ("edge-crate", "mem-crate", "mem-asia", 0.6, "causes", 1_900_000_000)
        )
        crate.execute(CRATE["replace_vector"], ("vec-crate", "mem-crate", 2, struct.pack("<2f", 1, 0)))
        crate.execute(CRATE["replace_reflexion"], ("refl-crate", "mem-crate", "t", "c", "a", "o", 3))
        crate.execute(CRATE["touch"], (T0 + 9, "mem-smoke"))
        for e in edges:  # every edge re-stored as it is: a delete and an insert under the same id
            crate.execute(
                CRATE["replace_edge"], (e.id, e.from_memory, e.to_memory, e.weight, e.edge_type, e.created_at)
            )
        assert crate.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert crate.execute("PRAGMA foreign_key_check").fetchall() == []
        assert _belief_rows(crate) == beliefs  # the crate's REPLACE kept every side-table row
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):  # the crate's FKs still hold
            crate.execute(CRATE["replace_edge"], ("edge-bad", "mem-asia", "ghost", 0.5, "causes", 0))
    finally:
        crate.close()

    with OmegaStore(path) as store:
        assert store.get_statistics().causal_edge_count == 9
        after = _belief_answers(store)
        for i, query in enumerate(BELIEF_QUERIES):
            new_edge_counts = "known_at" not in query and query.get("as_of") is None
            want = dict(before[i][0])
            if new_edge_counts and query.get("min_weight", 0.0) <= 0.6:
                want["edge-crate"] = ("mem-crate", "mem-asia", 0.6)
            assert after[i][0] == want, query
            assert after[i][1] == before[i][1], query  # nothing new downstream of smoke
        for eid, frame in histories.items():
            pd.testing.assert_frame_equal(store.edge_history(eid), frame)
            pd.testing.assert_frame_equal(store.edge_evidence(eid), evidence[eid])
        # and omega-graph goes on writing beliefs on it
        store.invalidate_causal_edge("edge-crate", at=1_900_000_001, reason="the crate's guess")
        assert "edge-crate" not in _edge_ids(store)
        assert "edge-crate" in _edge_ids(store, known_at=1_900_000_000)


@pytest.mark.parametrize(
    ("statement", "args", "gone"),
    [
        ("replace_edge", ("edge-00002", "mem-either", "mem-dysp", 0.2, "causes", T0 + 2), set()),
        ("replace_memory", ("mem-xray", "again", 1, 0.5, None, 1, 1), {"edge-00003"}),
        ("replace_memory", ("mem-either", "again", 1, 0.5, None, 1, 1), {"edge-00002", "edge-00003", "edge-00004", "edge-00007"}),
    ],
    ids=["edge-replace-keeps", "memory-replace-cascades", "memory-replace-cascades-to-four"],
)  # fmt: skip
def test_crate_replace_of_a_memory_removes_the_beliefs_of_its_edges(
    compat_copy: Any, statement: str, args: tuple, gone: set[str]
) -> None:
    """The crate's INSERT OR REPLACE of a memory deletes the edges touching it (a cascade): their
    beliefs go with them, the other edges keep theirs; its REPLACE of an edge keeps the edge's."""
    path = compat_copy("asia")
    with OmegaStore(path) as store:
        _give_beliefs(store)
    plain = sqlite3.connect(path, isolation_level=None)
    plain.execute("PRAGMA foreign_keys = ON")
    try:
        before = _belief_rows(plain)
        plain.execute(CRATE[statement], args)
        after = _belief_rows(plain)
    finally:
        plain.close()
    assert after["omega_edge_events"] == [r for r in before["omega_edge_events"] if r[1] not in gone]
    assert after["omega_edge_weight_log"] == [r for r in before["omega_edge_weight_log"] if r[1] not in gone]
    kept_evidence = [r for r in before["omega_edge_evidence"] if r[1] not in gone]
    if statement == "replace_memory" and args[0] == "mem-either":  # refl-either went with the memory
        kept_evidence = [r for r in kept_evidence if r[3] != "refl-either"]
    assert after["omega_edge_evidence"] == kept_evidence
    with OmegaStore(path) as store:
        for e in gone:
            with pytest.raises(NotFoundError):
                store.edge_history(e)
        assert _edge_ids(store) == {f"edge-{i:05d}" for i in (0, 1, 3, 4, 7)} - gone  # the others: as before
