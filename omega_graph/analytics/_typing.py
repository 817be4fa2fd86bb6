"""SQLite's dynamic typing, handled deliberately.

SQLite stores any value in any column: a file written by another tool can hold the text ``'high'``
in ``memories.importance`` (declared REAL) or ``2.5`` in ``tier`` (declared INTEGER). DuckDB's SQLite
scanner types each column from its declaration and stops the whole query with a "Mismatch Type
Error" at the first such value. Here:

- :func:`anomaly_rows` lists every value whose stored type does not fit its column's declaration
  (found on the SQLite side with ``typeof()``, one scan per table);
- :func:`tolerant_view_sql` builds a view of a table in which such values are NULL, read through
  ``sqlite_query`` with the conversion done by SQLite (reals printed with 17 significant digits, so
  they come back bit for bit; blobs travel as hex). Only tables that hold anomalies get it: the
  others keep the fast typed scan.

Examples
--------
>>> print(_sqlite_expr("tier", "BIGINT"))
CASE WHEN typeof("tier") = 'integer' THEN "tier" END AS "tier"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..schema import CRATE_TABLES

if TYPE_CHECKING:
    import duckdb

__all__ = ["ANOMALY_COLUMNS", "anomaly_rows", "column_types", "tolerant_view_sql", "typed_view_sql"]

#: Columns of :meth:`Analytics.type_anomalies`.
ANOMALY_COLUMNS = ["table", "column", "rowid", "id", "value", "stored_type", "declared_type"]

#: SQLite storage classes each DuckDB column type accepts without a mismatch error.
_ACCEPTS = {
    "BIGINT": ("integer", "null"),
    "DOUBLE": ("integer", "real", "null"),
    "VARCHAR": ("text", "null"),
}
_DECLARED = {"BIGINT": "INTEGER", "DOUBLE": "REAL", "VARCHAR": "TEXT"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_types(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, duckdb type), ...]}`` for the crate tables of the attached ``omega``."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = 'omega' ORDER BY table_name, column_index"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {t: [] for t in CRATE_TABLES}
    for table, column, dtype in rows:
        if table in out:
            out[table].append((column, dtype))
    return out


def typed_view_sql(table: str) -> str:
    """The fast view: the attached table as DuckDB's scanner types it."""
    return f"CREATE OR REPLACE VIEW memory.main.clean_{table} AS SELECT * FROM omega.main.{_ident(table)}"


def _sqlite_expr(column: str, dtype: str) -> str:
    c = _ident(column)
    if dtype == "BIGINT":
        expr = f"CASE WHEN typeof({c}) = 'integer' THEN {c} END"
    elif dtype == "DOUBLE":
        expr = f"CASE WHEN typeof({c}) IN ('integer', 'real') THEN printf('%!.17g', {c}) END"
    elif dtype == "VARCHAR":
        expr = f"CASE WHEN typeof({c}) = 'text' THEN {c} END"
    else:  # BLOB and anything else: carried as hex, decoded by DuckDB
        expr = f"CASE WHEN {c} IS NOT NULL THEN hex({c}) END"
    return f"{expr} AS {c}"


def _duck_expr(column: str, dtype: str) -> str:
    c = _ident(column)
    if dtype in ("BIGINT", "DOUBLE"):
        return f"TRY_CAST({c} AS {dtype}) AS {c}"
    if dtype == "VARCHAR":
        return c
    return f"unhex({c}) AS {c}"


def tolerant_view_sql(table: str, columns: list[tuple[str, str]]) -> str:
    """The tolerant view: values whose SQLite type does not fit the declaration become NULL."""
    sqlite_sql = "SELECT " + ", ".join(_sqlite_expr(c, t) for c, t in columns) + f" FROM {_ident(table)}"
    duck_cols = ", ".join(_duck_expr(c, t) for c, t in columns)
    return (
        f"CREATE OR REPLACE VIEW memory.main.clean_{table} AS "
        f"SELECT {duck_cols} FROM sqlite_query('omega', {_literal(sqlite_sql)})"
    )


def _anomaly_sql(table: str, columns: list[tuple[str, str]]) -> str | None:
    checked = [(c, t) for c, t in columns if t in _ACCEPTS]
    if not checked:
        return None
    id_expr = "NULL"
    if any(c == "id" for c, _ in columns):
        id_expr = 'CASE WHEN typeof("id") = \'blob\' THEN quote("id") ELSE CAST("id" AS TEXT) END'
    parts = [f"rowid AS rid, {id_expr} AS rec_id"]
    conds = []
    for i, (c, t) in enumerate(checked):
        q = _ident(c)
        ok = ", ".join(_literal(x) for x in _ACCEPTS[t])
        parts.append(
            f"typeof({q}) AS t{i}, CASE WHEN typeof({q}) = 'blob' THEN quote({q}) "
            f"ELSE CAST({q} AS TEXT) END AS v{i}"
        )
        conds.append(f"typeof({q}) NOT IN ({ok})")
    return f"SELECT {', '.join(parts)} FROM {_ident(table)} WHERE {' OR '.join(conds)} ORDER BY rowid"


def anomaly_rows(con: duckdb.DuckDBPyConnection, types: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    """Every stored value whose type does not fit its column, one row per value.

    Columns: ``table``, ``column``, ``rowid`` (SQLite rowid), ``id`` (the record's id as text),
    ``value`` (the value as text; blobs as ``X'..'``), ``stored_type`` (SQLite ``typeof``),
    ``declared_type`` (INTEGER, REAL or TEXT). Sorted by table, rowid, column order.
    """
    records: list[tuple] = []
    for table in sorted(types):
        columns = types[table]
        sql = _anomaly_sql(table, columns)
        if sql is None:
            continue
        checked = [(c, t) for c, t in columns if t in _ACCEPTS]
        rows = con.execute("SELECT * FROM sqlite_query('omega', $1)", [sql]).fetchall()
        for row in rows:
            rid, rec_id = int(row[0]), row[1]
            for i, (c, t) in enumerate(checked):
                stored, value = row[2 + 2 * i], row[3 + 2 * i]
                if stored not in _ACCEPTS[t]:
                    records.append((table, c, rid, rec_id, value, stored, _DECLARED[t]))
    df = pd.DataFrame.from_records(records, columns=ANOMALY_COLUMNS)
    return df.astype({"rowid": "int64"})
