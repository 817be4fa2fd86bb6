"""``omega_graph.fleet.export``: every store of a fleet to Hive-partitioned Parquet, incrementally.

For each file SOURCES name (:func:`~._discover.discover`), in path order:

1. :func:`~._discover.probe` it: refuse what is not an omega store, migrate a crate file (it gains
   its identity), read its identity and fingerprint. A second file with an identity already seen
   in this run is a copy: skipped, "same identity as <path>: a copy of that store".
2. If the manifest lists that identity with the same fingerprint and its files are present, the
   store is *unchanged*: nothing is written (a renamed store only gets its new ``path``).
3. Else its seven tables are written by DuckDB in one read transaction into ``OUT/.staging/``
   (files named after a fresh ``<token>``; a value of the wrong SQLite type is written as NULL, through
   :meth:`~omega_graph.analytics._session.DuckSession.export`'s tolerant views), the fingerprint is
   read again, and a store that changed meanwhile is skipped. Else the files move to
   ``OUT/<table>/store=<store_id>/part-<token>.parquet``.
4. The manifest (:func:`~._layout.write_manifest`, atomic) is the commit point: it is written
   after each :data:`COMMIT_INTERVAL_S` seconds of work (less often when writing it is slow: at
   most 1/20 of the time goes to it) and at the end, and a store's older files are
   deleted only once a manifest no longer lists them. Readers take exactly the listed files, so
   an interrupted export (even SIGKILL) leaves every reader a consistent export; the next run
   first removes whatever the manifest does not list (staging folders, unlisted part files).

Which stores the manifest keeps: those found in this run (exported, unchanged, or skipped because
they changed during the export, which keeps their previous export), and those whose file was
found but could not be read this time (locked, damaged, a newer schema: the previous export
stays until the file is readable again). A store whose file is no longer among SOURCES loses its
entry and its partitions: OUT mirrors SOURCES.

Examples
--------
>>> import os, tempfile
>>> from omega_graph.generate import generate_store
>>> src, out = tempfile.mkdtemp(), tempfile.mkdtemp()
>>> generate_store(os.path.join(src, "a.db"), memories=30, edges=60, seed=1).close()
>>> first = export([src], out)
>>> len(first.exported), first.ok
(1, True)
>>> export([src], out).unchanged == first.exported
True
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..duck import ident, quote
from ..errors import DatabaseError, OmegaGraphError, ValidationError
from ._discover import Probe, discover, fingerprint, probe, same_state
from ._layout import (
    STAGING,
    TABLES,
    Manifest,
    StoreEntry,
    files_present,
    locked,
    partition_dir,
    prepare,
    remove_files,
    write_manifest,
)

if TYPE_CHECKING:
    import duckdb

__all__ = ["COMMIT_INTERVAL_S", "ExportResult", "ParquetWriter", "Progress", "discard", "export"]

#: ``progress(done, total, path)``: once with ``(0, total, None)``, then after each file.
Progress = Callable[[int, int, "str | None"], object]
#: Seconds of work between two manifest writes (at least; see the module docstring).
COMMIT_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ExportResult:
    """What one export did.

    ``exported`` and ``unchanged`` are store ids in path order, ``skipped`` is ``(path, reason)``
    pairs in path order, ``removed`` the store ids dropped from the export (sorted), ``manifest``
    the manifest as written.
    """

    out: str
    exported: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    removed: tuple[str, ...]
    manifest: Manifest = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when no store was skipped (the command line then exits 0, else 1)."""
        return not self.skipped


# ----- DuckDB: one store's seven tables in one read transaction ------------------------------------------
class ParquetWriter:
    """One DuckDB connection for the whole run; each store is attached, copied and detached.

    The seven ``COPY ... TO parquet`` run in one DuckDB transaction with DuckDB's multi-threaded
    SQLite scans off, so they read one SQLite read transaction. A store holding a value of the wrong
    SQLite type (DuckDB stops at it) is written again by
    :meth:`~omega_graph.analytics._session.DuckSession.export`, whose tolerant views write NULL for
    such values (and warn with :class:`~omega_graph.errors.DataQualityWarning`). The fast path
    leaves out that session's per-store catalogue scan, views and row re-counts, which made a
    store of 1k-10k edges cost about 2.5x a plain ``ATTACH`` + seven ``COPY``; the row counts
    come from ``COPY`` itself.
    """

    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            from ..duck import connect

            self._con = connect(None)
            self._con.execute("SET sqlite_disable_multithreaded_scans = true")
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def write(self, path: str, staging: str, token: str) -> dict[str, tuple[int, str]]:
        """Write the seven tables of ``path`` into ``staging`` (file names starting with ``token``).

        Returns ``{table: (rows, file)}``. On an error nothing of ``token`` is left in ``staging``.
        """
        import duckdb

        from ..analytics._session import first_line
        from ..analytics._source import open_in_process

        if open_in_process(path):  # DuckDB's SQLite library must not open it in this process
            raise DatabaseError(
                "this process holds the file open (an OmegaStore or a sqlite3 connection); close it, "
                "then export again"
            )
        con = self._connection()
        written: dict[str, tuple[int, str]] = {}
        try:
            con.execute(f"ATTACH '{quote(path)}' AS omega (TYPE sqlite, READ_ONLY)")
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    for table in TABLES:
                        target = os.path.join(staging, f"{token}.{table}.parquet")
                        n = con.execute(
                            f"COPY (SELECT * FROM omega.main.{ident(table)}) TO '{quote(target)}' "
                            "(FORMAT parquet)"
                        ).fetchone()
                        written[table] = (int(n[0]) if n else 0, target)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                con.execute("DETACH DATABASE IF EXISTS omega")
            return written
        except duckdb.TypeMismatchException:
            discard(staging, token)
            return self._tolerant(path, os.path.join(staging, token))
        except duckdb.Error as err:
            discard(staging, token)
            raise DatabaseError(f"DuckDB could not read it: {first_line(err)}") from err
        except BaseException:
            discard(staging, token)
            raise

    @staticmethod
    def _tolerant(path: str, directory: str) -> dict[str, tuple[int, str]]:
        from ..analytics._session import DuckSession

        session = DuckSession(path, consistent=True)
        try:
            frame = session.export(directory)
        finally:
            session.close()
        return {
            str(t): (int(n), str(f))
            for t, n, f in zip(frame["table"], frame["rows"], frame["path"], strict=True)
        }


def discard(staging: str, token: str) -> None:
    """Remove what :meth:`ParquetWriter.write` put in ``staging`` for ``token``."""
    shutil.rmtree(os.path.join(staging, token), ignore_errors=True)
    for table in TABLES:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(staging, f"{token}.{table}.parquet"))


# ----- the run ------------------------------------------------------------------------------------------
class _Run:
    """The state of one export: the manifest being built, and the files its next write frees."""

    def __init__(self, out: str, manifest: Manifest) -> None:
        self.out = out
        self.before = manifest.by_id()
        self.entries = dict(self.before)
        self.seen: dict[str, str] = {}  # identity -> first path
        self.failed: set[str] = set()  # paths found but unreadable this run
        self.exported: list[str] = []
        self.unchanged: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self.freed: list[str] = []  # files to delete once the next manifest is written
        self.dirty = False
        self.last_commit = time.monotonic()
        self.commit_cost = 0.0  # seconds the last manifest write took
        self.writer = ParquetWriter()

    def manifest(self) -> Manifest:
        skipped = tuple({"path": p, "reason": r} for p, r in self.skipped)
        return Manifest(tuple(sorted(self.entries.values(), key=lambda s: s.store_id)), skipped)

    def commit(self) -> Manifest:
        started = time.monotonic()
        manifest = self.manifest()
        write_manifest(self.out, manifest)
        remove_files(self.out, self.freed)
        self.freed.clear()
        self.dirty = False
        self.last_commit = time.monotonic()
        self.commit_cost = self.last_commit - started
        return manifest

    def maybe_commit(self) -> None:
        # At most every COMMIT_INTERVAL_S, and never more than 1/20 of the time in manifest writes.
        if self.dirty and time.monotonic() - self.last_commit >= max(
            COMMIT_INTERVAL_S, 20 * self.commit_cost
        ):
            self.commit()

    def handle(self, path: str) -> None:
        try:
            found = probe(path)
        except OmegaGraphError as err:
            self.failed.add(path)
            self.skipped.append((path, str(err)))
            return
        first = self.seen.setdefault(found.identity, path)
        if first != path:
            self.skipped.append(
                (
                    path,
                    f"same identity as {first!r}: a copy of that store; export one of them, or give the "
                    "copy its own identity with OmegaStore.restore(copy, new_path)",
                )
            )
            return
        previous = self.entries.get(found.identity)
        if (
            previous is not None
            and same_state(previous.compared, found.compared)
            and files_present(self.out, previous)
        ):
            self.unchanged.append(found.identity)
            if previous.path != path:  # renamed or moved: the same store, the same files
                self.entries[found.identity] = replace(previous, path=path)
                self.dirty = True
            return
        try:
            entry = self.write(found)
        except OmegaGraphError as err:
            self.skipped.append((path, str(err)))
            return
        if previous is not None:
            self.freed.extend(previous.files.values())
        self.entries[found.identity] = entry
        self.exported.append(found.identity)
        self.dirty = True

    def write(self, found: Probe) -> StoreEntry:
        """Export one store through a staging folder; nothing stays behind when it fails."""
        token = f"{int(time.time()):x}-{secrets.token_hex(6)}"
        staging = os.path.join(self.out, STAGING)
        os.makedirs(staging, exist_ok=True)
        moved: list[str] = []
        try:
            written = self.writer.write(found.path, staging, token)
            try:
                _, _, after = fingerprint(found.path)
            except OmegaGraphError as err:
                raise DatabaseError(f"changed during export ({err})") from err
            if not same_state(found.compared, after):
                raise DatabaseError(
                    "changed during export (written to while its tables were read); export again"
                )
            files: dict[str, str] = {}
            for table in TABLES:
                folder = partition_dir(self.out, table, found.identity)
                os.makedirs(folder, exist_ok=True)
                target = os.path.join(folder, f"part-{token}.parquet")
                os.replace(written[table][1], target)
                moved.append(target)
                files[table] = os.path.relpath(target, self.out)
        except BaseException:
            remove_files(self.out, moved)
            raise
        finally:
            discard(staging, token)
        rows = {table: written[table][0] for table in TABLES}
        return StoreEntry(
            store_id=found.identity,
            path=found.path,
            schema_version=found.schema_version,
            counts=rows,
            exported_at=int(time.time()),
            compared=found.compared,
            files=files,
        )

    def finish(self) -> tuple[Manifest, tuple[str, ...]]:
        """Drop the stores no longer found; write the final manifest; delete what it freed."""
        removed = tuple(
            sorted(
                sid
                for sid, entry in self.before.items()
                if sid not in self.seen and entry.path not in self.failed and sid in self.entries
            )
        )
        for sid in removed:
            self.freed.extend(self.entries.pop(sid).files.values())
        manifest = self.commit()
        shutil.rmtree(os.path.join(self.out, STAGING), ignore_errors=True)
        return manifest, removed


def export(
    sources: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Export every store SOURCES name to ``out`` as Hive-partitioned Parquet; only changed stores.

    Parameters
    ----------
    sources : iterable of str or os.PathLike
        Store files, directories (walked recursively; hidden entries, SQLite's ``-wal``/``-shm``/
        ``-journal`` files and ``out`` itself are left out) and glob patterns. A file that is not
        an omega store is skipped with its reason.
    out : str or os.PathLike
        The export directory: new, empty, or an earlier export (see :mod:`._layout`).
    progress : callable, optional
        ``progress(done, total, path)``: once with ``(0, total, None)``, then after each file.

    Returns
    -------
    ExportResult
        ``.ok`` is False when any file was skipped; the others are exported either way.

    Raises
    ------
    NotFoundError
        A source names nothing (checked before anything is written).
    ValidationError
        ``out`` is a file, or a non-empty directory that is not an export.
    ConflictError
        Another export is writing to ``out``.
    """
    out = os.path.abspath(os.fspath(out))
    paths = discover(sources, exclude=out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValidationError("fleet export", "out", out, "a directory (it is a file)")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise DatabaseError(f"cannot create the export directory {out!r} ({err}); check the path") from err
    with locked(out):
        run = _Run(out, prepare(out))
        try:
            if progress is not None:
                progress(0, len(paths), None)
            for done, path in enumerate(paths, 1):
                run.handle(path)
                run.maybe_commit()
                if progress is not None:
                    progress(done, len(paths), path)
            manifest, removed = run.finish()
        except KeyboardInterrupt:  # keep what is complete (its files are in place); drop nothing
            run.commit()
            raise
        finally:
            run.writer.close()
    return ExportResult(
        out=out,
        exported=tuple(run.exported),
        unchanged=tuple(run.unchanged),
        skipped=tuple(run.skipped),
        removed=removed,
        manifest=manifest,
    )
