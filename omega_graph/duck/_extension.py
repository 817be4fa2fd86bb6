"""DuckDB connections with the SQLite extension loaded from the pinned PyPI package (the one place).

The extension is not part of the ``duckdb`` wheel. The pinned package
``duckdb-extension-sqlite-scanner`` ships DuckDB's official, signed binary for exactly one DuckDB
version, at ``<site-packages>/duckdb_extension_sqlite_scanner/extensions/v<version>/``; it is loaded
by path, so no network is needed. With another DuckDB version the extension is installed the normal
way (``INSTALL sqlite``, a download from DuckDB's extension site) when that site can be reached.
Otherwise :class:`~omega_graph.errors.MissingDependencyError` says what to install.
``allow_unsigned_extensions`` is never turned on: DuckDB checks the binary's signature.

Examples
--------
>>> con = connect()
>>> con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()
(False,)
>>> con.close()
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MissingDependencyError
from . import _prewarm
from ._sql import quote

if TYPE_CHECKING:
    import duckdb

__all__ = ["EXTENSION_PACKAGE", "connect", "extension_path", "load_sqlite_extension"]

#: The PyPI package that carries the signed SQLite extension binary for the pinned DuckDB.
EXTENSION_PACKAGE = "duckdb-extension-sqlite-scanner"
_EXTENSION_HOST = ("extensions.duckdb.org", 443)


def _duckdb() -> object:
    try:
        import duckdb
    except ImportError as err:  # pragma: no cover - duckdb is a hard dependency
        raise MissingDependencyError(
            f"analytics needs DuckDB: pip install 'duckdb' and '{EXTENSION_PACKAGE}' at the same version"
        ) from err
    return duckdb


def extension_path(duckdb_version: str | None = None) -> Path | None:
    """The pinned package's extension binary for ``duckdb_version`` (default: the installed DuckDB).

    Returns None when the package is not installed or holds no binary for that version.

    Examples
    --------
    >>> import duckdb
    >>> extension_path().parent.name == f"v{duckdb.__version__}"
    True
    >>> extension_path("0.0.1") is None
    True
    """
    if duckdb_version is None:
        duckdb_version = _duckdb().__version__  # type: ignore[attr-defined]
    return _prewarm.find_extension(duckdb_version)


def _network_reachable(timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection(_EXTENSION_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def load_sqlite_extension(
    con: duckdb.DuckDBPyConnection, *, path: Path | None = None, allow_install: bool = True
) -> str:
    """Load DuckDB's SQLite extension into ``con``; return how (``"package"``, ``"installed"``, ``"download"``).

    Order: the pinned package's binary (``path``, default :func:`extension_path`); an extension
    already installed in DuckDB's extension directory; ``INSTALL sqlite`` when ``allow_install``
    and DuckDB's extension site answers. Raises :class:`MissingDependencyError` otherwise.
    """
    duckdb = _duckdb()
    version = duckdb.__version__  # type: ignore[attr-defined]
    path = path if path is not None else extension_path(version)
    errors: list[str] = []
    if path is not None:
        try:
            con.execute(f"LOAD '{quote(str(path))}'")
            return "package"
        except duckdb.Error as err:  # type: ignore[attr-defined]
            errors.append(f"loading {path}: {err}")
    try:
        con.execute("LOAD sqlite")
        return "installed"
    except duckdb.Error as err:  # type: ignore[attr-defined]
        errors.append(f"LOAD sqlite: {str(err).splitlines()[0]}")
    if allow_install and _network_reachable():
        try:
            con.execute("INSTALL sqlite")
            con.execute("LOAD sqlite")
            return "download"
        except duckdb.Error as err:  # type: ignore[attr-defined]
            errors.append(f"INSTALL sqlite: {str(err).splitlines()[0]}")
    elif allow_install:
        errors.append(f"INSTALL sqlite: {_EXTENSION_HOST[0]} is not reachable")
    raise MissingDependencyError(
        f"DuckDB's SQLite extension is not available for duckdb {version}; "
        f"pip install '{EXTENSION_PACKAGE}=={version}' (or allow network access so DuckDB can "
        f"INSTALL sqlite). Tried: {'; '.join(errors)}"
    )


def connect(threads: int | None = None, *, allow_install: bool = True) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection with the SQLite extension loaded.

    Never the module-level default connection. ``threads`` caps DuckDB's worker threads.
    """
    warm: duckdb.DuckDBPyConnection | None = _prewarm.take()  # made while the worker started
    if warm is not None:
        if threads is not None:
            warm.execute(f"SET threads = {int(threads)}")
        return warm
    duckdb = _duckdb()
    config = dict(_prewarm.CONFIG)
    if threads is not None:
        config["threads"] = int(threads)
    con = duckdb.connect(":memory:", config=config)  # type: ignore[attr-defined]
    try:
        load_sqlite_extension(con, allow_install=allow_install)
    except BaseException:
        con.close()
        raise
    return con
