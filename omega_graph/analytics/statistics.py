"""The :class:`Analytics` session: DuckDB over an omega store, statistics as pandas DataFrames.

One session owns a private ``duckdb.connect()`` with DuckDB's SQLite extension loaded (see
:mod:`omega_graph.analytics._duck`) and the store's file ATTACHed READ_ONLY as ``omega``; the
crate's tables are visible unqualified. The extension and the attachment are paid for once, when
the session opens; every call after that reuses them.

Consistency
-----------
DuckDB's SQLite scanner normally splits a table scan across threads, and each worker opens its
*own* SQLite connection: each sees the file as of its own start, so one query could mix two
commits. Sessions on a live file therefore turn those multi-threaded scans off
(``sqlite_disable_multithreaded_scans``): every scan of a DuckDB transaction then goes through the
transaction's single SQLite connection and read transaction. Each curated statistic is one SQL
statement (one DuckDB transaction), so it sees one snapshot of the file while other processes
commit; :meth:`Analytics.export_parquet` runs all its tables in one transaction.

Same-process writers (why some sessions read a snapshot)
--------------------------------------------------------
DuckDB's extension carries its own SQLite library. On Unix, SQLite's file locks belong to the
process, so DuckDB's copy cannot see the locks of Python's ``sqlite3`` in the same process: opening
a WAL file that a store of this process has open truncates its shared-memory index under it (we
reproduced a ``SIGBUS`` crash). So DuckDB reads the live file only when no descriptor of this
process is open on it. ``store.analytics()``, in-memory stores, and paths this process already has
open are read from a private snapshot instead: the seven crate tables copied by Python's
``sqlite3`` in one read transaction into a temporary file, refreshed before a call whenever the
store has committed since. Such sessions can use DuckDB's parallel scans (the copy never changes).

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
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DatabaseError, DataQualityWarning, NotFoundError, ValidationError, warn
from ..schema import CRATE_TABLES
from . import queries as Q
from ._duck import _quote, connect
from ._source import Snapshot, check_source_file, open_in_process
from ._typing import anomaly_rows, column_types, tolerant_view_sql, typed_view_sql
from .export import export_tables

if TYPE_CHECKING:
    import duckdb

__all__ = ["Analytics", "DataQualityWarning"]

#: ``activity(freq=...)``: DuckDB date_trunc part and the matching pandas frequency.
FREQUENCIES: dict[str, tuple[str, str]] = {
    "hour": ("hour", "h"),
    "day": ("day", "D"),
    "week": ("week", "W-MON"),
    "month": ("month", "MS"),
    "quarter": ("quarter", "QS"),
    "year": ("year", "YS"),
}
_MAX_PERIODS = 5_000_000
_READ_ONLY_HINT = (
    "one read-only statement (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PRAGMA or "
    "EXPLAIN of a query); analytics never writes: write through OmegaStore, export with export_parquet()"
)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class Analytics:
    """DuckDB statistics over one omega store; use as a context manager.

    Parameters
    ----------
    source : str, os.PathLike or OmegaStore
        A store file (read live, unless this process has it open) or a store (read through a
        snapshot refreshed after its commits; in-memory stores included).
    snapshot : bool or None
        For a path: None decides by whether this process has the file open; True always reads a
        snapshot; False always reads the live file (only safe if no ``sqlite3`` connection of this
        process ever opens it meanwhile).
    threads : int or None
        DuckDB worker threads (default: DuckDB's, one per core).

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

    def __init__(self, source: Any, *, snapshot: bool | None = None, threads: int | None = None) -> None:
        self._lock = threading.RLock()
        self._tolerant: set[str] = set()
        self._types: dict[str, list[tuple[str, str]]] = {}
        self._snapshot: Snapshot | None = None
        self._live: str | None = None
        self._closed = False
        if hasattr(source, "connection") and hasattr(source, "path"):
            if snapshot is False:
                raise ValidationError(
                    "analytics", "snapshot", snapshot,
                    "True or None for a store: DuckDB's own SQLite library must not open a file "
                    "this process writes (use Analytics(path, snapshot=False) from another process)",
                )  # fmt: skip
            path = source.path
            self._snapshot = Snapshot(path=path) if path else Snapshot(connection=source.connection)
        elif isinstance(source, str | os.PathLike):
            path = os.path.abspath(os.fspath(source))
            check_source_file(path)
            if snapshot or (snapshot is None and open_in_process(path)):
                self._snapshot = Snapshot(path=path)
            else:
                self._live = path
        else:
            raise ValidationError(
                "analytics", "source", source, "a store file path or an OmegaStore (store.analytics())"
            )
        self._auto = snapshot is None
        self._finalizer = weakref.finalize(self, _cleanup, None, self._snapshot)
        try:
            self._con = connect(threads)
            if self._live is not None:
                self._con.execute("SET sqlite_disable_multithreaded_scans = true")
                self._attach(self._live)
            self._con.execute("SET lock_configuration = true")
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _cleanup, self._con, self._snapshot)
            self._refresh()
        except BaseException:
            self._finalizer()
            raise

    # ----- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the DuckDB connection and delete any snapshot. Closing twice is harmless."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = f"live {self._live}" if self._live else "snapshot"
        return f"<Analytics {mode}{' closed' if self._closed else ''}>"

    @property
    def mode(self) -> str:
        """``"live"`` (DuckDB reads the file) or ``"snapshot"`` (DuckDB reads a private copy)."""
        return "live" if self._live is not None else "snapshot"

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The private DuckDB connection (configuration locked; the store attached as ``omega``)."""
        self._check_open()
        return self._con

    # ----- plumbing ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise DatabaseError("this Analytics session is closed; open a new one with store.analytics()")

    def _attach(self, file: str) -> None:
        con = self._con
        con.execute("USE memory")
        con.execute("DETACH DATABASE IF EXISTS omega")
        con.execute(f"ATTACH '{_quote(file)}' AS omega (TYPE sqlite, READ_ONLY)")
        con.execute("USE omega")
        con.execute("SET search_path = 'omega.main,memory.main'")
        self._types = column_types(con)
        missing = [t for t, cols in self._types.items() if not cols]
        if missing:
            raise DatabaseError(f"{file!r} lacks the table(s) {', '.join(missing)}; it is not an omega store")
        for table in CRATE_TABLES:
            if table in self._tolerant:
                con.execute(tolerant_view_sql(table, self._types[table]))
            else:
                con.execute(typed_view_sql(table))

    def _refresh(self) -> None:
        """Before each call: move to a snapshot if this process opened the file; renew a stale one."""
        self._check_open()
        if self._live is not None:
            if not (self._auto and open_in_process(self._live)):
                return
            self._snapshot = Snapshot(path=self._live)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _cleanup, self._con, self._snapshot)
            self._live = None
        snap = self._snapshot
        assert snap is not None
        if snap.stale():
            old = snap.file
            self._attach(snap.take())
            snap.discard(old)

    def _tolerate(self) -> bool:
        """List wrongly typed values; switch their tables to tolerant views. False if none is new."""
        found = anomaly_rows(self._con, self._types)
        new = sorted(set(found["table"]) - self._tolerant)
        if not new:
            return False
        for table in new:
            self._con.execute(tolerant_view_sql(table, self._types[table]))
            self._tolerant.add(table)
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

    def _run(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a curated statement; on a type mismatch, switch to tolerant views and run again."""
        import duckdb

        with self._lock:
            self._refresh()
            for _ in range(len(CRATE_TABLES) + 1):
                try:
                    return self._con.execute(sql, params).df()
                except duckdb.TypeMismatchException as err:
                    if not self._tolerate():
                        raise DatabaseError(
                            f"a stored value does not fit its column ({_first_line(err)}); "
                            "Analytics.type_anomalies() lists such values"
                        ) from err
            raise DatabaseError("the store's types kept changing while it was read; try again")

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
        import duckdb

        _check_read_only(query)
        with self._lock:
            self._refresh()
            try:
                return self._con.execute(query, params).df()
            except duckdb.TypeMismatchException as err:
                raise DatabaseError(
                    f"{_first_line(err)}. The file holds values of the wrong SQLite type: "
                    "Analytics.type_anomalies() lists them, and the clean_<table> views "
                    "(e.g. clean_memories) read them as NULL"
                ) from err
            except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as err:
                raise ValidationError(
                    "analytics query", "sql", query, f"valid DuckDB SQL ({_first_line(err)})"
                ) from err
            except duckdb.Error as err:
                raise DatabaseError(f"DuckDB could not run the query: {_first_line(err)}") from err

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
        with self._lock:
            self._refresh()
            found = anomaly_rows(self._con, self._types)
            for table in sorted(set(found["table"]) - self._tolerant):
                self._con.execute(tolerant_view_sql(table, self._types[table]))
                self._tolerant.add(table)
            return found

    # ----- curated statistics --------------------------------------------------------------------
    def overview(self) -> pd.DataFrame:
        """Row counts of the seven entity kinds, from one snapshot.

        Columns: ``entity`` (the table name: memories, skills, architectures, intelligences,
        causal_edges, vectors, reflexion_episodes, in that order), ``count``. Counted by SQLite
        (B-tree counts) in one statement.
        """
        return self._run(Q.OVERVIEW, [Q.SQLITE_OVERVIEW])

    def tier_summary(self) -> pd.DataFrame:
        """Memories per tier: one row per tier present, ordered by tier.

        Columns: ``tier``, ``memories`` (count), ``mean_importance``, ``median_importance``
        (interpolated, as pandas' median), ``min_importance``, ``max_importance``,
        ``with_embedding`` (memories whose ``embedding_blob`` is not NULL). Importance values of
        the wrong type are left out of the importance columns but counted in ``memories``.
        """
        return self._run(Q.TIER_SUMMARY)

    def importance_histogram(self, bins: int = 10) -> pd.DataFrame:
        """Memories per importance bin: exactly ``bins`` rows over [0, 1], empty bins included.

        Bin ``k`` covers ``[k/bins, (k+1)/bins)``; the last bin also holds 1.0. Columns:
        ``bin_start``, ``bin_end``, ``memories``. Importance outside [0, 1] (or not a number) is
        not counted; a :class:`DataQualityWarning` says how many such memories there are.
        """
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValidationError("importance_histogram", "bins", bins, "an integer >= 1")
        df = self._run(Q.IMPORTANCE_HISTOGRAM, [bins])
        outside = int(df["_outside"].iloc[0]) if len(df) else 0
        if outside:
            warn(DataQualityWarning(
                f"{outside} memories have an importance outside [0, 1] (or not a number) and are "
                "not in the histogram"
            ))  # fmt: skip
        return df.drop(columns="_outside").astype({"memories": "int64"})

    def edge_type_summary(self) -> pd.DataFrame:
        """Causal edges per ``edge_type``, ordered by edge type.

        Columns: ``edge_type``, ``edges``, ``mean_weight``, ``min_weight``, ``max_weight``.
        """
        return self._run(Q.EDGE_TYPE_SUMMARY)

    def degree_table(self, top: int | None = None) -> pd.DataFrame:
        """Degree and summed edge weight of every memory (and every edge endpoint).

        Columns: ``memory_id``, ``out_degree``, ``in_degree``, ``out_weight``, ``in_weight``;
        ordered by ``out_degree + in_degree`` descending, then ``memory_id``; memories without
        edges have zeros. ``top`` keeps the first ``top`` rows.
        """
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
            raise ValidationError("degree_table", "top", top, "None or an integer >= 0")
        return self._run(Q.DEGREE_TABLE, [top if top is not None else 2**62])

    def skill_leaderboard(self) -> pd.DataFrame:
        """Skills ranked by ``success_count``.

        Columns: ``rank`` (1 = most successes; ties share a rank), ``skill_id``, ``name``,
        ``success_count``, ``share`` (of all successes; NaN when there are none), ``last_used``
        and ``created_at`` (Unix seconds; ``last_used`` is <NA> for a never used skill). Ordered
        by ``success_count`` descending, then name.
        """
        df = self._run(Q.SKILL_LEADERBOARD)
        return df.astype({"last_used": "Int64", "created_at": "Int64"})

    def architecture_summary(self) -> pd.DataFrame:
        """Architectures per paradigm.

        Columns: ``paradigm``, ``architectures`` (count), ``mean_fitness`` and ``max_fitness`` (of
        ``fitness_json``'s ``overall``; entries without a numeric ``overall`` or with invalid JSON
        are left out), ``intelligences`` (intelligences built on architectures of this paradigm).
        Ordered by paradigm.
        """
        return self._run(Q.ARCHITECTURE_SUMMARY)

    def intelligence_summary(self) -> pd.DataFrame:
        """Intelligences per architecture.

        Columns: ``arch_id``, ``architecture`` (its name; <NA> if the architecture is missing),
        ``paradigm``, ``intelligences`` (count), ``mean_maturity``, ``min_maturity``,
        ``max_maturity``, ``last_updated`` (latest ``updated_at``, Unix seconds). Ordered by
        ``intelligences`` descending, then ``arch_id``.
        """
        return self._run(Q.INTELLIGENCE_SUMMARY)

    def reflexion_outcomes(self) -> pd.DataFrame:
        """Reflexion episodes per ``outcome``.

        Columns: ``outcome``, ``episodes``, ``memories`` (distinct memories reflected on),
        ``share`` (of all episodes), ``first_at`` and ``last_at`` (Unix seconds). Ordered by
        ``episodes`` descending, then outcome.
        """
        return self._run(Q.REFLEXION_OUTCOMES)

    def activity(self, freq: str = "day") -> pd.DataFrame:
        """Memories, causal edges and reflexion episodes created per period (UTC).

        ``freq`` is one of hour, day, week (starting Monday), month, quarter, year. Columns:
        ``period`` (start of the period, a naive UTC timestamp), ``memories``, ``edges``,
        ``reflexions``; every period from the first to the last activity, empty ones with zeros.
        Timestamps of the wrong type or outside years 1..9999 are skipped with a
        :class:`DataQualityWarning`.
        """
        if freq not in FREQUENCIES:
            raise ValidationError("activity", "freq", freq, f"one of {', '.join(FREQUENCIES)}")
        part, pandas_freq = FREQUENCIES[freq]
        df = self._run(Q.ACTIVITY.format(part=part))
        outside = int(df["_outside"].sum())
        if outside:
            warn(DataQualityWarning(
                f"{outside} records have no usable created_at (wrong type, or outside years 1..9999) "
                "and are not counted"
            ))  # fmt: skip
        df = df[df["period"].notna()].drop(columns="_outside")
        cols = ["memories", "edges", "reflexions"]
        if df.empty:
            out = pd.DataFrame({"period": pd.Series([], dtype="datetime64[us]")})
            return out.assign(**{c: pd.Series([], dtype="int64") for c in cols})
        df = df.set_index("period")
        start, end = df.index.min(), df.index.max()
        n = len(pd.date_range(start, periods=2, freq=pandas_freq))  # validates the frequency
        grid = pd.date_range(start, end, freq=pandas_freq) if n else df.index
        if len(grid) > _MAX_PERIODS:
            raise ValidationError(
                "activity", "freq", freq, f"a coarser period: {len(grid)} periods from {start} to {end}"
            )
        out = df.reindex(grid, fill_value=0).rename_axis("period").reset_index()
        out["period"] = out["period"].astype("datetime64[us]")
        return out.astype({c: "int64" for c in cols})

    def architecture_lineage(self, id: str) -> pd.DataFrame:
        """The chain of parents of architecture ``id`` read from ``lineage_json``, the given one first.

        Columns: ``architecture_id``, ``depth`` (0 for ``id``, 1 for its parent, ...),
        ``in_store`` (False for a parent named in ``lineage_json`` but not stored; the chain ends
        there), ``name``, ``paradigm``, ``generation`` (``lineage_json``'s), ``fitness``
        (``fitness_json``'s ``overall``), ``created_at``. A cycle is cut before the first
        repeated id (with a :class:`DataQualityWarning`). A chain of primary-key lookups, so it
        runs inside SQLite (one statement, one snapshot), not in DuckDB's scanner.

        Raises
        ------
        NotFoundError
            No architecture has this id.
        """
        if not isinstance(id, str):
            raise ValidationError("architecture_lineage", "id", id, "an architecture id (str)")
        df = self._run(Q.LINEAGE, [Q.SQLITE_LINEAGE, id])
        if df.empty:
            raise NotFoundError(
                "architecture", id, "check the id (Analytics.sql('SELECT id FROM architectures'))"
            )
        seen: set[str] = set()
        keep = 0
        for keep, arch in enumerate(df["architecture_id"]):  # noqa: B007
            if arch in seen:
                warn(DataQualityWarning(
                    f"the lineage of {id!r} loops back to {arch!r}; the chain is cut there"
                ))  # fmt: skip
                break
            seen.add(arch)
        else:
            keep = len(df)
        df = df.iloc[:keep].reset_index(drop=True)
        return df.astype({"generation": "Int64", "created_at": "Int64", "depth": "int64"})

    def export_parquet(self, directory: str | os.PathLike[str]) -> pd.DataFrame:
        """Write every crate table to ``<directory>/<table>.parquet`` through DuckDB (one snapshot).

        Columns and types are those DuckDB reads from the file (TEXT → VARCHAR, INTEGER → BIGINT,
        REAL → DOUBLE, BLOB → BLOB); values of the wrong SQLite type are written as NULL (see
        :meth:`type_anomalies`). The directory is created if needed; existing files are replaced.
        Returns a DataFrame with ``table``, ``rows``, ``path``.
        """
        with self._lock:
            self._refresh()
            return export_tables(self, os.fspath(directory))


def _check_read_only(query: str) -> None:
    """Raise ValidationError unless ``query`` is exactly one statement that cannot write."""
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ValidationError("analytics query", "sql", query, "a non-empty SQL string")
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        raise ValidationError(
            "analytics query", "sql", query, f"valid DuckDB SQL ({_first_line(err)})"
        ) from err
    if len(statements) != 1:
        raise ValidationError("analytics query", "sql", query, _READ_ONLY_HINT + f"; got {len(statements)}")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        inner = re.sub(r"^\s*EXPLAIN\s+(ANALY[SZ]E\s+)?", "", query, flags=re.IGNORECASE)
        _check_read_only(inner)
        return
    if kind != duckdb.StatementType.SELECT:
        raise ValidationError("analytics query", "sql", query, _READ_ONLY_HINT + f"; got {kind.name}")


def _cleanup(con: duckdb.DuckDBPyConnection | None, snapshot: Snapshot | None) -> None:
    if con is not None:
        con.close()
    if snapshot is not None:
        snapshot.close()
