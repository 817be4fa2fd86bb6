"""backup(path) and OmegaStore.restore(backup_path, path): exact copies, consistent while another
process writes, refusal of anything that is not a store with the target left as it was."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from omega_graph.errors import DatabaseError, NotFoundError, OmegaGraphError, SchemaError
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.schema import SCHEMA_VERSION
from omega_graph.store import OmegaStore

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            "memories",
            "vectors",
            "reflexion_episodes",
            "skills",
            "causal_edges",
            "architectures",
            "intelligences",
        ]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


def _fill(store: OmegaStore, records, n: int = 200) -> None:
    store.store_memories(records.memory(f"m{i}", content=f"content {i} " + "x" * 200) for i in range(n))
    store.store_causal_edges(records.edge(f"m{i}", f"m{(i + 1) % n}", id=f"e{i}") for i in range(n))
    store.store_vector(records.vector("m0", id="v0"))
    store.store_reflexion(records.reflexion("m1", id="r1"))
    store.store_skill(records.skill("s1"))
    store.store_architecture(records.architecture("a1"))
    store.store_intelligence(records.intelligence("a1", id="i1"))


# ----- backup ------------------------------------------------------------------------------------------------


def test_backup_is_an_exact_openable_copy(file_store: OmegaStore, records, tmp_path: Path) -> None:
    _fill(file_store, records)
    target = tmp_path / "copy.db"
    assert file_store.backup(target) is None
    assert _rows(target) == _rows(Path(file_store.path))
    with OmegaStore(target) as copy:
        assert copy.get_statistics() == file_store.get_statistics()
        assert [m.id for m in copy.search_memories("content 7")][:1] == ["m7"]
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_backup_of_an_in_memory_store(mem_store: OmegaStore, records, tmp_path: Path) -> None:
    _fill(mem_store, records, n=20)
    mem_store.backup(str(tmp_path / "mem.db"))
    with OmegaStore(tmp_path / "mem.db") as copy:
        assert copy.get_statistics() == mem_store.get_statistics()
        assert list(copy.iter_causal_edges()) == list(mem_store.iter_causal_edges())


def test_backup_replaces_an_existing_file_and_leaves_no_temporaries(
    file_store, records, tmp_path: Path
) -> None:
    _fill(file_store, records, n=10)
    target = tmp_path / "out" / "copy.db"
    target.parent.mkdir()
    target.write_bytes(b"old content, not a database")
    file_store.backup(target)
    assert _rows(target) == _rows(Path(file_store.path))
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]


def test_backup_onto_the_store_itself_is_refused(file_store: OmegaStore, records, file_dump) -> None:
    _fill(file_store, records, n=10)
    before = file_dump(file_store.path)
    with pytest.raises(DatabaseError):
        file_store.backup(file_store.path)
    assert file_dump(file_store.path) == before


@pytest.mark.parametrize("where", ["directory", "missing-folder"])
def test_backup_to_an_unusable_path_is_a_clear_error(
    mem_store: OmegaStore, tmp_path: Path, where: str
) -> None:
    target = tmp_path / "a-folder"
    if where == "directory":
        target.mkdir()
    else:
        target = tmp_path / "no" / "such" / "backup.db"
    with pytest.raises(DatabaseError, match=target.name):
        mem_store.backup(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["a-folder"] if where == "directory" else [])


BACKUP_IN_TRANSACTION = textwrap.dedent(
    """
    import sys
    from omega_graph.errors import OmegaGraphError
    from omega_graph.models import StoredMemory
    from omega_graph.store import OmegaStore
    with OmegaStore(sys.argv[1]) as store:
        store.store_memory(StoredMemory("committed", "x", 1, 0.5, None, 0, 0))
        with store.transaction():
            store.store_memory(StoredMemory("pending", "x", 1, 0.5, None, 0, 0))
            try:
                store.backup(sys.argv[2])
                print("copied", flush=True)
            except OmegaGraphError as err:
                print("refused", type(err).__name__, err, flush=True)
    """
)


def test_backup_inside_an_open_transaction_returns(tmp_path: Path) -> None:
    """backup() called inside transaction() must return (a copy of committed data, or a clear refusal).

    Run in a child process: a backup that waits on its own connection's lock would hang forever.
    """
    target = tmp_path / "during.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", BACKUP_IN_TRANSACTION, str(tmp_path / "src.db"), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(
            "store.backup() inside store.transaction() did not return within 30 s (it waits on itself)"
        )
    assert proc.returncode == 0, err
    if out.startswith("copied"):
        assert [r[0] for r in _rows(target)["memories"]] == ["committed"]
    else:
        assert out.startswith("refused DatabaseError") and "transaction" in out, out


WRITER = textwrap.dedent(
    """
    import os, sys, time
    from omega_graph.store import OmegaStore
    from omega_graph.models import StoredMemory, StoredCausalEdge
    path, stop, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with OmegaStore(path) as store:
        k = 0
        while not os.path.exists(stop) and k < 100_000:
            with store.transaction():
                store.store_memories(
                    StoredMemory(f"b{k}-{i}", f"batch {k} item {i}", 1 + i % 12, 0.5, None, k, i)
                    for i in range(batch))
                store.store_causal_edges(
                    StoredCausalEdge(f"e{k}-{i}", f"b{k}-{i}", f"b{k}-{(i + 1) % batch}", 0.5, "causes", k)
                    for i in range(batch))
            print(k, flush=True)
            k += 1
    print("done", k, flush=True)
    """
)


def test_backup_is_consistent_while_another_process_writes(file_store: OmegaStore, tmp_path: Path) -> None:
    batch = 300
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, file_store.path, str(stop), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        for _ in range(3):  # the writer is up and committing
            assert proc.stdout.readline().strip().isdigit()
        copies = []
        for n in range(6):
            committed = file_store.get_statistics().memory_count
            target = tmp_path / f"copy-{n}.db"
            file_store.backup(target)
            copies.append((committed, target))
            time.sleep(0.05)
        stop.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    total = int(out.strip().splitlines()[-1].split()[1])
    counts = set()
    for committed, target in copies:
        conn = sqlite3.connect(target)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            mems = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
            edges = conn.execute("SELECT count(*) FROM causal_edges").fetchone()[0]
            per_batch = conn.execute(
                "SELECT substr(id, 1, instr(id, '-') - 1) AS b, count(*) FROM memories GROUP BY b"
            ).fetchall()
        finally:
            conn.close()
        assert mems == edges and mems % batch == 0, "a backup caught a transaction half-way"
        assert all(c == batch for _, c in per_batch)
        assert committed <= mems <= total * batch  # at least what was committed when it started
        counts.add(mems)
    assert len(counts) > 1 or total > 3, "the writer never ran during the backups"
    with OmegaStore(copies[-1][1]) as copy:
        assert copy.get_statistics().memory_count == max(counts)


# ----- restore -----------------------------------------------------------------------------------------------


@pytest.fixture
def backup_file(file_store: OmegaStore, records, tmp_path: Path) -> Path:
    _fill(file_store, records, n=50)
    path = tmp_path / "backup.db"
    file_store.backup(path)
    return path


def test_restore_to_a_new_path(backup_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored.db"
    OmegaStore.restore(backup_file, target)
    assert _rows(target) == _rows(backup_file)
    with OmegaStore(target) as store:
        assert store.get_statistics().memory_count == 50
        assert store.search_memories("content 3")[0].id == "m3"


def test_restore_replaces_an_existing_store(backup_file: Path, tmp_path: Path, records) -> None:
    target = tmp_path / "existing.db"
    with OmegaStore(target) as other:
        other.store_memories(records.memory(f"other-{i}") for i in range(500))
    OmegaStore.restore(str(backup_file), str(target))
    assert _rows(target) == _rows(backup_file)
    with OmegaStore(target) as store:
        assert {m.id for m in store.iter_memories()} == {f"m{i}" for i in range(50)}
        assert store.search_memories("other") == []
        assert (
            store.search_memories("content", limit=100)
            and len(store.search_memories("content", limit=100)) == 50
        )


def test_restore_gives_the_store_a_new_identity(backup_file: Path, tmp_path: Path) -> None:
    """Caches are keyed by identity: a restored history forks from the backup's and the old target's."""
    target = tmp_path / "existing.db"
    with OmegaStore(target) as before, OmegaStore(backup_file) as backup:
        old, source = before.identity, backup.identity
    OmegaStore.restore(backup_file, target)
    with OmegaStore(target) as after:
        assert after.identity not in (old, source)
    assert not any("omega-restore" in name for name in os.listdir(tmp_path))  # the staged copy is gone


def test_restore_accepts_a_file_written_by_the_crate(compat_copy, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    OmegaStore.restore(compat_copy("asia"), target)
    with OmegaStore(target) as store:
        assert store.get_statistics().causal_edge_count == 8


def _not_sqlite(tmp_path: Path) -> Path:
    p = tmp_path / "notes.txt"
    p.write_text("these are my notes, not a database\n" * 100)
    return p


def _foreign_sqlite(tmp_path: Path) -> Path:
    p = tmp_path / "other-app.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    return p


def _corrupt(tmp_path: Path) -> Path:
    src = tmp_path / "to-corrupt.db"
    with OmegaStore(src) as s:
        s.store_memories(StoredMemory(f"m{i}", "x" * 500, 1, 0.5, None, 0, 0) for i in range(200))
    data = bytearray(src.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # a valid header, then garbage
    p = tmp_path / "corrupt.db"
    p.write_bytes(bytes(data))
    return p


def _newer(tmp_path: Path) -> Path:
    p = tmp_path / "newer.db"
    with OmegaStore(p):
        pass
    conn = sqlite3.connect(p)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    return p


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (_not_sqlite, DatabaseError),
        (_foreign_sqlite, SchemaError),
        (_corrupt, DatabaseError),
        (_newer, SchemaError),
        (lambda tmp: tmp / "does-not-exist.db", (NotFoundError, DatabaseError)),
        (lambda tmp: tmp, (NotFoundError, DatabaseError)),  # a directory
    ],
    ids=["text-file", "foreign-sqlite", "corrupt", "newer-version", "missing", "directory"],
)
def test_restore_refuses_a_non_store_and_leaves_the_target_unchanged(
    make, error, tmp_path: Path, records, file_dump
) -> None:
    target = tmp_path / "precious.db"
    with OmegaStore(target) as store:
        _fill(store, records, n=30)
    before_bytes, before = target.read_bytes(), file_dump(target)
    bad = make(tmp_path)
    with pytest.raises(error) as info:
        OmegaStore.restore(bad, target)
    assert isinstance(info.value, OmegaGraphError)
    assert target.read_bytes() == before_bytes
    assert file_dump(target) == before
    assert not bad.exists() or bad.is_dir() or bad.name in str(info.value) or str(bad) in str(info.value)


RESTORER = textwrap.dedent(
    """
    import sys
    from omega_graph.store import OmegaStore
    print("start", flush=True)
    while True:
        OmegaStore.restore(sys.argv[1], sys.argv[2])
    """
)


@pytest.fixture(scope="module")
def restore_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 30 MB backup of 60,000 'new-' memories and a target store holding 3,000 'old-' memories."""
    folder = tmp_path_factory.mktemp("restore")
    source, target = folder / "big-backup.db", folder / "pristine-target.db"
    with OmegaStore(source) as s:
        s.store_memories(StoredMemory(f"new-{i}", "n" * 400, 1, 0.5, None, 0, 0) for i in range(60_000))
    with OmegaStore(target) as t:
        t.store_memories(StoredMemory(f"old-{i}", "o" * 100, 1, 0.5, None, 0, 0) for i in range(3_000))
        t.store_causal_edge(StoredCausalEdge("old-edge", "old-1", "old-2", 0.5, "causes", 0))
    return source, target


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2, 0.3])
def test_a_killed_restore_never_leaves_a_half_written_target(
    restore_files: tuple[Path, Path], tmp_path: Path, delay: float
) -> None:
    """SIGKILL a process restoring (over and over) at various moments: the target is old or new, whole."""
    source, pristine = restore_files
    target = tmp_path / "target.db"
    shutil.copyfile(pristine, target)
    proc = subprocess.Popen(
        [sys.executable, "-c", RESTORER, str(source), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    with OmegaStore(target) as t:
        ids = {m.id[:4] for m in t.iter_memories()}
        stats = t.get_statistics()
        assert t.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ids in ({"old-"}, {"new-"})
    assert stats.memory_count == (3_000 if ids == {"old-"} else 60_000)
    assert stats.causal_edge_count == (1 if ids == {"old-"} else 0)
