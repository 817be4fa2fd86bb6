"""The :class:`Analytics` session: DuckDB over an omega store, statistics as pandas DataFrames.

One session owns a private ``duckdb.connect()`` with DuckDB's SQLite extension loaded (see
:mod:`omega_graph.duck`) and the store's file ATTACHed READ_ONLY as ``omega``; the crate's tables
are visible unqualified. The extension and the attachment are paid for once, when the session
opens; every call after that reuses them. The engine is :class:`~._session.DuckSession`.

Consistency
-----------
DuckDB's SQLite scanner normally splits a table scan across threads, and each worker opens its
*own* SQLite connection: each sees the file as of its own start, so one query could mix two
commits (``tests/test_analytics_safety.py`` shows it happening under a writer). Two ways keep one
state per statistic on a live file:

- with the multi-threaded scans off (``sqlite_disable_multithreaded_scans``), every scan of a
  DuckDB transaction goes through the transaction's single SQLite connection and read
  transaction. Each curated statistic is one SQL statement (one DuckDB transaction), so it sees one
  state of the file whatever commits meanwhile. Sessions in this process (mode ``"live"``) always
  read this way, as does :meth:`Analytics.export_parquet` (all its tables in one transaction).
  Such a session's DuckDB runs on one thread: two threads scanning through one SQLite connection
  crash the extension (see :class:`~._session.DuckSession`);
- a worker session (mode ``"worker"``) first runs a statement with the parallel scans and keeps
  the answer only if this process's own ``sqlite3`` connection on the file reports the same
  ``PRAGMA data_version`` before the request and after the answer: no commit happened while any of
  the scan threads' read transactions could begin, so they all read the same state. Otherwise the
  statement runs again the first way. The same proof lets a curated statistic asked again on an
  unchanged file return a copy of its previous answer (``cache=True``, the default).

Where DuckDB runs (same-process writers)
----------------------------------------
DuckDB's extension carries its own SQLite library. On Unix, SQLite's file locks belong to the
process, so DuckDB's copy cannot see the locks of Python's ``sqlite3`` in the same process: opening
a WAL file that a store of this process has open truncates its shared-memory index under it (we
reproduced a ``SIGBUS`` crash). So DuckDB reads the live file in this process only when no
descriptor of this process is open on it (mode ``"live"``). ``store.analytics()`` on a file store,
and a path this process has open, are read live by the store's **DuckDB worker process** (mode
``"worker"``; :mod:`omega_graph.duck`): started on first use, reused by every later session and by
the graph loader, results sent back as NumPy columns (the worker never imports pandas for them;
:mod:`omega_graph.duck._frames` rebuilds exactly the frame DuckDB's ``.df()`` gives). No copy of
the file is made. In-memory
stores (and ``snapshot=True``) read a private snapshot instead: the seven crate tables (and the
belief side tables) copied by
Python's ``sqlite3`` in one read transaction into a temporary file, refreshed before a call
whenever the store has committed since (mode ``"snapshot"``, with DuckDB's parallel scans).

Typing
------
SQLite is dynamically typed; a file written by another tool can hold text in ``importance`` or a
float in ``tier``. A curated statistic that meets such a value lists all of them (see
:meth:`Analytics.type_anomalies`), switches the affected tables to tolerant ``clean_<table>`` views
in which those values are NULL, warns with :class:`DataQualityWarning` and runs again. Queries
given to :meth:`Analytics.sql` raise :class:`~omega_graph.errors.DatabaseError` instead, naming
the remedy.

Examples
--------
>>> from omega_graph import OmegaStore, StoredMemory
>>> store = OmegaStore.new_in_memory()
>>> store.store_memories([StoredMemory(f"m{i}", "note", 1 + i % 2, i / 4, None, 0, 0) for i in range(4)])
4
>>> with store.analytics() as a:
...     a.tier_summary()[["tier", "memories", "max_importance"]]
   tier  memories  max_importance
0     1         2            0.50
1     2         2            0.75
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..duck import DEFAULT_TIMEOUT, Worker, store_worker
from ..duck._frames import frame
from ..duck._worker import PREPARE_DUCKDB
from ..errors import DatabaseError, ValidationError
from ._beliefs import BeliefStatistics
from ._curated import FREQUENCIES, CuratedStatistics
from ._session import DuckSession, check_read_only
from ._source import Snapshot, check_source_file, open_in_process

if TYPE_CHECKING:
    import duckdb

__all__ = ["FREQUENCIES", "Analytics"]


class Analytics(CuratedStatistics, BeliefStatistics):
    """DuckDB statistics over one omega store; use as a context manager.

    Parameters
    ----------
    source : str, os.PathLike or OmegaStore
        A store file or a store. A file store is read live: in this process when no descriptor of
        this process is open on the file, otherwise (``store.analytics()`` included) in the store's
        DuckDB worker process (see the module docstring). An in-memory store is read through a
        snapshot refreshed after its commits.
    snapshot : bool or None
        None decides as above. True always reads a private snapshot copy of the seven tables (the
        way every same-process session read before the worker existed). False never does: a path is
        then read in this process (only safe if no ``sqlite3`` connection of this process opens it
        meanwhile), a file store in its worker.
    threads : int or None
        DuckDB worker threads (default: DuckDB's, one per core) where DuckDB scans in parallel: a
        snapshot, and the worker's first try. A live session in this process, a worker's
        consistent retry and any session reading a table through its tolerant view run on one.
    cache : bool
        Worker sessions only: a curated statistic asked again while the file provably did not
        change (this process's ``PRAGMA data_version`` equal to the one its previous answer was
        read at, from before that request to after its answer) returns a copy of that answer
        instead of scanning again. Free queries (:meth:`sql`) are never cached.
    timeout : float
        Seconds one call may take in the worker process before it is stopped (then
        :class:`~omega_graph.errors.DatabaseError`).

    Examples
    --------
    >>> from omega_graph import OmegaStore, StoredMemory
    >>> store = OmegaStore.new_in_memory()
    >>> store.store_memory(StoredMemory("m1", "saw smoke", 3, 0.9, None, 1764000000, 1764000000))
    >>> with Analytics(store) as a:
    ...     a.sql("SELECT id, tier FROM memories")
       id  tier
    0  m1     3
    """

    def __init__(
        self,
        source: Any,
        *,
        snapshot: bool | None = None,
        threads: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        cache: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._threads = threads
        self._timeout = float(timeout)
        self._cache_on = bool(cache)
        #: curated statement -> (data_version it was read at, result): see _run
        self._cache: dict[tuple[str, str], tuple[int, pd.DataFrame]] = {}
        self._session: DuckSession | None = None
        self._snapshot: Snapshot | None = None
        self._live: str | None = None
        self._file: str | None = None
        self._worker: Worker | None = None
        self._own_worker = False
        self._watch: sqlite3.Connection | None = None
        self._unchanged = 0  # parallel answers accepted, and asked again after a commit (for tests)
        self._asked_again = 0
        self._sid = uuid.uuid4().hex
        self._closed = False
        self._auto = snapshot is None
        if hasattr(source, "connection") and hasattr(source, "path"):
            path = source.path
            if path is None and snapshot is False:
                raise ValidationError(
                    "analytics", "snapshot", snapshot,
                    "True or None for an in-memory store: it has no file to read live",
                )  # fmt: skip
            if path is None or snapshot:
                self._snapshot = Snapshot(path=path) if path else Snapshot(connection=source.connection)
            else:
                self._file = path
                self._worker = store_worker(source)
        elif isinstance(source, str | os.PathLike):
            path = os.path.abspath(os.fspath(source))
            check_source_file(path)
            if snapshot:
                self._snapshot = Snapshot(path=path)
            elif snapshot is None and open_in_process(path):
                self._file = path
                self._worker, self._own_worker = Worker(path), True
            else:
                self._live = path
        else:
            raise ValidationError(
                "analytics", "source", source, "a store file path or an OmegaStore (store.analytics())"
            )
        self._finalizer = weakref.finalize(self, _cleanup, None, self._snapshot, self._owned())
        try:
            if self._worker is not None:
                self._watch_file()
                self._exec("run", "SELECT 1 AS ok")  # start (or reuse) the worker and attach now
            else:
                self._session = DuckSession(self._live, consistent=self._live is not None, threads=threads)
                self._finalizer.detach()
                self._finalizer = weakref.finalize(self, _cleanup, self._session, self._snapshot, None)
                self._refresh()
        except BaseException:
            self.close()
            raise

    def _owned(self) -> Worker | None:
        return self._worker if self._own_worker else None

    def _watch_file(self) -> None:
        """Open this process's read-only sqlite3 connection that tells whether the file changed.

        Python's sqlite3 is the library the store uses, so this connection is safe here (DuckDB's
        SQLite library never opens the file in this process).
        """
        assert self._file is not None
        try:
            self._watch = sqlite3.connect(
                f"{Path(self._file).absolute().as_uri()}?mode=ro", uri=True, isolation_level=None,
                timeout=5.0, check_same_thread=False,
            )  # fmt: skip
        except sqlite3.Error:
            self._watch = None  # then every statistic scans on one thread, in one read transaction

    def _data_version(self) -> int | None:
        """``PRAGMA data_version`` of the watch connection: it changes when anything commits."""
        if self._watch is None:
            return None
        try:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    # ----- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the DuckDB connection and delete any snapshot. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            worker = self._worker
            if worker is not None and not self._own_worker and worker.pid is not None:
                try:
                    worker.call(
                        _HANDLER_CLOSE, {"session": self._sid}, timeout=30.0, what="closing a session"
                    )
                except DatabaseError:
                    pass  # the worker is gone, and the session with it
            self._finalizer()
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f" {self._live}" if self._live else f" {self._file}" if self._worker else ""
        return f"<Analytics {self.mode}{where}{' closed' if self._closed else ''}>"

    @property
    def mode(self) -> str:
        """``"live"`` (DuckDB reads the file in this process), ``"worker"`` (DuckDB reads the file
        in the store's worker process) or ``"snapshot"`` (DuckDB reads a private copy)."""
        if self._worker is not None:
            return "worker"
        return "live" if self._live is not None else "snapshot"

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The private DuckDB connection (configuration locked; the store attached as ``omega``).

        Only for a session in this process: a ``"worker"`` session's connection lives in the
        worker process (use :meth:`sql`). A snapshot session whose tables turn tolerant (values of
        the wrong type) goes on with a new one-thread connection: ask for this property again
        rather than keeping it. :meth:`sql` runs a statement that calls ``sqlite_query`` on one
        thread; on this connection, call it once per statement: two in one statement may scan
        through one SQLite connection from two threads, which crashes DuckDB's extension.
        """
        self._check_open()
        with self._lock:
            self._refresh()
            if self._session is None:
                raise DatabaseError(
                    "this Analytics session reads through a DuckDB worker process, so its connection "
                    "is not in this process; run queries with Analytics.sql()"
                )
            return self._session.connection

    # ----- plumbing ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise DatabaseError("this Analytics session is closed; open a new one with store.analytics()")

    def _refresh(self) -> None:
        """Before each call: move to a worker if this process opened the file; renew a stale snapshot."""
        self._check_open()
        if self._worker is not None:
            return
        if self._live is not None:
            if not (self._auto and open_in_process(self._live)):
                return
            assert self._session is not None
            self._session.close()
            self._session = None
            self._file, self._live = self._live, None
            self._worker, self._own_worker = Worker(self._file), True
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _cleanup, None, None, self._worker)
            self._watch_file()
            return
        snap, session = self._snapshot, self._session
        assert snap is not None and session is not None
        if snap.stale():
            old = snap.file
            session.attach(snap.take())
            snap.discard(old)

    def _exec(self, method: str, *args: Any) -> Any:
        """Run ``DuckSession.<method>(*args)`` where this session's DuckDB lives.

        In the worker, ``run`` and ``sql`` first scan with DuckDB's parallel SQLite scans, whose
        threads each open their own SQLite read transaction. Their answer is taken only if this
        process's ``PRAGMA data_version`` is the same before the request and after the answer: then
        no commit happened while any of those read transactions could start, so they all read one
        state of the file. Otherwise the request runs again on one thread, in one SQLite read
        transaction, which is consistent whatever commits meanwhile.
        """
        with self._lock:
            self._refresh()
            if self._worker is None:
                assert self._session is not None
                return getattr(self._session, method)(*args)
            request = {"session": self._sid, "file": self._file, "threads": self._threads, "method": method,
                       "args": list(args), "parallel": False}  # fmt: skip
            what = f"Analytics.{method}"
            call = self._worker.call
            if method not in ("run", "sql"):
                return call(_HANDLER_CALL, request, timeout=self._timeout, what=what, prepare=PREPARE_DUCKDB)
            key = (str(args[0]), repr(args[1:]))
            before = self._data_version()
            if before is not None:
                cached = self._cache.get(key) if method == "run" and self._cache_on else None
                if cached is not None and cached[0] == before:
                    return cached[1].copy()  # nothing committed since that answer was read
                request["parallel"] = True
                result = frame(
                    call(_HANDLER_CALL, request, timeout=self._timeout, what=what, prepare=PREPARE_DUCKDB)
                )
                if self._data_version() == before:
                    self._unchanged += 1
                    if method == "run" and self._cache_on:
                        self._cache = {k: v for k, v in self._cache.items() if v[0] == before}
                        self._cache[key] = (before, result.copy())
                    return result
                self._asked_again += 1
                request["parallel"] = False
            return frame(
                call(_HANDLER_CALL, request, timeout=self._timeout, what=what, prepare=PREPARE_DUCKDB)
            )

    def _run(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a curated statement; on a type mismatch, switch to tolerant views and run again."""
        result: pd.DataFrame = self._exec("run", sql, params)
        return result

    # ----- free queries --------------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one read-only DuckDB statement and return its result as a DataFrame.

        The crate's tables are visible unqualified (``memories``, ``causal_edges``, ...), as are
        the ``clean_<table>`` views. Values go through ``params`` (``?``/``$1`` or ``$name``).
        Statements that could write (INSERT, CREATE, COPY, ATTACH, SET, ...) raise
        :class:`~omega_graph.errors.ValidationError`; the file is attached READ_ONLY besides.

        Examples
        --------
        >>> from omega_graph import OmegaStore
        >>> with OmegaStore.new_in_memory().analytics() as a:
        ...     a.sql("SELECT count(*) AS n FROM memories WHERE tier = ?", [3])["n"].tolist()
        [0]
        """
        check_read_only(query)
        result: pd.DataFrame = self._exec("sql", query, params)
        return result

    def type_anomalies(self) -> pd.DataFrame:
        """Every stored value whose SQLite type does not fit its column's declared type.

        Columns: ``table``, ``column``, ``rowid`` (SQLite rowid), ``id`` (the record's id as text),
        ``value`` (as text; blobs as ``X'..'``), ``stored_type`` (SQLite ``typeof``: integer, real,
        text or blob), ``declared_type`` (INTEGER, REAL or TEXT); sorted by table and rowid. The
        tables involved switch to tolerant ``clean_<table>`` views (those values read as NULL).
        An empty frame means the file is well typed.

        Examples
        --------
        >>> from omega_graph import OmegaStore
        >>> with OmegaStore.new_in_memory().analytics() as a:
        ...     len(a.type_anomalies())
        0
        """
        result: pd.DataFrame = self._exec("type_anomalies")
        return result

    def export_parquet(self, directory: str | os.PathLike[str]) -> pd.DataFrame:
        """Write every crate table to ``<directory>/<table>.parquet`` through DuckDB (one snapshot).

        Columns and types are those DuckDB reads from the file (TEXT → VARCHAR, INTEGER → BIGINT,
        REAL → DOUBLE, BLOB → BLOB); values of the wrong SQLite type are written as NULL (see
        :meth:`type_anomalies`). The directory is created if needed; existing files are replaced.
        Returns a DataFrame with ``table``, ``rows``, ``path``.
        """
        result: pd.DataFrame = self._exec("export", os.path.abspath(os.fspath(directory)))
        return result


_HANDLER_CALL = "omega_graph.analytics._session:call"
_HANDLER_CLOSE = "omega_graph.analytics._session:close"


def _cleanup(session: DuckSession | None, snapshot: Snapshot | None, worker: Worker | None) -> None:
    if session is not None:
        session.close()
    if snapshot is not None:
        snapshot.close()
    if worker is not None:
        worker.close()
