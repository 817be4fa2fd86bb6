"""The DuckDB worker process (omega_graph.duck): requests, errors and warnings carried back, death,
restart, timeouts, dying with its parent; and the statistics surviving a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from omega_graph import DatabaseError, OmegaStore, StoredMemory, ValidationError, duck
from omega_graph.duck import Worker, WorkerError

ECHO = "omega_graph.duck._worker:echo"


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker("test")
    yield w
    w.close()


def _gone(pid: int, wait: float = 10.0) -> bool:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_requests_parts_and_reuse(worker: Worker) -> None:
    parts: list[object] = []
    assert worker.call(ECHO, {"part": [1, 2]}, timeout=60, on_part=parts.append) == {"part": [1, 2]}
    assert parts == [[1, 2]]
    pid = worker.pid
    assert pid is not None and pid != os.getpid()
    assert worker.call(ECHO, "again", timeout=60) == "again"
    assert worker.pid == pid and worker.generation == 1  # reused, not restarted


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ({"raise": "boom"}, WorkerError, "failed during a request: ValueError: boom"),
        ({"exit": 7}, WorkerError, r"died during a request \(exit status 7\).*next call starts a new one"),
        ({"sleep": 30}, WorkerError, "did not finish a request within the timeout; it was stopped"),
    ],
)
def test_failures_are_named_and_the_next_call_restarts(
    worker: Worker, args: dict, error: type, match: str
) -> None:
    worker.call(ECHO, 0, timeout=60)
    first = worker.pid
    started = time.monotonic()
    with pytest.raises(error, match=match):
        worker.call(ECHO, args, timeout=2.0)
    assert time.monotonic() - started < 20  # never a hang
    assert worker.call(ECHO, 1, timeout=60) == 1
    if "raise" not in args:
        assert worker.pid != first and worker.generation >= 2  # a request that kills it is tried twice


def test_a_killed_worker_is_reported_with_its_signal(worker: Worker) -> None:
    worker.call(ECHO, 0, timeout=60)
    pid = worker.pid
    assert pid is not None

    def kill(_: object) -> None:
        os.kill(pid, signal.SIGKILL)

    with pytest.raises(WorkerError, match="died during a request .killed by SIGKILL"):
        worker.call(ECHO, {"part": 1, "sleep": 5}, timeout=60, on_part=kill)
    assert worker.call(ECHO, 2, timeout=60) == 2


def test_the_worker_dies_with_its_parent(tmp_path: Path) -> None:
    """A parent that is SIGKILLed (no cleanup at all) takes its worker with it."""
    script = textwrap.dedent(f"""
        import os, sys, time
        from omega_graph.duck import Worker
        w = Worker("orphan")
        w.call({ECHO!r}, 0, timeout=60)
        print(w.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not _gone(child, 0.2)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _gone(child)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_store_statistics_survive_a_killed_worker(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "s.db") as store:
        store.store_memory(StoredMemory("m1", "x", 2, 0.5, None, 0, 0))
        with store.analytics() as a:
            assert a.tier_summary()["memories"].tolist() == [1]
            pid = duck.store_worker(store).pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            assert _gone(pid)
            store.store_memory(StoredMemory("m2", "x", 2, 0.5, None, 0, 0))
            assert a.tier_summary()["memories"].tolist() == [2]  # a new worker, the session reopened
            assert duck.store_worker(store).pid not in (None, pid)


def test_errors_and_warnings_come_back_as_themselves(tmp_path: Path) -> None:
    import sqlite3

    from omega_graph.errors import DataQualityWarning

    path = tmp_path / "s.db"
    with OmegaStore(path) as store:
        store.store_memory(StoredMemory("m1", "x", 2, 0.5, None, 0, 0))
        raw = sqlite3.connect(path)
        raw.execute("UPDATE memories SET importance = 'high'")
        raw.commit()
        raw.close()
        with store.analytics() as a:
            with pytest.raises(ValidationError, match="valid DuckDB SQL") as info:
                a.sql("SELECT * FROM no_such_table")
            assert info.value.field == "sql"
            with pytest.raises(DatabaseError, match="type_anomalies"):
                a.sql("SELECT avg(importance) FROM memories")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert a.tier_summary()["memories"].tolist() == [1]
            assert [w.category for w in caught] == [DataQualityWarning]
            assert caught[0].filename == __file__  # at the caller's line, not in the worker


def test_statistics_leave_pandas_out_of_the_worker(tmp_path: Path) -> None:
    """The worker sends NumPy columns (pandas would cost its start ~1 s); the file is read live."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\n\ndef loaded(args, emit):\n    return sorted(m for m in args if m in sys.modules)\n"
    )
    with OmegaStore(tmp_path / "s.db") as store:
        store.store_memory(StoredMemory("m1", "x", 2, 0.5, None, 0, 0))
        with store.analytics() as a:
            assert a.tier_summary()["memories"].tolist() == [1]
            assert a.sql("SELECT id FROM memories")["id"].tolist() == ["m1"]
            a.degree_table(), a.activity(), a.overview()
            worker = duck.store_worker(store)
            assert worker.call(f"{probe}:loaded", ["pandas", "duckdb", "numpy"], timeout=60) == [
                "duckdb",
                "numpy",
            ]
