"""The fleet export: layout and manifest, exact rows, incremental re-runs, bad input, interruptions.

Everything is real: store files made by the fleet generator and the store, DuckDB writing and reading
Parquet, child processes that write to a store or are killed mid-export. References come from the
definition: rows read by plain sqlite3, identities read from ``omega_store_identity``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph import OmegaStore, StoredMemory
from omega_graph.errors import ConflictError, DataQualityWarning, NotFoundError, ValidationError
from omega_graph.fleet import ExportResult, export, generate
from omega_graph.fleet._discover import discover
from omega_graph.fleet._layout import MANIFEST, TABLES, locked, read_manifest, table_files
from omega_graph.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[1]
ENTRY_KEYS = {"store_id", "path", "schema_version", "counts", "exported_at", "compared", "files"}
#: The declared SQLite types and the storage classes that fit them (a value of another class is NULL).
FITS = {"INTEGER": {"integer"}, "REAL": {"integer", "real"}, "TEXT": {"text"}}


# ----- helpers ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six small generated stores, made once; tests work on copies."""
    src = tmp_path_factory.mktemp("pristine") / "fleet"
    generate(src, stores=6, seed=5, edges=(30, 90))
    return src


@pytest.fixture(scope="module")
def sixteen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixteen small stores and their export (``fleet/``, ``out/``), made once; tests work on copies."""
    base = tmp_path_factory.mktemp("sixteen")
    generate(base / "fleet", stores=16, seed=8, edges=(30, 60))
    export([base / "fleet"], base / "out")
    return base


@pytest.fixture
def fleet(pristine: Path, tmp_path: Path) -> Path:
    src = tmp_path / "fleet"
    shutil.copytree(pristine, src)
    return src


def ids_of(paths: list[Path]) -> list[str]:
    out = []
    for p in paths:
        conn = sqlite3.connect(p)
        out.append(conn.execute("SELECT identity FROM omega_store_identity").fetchone()[0])
        conn.close()
    return out


def stores(src: Path) -> list[Path]:
    return sorted(src.glob("*.db"))


def sqlite_rows(path: Path, table: str) -> list[tuple]:
    """The table's rows by plain sqlite3, a value whose storage class does not fit its column as None."""
    conn = sqlite3.connect(path)
    try:
        cols = [(r[1], r[2].upper()) for r in conn.execute(f"PRAGMA table_info({table})")]
        exprs = [
            f"CASE WHEN typeof({c}) IN ({', '.join(repr(k) for k in FITS[t])}) OR {c} IS NULL THEN {c} END"
            if t in FITS
            else c
            for c, t in cols
        ]
        return sorted(conn.execute(f"SELECT {', '.join(exprs)} FROM {table}").fetchall(), key=repr)
    finally:
        conn.close()


@functools.cache
def duck() -> duckdb.DuckDBPyConnection:
    """One private DuckDB connection for reading Parquet in these tests (opening one costs ~20 ms)."""
    return duckdb.connect()


def parquet_rows(file: str) -> list[tuple]:
    rows = duck().execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [file]).fetchall()
    return sorted(rows, key=repr)


def part_files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for t in TABLES for p in (out / t).rglob("*") if p.is_file()}


def listed(out: Path) -> set[str]:
    return {rel for s in read_manifest(out).stores for rel in s.files.values()}


def file_states(out: Path) -> dict[str, tuple[int, int]]:
    return {rel: ((st := os.stat(out / rel)).st_ino, st.st_mtime_ns) for rel in part_files(out)}


def add_memory(path: Path, mid: str) -> None:
    with OmegaStore(path) as store:
        store.store_memory(StoredMemory(mid, "added later", 2, 0.5, None, 1, 1))


def check_consistent(out: Path) -> None:
    """What a reader sees: every listed file exists and holds the manifest's row count."""
    for entry in read_manifest(out).stores:
        assert set(entry.files) == set(TABLES)
        for table, rel in entry.files.items():
            assert len(parquet_rows(str(out / rel))) == entry.counts[table], (entry.store_id, table)


# ----- layout and contents ---------------------------------------------------------------------------------
def test_layout_and_manifest_are_as_the_shapes_say(fleet: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    t0 = int(time.time())
    result = export([fleet], out)
    paths, ids = stores(fleet), ids_of(stores(fleet))
    assert result.ok and list(result.exported) == ids and not result.unchanged and not result.removed
    assert sorted(os.listdir(out)) == sorted([*TABLES, MANIFEST, ".lock"])
    for table in TABLES:
        assert sorted(os.listdir(out / table)) == sorted(f"store={i}" for i in ids)
        for sid in ids:
            (part,) = os.listdir(out / table / f"store={sid}")
            assert part.startswith("part-") and part.endswith(".parquet")
    raw = json.loads((out / MANIFEST).read_text())
    assert raw["format"] == "omega-graph fleet" and raw["tables"] == list(TABLES) and raw["skipped"] == []
    assert [s["store_id"] for s in raw["stores"]] == sorted(ids)
    by_id = {s["store_id"]: s for s in raw["stores"]}
    for path, sid in zip(paths, ids, strict=True):
        entry = by_id[sid]
        assert set(entry) == ENTRY_KEYS and entry["path"] == str(path)
        assert entry["schema_version"] == SCHEMA_VERSION and t0 <= entry["exported_at"] <= time.time()
        assert entry["compared"]["identity"] == sid
        assert entry["counts"] == {t: len(sqlite_rows(path, t)) for t in TABLES}
        assert entry["files"] == {
            t: f"{t}/store={sid}/{os.listdir(out / t / f'store={sid}')[0]}" for t in TABLES
        }
    with duckdb.connect() as con:  # the store column is the Hive partition, not inside the files
        files = table_files(out, "causal_edges", read_manifest(out))
        got = con.execute(
            "SELECT store, count(*) FROM read_parquet(?, hive_partitioning = true, "
            "hive_types = {'store': 'VARCHAR'}) GROUP BY store ORDER BY store",
            [files],
        ).fetchall()
        assert got == sorted((sid, by_id[sid]["counts"]["causal_edges"]) for sid in ids)
        assert "store" not in [
            r[0]
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [files[0]]
            ).fetchall()
        ]


def test_exported_rows_equal_the_stores_rows_with_wrong_types_as_null(fleet: Path, tmp_path: Path) -> None:
    dirty = stores(fleet)[1]
    conn = sqlite3.connect(dirty)  # another tool stored values of the wrong SQLite type
    first_memory, first_edge = conn.execute("SELECT min(id) FROM memories").fetchone()[0], "e00"
    conn.execute("UPDATE memories SET importance = 'high', tier = 2.5 WHERE id = ?", (first_memory,))
    conn.execute("UPDATE causal_edges SET weight = 'strong' WHERE id = ?", (first_edge,))
    conn.commit()
    conn.close()
    out = tmp_path / "out"
    with pytest.warns(DataQualityWarning, match="wrong SQLite type"):
        result = export([fleet], out)
    assert result.ok and len(result.exported) == 6
    manifest = read_manifest(out)
    for entry in manifest.stores:
        for table in TABLES:
            assert parquet_rows(str(out / entry.files[table])) == sqlite_rows(Path(entry.path), table), table
    entry = next(s for s in manifest.stores if s.path == str(dirty))
    memories = parquet_rows(str(out / entry.files["memories"]))
    assert next(r for r in memories if r[0] == first_memory)[2:4] == (None, None)
    edges = parquet_rows(str(out / entry.files["causal_edges"]))
    assert next(r for r in edges if r[0] == first_edge)[3] is None


def test_a_crate_file_gains_an_identity_and_stays_readable_by_the_crate(tmp_path: Path, compat_copy) -> None:
    crate = compat_copy("asia")
    src = tmp_path / "src"
    src.mkdir()
    shutil.move(crate, src / crate.name)
    crate = src / crate.name
    before = {t: sqlite_rows(crate, t) for t in TABLES}
    result = export([src], tmp_path / "out")
    assert result.ok
    conn = sqlite3.connect(crate)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    (identity,) = conn.execute("SELECT identity FROM omega_store_identity").fetchone()
    assert result.exported == (identity,)
    # the crate's own SQL still reads it
    assert conn.execute(
        "SELECT id, content, tier FROM memories WHERE id = ?1", ("mem-asia",)
    ).fetchone() == next((r[0], r[1], r[2]) for r in before["memories"] if r[0] == "mem-asia")
    assert conn.execute("SELECT COUNT(*) FROM causal_edges").fetchone() == (8,)
    conn.close()
    (entry,) = read_manifest(tmp_path / "out").stores
    for table in TABLES:
        assert parquet_rows(str(tmp_path / "out" / entry.files[table])) == before[table]


# ----- incremental runs -----------------------------------------------------------------------------------
def test_a_rerun_exports_only_the_changed_store_and_leaves_the_others_files(
    fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export([fleet], out)
    ids = ids_of(stores(fleet))
    before = file_states(out)
    again = export([fleet], out)
    assert again.unchanged == tuple(ids) and not again.exported and file_states(out) == before
    add_memory(stores(fleet)[2], "late")
    result = export([fleet], out)
    assert result.exported == (ids[2],) and result.unchanged == tuple(ids[:2] + ids[3:])
    after = file_states(out)
    kept = {rel: s for rel, s in before.items() if f"store={ids[2]}" not in rel}
    assert {rel: after[rel] for rel in kept} == kept  # the same files: inode and mtime
    changed = {rel for rel in after if f"store={ids[2]}" in rel}
    assert len(changed) == 7 and not changed & set(before)  # new part files, the old ones gone
    assert part_files(out) == listed(out)
    entry = read_manifest(out).by_id()[ids[2]]
    assert entry.counts["memories"] == len(sqlite_rows(stores(fleet)[2], "memories"))
    assert ("late",) in {r[:1] for r in parquet_rows(str(out / entry.files["memories"]))}


def test_a_renamed_or_moved_store_keeps_its_id_and_files_and_only_its_path_changes(
    fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export([fleet], out)
    old, sid = stores(fleet)[0], ids_of(stores(fleet))[0]
    before = file_states(out)
    (fleet / "sub").mkdir()
    new = fleet / "sub" / "renamed.db"
    os.rename(old, new)
    result = export([fleet], out)
    assert not result.exported and sid in result.unchanged and result.ok
    assert read_manifest(out).by_id()[sid].path == str(new)
    assert file_states(out) == before


def test_removed_stores_lose_their_partitions_and_entry(fleet: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([fleet], out)
    paths, ids = stores(fleet), ids_of(stores(fleet))
    os.remove(paths[1])
    result = export([fleet], out)
    assert result.removed == (ids[1],) and result.ok
    assert ids[1] not in read_manifest(out).by_id()
    assert not any((out / t / f"store={ids[1]}").exists() for t in TABLES)
    subset = export([paths[0], fleet / "*-v2.db"], out)  # OUT mirrors SOURCES
    v2 = [i for p, i in zip(paths, ids, strict=True) if p.name.endswith("-v2.db") and p.exists()]
    assert set(subset.removed) == set(ids) - {ids[0], ids[1], *v2}
    assert sorted(read_manifest(out).by_id()) == sorted([ids[0], *v2]) and part_files(out) == listed(out)


def test_a_store_that_cannot_be_read_keeps_its_previous_export(fleet: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([fleet], out)
    path, sid = stores(fleet)[3], ids_of(stores(fleet))[3]
    files = read_manifest(out).by_id()[sid].files
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    result = export([fleet], out)
    assert [p for p, _ in result.skipped] == [str(path)] and "newer" in result.skipped[0][1]
    assert not result.removed and read_manifest(out).by_id()[sid].files == files
    assert read_manifest(out).skipped == ({"path": str(path), "reason": result.skipped[0][1]},)
    check_consistent(out)


@settings(max_examples=6)
@given(changed=st.sets(st.integers(0, 5)))
def test_the_exported_set_is_the_changed_set(changed: set[int], pristine: Path, tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp() / "hypothesis-fleet"
    src, out = base / "fleet", base / "out"
    if not src.exists():
        shutil.copytree(pristine, src)
        export([src], out)
    paths, ids = stores(src), ids_of(stores(src))
    for i in sorted(changed):
        add_memory(paths[i], f"h-{time.monotonic_ns()}")
    result = export([src], out)
    assert set(result.exported) == {ids[i] for i in changed}
    assert set(result.unchanged) == set(ids) - set(result.exported)
    assert part_files(out) == listed(out)


# ----- bad input ------------------------------------------------------------------------------------------
def test_bad_inputs_are_reported_and_the_rest_is_exported(fleet: Path, tmp_path: Path) -> None:
    good = stores(fleet)[:3]
    for p in stores(fleet)[3:]:
        os.remove(p)
    (fleet / "notes.txt").write_text("not a store")
    (fleet / "empty.db").touch()
    other = sqlite3.connect(fleet / "other-app.db")
    other.execute("CREATE TABLE t (x)")
    other.execute("PRAGMA user_version = 2")  # a version number that is not ours: must not be migrated
    other.commit()
    other.close()
    shutil.copyfile(good[0], fleet / "newer.db")
    conn = sqlite3.connect(fleet / "newer.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    shutil.copyfile(good[1], fleet / "zz-copy.db")  # a copy: same identity, later in sorted order
    (fleet / "damaged.db").write_bytes(good[2].read_bytes()[:100] + b"\xff" * 8092)  # header, then junk
    (fleet / ".hidden.db").write_text("ignored")
    (fleet / "agent-x.db-wal").write_text("ignored")
    names = ("notes.txt", "empty.db", "other-app.db", "newer.db", "damaged.db")
    untouched = {n: (fleet / n).read_bytes() for n in names}
    out = tmp_path / "out"
    result = export([fleet], out)
    reasons = dict(result.skipped)
    assert sorted(reasons) == sorted(str(fleet / n) for n in (*untouched, "zz-copy.db"))
    assert "not a SQLite database" in reasons[str(fleet / "notes.txt")]
    assert "empty file" in reasons[str(fleet / "empty.db")]
    assert "not an omega store" in reasons[str(fleet / "other-app.db")]
    assert "newer" in reasons[str(fleet / "newer.db")]
    assert "damaged" in reasons[str(fleet / "damaged.db")]
    assert reasons[str(fleet / "zz-copy.db")].startswith(
        f"same identity as {str(good[1])!r}: a copy of that store"
    )
    assert not result.ok and list(result.exported) == ids_of(good)
    assert {n: (fleet / n).read_bytes() for n in untouched} == untouched  # nothing written to them
    assert sorted(read_manifest(out).by_id()) == sorted(ids_of(good)) and part_files(out) == listed(out)
    assert [s["path"] for s in read_manifest(out).skipped] == sorted(reasons)


def test_the_first_path_in_sorted_order_is_exported_and_its_copy_skipped(fleet: Path, tmp_path: Path) -> None:
    original = stores(fleet)[4]
    copy = fleet / "0-copy.db"
    shutil.copyfile(original, copy)
    sid = ids_of([original])[0]
    result = export([fleet], tmp_path / "out")
    assert [p for p, _ in result.skipped] == [str(original)]
    assert result.skipped[0][1].startswith(f"same identity as {str(copy)!r}: a copy of that store")
    assert read_manifest(tmp_path / "out").by_id()[sid].path == str(copy)


def test_a_store_open_in_this_process_is_skipped(fleet: Path, tmp_path: Path) -> None:
    held = stores(fleet)[0]
    with OmegaStore(held):
        result = export([fleet], tmp_path / "out")
    assert [p for p, _ in result.skipped] == [str(held)] and "holds the file open" in result.skipped[0][1]
    assert len(result.exported) == 5


def test_a_locked_store_is_skipped(fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from omega_graph.fleet import _discover

    monkeypatch.setattr(_discover, "BUSY_TIMEOUT_S", 0.2)
    target = stores(fleet)[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(target)], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = export([fleet], tmp_path / "out")
    finally:
        holder.communicate("", timeout=30)
    assert [p for p, _ in result.skipped] == [str(target)] and "locked" in result.skipped[0][1]
    assert len(result.exported) == 5


LOCKER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("UPDATE memories SET content = content")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""

WRITER = r"""
import os, sys
from omega_graph import OmegaStore, StoredMemory
store = OmegaStore(sys.argv[1])
i = 0
while not os.path.exists(sys.argv[2]):
    store.store_memory(StoredMemory(f"live-{i}", "written during the export", 1, 0.5, None, 1, 1))
    i += 1
    if i == 1:
        print("ready", flush=True)
store.close()
"""


def test_a_store_that_changes_during_export_is_skipped_with_nothing_written(
    fleet: Path, tmp_path: Path
) -> None:
    from omega_graph.generate import generate_store

    live = fleet / "live.db"  # large enough that its export takes a while
    generate_store(live, memories=2_000, edges=6_000, seed=9).close()
    sid = ids_of([live])[0]
    out, stop = tmp_path / "out", tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        for _attempt in range(3):  # a starved writer may commit nothing during one export: try again
            before = {rel for rel in part_files(out)} if out.exists() else set()
            result = export([fleet], out)
            if result.skipped:
                break
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert [p for p, _ in result.skipped] == [str(live)] and "changed during export" in result.skipped[0][1]
    assert {rel for rel in part_files(out) if f"store={sid}" in rel} == {
        rel for rel in before if f"store={sid}" in rel
    }  # nothing written for it in that run
    assert len(set(result.exported) | set(result.unchanged)) == 6 and not (out / ".staging").exists()
    again = export([fleet], out)
    assert again.ok and sid in again.exported
    check_consistent(out)


KILLED = r"""
import os, signal, sys, threading
from omega_graph.fleet import _export
_export.COMMIT_INTERVAL_S = float(sys.argv[3])
kill_after, delay = int(sys.argv[4]), float(sys.argv[5])

def progress(done, total, path):
    if done == kill_after:  # SIGKILL a moment later: inside the next store's export, or a commit
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()

_export.export([sys.argv[1]], sys.argv[2], progress=progress)
print("finished", flush=True)
"""


@pytest.mark.parametrize(
    ("kill_after", "delay", "interval"), [(2, 0.0, 0.0), (6, 0.01, 0.0), (10, 0.005, 1.0)]
)
def test_an_export_killed_midway_leaves_a_consistent_export_and_the_rerun_completes(
    sixteen: Path, tmp_path: Path, kill_after: int, delay: float, interval: float
) -> None:
    src, out = tmp_path / "fleet", tmp_path / "out"
    shutil.copytree(sixteen / "fleet", src)
    shutil.copytree(sixteen / "out", out)
    for p in stores(src):  # every store changed: the run rewrites them all, freeing old files
        add_memory(p, "changed")
    child = subprocess.run(
        [sys.executable, "-c", KILLED, str(src), str(out), str(interval), str(kill_after), str(delay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL and "finished" not in child.stdout, child.stderr
    check_consistent(out)  # the manifest parses and lists only complete, present files
    assert len(read_manifest(out).stores) == 16
    result = export([src], out)
    assert result.ok and result.exported and len(result.exported) + len(result.unchanged) == 16
    assert part_files(out) == listed(out) and not (out / ".staging").exists()
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
    for entry in read_manifest(out).stores:
        assert parquet_rows(str(out / entry.files["memories"])) == sqlite_rows(Path(entry.path), "memories")


# ----- sources, progress and the export directory -----------------------------------------------------------
def test_discover_walks_directories_and_globs_and_skips_side_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "a" / ".git").mkdir()
    for name in ("a/x.db", "a/deep/y.db", "a/x.db-wal", "a/x.db-shm", "a/.hidden.db", "a/.git/z.db", "b.db"):
        (tmp_path / name).write_text("")
    (tmp_path / "link.db").symlink_to(tmp_path / "b.db")
    (tmp_path / "a" / "out").mkdir()
    (tmp_path / "a" / "out" / "w.db").write_text("")
    got = discover(
        [tmp_path / "a", str(tmp_path / "*.db"), tmp_path / "b.db"], exclude=tmp_path / "a" / "out"
    )
    assert got == [str(tmp_path / p) for p in ("a/deep/y.db", "a/x.db", "b.db")]
    with pytest.raises(NotFoundError, match="missing"):
        discover([tmp_path / "missing.db"])
    with pytest.raises(NotFoundError, match=r"nothing\*"):
        discover([str(tmp_path / "nothing*")])


def test_progress_is_called_per_file_in_order(fleet: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str | None]] = []
    export([fleet], tmp_path / "out", progress=lambda d, t, p: calls.append((d, t, p)))
    paths = [str(p) for p in stores(fleet)]
    assert calls == [(0, 6, None)] + [(i, 6, p) for i, p in enumerate(paths, 1)]


def test_the_export_directory_is_checked_and_locked(fleet: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("keep me")
    with pytest.raises(ValidationError, match="thesis.tex"):
        export([fleet], tmp_path / "busy")
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "keep me"
    (tmp_path / "file").write_text("")
    with pytest.raises(ValidationError, match="it is a file"):
        export([fleet], tmp_path / "file")
    with pytest.raises(NotFoundError, match="typo"):
        export([fleet / "typo.db"], tmp_path / "never")
    assert not (tmp_path / "never").exists()
    out = tmp_path / "out"
    out.mkdir()
    with locked(out), pytest.raises(ConflictError, match="another export"):
        export([fleet], out)
    assert isinstance(export([fleet], out), ExportResult)
