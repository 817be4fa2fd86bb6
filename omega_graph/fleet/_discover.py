"""Which stores a fleet export reads, and what each one is: its identity and a fingerprint of its state.

- :func:`discover` turns SOURCES (files, directories, glob patterns) into the sorted list of files
  to try: directories are walked recursively, skipping hidden entries, SQLite's side files
  (``-wal``, ``-shm``, ``-journal``) and the export directory itself; two names of one file (a
  symbolic link) count once. A source that names nothing fails at once, before anything is
  written: a typo must not read as "every store was removed".
- :func:`probe` opens one file with Python's ``sqlite3`` (the store's own library), refuses what
  is not an omega store, migrates a crate file or an older store through :class:`OmegaStore`
  (which also gives it its identity), and reads its :class:`Probe` in one read transaction.

The fingerprint (``Probe.compared``, kept in the manifest as ``compared``) is what decides
"changed": the identity, the schema version, every ``sqlite_sequence`` position (the change logs
``omega_edge_log``, ``omega_memory_log``, ``omega_edge_events``, ``omega_edge_evidence``,
``omega_edge_weight_log``), each crate table's row count and largest rowid, and the size and
modification time (ns) of the file and of its ``-wal``. It is conservative: any commit moves the
file or its ``-wal``, so a changed store always differs; an unchanged one reads the same again
(closing the probe's connection leaves the file as it found it). A rename or a move within a file
system changes none of it: only the manifest's ``path`` follows.

Examples
--------
>>> import tempfile, os
>>> from omega_graph import OmegaStore
>>> d = tempfile.mkdtemp()
>>> OmegaStore(os.path.join(d, "a.db")).close()
>>> with open(os.path.join(d, "notes.txt"), "w") as f:
...     _ = f.write("not a store")
>>> [os.path.basename(p) for p in discover([d])]
['a.db', 'notes.txt']
>>> p = probe(os.path.join(d, "a.db"))
>>> p.compared == probe(os.path.join(d, "a.db")).compared, len(p.identity)
(True, 32)
"""

from __future__ import annotations

import glob
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import schema
from ..errors import DatabaseError, NotFoundError, OmegaGraphError, SchemaError
from ..schema import CRATE_TABLES

__all__ = ["SIDE_SUFFIXES", "Probe", "discover", "fingerprint", "probe", "same_state"]

#: SQLite's side files of a database: never stores themselves.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
#: Seconds a probe waits for another connection's lock (as the store does).
BUSY_TIMEOUT_S = 5.0
_GLOB_CHARS = frozenset("*?[")
_HEADER = b"SQLite format 3\x00"
_COUNTS_SQL = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {t}), (SELECT max(rowid) FROM {t})" for t in CRATE_TABLES
)


@dataclass(frozen=True)
class Probe:
    """One store as found: its absolute ``path``, ``identity``, schema version and fingerprint."""

    path: str
    identity: str
    schema_version: int
    compared: dict[str, Any]


# ----- sources → files --------------------------------------------------------------------------------
def _candidate(name: str) -> bool:
    return not name.startswith(".") and not name.endswith(SIDE_SUFFIXES)


def _inside(path: str, root: str | None) -> bool:
    return root is not None and (path == root or path.startswith(root + os.sep))


def _walk(directory: str, exclude: str | None) -> Iterable[str]:
    for top, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(_real(top, d), exclude))
        for name in sorted(files):
            if _candidate(name):
                yield os.path.join(top, name)


def _real(*parts: str) -> str:
    return os.path.realpath(os.path.join(*parts))


def discover(
    sources: Iterable[str | os.PathLike[str]], exclude: str | os.PathLike[str] | None = None
) -> list[str]:
    """The files SOURCES name, as absolute paths sorted by path, each file once.

    Parameters
    ----------
    sources : iterable of str or os.PathLike
        Files (taken as given), directories (walked recursively) and glob patterns (``**``
        allowed; matches are filtered as a directory's entries are).
    exclude : str or os.PathLike, optional
        A directory never entered (the export directory).

    Raises
    ------
    NotFoundError
        If a source is neither an existing path nor a pattern that matches one.
    """
    root = os.path.realpath(os.fspath(exclude)) if exclude is not None else None
    found: list[str] = []
    for source in sources:
        text = os.fspath(source)
        if os.path.exists(text):
            matches, pattern = [text], False
        elif _GLOB_CHARS & set(text):
            matches, pattern = sorted(glob.glob(text, recursive=True)), True
        else:
            matches, pattern = [], False
        if not matches:
            raise NotFoundError(
                "fleet source", text, "give existing store files, directories or a glob pattern that matches"
            )
        for match in matches:
            if os.path.isdir(match):
                if not _inside(os.path.realpath(match), root):
                    found.extend(_walk(match, root))
            elif not pattern or _candidate(os.path.basename(match)):
                if not _inside(os.path.realpath(match), root):
                    found.append(match)
    by_real: dict[str, str] = {}
    for path in sorted(os.path.abspath(p) for p in found):
        by_real.setdefault(os.path.realpath(path), path)
    return sorted(by_real.values())


# ----- one file → what it is ----------------------------------------------------------------------------
def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as err:
        raise DatabaseError(f"cannot open it ({err}); check its permissions") from err
    return conn


def _reason(err: sqlite3.Error) -> DatabaseError:
    msg = str(err)
    if "locked" in msg or "busy" in msg:
        return DatabaseError(
            f"locked by another connection for {BUSY_TIMEOUT_S:g} s; export again when its writer is done"
        )
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return DatabaseError(f"not a SQLite database, or a damaged one ({msg})")
    return DatabaseError(f"unreadable ({msg})")


def _check_header(path: str) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(len(_HEADER))
    except OSError as err:
        raise DatabaseError(f"unreadable ({err.strerror or err})") from err
    if not head:
        raise DatabaseError("an empty file, not an omega store")
    if head != _HEADER:
        raise DatabaseError("not a SQLite database (no SQLite header); leave it out of the sources")


def _check_store(conn: sqlite3.Connection) -> int:
    """The file's schema version, or raise unless it is an omega store (or a crate file)."""
    version = schema.check_usable(conn)  # a newer schema: SchemaError, nothing changed
    tables = set(schema.table_names(conn))
    missing = [t for t in CRATE_TABLES if t not in tables]
    if missing:
        shown = ", ".join(sorted(tables)[:5]) or "no tables"
        raise SchemaError(
            f"a SQLite database that is not an omega store (it lacks {', '.join(missing)}; it holds "
            f"{shown}); leave it out of the sources"
        )
    return version


def _read(conn: sqlite3.Connection) -> tuple[str, int, dict[str, Any]]:
    conn.execute("BEGIN")
    try:
        version = schema.user_version(conn)
        row = conn.execute(schema.IDENTITY_SQL).fetchone()
        sequences = {
            str(n): int(s) for n, s in conn.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name")
        }
        counts = conn.execute(_COUNTS_SQL).fetchone()
    finally:
        conn.execute("COMMIT")
    if row is None:
        raise SchemaError(
            "the store has no identity row (omega_store_identity); open it with OmegaStore once"
        )
    tables = {t: [int(counts[2 * i]), int(counts[2 * i + 1] or 0)] for i, t in enumerate(CRATE_TABLES)}
    return str(row[0]), version, {"sequences": sequences, "tables": tables}


def fingerprint(path: str, conn: sqlite3.Connection | None = None) -> tuple[str, int, dict[str, Any]]:
    """``(identity, schema_version, compared)`` of an omega store at the current schema (no migration).

    Read through ``conn`` (closed here) or a new connection, in one read transaction; the file and
    its ``-wal`` are looked at after the connection is closed (closing the last connection removes
    the ``-wal`` that readers created, leaving the file as it was found).
    """
    conn = conn if conn is not None else _connect(path)
    try:
        identity, version, data = _read(conn)
    except sqlite3.Error as err:
        raise _reason(err) from err
    finally:
        conn.close()
    compared = {
        "identity": identity,
        "schema_version": version,
        **data,
        "file": _stat(path),
        "wal": _stat(f"{path}-wal"),
    }
    return identity, version, compared


def probe(path: str | os.PathLike[str]) -> Probe:
    """What the file at ``path`` is, migrating a crate file or an older store in place first.

    Raises
    ------
    DatabaseError
        Not a SQLite file, an empty file, a damaged or locked one (the message is the reason).
    SchemaError
        A SQLite database that is not an omega store, or a newer schema than this omega-graph's.
    """
    from ..store import OmegaStore

    path = os.path.abspath(os.fspath(path))
    _check_header(path)
    conn = _connect(path)
    try:
        version = _check_store(conn)
    except sqlite3.Error as err:
        conn.close()
        raise _reason(err) from err
    except BaseException:
        conn.close()
        raise
    if version != schema.SCHEMA_VERSION:  # a crate file or an older store: migrate, gain the identity
        conn.close()
        try:
            OmegaStore(path).close()
        except OmegaGraphError as err:
            raise DatabaseError(f"could not be migrated: {err}") from err
        conn = _connect(path)
    identity, version, compared = fingerprint(path, conn)
    return Probe(path, identity, version, compared)


def same_state(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two fingerprints equal (one of them may have gone through JSON: lists and tuples alike)."""
    return _plain(a) == _plain(b)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
