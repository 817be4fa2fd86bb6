"""One DuckDB connection over one store file: the engine behind :class:`~.statistics.Analytics`.

A :class:`DuckSession` runs in this process (a file no descriptor of this process holds, or a
private snapshot copy) or inside the store's DuckDB worker process (:mod:`omega_graph.duck`), where
it is reached through :func:`call`. The code is the same in both places: the attachment, the
``clean_<table>`` views, the switch to tolerant views when a value of the wrong SQLite type is met,
the mapping of DuckDB's errors to omega-graph's, and the Parquet export.

Examples
--------
>>> from omega_graph import OmegaStore
>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     OmegaStore(os.path.join(d, "s.db")).close()
...     s = DuckSession(os.path.join(d, "s.db"), consistent=True)
...     s.run("SELECT count(*) AS n FROM clean_memories")["n"].tolist()
...     s.close()
[0]
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from typing import TYPE_CHECKING, Any

from ..duck import connect, quote
from ..duck._frames import fetch
from ..errors import DatabaseError, DataQualityWarning, ValidationError, warn
from ..schema import CRATE_TABLES
from ._typing import anomaly_rows, column_types, tolerant_view_sql, typed_view_sql

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["DuckSession", "call", "check_read_only", "close"]

_READ_ONLY_HINT = (
    "one read-only statement (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PRAGMA or "
    "EXPLAIN of a query); analytics never writes: write through OmegaStore, export with export_parquet()"
)


def first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class DuckSession:
    """A private DuckDB connection with ``file`` attached READ_ONLY as ``omega``.

    ``consistent`` turns DuckDB's multi-threaded SQLite scans off (a live file: each scan thread
    would open its own SQLite connection and could see another commit); every scan of a statement
    then goes through the statement's one SQLite read transaction. A snapshot copy never changes
    and keeps the parallel scans.

    One SQLite connection, one DuckDB thread: the SQLite extension reads values through
    ``sqlite3_column_value``, which SQLite documents as unprotected, so two DuckDB threads scanning
    through the same SQLite connection (two tables of one statement in parallel pipelines) corrupt
    its allocator and crash the process (reproduced: a degree table over two tolerant views). The
    scans share one connection in a consistent session and wherever a table is read through
    ``sqlite_query`` (the tolerant views, in every session). So a consistent session's DuckDB
    runs on one thread, and a session whose tables turn tolerant moves to one thread
    (:meth:`tolerate`), dropping its parallel connection.

    ``remote`` (the worker's sessions): results come back as :func:`omega_graph.duck._frames.fetch`
    payloads instead of DataFrames (the worker never imports pandas for them), and a second DuckDB
    database with ``threads`` threads keeps the multi-threaded scans (one SQLite connection per
    scan thread) for requests marked ``parallel``. Such a result may mix commits unless nothing
    committed while it ran: the parent accepts it only when its own ``PRAGMA data_version`` is
    unchanged from before the request to after the answer, and otherwise asks again with
    ``parallel`` off (see :meth:`omega_graph.analytics.Analytics._exec`).
    """

    def __init__(
        self, file: str | None, *, consistent: bool, threads: int | None = None, remote: bool = False
    ) -> None:
        self._tolerant: set[str] = set()
        self._types: dict[str, list[tuple[str, str]]] = {}
        self._remote = remote
        numpy = None
        if remote and file is not None:  # import NumPy (for fetchnumpy) while DuckDB checks the extension
            numpy = threading.Thread(target=_import_numpy, name="omega-numpy-import", daemon=True)
            numpy.start()
        self._file: str | None = None
        #: The session's connection (one thread when consistent, see the class); a worker session
        #: opens it on first need: its requests scan with ``_par`` first.
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_threads = 1 if consistent else threads
        self._par: duckdb.DuckDBPyConnection | None = None
        try:
            if consistent and remote:
                self._par = self._connect(threads, multithreaded_scans=True)
            else:
                self._con = self._connect(self._con_threads, multithreaded_scans=not consistent)
            if file is not None:
                self.attach(file)
        except BaseException:
            self.close()
            raise
        finally:
            if numpy is not None:
                numpy.join()

    @staticmethod
    def _connect(threads: int | None, *, multithreaded_scans: bool) -> duckdb.DuckDBPyConnection:
        con = connect(threads)
        try:
            if not multithreaded_scans:
                con.execute("SET sqlite_disable_multithreaded_scans = true")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The session's DuckDB connection (replaced by a one-thread one when a table turns tolerant)."""
        if self._con is None:
            con = self._connect(1, multithreaded_scans=False)
            try:
                if self._file is not None:
                    self._attach(con)
            except BaseException:
                con.close()
                raise
            self._con, self._con_threads = con, 1
        return self._con

    def close(self) -> None:
        for con in (self._par, self._con):
            if con is not None:
                con.close()
        self._par = self._con = None

    def _cursor(self, parallel: bool) -> duckdb.DuckDBPyConnection:
        return self._par if parallel and self._par is not None else self.connection

    def _result(self, cursor: duckdb.DuckDBPyConnection) -> Any:
        return fetch(cursor) if self._remote else cursor.df()

    def _execute(self, cursor: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None) -> Any:
        """The result of ``sql`` with ``params`` on ``cursor`` (see :meth:`_result`).

        In the worker, curated parameters go in as typed SQL literals of a prepared statement
        instead (DuckDB imports pandas to bind Python values). PREPARE, EXECUTE and the fetch run in
        one DuckDB transaction: ``sqlite_query`` (every tolerant view) binds on the SQLite connection
        of the transaction it is bound in and keeps a pointer to it; that connection is closed and
        freed when the transaction ends, and an EXECUTE in a later transaction reuses the plan bound
        at PREPARE (unless a parameter of unresolved type forces a new bind), so it would read through
        a dangling handle (SQLite's "out of memory" or "bad parameter or other API misuse", or a
        freed handle reused by chance). The statement is deallocated before its transaction ends.
        """
        import duckdb

        values = [_literal_value(p) for p in params or ()]
        if not self._remote or not params or any(v is None for v in values):
            return self._result(cursor.execute(sql, params))
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute(f"PREPARE omega_curated AS {sql}")
            result = self._result(cursor.execute(f"EXECUTE omega_curated({', '.join(map(str, values))})"))
            cursor.execute("DEALLOCATE omega_curated")
        except BaseException:
            with contextlib.suppress(duckdb.TransactionException):  # none left to end: keep the error
                cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        return result

    def attach(self, file: str) -> None:
        """(Re)attach ``file`` as ``omega`` and rebuild the ``clean_<table>`` views."""
        self._file = file
        for con in (self._con, self._par):
            if con is not None:
                self._attach(con)

    def _attach(self, con: duckdb.DuckDBPyConnection) -> None:
        assert self._file is not None
        con.execute("USE memory")
        con.execute("DETACH DATABASE IF EXISTS omega")
        con.execute(f"ATTACH '{quote(self._file)}' AS omega (TYPE sqlite, READ_ONLY)")
        con.execute("USE omega")
        con.execute("SET search_path = 'omega.main,memory.main'")
        self._types = column_types(con)
        missing = [t for t, cols in self._types.items() if not cols]
        if missing:
            raise DatabaseError(
                f"{self._file!r} lacks the table(s) {', '.join(missing)}; it is not an omega store"
            )
        for table in CRATE_TABLES:
            if table in self._tolerant:
                con.execute(tolerant_view_sql(table, self._types[table]))
            else:
                con.execute(typed_view_sql(table))

    def _any(self) -> duckdb.DuckDBPyConnection:
        """An open connection of this session, whichever (for single-scan statements)."""
        con = self._con if self._con is not None else self._par
        assert con is not None, "the session is closed"
        return con

    def _one_thread(self) -> None:
        """Go on with one DuckDB thread: drop the parallel connection, reopen a many-thread one."""
        if self._par is not None:
            self._par.close()
            self._par = None
        if self._con is not None and self._con_threads != 1:
            self._con.close()
            self._con = None  # reopened on one thread, with the views, by the next use of :attr:`connection`

    def _read_tolerantly(self, tables: list[str]) -> None:
        """Read ``tables`` through tolerant views from now on, on one DuckDB thread (see the class)."""
        self._tolerant.update(tables)
        self._one_thread()
        if self._con is not None:
            for table in tables:
                self._con.execute(tolerant_view_sql(table, self._types[table]))

    def tolerate(self) -> bool:
        """List wrongly typed values; switch their tables to tolerant views. False if none is new."""
        found = anomaly_rows(self._any(), self._types)
        new = sorted(set(found["table"]) - self._tolerant)
        if not new:
            return False
        self._read_tolerantly(new)
        summary = "; ".join(
            f"{t}.{c}: {n} value(s) stored as {', '.join(sorted(g['stored_type'].unique()))}"
            for (t, c), g in found[found["table"].isin(new)].groupby(["table", "column"], sort=True)
            for n in [len(g)]
        )
        warn(
            DataQualityWarning(
                f"values of the wrong SQLite type are read as NULL and left out of the statistics "
                f"({summary}); Analytics.type_anomalies() lists them"
            )
        )
        return True

    def run(self, sql: str, params: list[Any] | None = None, parallel: bool = False) -> Any:
        """Run a curated statement; on a type mismatch, switch to tolerant views and run again."""
        import duckdb

        for _ in range(len(CRATE_TABLES) + 1):
            try:
                return self._execute(self._cursor(parallel), sql, params)
            except duckdb.TypeMismatchException as err:
                if not self.tolerate():
                    raise DatabaseError(
                        f"a stored value does not fit its column ({first_line(err)}); "
                        "Analytics.type_anomalies() lists such values"
                    ) from err
        raise DatabaseError("the store's types kept changing while it was read; try again")

    def sql(
        self, query: str, params: list[Any] | dict[str, Any] | None = None, parallel: bool = False
    ) -> Any:
        """Run one read-only statement (checked by :func:`check_read_only` first).

        A statement that calls ``sqlite_query`` scans through the transaction's SQLite connection,
        so the session goes on with one DuckDB thread first (see the class).
        """
        import duckdb

        if "sqlite_query" in query.lower():
            self._one_thread()
            parallel = False
        try:
            return self._result(self._cursor(parallel).execute(query, params))
        except duckdb.TypeMismatchException as err:
            raise DatabaseError(
                f"{first_line(err)}. The file holds values of the wrong SQLite type: "
                "Analytics.type_anomalies() lists them, and the clean_<table> views "
                "(e.g. clean_memories) read them as NULL"
            ) from err
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as err:
            raise ValidationError(
                "analytics query", "sql", query, f"valid DuckDB SQL ({first_line(err)})"
            ) from err
        except duckdb.Error as err:
            raise DatabaseError(f"DuckDB could not run the query: {first_line(err)}") from err

    def type_anomalies(self) -> pd.DataFrame:
        """Every wrongly typed value; their tables switch to tolerant views."""
        found = anomaly_rows(self._any(), self._types)
        new = sorted(set(found["table"]) - self._tolerant)
        if new:
            self._read_tolerantly(new)
        return found

    def export(self, directory: str) -> pd.DataFrame:
        """Write each crate table to ``<directory>/<table>.parquet`` in one DuckDB transaction.

        One transaction means one SQLite read transaction on a live file: the files agree with each
        other (every edge's endpoints are in ``memories.parquet`` if they were in the store). A table
        holding values of the wrong SQLite type is written from its tolerant view (those values NULL).
        Returns ``table``, ``rows``, ``path`` (absolute), in the crate's table order.
        """
        import duckdb
        import pandas as pd

        if os.path.exists(directory) and not os.path.isdir(directory):
            raise DatabaseError(f"cannot export to {directory!r}: it is a file; give a directory")
        os.makedirs(directory, exist_ok=True)
        directory = os.path.abspath(directory)
        for _attempt in range(len(CRATE_TABLES) + 1):
            con = self.connection  # a new one after a switch to tolerant views
            rows: list[tuple[str, int, str]] = []
            con.execute("BEGIN TRANSACTION")
            try:
                for table in CRATE_TABLES:
                    target = os.path.join(directory, f"{table}.parquet")
                    tmp = f"{target}.tmp"
                    con.execute(f"COPY (SELECT * FROM clean_{table}) TO '{quote(tmp)}' (FORMAT parquet)")
                    n = con.execute(f"SELECT count(*) FROM read_parquet('{quote(tmp)}')").fetchone()
                    rows.append((table, int(n[0]) if n else 0, target))
                con.execute("COMMIT")
            except duckdb.TypeMismatchException:
                con.execute("ROLLBACK")
                _remove_tmp(directory)
                if not self.tolerate():
                    raise
                continue
            except duckdb.Error as err:
                con.execute("ROLLBACK")
                _remove_tmp(directory)
                raise DatabaseError(f"export to {directory!r} failed: {first_line(err)}") from err
            for _table, _n, target in rows:
                os.replace(f"{target}.tmp", target)
            return pd.DataFrame.from_records(rows, columns=["table", "rows", "path"])
        raise DatabaseError("the store's types kept changing while it was exported; try again")


def _remove_tmp(directory: str) -> None:
    for table in CRATE_TABLES:
        tmp = os.path.join(directory, f"{table}.parquet.tmp")
        if os.path.exists(tmp):
            os.remove(tmp)


def _literal_value(value: Any) -> str | None:
    """A parameter as the typed SQL literal DuckDB would bind it as (Python int: INTEGER when it
    fits 32 bits, else BIGINT; str: VARCHAR), or None for any other value."""
    if isinstance(value, str):
        return f"'{quote(value)}'"
    if isinstance(value, int) and not isinstance(value, bool):
        if -(2**31) <= value < 2**31:
            return f"CAST({value} AS INTEGER)"
        if -(2**63) <= value < 2**63:
            return f"CAST({value} AS BIGINT)"
    return None


def _import_numpy() -> None:
    import numpy  # noqa: F401


def check_read_only(query: str) -> None:
    """Raise ValidationError unless ``query`` is exactly one statement that cannot write."""
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ValidationError("analytics query", "sql", query, "a non-empty SQL string")
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        raise ValidationError(
            "analytics query", "sql", query, f"valid DuckDB SQL ({first_line(err)})"
        ) from err
    if len(statements) != 1:
        raise ValidationError("analytics query", "sql", query, _READ_ONLY_HINT + f"; got {len(statements)}")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        inner = re.sub(r"^\s*EXPLAIN\s+(ANALY[SZ]E\s+)?", "", query, flags=re.IGNORECASE)
        check_read_only(inner)
        return
    if kind != duckdb.StatementType.SELECT:
        raise ValidationError("analytics query", "sql", query, _READ_ONLY_HINT + f"; got {kind.name}")


# ----- the worker's side -------------------------------------------------------------------------------
#: The sessions this worker process serves, by the parent's session id.
_SESSIONS: dict[str, DuckSession] = {}
_METHODS = frozenset({"run", "sql", "type_anomalies", "export"})


def call(args: dict[str, Any], emit: Any) -> Any:
    """Worker handler: ``args`` = ``session`` (id), ``file``, ``threads``, ``method``, ``args`` and
    ``parallel`` (for run and sql: scan with several threads, see :class:`DuckSession`).

    The session is opened on first use in this process (also after the worker was restarted).
    """
    sid = args["session"]
    session = _SESSIONS.get(sid)
    if session is None:
        session = DuckSession(args["file"], consistent=True, threads=args["threads"], remote=True)
        _SESSIONS[sid] = session
    method = args["method"]
    if method not in _METHODS:
        raise ValueError(f"no session method {method!r}")
    if method in ("run", "sql"):
        return getattr(session, method)(*args["args"], parallel=bool(args.get("parallel")))
    return getattr(session, method)(*args["args"])


def close(args: dict[str, Any], emit: Any) -> None:
    """Worker handler: close the session ``args["session"]`` if this process has it."""
    session = _SESSIONS.pop(args["session"], None)
    if session is not None:
        session.close()
