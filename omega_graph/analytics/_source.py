"""Where DuckDB reads from: the live file, or a private snapshot taken with Python's sqlite3.

Why a snapshot at all
---------------------
DuckDB's SQLite extension carries its own copy of the SQLite library. SQLite's locks on Unix are
POSIX advisory locks, which belong to the *process*: two SQLite libraries in one process do not see
each other's locks. When DuckDB's copy opens a WAL file's ``-shm`` that Python's ``sqlite3`` already
has mapped, it finds no lock held by another process, concludes it is the first user and truncates
the ``-shm`` file under Python's mapping (a ``SIGBUS`` crash when a store writes from another
thread; we reproduced it), and closing its descriptors drops the locks Python's connections hold.
So DuckDB reads the live file only while no descriptor of this process is open on it; otherwise it
reads a snapshot: the seven crate tables copied by Python's ``sqlite3`` (the same library the store
uses) in one read transaction into a private temporary file, refreshed lazily after a commit.

Examples
--------
>>> open_in_process(__file__)
False
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

from ..errors import DatabaseError, NotFoundError, SchemaError
from ..schema import BELIEF_TABLES, CRATE_TABLES

__all__ = ["Snapshot", "check_source_file", "open_in_process"]


def _fd_dir() -> str | None:
    for candidate in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(candidate):
            return candidate
    return None


def open_in_process(path: str | os.PathLike[str]) -> bool:
    """True when a file descriptor of this process is open on ``path`` or its ``-wal``/``-shm``.

    On a platform without a descriptor directory the answer is True on Unix (assume the worst, so
    DuckDB reads a snapshot) and False on Windows, whose file locks are not per process.
    """
    fd_dir = _fd_dir()
    if fd_dir is None:
        return sys.platform != "win32"
    targets = set()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            st = os.stat(f"{os.fspath(path)}{suffix}")
        except OSError:
            continue
        targets.add((st.st_dev, st.st_ino))
    if not targets:
        return False
    for name in os.listdir(fd_dir):
        try:
            st = os.fstat(int(name))
        except (OSError, ValueError):
            continue
        if (st.st_dev, st.st_ino) in targets:
            return True
    return False


def check_source_file(path: str) -> None:
    """Raise unless ``path`` is a readable SQLite file holding the original crate's seven tables."""
    if not os.path.exists(path):
        raise NotFoundError("database file", path, "give the path of an omega store")
    if os.path.isdir(path):
        raise DatabaseError(f"{path!r} is a directory; give the path of a database file")
    try:
        conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise DatabaseError(f"{path!r} is not a readable SQLite database ({err})") from err
    missing = sorted(set(CRATE_TABLES) - tables)
    if missing:
        raise SchemaError(
            f"{path!r} is not an omega store: no table {', '.join(missing)}; "
            "open it once with OmegaStore(path) to create the schema, or check the path"
        )


_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\"[^\"]+\"|\[[^\]]+\]|`[^`]+`|[\w$]+)",
    re.IGNORECASE,
)


class Snapshot:
    """A private copy of the crate tables, refreshed when the source has committed since.

    Parameters
    ----------
    path : str or None
        The live file; read through a private read-only ``sqlite3`` connection.
    connection : sqlite3.Connection or None
        For an in-memory store: its connection (copied with SQLite's online backup).
    """

    def __init__(self, path: str | None = None, connection: sqlite3.Connection | None = None) -> None:
        if (path is None) == (connection is None):
            raise ValueError("give exactly one of path or connection")
        self._dir = tempfile.mkdtemp(prefix="omega-analytics-")
        self._counter = 0
        self._memory = connection
        self._watch: sqlite3.Connection | None = None
        if path is not None:
            self._watch = sqlite3.connect(
                f"{Path(path).absolute().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=5.0
            )
        self._seen: int | None = None
        self.file: str | None = None

    def _version(self) -> int:
        if self._memory is not None:
            return self._memory.total_changes
        assert self._watch is not None
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def stale(self) -> bool:
        """True when the source may have changed since the last snapshot (or none was taken)."""
        return self.file is None or self._version() != self._seen

    def take(self) -> str:
        """Write a new snapshot file and return its path (the previous file is left for the caller)."""
        self._counter += 1
        target = os.path.join(self._dir, f"snapshot-{self._counter}.db")
        try:
            if self._memory is not None:
                self._seen = self._memory.total_changes
                dest = sqlite3.connect(target, isolation_level=None)
                try:
                    self._memory.backup(dest)
                    dest.execute("PRAGMA journal_mode = DELETE").fetchone()
                finally:
                    dest.close()
            else:
                self._seen = self._copy_tables(target)
        except sqlite3.Error as err:
            raise DatabaseError(f"cannot snapshot the store for analytics ({err})") from err
        self.file = target
        return target

    def _copy_tables(self, target: str) -> int:
        """Copy the seven crate tables, and the belief side tables when the store has them (a file the
        crate wrote and omega-graph never opened does not), into ``target`` inside one read
        transaction of the source."""
        watch = self._watch
        assert watch is not None
        watch.execute("ATTACH ? AS snap", (f"{Path(target).as_uri()}?mode=rwc",))
        try:
            watch.execute("BEGIN")
            try:
                for table in (*CRATE_TABLES, *BELIEF_TABLES):
                    row = watch.execute(
                        "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?", (table,)
                    ).fetchone()
                    if row is None and table in BELIEF_TABLES:
                        continue
                    if row is None:
                        raise SchemaError(f"the store has no table {table!r}; it is not an omega store")
                    ddl = _CREATE_TABLE.sub(f'CREATE TABLE snap."{table}"', row[0], count=1)
                    watch.execute(ddl)
                    watch.execute(f'INSERT INTO snap."{table}" SELECT * FROM main."{table}"')
                # read inside the transaction: the version of exactly what was copied
                version = int(watch.execute("PRAGMA data_version").fetchone()[0])
                watch.execute("COMMIT")
            except BaseException:
                watch.execute("ROLLBACK")
                raise
        finally:
            watch.execute("DETACH snap")
        return version

    def discard(self, file: str | None) -> None:
        """Delete an old snapshot file (after DuckDB has detached it)."""
        if file:
            for suffix in ("", "-journal"):
                try:
                    os.remove(file + suffix)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        """Close the watcher connection and delete every snapshot file."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        for name in os.listdir(self._dir) if os.path.isdir(self._dir) else ():
            os.remove(os.path.join(self._dir, name))
        if os.path.isdir(self._dir):
            os.rmdir(self._dir)
