"""The one way into DuckDB, below both the graph layer and the analytics layer.

- :mod:`._extension`: DuckDB's SQLite extension from the pinned ``duckdb-extension-sqlite-scanner``
  package (signed; ``allow_unsigned_extensions`` is never turned on) and private connections;
- :mod:`._sql`: quoting, and the rule "a value of the wrong SQLite type reads as NULL", written once;
- :mod:`._worker`: the DuckDB worker process that reads a file this process holds open (DuckDB's
  own SQLite library must never open such a file in this process).
- :mod:`._frames`: query results carried from the worker as NumPy columns and rebuilt here exactly
  as DuckDB's ``.df()`` builds them (the worker never imports pandas for them);
- :mod:`._prewarm`: the extension binary's location, and DuckDB imported and the extension loaded
  while a worker starts.

Importing this package imports neither DuckDB nor NumPy.

Examples
--------
>>> from omega_graph import duck
>>> print(duck.ident("memories"), duck.literal("o'k"))
"memories" 'o''k'
"""

from ._extension import EXTENSION_PACKAGE, connect, extension_path, load_sqlite_extension
from ._sql import (
    ACCEPTS,
    ANY,
    DECLARED,
    ROWID,
    duck_decode,
    ident,
    literal,
    quote,
    sqlite_transport,
    sqlite_value,
    tolerant_select,
    usable,
)
from ._worker import DEFAULT_TIMEOUT, Worker, WorkerError, release, store_worker

__all__ = [
    "ACCEPTS",
    "ANY",
    "DECLARED",
    "DEFAULT_TIMEOUT",
    "EXTENSION_PACKAGE",
    "ROWID",
    "Worker",
    "WorkerError",
    "connect",
    "duck_decode",
    "extension_path",
    "ident",
    "literal",
    "load_sqlite_extension",
    "quote",
    "release",
    "sqlite_transport",
    "sqlite_value",
    "store_worker",
    "tolerant_select",
    "usable",
]
