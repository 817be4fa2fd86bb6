"""Reliability with real processes: SIGKILL in the middle of a bulk write, one writer with several
readers, many processes opening a fresh file at once; and clear errors for files that are not stores."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omega_graph.errors import DatabaseError, OmegaGraphError
from omega_graph.models import StoredMemory
from omega_graph.store import OmegaStore

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _spawn(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _go(procs: list[subprocess.Popen[str]]) -> None:
    """Release processes that wait on a line of stdin (so they start together)."""
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


def _finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"child process did not finish in {timeout} s\nstdout:\n{out}\nstderr:\n{err}")


# ----- SIGKILL in the middle of a bulk write ---------------------------------------------------------------

DOOMED_WRITER = """
import sys
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

path, kind, kill_after, batches, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), 4, 500
store = OmegaStore(path)
for k in range(batches):
    with store.transaction():
        store.store_memories(
            StoredMemory(f"c{k}-{i}", f"committed batch {k}", 1 + i % 12, 0.5, None, k, i) for i in range(size))
        store.store_causal_edges(
            StoredCausalEdge(f"ce{k}-{i}", f"c{k}-{i}", f"c{k}-{(i + 1) % size}", 0.5, "causes", k)
            for i in range(size))
    print("committed", k, flush=True)

def doomed_memories():
    for i in range(10**8):
        if i == kill_after:
            print("midway", flush=True)
        yield StoredMemory(f"doomed-{i}", f"doomed write {i}", 1, 0.5, b"\\0" * 16, i, i)

def doomed_edges():
    for i in range(10**8):
        if i == kill_after:
            print("midway", flush=True)
        yield StoredCausalEdge(f"doomed-{i}", f"c{i % batches}-{i % size}", f"c{(i + 1) % batches}-{i % size}",
                               0.25, "causes", i)

if kind == "memories":
    store.store_memories(doomed_memories())
else:
    store.store_causal_edges(doomed_edges())
print("finished", flush=True)
"""


@pytest.mark.parametrize("kill_after", [10, 45_000, 90_000])
@pytest.mark.parametrize("kind", ["memories", "edges"])
def test_sigkill_mid_bulk_write_keeps_committed_and_drops_the_rest(
    tmp_path: Path, kind: str, kill_after: int
) -> None:
    path = tmp_path / "killed.db"
    proc = _spawn(DOOMED_WRITER, path, kind, kill_after)
    assert proc.stdout is not None
    lines = []
    while (line := proc.stdout.readline()) and line.strip() != "midway":
        lines.append(line.strip())
    assert lines == [f"committed {k}" for k in range(4)], (lines, proc.stderr.read() if proc.stderr else "")
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = _finish(proc)
    assert proc.returncode == -signal.SIGKILL
    assert "finished" not in out

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM memories WHERE id LIKE 'c%'").fetchone()[0] == 2000
        assert conn.execute("SELECT count(*) FROM causal_edges WHERE id LIKE 'ce%'").fetchone()[0] == 2000
        assert conn.execute("SELECT count(*) FROM memories WHERE id LIKE 'doomed%'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM causal_edges WHERE id LIKE 'doomed%'").fetchone()[0] == 0
        # the full-text index agrees with the table
        conn.execute("INSERT INTO omega_memory_fts(omega_memory_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()
    with OmegaStore(path) as store:
        assert store.search_memories("doomed") == []
        assert len(store.search_memories("committed", limit=5000)) == 2000
        store.store_memory(StoredMemory("after", "life goes on", 1, 0.5, None, 0, 0))
        assert store.get_statistics().memory_count == 2001


# ----- one writer, several readers ------------------------------------------------------------------------

WRITER = """
import sys, time
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

path, seconds, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with OmegaStore(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the readers
    end, k = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        with store.transaction():
            store.store_memories(
                StoredMemory(f"w{k}-{i}", f"batch {k} note {i}", 1 + i % 12, (i % 10) / 10, None, k, k)
                for i in range(size))
            store.store_causal_edges(
                StoredCausalEdge(f"e{k}-{i}", f"w{k}-{i}", f"w{k}-{(i + 1) % size}", 0.5, "causes", k)
                for i in range(size))
        if k % 3 == 0:  # autocommit single writes too, updating in place (counts unchanged)
            store.store_memory(StoredMemory(f"w{k}-0", f"batch {k} note 0 revised", 1, 0.9, None, k, k))
            store.update_memory_access(f"w{k}-1", k + 1)
        k += 1
    print("done", k, flush=True)
"""

READER = """
import random, sys, time
from omega_graph.store import OmegaStore

path, seconds, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(sys.argv[4])
with OmegaStore(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    end, reads, last = time.monotonic() + seconds, 0, 0
    while time.monotonic() < end:
        stats = store.get_statistics()
        n = stats.memory_count
        assert n == stats.causal_edge_count, stats  # one snapshot: a batch adds both or neither
        assert n % size == 0, stats
        assert n >= last, (n, last)  # nothing committed disappears
        last = n
        if n:
            k = rng.randrange(n // size)
            m = store.get_memory(f"w{k}-{rng.randrange(size)}")
            assert m.content.startswith(f"batch {k} note")
            assert len(store.get_causal_edges_from(m.id)) == 1
            assert store.get_causal_edges_to(m.id)[0].to_memory == m.id
        store.query_memories_by_tier(rng.randint(1, 12))
        store.search_memories(f"batch {rng.randrange(max(1, n // size))}", limit=5)
        sum(1 for _ in zip(range(200), store.iter_memories()))
        reads += 1
    print("reads", reads, "last", last, flush=True)
"""


def test_one_writer_and_several_readers(file_store: OmegaStore) -> None:
    seconds, size, n_readers = 4.0, 40, 3
    path = file_store.path
    procs = [_spawn(WRITER, path, seconds, size)]
    procs += [_spawn(READER, path, seconds, size, seed) for seed in range(n_readers)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready", (
            p.stderr.read() if p.stderr else ""
        )
    _go(procs)
    results = []
    for p in procs:
        results.append(_finish(p, timeout=120))
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, f"a process failed:\n{err}"
    batches = int(results[0][0].split()[-1])
    assert batches > 3
    reads = [int(out.split()[1]) for out, _ in results[1:]]
    seen = [int(out.split()[3]) for out, _ in results[1:]]
    assert all(r > 0 for r in reads)
    assert any(0 < s for s in seen), "no reader ever saw the writer's data"
    print(f"writer: {batches} batches; readers: {reads} reads, last counts seen {seen}")
    stats = file_store.get_statistics()
    assert stats.memory_count == stats.causal_edge_count == batches * size
    ids = {m.id for m in file_store.iter_memories()}
    assert ids == {f"w{k}-{i}" for k in range(batches) for i in range(size)}
    assert file_store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


OPENER = """
import sys
from omega_graph.models import StoredMemory
from omega_graph.store import OmegaStore
sys.stdin.readline()
for attempt in range(5):
    with OmegaStore(sys.argv[1]) as store:
        store.store_memory(StoredMemory(f"p{sys.argv[2]}-{attempt}", "x", 1, 0.5, None, 0, 0))
print("ok", flush=True)
"""


def test_processes_opening_a_fresh_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    procs = [_spawn(OPENER, path, n) for n in range(4)]
    _go(procs)
    for p in procs:
        out, err = _finish(p)
        assert p.returncode == 0 and out.strip() == "ok", err
    with OmegaStore(path) as store:
        assert store.get_statistics().memory_count == 20


# ----- files that are not stores --------------------------------------------------------------------------


def _text_file(tmp_path: Path) -> Path:
    p = tmp_path / "notes.db"
    p.write_text("Dear diary, this is not a database.\n" * 50)
    return p


def _header_then_garbage(tmp_path: Path) -> Path:
    p = tmp_path / "garbage.db"
    with OmegaStore(p) as s:
        s.store_memories(StoredMemory(f"m{i}", "x" * 300, 1, 0.5, None, 0, 0) for i in range(100))
    data = bytearray(p.read_bytes())
    data[100:] = bytes((i * 37 + 11) % 251 for i in range(len(data) - 100))
    p.write_bytes(bytes(data))
    return p


def _short_header(tmp_path: Path) -> Path:
    p = tmp_path / "short.db"
    p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20)
    return p


def _directory(tmp_path: Path) -> Path:
    p = tmp_path / "a-directory.db"
    p.mkdir()
    return p


def _missing_parent(tmp_path: Path) -> Path:
    return tmp_path / "no" / "such" / "folder" / "omega.db"


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "plainfile").write_text("x")
    return tmp_path / "plainfile" / "omega.db"


@pytest.mark.parametrize(
    "make", [_text_file, _header_then_garbage, _short_header, _directory, _missing_parent, _under_a_file]
)
def test_unusable_paths_give_a_clear_database_error(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(DatabaseError) as info:
        with OmegaStore(path) as store:
            store.get_statistics()
            list(store.iter_memories())
    err = info.value
    assert isinstance(err, OmegaGraphError) and not isinstance(err, sqlite3.Error)
    assert path.name in str(err), f"the message should name the file: {err}"
    assert "Traceback" not in str(err) and len(str(err)) < 500
    if before is not None:
        assert path.read_bytes() == before
    assert not path.is_file() or path.stat().st_size > 0 or before == b""


def test_a_truncated_store_fails_with_database_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "truncated.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(f"m{i}", "x" * 300, 1 + i % 12, 0.5, None, 0, 0) for i in range(3000))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatabaseError):
        with OmegaStore(path) as store:
            store.get_statistics()
            list(store.iter_memories())
            for tier in range(1, 13):
                store.query_memories_by_tier(tier)
            store.search_memories("x", limit=5000)
