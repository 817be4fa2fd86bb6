"""Opening, pragmas, transactions, backup/restore and statistics: what every entity method stands on."""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

from .. import schema
from ..errors import DatabaseError, NotFoundError, OmegaGraphError, SchemaError
from ..models import DatabaseStatistics

if TYPE_CHECKING:
    from ..analytics import Analytics
    from ..graph import CausalGraph

P = ParamSpec("P")
R = TypeVar("R")

#: Page cache per connection, in KiB: bulk loads into the crate's text-keyed indexes are bound by it.
CACHE_KIB = 128 * 1024

#: Seconds a statement waits for another connection's lock before it fails.
BUSY_TIMEOUT_S = 5.0

_STATISTICS_SQL = """
SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM skills),
       (SELECT count(*) FROM architectures), (SELECT count(*) FROM intelligences),
       (SELECT count(*) FROM causal_edges), (SELECT count(*) FROM vectors),
       (SELECT count(*) FROM reflexion_episodes)
"""


def translate(err: sqlite3.Error, where: str) -> OmegaGraphError:
    """Turn a sqlite3 error into the omega-graph error a caller can act on."""
    msg = str(err)
    if "locked" in msg or "busy" in msg:
        return DatabaseError(
            f"{where}: the database stayed locked by another connection for {BUSY_TIMEOUT_S:g} s; "
            "retry, or shorten the other writer's transactions"
        )
    if "readonly" in msg or "read-only" in msg:
        return DatabaseError(f"{where}: the file is read-only; copy it somewhere writable ({msg})")
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return DatabaseError(
            f"{where}: not a SQLite database, or a damaged one ({msg}); check the path, or restore a backup"
        )
    return DatabaseError(f"{where}: {msg}")


def db_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Decorator: sqlite3 errors escaping a store method become :class:`DatabaseError`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as err:
            raise translate(err, method.__name__) from err

    return wrapper


def connect(path: str | None) -> sqlite3.Connection:
    """Open a connection with omega-graph's settings and migrate the schema.

    WAL journal (files), foreign keys on, a busy timeout, ``synchronous=NORMAL``: in WAL mode a
    commit survives a crash of the process (SIGKILL included); only a power loss can undo the last
    commits, and in exchange a commit costs no fsync.
    """
    target = ":memory:" if path is None else path
    if path is not None and os.path.isdir(path):
        raise DatabaseError(f"cannot open {path!r}: it is a directory; give the path of a database file")
    try:
        conn = sqlite3.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as err:
        raise DatabaseError(f"cannot open {path!r} ({err}); check the path and its permissions") from err
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a non-database
        schema.check_usable(conn)  # before anything below writes to the file
        if path is not None:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        schema.migrate(conn)
    except (OmegaGraphError, sqlite3.Error) as err:
        conn.close()
        if isinstance(err, OmegaGraphError):
            raise
        raise translate(err, f"opening {path!r}") from err
    return conn


class StoreBase:
    """Connection ownership, transactions, statistics, backup and restore."""

    _conn: sqlite3.Connection

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        if path is not None:
            path = os.fspath(path)
            path = None if path == ":memory:" else str(Path(path).absolute())
        self._path: str | None = path
        self._depth = 0
        self._conn = connect(path)

    # ----- constructors and lifetime -------------------------------------------------------------
    @classmethod
    def new(cls, path: str | os.PathLike[str]) -> Self:
        """Create or open the store at ``path`` (the crate's ``OmegaStore::new``)."""
        return cls(path)

    @classmethod
    def new_in_memory(cls) -> Self:
        """A store that lives in memory and vanishes on :meth:`close`."""
        return cls(None)

    @property
    def path(self) -> str | None:
        """Absolute path of the file, or None for an in-memory store."""
        return self._path

    @property
    def identity(self) -> str:
        """This store's identity: a random id made when the store was created (or adopted from the
        crate's file) and renewed by :meth:`restore`. Copies of a file share it until one is restored.

        >>> from omega_graph import OmegaStore
        >>> a, b = OmegaStore.new_in_memory(), OmegaStore.new_in_memory()
        >>> len(a.identity), a.identity != b.identity
        (32, True)
        """
        return str(self._conn.execute(schema.IDENTITY_SQL).fetchone()[0])

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying sqlite3 connection (autocommit mode). Read from it; write through the store."""
        return self._conn

    def close(self) -> None:
        """Close the connection (and the store's DuckDB worker process, if it has one); further calls
        fail. Closing twice is harmless."""
        worker = sys.modules.get("omega_graph.duck._worker")
        if worker is not None:  # started only by analytics or a bulk graph load: no import here
            worker.release(self)
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path or ':memory:'}>"

    # ----- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """All-or-nothing block; nests (inner blocks are savepoints).

        The outer block takes the write lock at once (``BEGIN IMMEDIATE``), so it cannot fail later
        with a lock upgrade deadlock; an exception rolls back its own block only.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory
        >>> store = OmegaStore.new_in_memory()
        >>> try:
        ...     with store.transaction():
        ...         store.store_memory(StoredMemory("a", "x", 1, 0.5, None, 0, 0))
        ...         raise RuntimeError("changed my mind")
        ... except RuntimeError:
        ...     pass
        >>> store.get_statistics().memory_count
        0
        """
        conn = self._conn
        depth = self._depth
        name = f"omega_sp_{depth}"
        try:
            conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
        except sqlite3.Error as err:
            raise translate(err, "transaction") from err
        self._depth = depth + 1
        try:
            yield self
        except BaseException:
            self._depth = depth
            if depth == 0:
                conn.execute("ROLLBACK") if conn.in_transaction else None
            else:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        self._depth = depth
        try:
            conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")
        except sqlite3.Error as err:
            if depth == 0 and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate(err, "commit") from err

    def _bulk_write(
        self,
        rows: Iterator[tuple],
        insert_sql: str,
        upsert_sql: str,
        batch_size: int,
        explain: Callable[[sqlite3.IntegrityError, list[tuple]], Exception | None] = lambda err, rows: None,
    ) -> int:
        """Write validated rows in one transaction, batch by batch; return how many were written.

        Each batch first runs as a plain INSERT (an upsert costs SQLite ~25% more per row even when
        nothing conflicts); if an id already exists, the batch is rolled back to its savepoint and
        written again as an upsert. ``explain`` may turn another integrity error into a clearer one.
        """
        conn = self._conn
        written = 0
        with self.transaction():
            while batch := list(islice(rows, batch_size)):
                conn.execute("SAVEPOINT omega_batch")
                try:
                    try:
                        conn.executemany(insert_sql, batch)
                    except sqlite3.IntegrityError as err:
                        if "UNIQUE" not in str(err):
                            raise
                        conn.execute("ROLLBACK TO omega_batch")
                        conn.executemany(upsert_sql, batch)
                except sqlite3.IntegrityError as err:
                    raise (explain(err, batch) or err) from err
                finally:
                    conn.execute("RELEASE omega_batch")
                written += len(batch)
        return written

    # ----- whole-store operations ----------------------------------------------------------------
    @db_errors
    def get_statistics(self) -> DatabaseStatistics:
        """Row counts of all seven entity kinds, read in one statement (one snapshot).

        >>> from omega_graph import OmegaStore
        >>> OmegaStore.new_in_memory().get_statistics().memory_count
        0
        """
        return DatabaseStatistics(*self._conn.execute(_STATISTICS_SQL).fetchone())

    def backup(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole store to ``path`` as one consistent snapshot, at full speed.

        Other connections may keep writing meanwhile (WAL): the copy holds exactly what was
        committed when it started. The copy is written beside ``path`` and renamed into place, so
        ``path`` never holds a half-written file. An existing file at ``path`` is replaced.
        """
        dest = str(Path(os.fspath(path)).absolute())
        if os.path.isdir(dest):
            raise DatabaseError(f"backup target {dest!r} is a directory; give a file path inside it")
        if dest == self._path:
            raise DatabaseError(f"backup target {dest!r} is the store itself; choose another path")
        if self._path is None and self._conn.in_transaction:
            raise DatabaseError(
                "backup() of an in-memory store inside a transaction would copy uncommitted changes; "
                "call it after the transaction ends"
            )
        tmp = f"{dest}.omega-tmp-{os.getpid()}"
        try:
            # A file store is copied through a connection of its own: it sees exactly the last
            # commit, also when this store has a transaction open.
            source = self._conn if self._path is None else sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S)
            with _closing(sqlite3.connect(tmp, isolation_level=None)) as target:
                try:
                    source.backup(target)
                finally:
                    if source is not self._conn:
                        source.close()
                target.execute("PRAGMA journal_mode = DELETE").fetchone()
            os.replace(tmp, dest)
        except sqlite3.Error as err:
            raise translate(err, f"backup to {dest!r}") from err
        except OSError as err:
            raise DatabaseError(
                f"cannot write the backup to {dest!r} ({err}); choose a writable file path"
            ) from err
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @staticmethod
    def restore(backup_path: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
        """Replace the store at ``path`` with the backup at ``backup_path``.

        The backup is checked first (a SQLite file that passes ``quick_check``, holding the crate's
        tables, a schema version this omega-graph understands); anything else raises and leaves
        ``path`` untouched. The copy runs as one SQLite write transaction on ``path``, so a crash
        mid-way leaves the old content. Close other connections to ``path`` first.

        The restored store gets a new identity (``omega_store_identity``): its history forks from the
        backup's, so derived caches made before (the persisted graph snapshot) are never applied to it.
        The copy is made beside ``path`` first and given its identity there, so ``path`` never holds
        the backup's content under the old identity.
        """
        src_path = os.fspath(backup_path)
        if not os.path.isfile(src_path):
            raise NotFoundError("backup file", src_path, "give the path of a file made by backup()")
        _check_backup(src_path)
        staged = f"{os.fspath(path)}.omega-restore-{os.getpid()}"
        try:
            with _closing(sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)) as src:
                with _closing(sqlite3.connect(staged, isolation_level=None)) as stage:
                    src.backup(stage)
                    schema.migrate(stage)  # an older backup gains the identity table, then a new identity
                    stage.execute(schema.NEW_IDENTITY_SQL)
                    with _closing(sqlite3.connect(os.fspath(path), timeout=BUSY_TIMEOUT_S)) as dst:
                        stage.backup(dst)
        except sqlite3.Error as err:
            raise translate(err, f"restore into {os.fspath(path)!r}") from err
        except OSError as err:
            raise DatabaseError(
                f"cannot stage the restore beside {os.fspath(path)!r} ({err}); free space or choose a "
                "writable folder"
            ) from err
        finally:
            for leftover in (staged, staged + "-journal"):
                if os.path.exists(leftover):
                    os.remove(leftover)

    # ----- other layers --------------------------------------------------------------------------
    def causal_graph(
        self,
        min_weight: float = 0.0,
        edge_types: list[str] | None = None,
        as_of: int | None = None,
        *,
        valid_at: int | None = None,
        known_at: int | None = None,
        include_invalidated: bool = False,
        cache: bool = True,
    ) -> CausalGraph:
        """A snapshot of the causal edges for path and influence questions (see :mod:`omega_graph.graph`).

        By default the edges the store believes now: invalidated ones are left out unless
        ``include_invalidated=True``. ``known_at=t``: what the store believed at ``t`` (created by
        ``t``, not invalidated at ``t``). ``valid_at=t``: the edges whose validity window contains
        ``t``. ``as_of=t``: created by ``t``. They compose by intersection; weights are the current
        ones (see :mod:`omega_graph.graph.beliefs`). ``cache=False`` bypasses the persisted snapshot
        (see :class:`~omega_graph.graph.CausalGraph`).
        """
        from ..graph import CausalGraph

        return CausalGraph(
            self, min_weight=min_weight, edge_types=edge_types, as_of=as_of, valid_at=valid_at,
            known_at=known_at, include_invalidated=include_invalidated, cache=cache,
        )  # fmt: skip

    def clear_graph_cache(self) -> int:
        """Remove this store's persisted graph snapshot (a derived cache; see ``causal_graph``).

        Returns the number of cache files removed (0 or 1; always 0 for an in-memory store).

        >>> from omega_graph import OmegaStore
        >>> OmegaStore.new_in_memory().clear_graph_cache()
        0
        """
        if self._path is None:
            return 0
        from ..graph import _cache

        return _cache.clear(self._path)

    def analytics(self) -> Analytics:
        """DuckDB statistics over this store's file (see :mod:`omega_graph.analytics`)."""
        from ..analytics import Analytics

        return Analytics(self)


@contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


def _check_backup(path: str) -> None:
    """Raise unless ``path`` is an omega (or original crate) store we can restore."""
    try:
        with _closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            version = schema.user_version(conn)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = set(schema.table_names(conn))
    except sqlite3.Error as err:
        raise DatabaseError(f"{path!r} is not a SQLite database ({err}); nothing was restored") from err
    if ok != "ok":
        raise DatabaseError(f"{path!r} fails SQLite's quick_check ({ok}); nothing was restored")
    missing = sorted(set(schema.CRATE_TABLES) - tables)
    if missing:
        raise SchemaError(
            f"{path!r} is not an omega store (no table {', '.join(missing)}); nothing was restored"
        )
    if version > schema.SCHEMA_VERSION:
        raise SchemaError(
            f"{path!r} has schema version {version}, newer than this omega-graph "
            f"({schema.SCHEMA_VERSION}); upgrade omega-graph; nothing was restored"
        )
