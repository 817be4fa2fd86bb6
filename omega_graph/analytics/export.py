"""Parquet export of the crate tables through DuckDB, for Spark, a DuckDB cluster or any Arrow tool.

Examples
--------
>>> import tempfile
>>> from omega_graph import OmegaStore
>>> with OmegaStore.new_in_memory().analytics() as a, tempfile.TemporaryDirectory() as d:
...     a.export_parquet(d)["table"].tolist()
['memories', 'vectors', 'reflexion_episodes', 'skills', 'causal_edges', 'architectures', 'intelligences']
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import DatabaseError
from ..schema import CRATE_TABLES
from ._duck import _quote

if TYPE_CHECKING:
    from .statistics import Analytics

__all__ = ["export_tables"]


def export_tables(analytics: Analytics, directory: str) -> pd.DataFrame:
    """Write each crate table to ``<directory>/<table>.parquet`` in one DuckDB transaction.

    One transaction means one SQLite read transaction on a live file: the files agree with each
    other (every edge's endpoints are in ``memories.parquet`` if they were in the store). A table
    holding values of the wrong SQLite type is written from its tolerant view (those values NULL).
    Returns ``table``, ``rows``, ``path`` (absolute), in the crate's table order.
    """
    import duckdb

    if os.path.exists(directory) and not os.path.isdir(directory):
        raise DatabaseError(f"cannot export to {directory!r}: it is a file; give a directory")
    os.makedirs(directory, exist_ok=True)
    directory = os.path.abspath(directory)
    con = analytics.connection
    for _attempt in range(len(CRATE_TABLES) + 1):
        rows: list[tuple[str, int, str]] = []
        con.execute("BEGIN TRANSACTION")
        try:
            for table in CRATE_TABLES:
                target = os.path.join(directory, f"{table}.parquet")
                tmp = f"{target}.tmp"
                con.execute(f"COPY (SELECT * FROM clean_{table}) TO '{_quote(tmp)}' (FORMAT parquet)")
                n = con.execute(f"SELECT count(*) FROM read_parquet('{_quote(tmp)}')").fetchone()
                rows.append((table, int(n[0]) if n else 0, target))
            con.execute("COMMIT")
        except duckdb.TypeMismatchException:
            con.execute("ROLLBACK")
            _remove_tmp(directory)
            if not analytics._tolerate():
                raise
            continue
        except duckdb.Error as err:
            con.execute("ROLLBACK")
            _remove_tmp(directory)
            raise DatabaseError(f"export to {directory!r} failed: {str(err).splitlines()[0]}") from err
        for _table, _n, target in rows:
            os.replace(f"{target}.tmp", target)
        return pd.DataFrame.from_records(rows, columns=["table", "rows", "path"])
    raise DatabaseError("the store's types kept changing while it was exported; try again")


def _remove_tmp(directory: str) -> None:
    for table in CRATE_TABLES:
        tmp = os.path.join(directory, f"{table}.parquet.tmp")
        if os.path.exists(tmp):
            os.remove(tmp)
