"""Where the pinned SQLite extension binary is, and a DuckDB connection prepared ahead of need.

This module imports only the standard library (and DuckDB inside :func:`prewarm`), so the worker
can load it by path, without the omega_graph package, the moment it starts (see
:meth:`omega_graph.duck.Worker.call`'s ``prepare``): DuckDB is imported and the extension's
signature checked (~0.25 s for its 35 MB) in a background thread, while the first request's
handler imports the rest; :func:`omega_graph.duck.connect` then takes that connection.

Examples
--------
>>> find_extension("0.0.1") is None
True
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["find_extension", "prewarm", "take"]

_EXTENSION_MODULE = "duckdb_extension_sqlite_scanner"
_EXTENSION_FILE = "sqlite_scanner.duckdb_extension"
#: The configuration of every private connection (DuckDB checks extension signatures).
CONFIG: dict[str, object] = {"allow_unsigned_extensions": False, "autoinstall_known_extensions": False}
_NAME = "omega_graph.duck._prewarm"
_done = threading.Event()
_warm: list[Any] = []
_started = False


def find_extension(duckdb_version: str) -> Path | None:
    """The pinned package's extension binary for ``duckdb_version``, or None."""
    spec = importlib.util.find_spec(_EXTENSION_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "extensions" / f"v{duckdb_version}" / _EXTENSION_FILE
        if candidate.is_file():
            return candidate
    return None


def prewarm(args: Any = None, emit: Any = None) -> None:
    """Worker start-up step: import DuckDB here, then open one connection with the extension loaded
    in a thread (DuckDB releases the GIL meanwhile, so the first request's imports run beside it),
    for :func:`take`."""
    global _started
    module = sys.modules.setdefault(_NAME, sys.modules[__name__])  # loaded by path: one module
    if module is not sys.modules[__name__]:
        module.prewarm(args, emit)
        return
    try:
        import duckdb
    except ImportError:
        return  # the normal path reports it
    _started = True
    threading.Thread(target=_open, args=(duckdb,), name="omega-duck-prewarm", daemon=True).start()


def _open(duckdb: Any) -> None:
    try:
        path = find_extension(duckdb.__version__)
        if path is not None:
            con = duckdb.connect(":memory:", config=dict(CONFIG))
            try:
                con.execute("LOAD '" + str(path).replace("'", "''") + "'")
            except duckdb.Error:
                con.close()
            else:
                _warm.append(con)
    except Exception:  # the normal path then reports what is wrong
        pass
    finally:
        _done.set()


def take() -> Any:
    """The prepared connection (waiting for it if it is being made), or None."""
    if not _started:
        return None
    _done.wait()
    return _warm.pop() if _warm else None
