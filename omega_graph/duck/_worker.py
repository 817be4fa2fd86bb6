"""A DuckDB worker process: the one way a process that holds a store open lets DuckDB read its file.

Why a process: DuckDB's SQLite extension carries its own copy of the SQLite library. SQLite's locks
on Unix are POSIX advisory locks, which belong to the *process*: a second SQLite library in the
process that holds the store open does not see that process's locks. Opening the WAL file's
``-shm`` it concludes it is the first user and truncates it under the store's mapping (a ``SIGBUS``
crash when the store writes meanwhile; reproduced), and closing its descriptors drops the locks the
store's connections hold. In a child process every lock is seen and kept as SQLite intends.

One :class:`Worker` per store (:func:`store_worker`), started on first use and reused: the graph
loader's bulk scan and the statistics both run in it. It runs ``python -S -P`` (no site
initialisation; the directories of omega_graph and its dependencies on ``PYTHONPATH``), and a
statistics session starts it with :data:`PREPARE_DUCKDB`, so DuckDB's import and the extension's
signature check overlap the first request's own imports. Requests go to its stdin and answers come
back on its stdout as pickled frames (see :mod:`._child`); large arrays go through raw files in a
scratch directory on ``/dev/shm`` (:meth:`Worker.scratch`) that the parent maps instead of copying.

Failure is never silent and never a hang: every wait has a timeout (the worker is then killed and
:class:`WorkerError` says so); a worker that died (killed, crashed) is reported with its exit status
and the last line of its log, and the next call starts a new one. The worker dies with its parent
(see :mod:`._child`) and when its store closes.

Examples
--------
>>> w = Worker()
>>> w.call("omega_graph.duck._worker:echo", {"x": 1}, timeout=60)
{'x': 1}
>>> w.close()
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import DatabaseError, warn

__all__ = [
    "DEFAULT_TIMEOUT",
    "PREPARE_DUCKDB",
    "START_TIMEOUT",
    "Worker",
    "WorkerError",
    "release",
    "store_worker",
]

#: Seconds a request may take before the worker is stopped (a statistic over a very large file).
DEFAULT_TIMEOUT = 900.0
#: Seconds the worker may take to start (Python, then ready to take requests).
START_TIMEOUT = 60.0
_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")
#: ``prepare`` step that imports DuckDB and loads the SQLite extension while the worker starts
#: (taken by the worker's first :func:`omega_graph.duck.connect`).
PREPARE_DUCKDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_prewarm.py") + ":prewarm"
_HEADER_SIZE = 8


class WorkerError(DatabaseError):
    """The DuckDB worker process failed: it died, did not answer in time, or its handler raised an
    error that is not one of omega-graph's (``remote_type`` names it)."""

    def __init__(self, message: str, remote_type: str | None = None) -> None:
        self.remote_type = remote_type
        super().__init__(message)


class _DiedEarly(WorkerError):
    """The worker died before answering anything to this request (safe to send it again)."""


def echo(args: Any, emit: Callable[[Any], None]) -> Any:
    """A handler that answers with its arguments (for tests and the doctest above)."""
    if isinstance(args, dict) and args.get("part") is not None:
        emit(args["part"])
    if isinstance(args, dict) and args.get("sleep"):
        time.sleep(float(args["sleep"]))
    if isinstance(args, dict) and args.get("exit") is not None:
        os._exit(int(args["exit"]))
    if isinstance(args, dict) and args.get("raise"):
        raise ValueError(args["raise"])
    return args


def _scratch_root() -> str | None:
    shm = "/dev/shm"  # memory-backed where there is one: the arrays never touch a disk
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _package_roots() -> list[str]:
    """Directories holding omega_graph and its dependencies, so the worker (run with ``-S``, no site
    initialisation) imports the same ones."""
    import importlib.util

    roots = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
    for name in ("duckdb", "duckdb_extension_sqlite_scanner", "numpy", "pandas"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            root = os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
            if root not in roots:
                roots.append(root)
    return roots


class Worker:
    """One DuckDB worker process, started on the first :meth:`call` and restarted after a death.

    Parameters
    ----------
    label : str
        What the worker serves (a store's path), for messages.
    """

    def __init__(self, label: str = "omega-graph") -> None:
        self.label = label
        self.generation = 0  #: how many processes were started (a new one after each death)
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self._log: Any = None
        self._finalizer: weakref.finalize | None = None
        self._answered = True

    # ----- lifetime ------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The running process's id, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def _start(self, prepare: str | None = None) -> subprocess.Popen[bytes]:
        self._discard()
        self._dir = tempfile.mkdtemp(prefix="omega-duck-", dir=_scratch_root())
        self._log = open(os.path.join(self._dir, "worker.log"), "w+b")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*_package_roots(), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        main = "1" if threading.current_thread() is threading.main_thread() else "0"
        try:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-P", _CHILD, str(os.getpid()), main, *([prepare] if prepare else [])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env, bufsize=0,
            )  # fmt: skip
        except OSError as err:
            self._discard()
            raise WorkerError(f"cannot start the DuckDB worker process for {self.label} ({err})") from err
        self._proc = proc
        self.generation += 1
        self._finalizer = weakref.finalize(self, _stop, proc, self._dir, self._log)
        kind, _pid = self._receive(time.monotonic() + START_TIMEOUT, "starting")[:2]
        if kind != "ready":
            self._fail(f"answered {kind!r} instead of starting")
        return proc

    def close(self) -> None:
        """Stop the process (it ends when its stdin closes) and remove its scratch files."""
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._proc = self._dir = self._log = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        """A fresh directory for one request's files (memory-backed where possible), removed after."""
        folder = tempfile.mkdtemp(prefix="omega-duck-call-", dir=_scratch_root())
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # ----- requests ------------------------------------------------------------------------------
    def call(
        self,
        handler: str,
        args: Any,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_part: Callable[[Any], None] | None = None,
        what: str = "a request",
        prepare: str | None = None,
    ) -> Any:
        """Run ``handler(args, emit)`` in the worker and return its result.

        ``on_part`` receives each payload the handler emits, as it comes. Errors of omega-graph's
        own types raised by the handler are raised again here (same type and message); warnings it
        issued are issued again at the caller's line. Raises :class:`WorkerError` when the worker
        dies, does not answer within ``timeout`` seconds (it is then stopped) or raised another error.
        ``prepare`` (a handler spec): if this call starts the process, it runs that handler at once
        in a background thread (see :mod:`._child`), e.g. :data:`PREPARE_DUCKDB`.
        """
        with self._lock:
            proc = self._proc
            fresh = proc is None or proc.poll() is not None
            if fresh:  # never started, or died since: a new one
                proc = self._start(prepare)
            try:
                return self._call(handler, args, timeout, on_part, what)
            except _DiedEarly:
                if fresh:
                    raise
            self._start(
                prepare
            )  # it had died between two calls (killed, its starter thread ended): once more
            return self._call(handler, args, timeout, on_part, what)

    def _call(
        self, handler: str, args: Any, timeout: float, on_part: Callable[[Any], None] | None, what: str
    ) -> Any:
        with self._lock:
            proc = self._proc
            assert proc is not None
            self._answered = False
            deadline = time.monotonic() + timeout
            data = pickle.dumps((handler, args), protocol=pickle.HIGHEST_PROTOCOL)
            assert proc.stdin is not None
            try:
                proc.stdin.write(len(data).to_bytes(_HEADER_SIZE, "little") + data)
            except OSError:
                self._fail(f"died before {what}")
            while True:
                message = self._receive(deadline, what)
                self._answered = True
                if message[0] == "part":
                    if on_part is not None:
                        try:
                            on_part(message[1])
                        except BaseException:
                            self._discard()  # it would go on sending the rest: start afresh next time
                            raise
                    continue
                kind, payload, caught = message
                for module, name, text in caught:
                    warn(_warning_class(module, name)(text))
                if kind == "done":
                    return payload
                raise _rebuild(payload, self.label, what)

    def _receive(self, deadline: float, what: str) -> tuple[Any, ...]:
        n = int.from_bytes(self._read(_HEADER_SIZE, deadline, what), "little")
        message: tuple[Any, ...] = pickle.loads(self._read(n, deadline, what))
        return message

    def _read(self, n: int, deadline: float, what: str) -> bytes:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], min(wait, 3600.0))[0]:
                if time.monotonic() < deadline:
                    continue
                self._fail(f"did not finish {what} within the timeout; it was stopped", kill=True)
            chunk = os.read(fd, min(left, 1 << 22))
            if not chunk:
                self._fail(f"died during {what}")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _fail(self, happened: str, kill: bool = False) -> None:
        proc, log = self._proc, self._log
        status = ""
        if proc is not None:
            if kill:
                proc.kill()
            try:
                code = proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(5.0)
            if not kill:
                status = (
                    f" (killed by {signal.Signals(-code).name})" if code < 0 else f" (exit status {code})"
                )
        tail = ""
        if log is not None:
            log.flush()
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines()
            tail = f"; its last words: {lines[-1]!r}" if lines else ""
        self._discard()
        error = _DiedEarly if not kill and not getattr(self, "_answered", True) else WorkerError
        raise error(
            f"the DuckDB worker process for {self.label} {happened}{status}{tail}; "
            "the next call starts a new one"
        )

    def __repr__(self) -> str:
        return f"<Worker {self.label} pid={self.pid}>"


def _stop(proc: subprocess.Popen[bytes], folder: str | None, log: Any) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # end of file: the worker exits at once
    try:
        proc.wait(5.0)
    except subprocess.TimeoutExpired:  # pragma: no cover - stuck in C code without the reader
        proc.kill()
        proc.wait(5.0)
    if proc.stdout is not None:
        proc.stdout.close()
    if log is not None:
        log.close()
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _warning_class(module: str, name: str) -> type[Warning]:
    import importlib

    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return UserWarning
    return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning


def _rebuild(payload: dict[str, Any], label: str, what: str) -> BaseException:
    """The handler's error as this process raises it: omega-graph's own types as themselves."""
    import importlib

    from ..errors import OmegaGraphError

    cls: Any = None
    if payload["module"].startswith("omega_graph"):
        with contextlib.suppress(ImportError, AttributeError):
            cls = getattr(importlib.import_module(payload["module"]), payload["name"])
    if isinstance(cls, type) and issubclass(cls, OmegaGraphError):
        err = cls.__new__(cls)
        Exception.__init__(err, payload["message"])
        err.__dict__.update(payload["attrs"])
        return err
    return WorkerError(
        f"the DuckDB worker process for {label} failed during {what}: {payload['name']}: "
        f"{payload['message']}",
        remote_type=payload["name"],
    )


# ----- one worker per store ------------------------------------------------------------------------
_workers: dict[int, Worker] = {}
_workers_lock = threading.Lock()


def store_worker(store: Any) -> Worker:
    """The worker of ``store`` (a file store), created on first use; it stops when the store closes
    (:func:`release`) or is garbage collected."""
    key = id(store)
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = Worker(str(store.path))
            _workers[key] = worker
            weakref.finalize(store, _forget, key, worker)
        return worker


def _forget(key: int, worker: Worker) -> None:
    with _workers_lock:
        if _workers.get(key) is worker:
            del _workers[key]
    worker.close()


def release(store: Any) -> None:
    """Stop the worker of ``store``, if it has one (called by ``OmegaStore.close``)."""
    with _workers_lock:
        worker = _workers.pop(id(store), None)
    if worker is not None:
        worker.close()
