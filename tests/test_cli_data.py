"""The command line's commands that create, fill, copy and export stores: init, import-edges, export,
backup, restore, generate (real files under tmp_path, the real store, networkx, DuckDB, pyarrow)."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from click.testing import Result
from test_cli import as_json, assert_error, ok

from omega_graph import OmegaStore, StoredMemory, schema
from omega_graph.edge_csv import read_edge_csv
from omega_graph.sample import build_sample_store

TS = 1_764_000_000


@pytest.fixture
def asia_csv(data_folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(data_folder / "asia.csv", tmp_path / "asia.csv"))


@pytest.fixture
def sample_db(tmp_path: Path) -> Path:
    path = tmp_path / "sample.db"
    build_sample_store(path).close()
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def counts(db: Path) -> dict[str, int]:
    with OmegaStore(db) as store:
        return asdict(store.get_statistics())


# ----- init --------------------------------------------------------------------------------------
def test_init_creates_an_empty_store(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert (
        ok(run("init", db)).stdout.strip()
        == f"created an empty omega store at {db} (schema version {schema.SCHEMA_VERSION})"
    )
    with sqlite3.connect(db) as conn:
        assert schema.user_version(conn) == schema.SCHEMA_VERSION
    assert set(counts(db).values()) == {0}
    again = ok(run("init", db)).stdout
    assert f"is already an omega store (schema version {schema.SCHEMA_VERSION})" in again


def test_init_migrates_a_file_of_the_original_crate(
    run: Callable[..., Result], compat_copy: Callable[[str], Path]
) -> None:
    db = compat_copy("asia")
    with sqlite3.connect(db) as conn:
        before = {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in schema.CRATE_TABLES
        }
        assert schema.user_version(conn) == 0
    out = ok(run("init", db)).stdout
    assert (
        "migrated" in out
        and f"from schema version 0 to {schema.SCHEMA_VERSION}" in out
        and "8 memories" in out
    )
    with sqlite3.connect(db) as conn:
        after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in schema.CRATE_TABLES}
        assert schema.user_version(conn) == schema.SCHEMA_VERSION
    assert after == before


def test_init_refuses_other_files(run: Callable[..., Result], tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (n INTEGER)")
    before = other.read_bytes()
    assert_error(run("init", other), "not an omega store", "invoices")
    assert other.read_bytes() == before
    text = write(tmp_path / "text.db", "hello\n" * 100)
    assert_error(run("init", text), "is not a SQLite database")
    assert_error(run("init", tmp_path / "no" / "such" / "dir.db"), "does not exist", "create it first")


# ----- import-edges ------------------------------------------------------------------------------
def test_import_edges_into_a_new_store(run: Callable[..., Result], tmp_path: Path, asia_csv: Path) -> None:
    db = tmp_path / "asia.db"
    out = ok(run("import-edges", db, asia_csv, "--timestamp", TS)).stdout
    assert out.strip() == (
        f"imported 8 edges from asia.csv into {db}; created 8 memories, 0 existed already; "
        "the store now holds 8 memories and 8 causal edges"
    )
    rows = read_edge_csv(asia_csv)
    with OmegaStore(db) as store:
        edges = list(store.iter_causal_edges())
        assert [(e.id, e.from_memory, e.to_memory, e.weight, e.edge_type, e.created_at) for e in edges] == [
            (f"asia:edge-{i:06d}", r.source, r.target, r.weight, "causes", TS) for i, r in enumerate(rows)
        ]
        smoke = store.get_memory("smoke")
        assert (smoke.content, smoke.tier, smoke.importance, smoke.embedding_blob) == ("smoke", 1, 0.5, None)
        assert smoke.created_at == smoke.last_accessed == TS
        # memories are created in order of first appearance in the file
        assert [m.id for m in store.iter_memories()][:3] == ["asia", "tub", "bronc"]
    # the new store answers path questions at once
    data = as_json(run("path", db, "smoke", "dysp", "--json"))
    assert data["edge_ids"] == ["asia:edge-000005", "asia:edge-000001"]


def test_import_again_updates_in_place(run: Callable[..., Result], tmp_path: Path, asia_csv: Path) -> None:
    db = tmp_path / "asia.db"
    ok(run("import-edges", db, asia_csv, "--timestamp", TS))
    with OmegaStore(db) as store:
        store.store_memory(StoredMemory("smoke", "a smoker", 4, 0.9, None, 1, 2))  # curated by hand
    out = ok(run("import-edges", db, asia_csv, "--timestamp", TS + 60)).stdout
    assert "imported 8 edges (8 replaced edges of the same id)" in out
    assert "created 0 memories, 8 existed already" in out
    assert counts(db)["causal_edge_count"] == 8
    with OmegaStore(db) as store:
        assert store.get_memory("smoke") == StoredMemory("smoke", "a smoker", 4, 0.9, None, 1, 2)
        assert {e.created_at for e in store.iter_causal_edges()} == {TS + 60}


def test_import_uses_existing_memories_of_a_crate_file(
    run: Callable[..., Result], compat_copy: Callable[[str], Path], asia_csv: Path
) -> None:
    db = compat_copy("asia")  # memories mem-<node>, edges edge-00000.. written by the crate
    with sqlite3.connect(db) as conn:
        memories = conn.execute("SELECT * FROM memories ORDER BY id").fetchall()
    out = ok(run("import-edges", db, asia_csv, "--memory-prefix", "mem-", "--edge-type", "enables")).stdout
    assert "created 0 memories, 8 existed already" in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM memories ORDER BY id").fetchall() == memories
        imported = conn.execute("SELECT DISTINCT edge_type FROM causal_edges WHERE id LIKE 'asia:edge-%'")
        assert imported.fetchall() == [("enables",)]
        assert conn.execute("SELECT count(*) FROM causal_edges").fetchone() == (16,)


def test_import_options(run: Callable[..., Result], tmp_path: Path, asia_csv: Path) -> None:
    db = tmp_path / "x.db"
    ok(run("import-edges", db, asia_csv, "--id-prefix", "e", "--memory-prefix", "asia/", "--tier", 3,
           "--importance", 0.25, "--edge-type", "correlates", "--timestamp", "2025-01-01"))  # fmt: skip
    with OmegaStore(db) as store:
        edge = store.get_causal_edge("e000000")
        assert (edge.from_memory, edge.to_memory, edge.edge_type, edge.created_at) == (
            "asia/asia",
            "asia/tub",
            "correlates",
            1735689600,
        )
        m = store.get_memory("asia/tub")
        assert (m.content, m.tier, m.importance) == ("tub", 3, 0.25)


def test_a_file_without_weights_needs_weight(run: Callable[..., Result], tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.csv", "source,target\nrain,wet\nwet,slip\n")
    db = tmp_path / "p.db"
    assert_error(run("import-edges", db, plain), "has no weight column", "--weight")
    assert not db.exists()
    ok(run("import-edges", db, plain, "--weight", 0.7))
    with OmegaStore(db) as store:
        assert [e.weight for e in store.iter_causal_edges()] == [0.7, 0.7]
    weighted = write(tmp_path / "w.csv", "source,target,weight\na,b,0.5\n")
    assert_error(run("import-edges", db, weighted, "--weight", 0.3), "has a weight column", "drop --weight")


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("source,target,weight\na,b,0.5\nb,c,2\n", 3, "weight = '2'"),
        ("source,target,weight\na,b,0.5\nb,c,0.1\nc,d\n", 4, "3 columns"),
        ("source,target,weight\na,b,0.5\n,c,0.1\n", 3, "source"),
        ("source,target,weight\na,b,heavy\n", 2, "weight = 'heavy'"),
        ("from,to\na,b\n", 1, "header"),
    ],
)
def test_a_malformed_row_changes_nothing(
    run: Callable[..., Result], sample_db: Path, tmp_path: Path, text: str, line: int, phrase: str
) -> None:
    bad = write(tmp_path / "bad.csv", text)
    before = counts(sample_db)
    assert_error(
        run("import-edges", sample_db, bad), f"bad.csv, line {line}:", phrase, "fix or remove that row"
    )
    assert counts(sample_db) == before
    fresh = tmp_path / "fresh.db"
    assert_error(run("import-edges", fresh, bad), f"line {line}:")
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "sample.db"] + (
        ["sample.db-shm", "sample.db-wal"] if (tmp_path / "sample.db-wal").exists() else []
    )


def test_import_missing_csv(run: Callable[..., Result], tmp_path: Path) -> None:
    assert_error(run("import-edges", tmp_path / "x.db", tmp_path / "nope.csv"), "nope.csv", "not found")
    assert not (tmp_path / "x.db").exists()


def test_import_progress(run: Callable[..., Result], tmp_path: Path, data_folder: Path) -> None:
    db = tmp_path / "alarm.db"
    result = ok(run("import-edges", db, data_folder / "alarm.csv", "--progress"))
    assert result.stderr.splitlines()[0] == "importing alarm.csv: 0/46 (0%)"
    assert result.stderr.splitlines()[-1] == "importing alarm.csv: 46/46 (100%)"
    # not a terminal and not asked: silent; --quiet: no summary either
    assert ok(run("import-edges", db, data_folder / "alarm.csv")).stderr == ""
    quiet = ok(run("import-edges", db, data_folder / "alarm.csv", "--quiet", "--progress"))
    assert quiet.stdout == quiet.stderr == ""


def test_import_every_bundled_network(run: Callable[..., Result], tmp_path: Path, data_folder: Path) -> None:
    db = tmp_path / "all.db"
    total = 0
    for csv_file in sorted(data_folder.glob("*.csv")):
        weight = [] if "weight" in csv_file.read_text().splitlines()[0] else ["--weight", "0.5"]
        ok(run("import-edges", db, csv_file, "--memory-prefix", f"{csv_file.stem}:", *weight))
        total += len(read_edge_csv(csv_file))
    assert counts(db)["causal_edge_count"] == total
    # the consensus network keeps its feedback cycle
    cycles = as_json(run("cycles", db, "--json"))
    assert cycles["is_dag"] is False
    assert all(m.startswith("sachs_cdt_consensus:") for m in cycles["cycles"][0])


# ----- export ------------------------------------------------------------------------------------
def test_export_graphml_and_json_round_trip(
    run: Callable[..., Result], sample_db: Path, tmp_path: Path
) -> None:
    with OmegaStore(sample_db) as store:
        expected = store.causal_graph().to_networkx()
    out = ok(run("export", sample_db, tmp_path / "g.graphml")).stdout
    assert f"({expected.number_of_nodes()} memories, {expected.number_of_edges()} edges)" in out
    back = nx.read_graphml(tmp_path / "g.graphml", force_multigraph=True)
    assert isinstance(back, nx.MultiDiGraph)
    assert sorted(back.nodes) == sorted(expected.nodes)
    assert sorted(
        (u, v, k, d["weight"], d["edge_type"]) for u, v, k, d in back.edges(keys=True, data=True)
    ) == sorted((u, v, k, d["weight"], d["edge_type"]) for u, v, k, d in expected.edges(keys=True, data=True))
    ok(run("export", sample_db, tmp_path / "g.json"))
    data = json.loads((tmp_path / "g.json").read_text())
    assert {"nodes", "edges", "directed", "multigraph"} <= set(data)
    graph = nx.node_link_graph(data, edges="edges")
    assert nx.utils.graphs_equal(graph, expected)


def test_export_graph_with_filters(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    ok(run("export", sample_db, tmp_path / "strong.json", "--min-weight", 0.5, "--edge-type", "causes"))
    graph = nx.node_link_graph(json.loads((tmp_path / "strong.json").read_text()), edges="edges")
    with OmegaStore(sample_db) as store:
        expected = store.causal_graph(min_weight=0.5, edge_types=["causes"]).to_networkx()
    assert graph.number_of_edges() == expected.number_of_edges() > 0
    assert all(d["weight"] >= 0.5 and d["edge_type"] == "causes" for *_, d in graph.edges(data=True))


def test_export_csv(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "tables"
    lines = ok(run("export", sample_db, out_dir, "--format", "csv")).stdout.splitlines()
    assert lines[1].split() == ["table", "rows", "file"]
    conn = sqlite3.connect(sample_db)
    for table in schema.CRATE_TABLES:
        with open(out_dir / f"{table}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        stored = cursor.fetchall()
        assert rows[0] == [d[0] for d in cursor.description]
        assert len(rows) - 1 == len(stored) > 0
        as_text = [
            ["" if v is None else v.hex() if isinstance(v, bytes) else str(v) for v in r] for r in stored
        ]
        assert rows[1:] == as_text
    vector = conn.execute("SELECT data_blob FROM vectors ORDER BY rowid LIMIT 1").fetchone()[0]
    conn.close()
    with open(out_dir / "vectors.csv", newline="", encoding="utf-8") as handle:
        assert bytes.fromhex(next(csv.DictReader(handle))["data_blob"]) == vector


def test_export_parquet(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "pq"
    ok(run("export", sample_db, out_dir, "--format", "parquet"))
    with OmegaStore(sample_db) as store:
        stats = store.get_statistics()
        edges = pd.read_sql("SELECT * FROM causal_edges ORDER BY id", store.connection)
    assert len(pd.read_parquet(out_dir / "memories.parquet")) == stats.memory_count
    back = pd.read_parquet(out_dir / "causal_edges.parquet").sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, edges, check_dtype=False)


def test_export_refuses_to_overwrite_without_force(
    run: Callable[..., Result], sample_db: Path, tmp_path: Path
) -> None:
    target = write(tmp_path / "g.json", "precious")
    assert_error(run("export", sample_db, target), "already exists", "--force")
    assert target.read_text() == "precious"
    ok(run("export", sample_db, target, "--force"))
    assert json.loads(target.read_text())["directed"] is True
    ok(run("export", sample_db, tmp_path / "t", "--format", "csv"))
    assert_error(run("export", sample_db, tmp_path / "t", "--format", "csv"), "already exists", "--force")
    ok(run("export", sample_db, tmp_path / "t", "--format", "csv", "--force"))


@pytest.mark.parametrize(
    ("args", "phrase", "code"),
    [
        (["{tmp}/out.txt"], "pass --format", 2),
        (["{tmp}/t", "--format", "csv", "--min-weight", "0.5"], "apply to graphml and json", 2),
        (["{tmp}/t", "--format", "xml"], "'xml' is not one of", 2),
        (["{tmp}", "--format", "graphml"], "not a directory", 1),
        (["{tmp}/no/dir/g.graphml"], "does not exist", 1),
    ],
)
def test_export_errors(
    run: Callable[..., Result], sample_db: Path, tmp_path: Path, args: list[str], phrase: str, code: int
) -> None:
    assert_error(run("export", sample_db, *[a.format(tmp=tmp_path) for a in args]), phrase, code=code)


# ----- backup / restore ----------------------------------------------------------------------------
def test_backup_and_restore(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    before = counts(sample_db)
    copy = tmp_path / "copy.db"
    out = ok(run("backup", sample_db, copy)).stdout
    assert out.startswith(f"backed up {sample_db} to {copy}: {before['memory_count']} memories")
    assert counts(copy) == before
    assert_error(run("backup", sample_db, copy), "already exists", "--force")
    ok(run("backup", sample_db, copy, "--force"))
    folder = tmp_path / "backups"
    folder.mkdir()
    ok(run("backup", sample_db, folder))
    assert counts(folder / "sample.db") == before

    with OmegaStore(sample_db) as store:
        store.delete_memory("asia:smoke")  # cascades to its edges
    assert counts(sample_db) != before
    out = ok(run("restore", sample_db, copy)).stdout
    assert out.startswith(f"restored {sample_db} from {copy}:")
    assert counts(sample_db) == before
    # restoring into a new path creates it
    ok(run("restore", tmp_path / "new.db", copy))
    assert counts(tmp_path / "new.db") == before


def test_restore_refuses_a_bad_backup(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    before = sample_db.read_bytes()
    assert_error(
        run("restore", sample_db, tmp_path / "missing.db"), "backup file", "not found", "omega-graph backup"
    )
    bogus = write(tmp_path / "bogus.db", "not a database at all\n" * 50)
    assert_error(run("restore", sample_db, bogus), "is not a SQLite database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert_error(run("restore", sample_db, other), "is not an omega store")
    assert sample_db.read_bytes() == before


# ----- generate ------------------------------------------------------------------------------------
def test_generate(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    args = ["--memories", 500, "--edges", 1500, "--seed", 7, "--vectors", 20, "--reflexions", 30]
    out = ok(run("generate", db, *args)).stdout
    assert out.startswith(f"generated {db} (seed 7): 500 memories")
    assert counts(db) == {
        "memory_count": 500, "skill_count": 0, "architecture_count": 0, "intelligence_count": 0,
        "causal_edge_count": 1500, "vector_count": 20, "reflexion_count": 30,
    }  # fmt: skip
    # the same seed gives the same store; another seed another
    ok(run("generate", tmp_path / "same.db", *args))
    ok(run("generate", tmp_path / "other.db", *args[:-6], "--seed", 8))

    def edges(p: Path) -> list[tuple]:
        with sqlite3.connect(p) as conn:
            return conn.execute("SELECT * FROM causal_edges ORDER BY id").fetchall()

    assert edges(db) == edges(tmp_path / "same.db") != edges(tmp_path / "other.db")


def test_generate_dag_and_force(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "dag.db"
    ok(run("generate", db, "--memories", 200, "--edges", 600, "--back-edge-fraction", 0))
    assert as_json(run("cycles", db, "--json"))["is_dag"] is True
    assert_error(run("generate", db, "--memories", 10, "--edges", 0), "already exists", "--force")
    assert counts(db)["memory_count"] == 200
    ok(run("generate", db, "--memories", 10, "--edges", 0, "--force"))
    assert counts(db)["memory_count"] == 10


def test_generate_progress_and_errors(run: Callable[..., Result], tmp_path: Path) -> None:
    result = ok(run("generate", tmp_path / "p.db", "--memories", 100, "--edges", 300, "--progress"))
    lines = result.stderr.splitlines()
    assert lines[0] == "generating: 0/400 (0%)" and lines[-1] == "generating: 400/400 (100%)"
    assert_error(
        run("generate", tmp_path / "e.db", "--memories", 1, "--edges", 5), "memories = 1", "at least 2"
    )
    assert not (tmp_path / "e.db").exists()
    assert_error(run("generate", tmp_path / "e.db", "--memories", -1), "--memories", code=2)


@pytest.mark.parametrize("explicit_zero", [[], ["--back-edge-fraction", 0]])
def test_generate_dag_flag(run: Callable[..., Result], tmp_path: Path, explicit_zero: list[object]) -> None:
    args = ["--memories", 300, "--edges", 1200, "--seed", 3]
    dag, default, zero = tmp_path / "dag.db", tmp_path / "default.db", tmp_path / "zero.db"
    ok(run("generate", dag, *args, "--dag", *explicit_zero))
    ok(run("generate", default, *args))
    ok(run("generate", zero, *args, "--back-edge-fraction", 0))
    with OmegaStore(dag) as store:
        assert store.causal_graph().is_dag() is True
        assert store.get_statistics().causal_edge_count == 1200
        assert all(e.edge_type != "feedback" for e in store.iter_causal_edges())
    with OmegaStore(default) as store:
        assert store.causal_graph().is_dag() is False  # the default does close cycles: --dag changed it

    def edges(p: Path) -> list[tuple]:
        with sqlite3.connect(p) as conn:
            return conn.execute("SELECT * FROM causal_edges ORDER BY id").fetchall()

    assert edges(dag) == edges(zero)  # --dag is --back-edge-fraction 0, nothing else


@pytest.mark.parametrize(
    "args",
    [
        ["--dag", "--back-edge-fraction", "0.1"],
        ["--back-edge-fraction", "1", "--dag"],
        ["--dag", "--back-edge-fraction", "0.05"],  # the default value, given explicitly
    ],
)
def test_generate_dag_conflicts_with_a_back_edge_fraction(
    run: Callable[..., Result], tmp_path: Path, args: list[str]
) -> None:
    db = tmp_path / "g.db"
    assert_error(
        run("generate", db, "--memories", 10, "--edges", 20, *args), "--dag", "--back-edge-fraction", code=2
    )
    assert not db.exists()
    assert "--dag" in ok(run("generate", "--help")).stdout
