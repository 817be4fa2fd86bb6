"""SQLite's dynamic typing, handled deliberately.

SQLite stores any value in any column: a file written by another tool can hold the text ``'high'``
in ``memories.importance`` (declared REAL) or ``2.5`` in ``tier`` (declared INTEGER). DuckDB's SQLite
scanner types each column from its declaration and stops the whole query with a "Mismatch Type
Error" at the first such value. Here:

- :func:`anomaly_rows` lists every value whose stored type does not fit its column's declaration
  (found on the SQLite side with ``typeof()``, one scan per table);
- :func:`tolerant_view_sql` builds a view of a table in which such values are NULL
  (:func:`omega_graph.duck.tolerant_select`: the rule every reader of a store applies). Only tables
  that hold anomalies get it: the others keep the fast typed scan.

Examples
--------
>>> print(typed_view_sql("skills"))
CREATE OR REPLACE VIEW memory.main.clean_skills AS SELECT * FROM omega.main."skills"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..duck import ACCEPTS, DECLARED, ident, literal, tolerant_select
from ..schema import CRATE_TABLES

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["ANOMALY_COLUMNS", "anomaly_rows", "column_types", "tolerant_view_sql", "typed_view_sql"]

#: Columns of :meth:`Analytics.type_anomalies`.
ANOMALY_COLUMNS = ["table", "column", "rowid", "id", "value", "stored_type", "declared_type"]


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
    return f"CREATE OR REPLACE VIEW memory.main.clean_{table} AS SELECT * FROM omega.main.{ident(table)}"


def tolerant_view_sql(table: str, columns: list[tuple[str, str]]) -> str:
    """The tolerant view: values whose SQLite type does not fit the declaration become NULL."""
    return f"CREATE OR REPLACE VIEW memory.main.clean_{table} AS {tolerant_select(table, columns)}"


def _anomaly_sql(table: str, columns: list[tuple[str, str]]) -> str | None:
    checked = [(c, t) for c, t in columns if t in ACCEPTS]
    if not checked:
        return None
    id_expr = "NULL"
    if any(c == "id" for c, _ in columns):
        id_expr = 'CASE WHEN typeof("id") = \'blob\' THEN quote("id") ELSE CAST("id" AS TEXT) END'
    parts = [f"rowid AS rid, {id_expr} AS rec_id"]
    conds = []
    for i, (c, t) in enumerate(checked):
        q = ident(c)
        ok = ", ".join(literal(x) for x in (*ACCEPTS[t], "null"))
        parts.append(
            f"typeof({q}) AS t{i}, CASE WHEN typeof({q}) = 'blob' THEN quote({q}) "
            f"ELSE CAST({q} AS TEXT) END AS v{i}"
        )
        conds.append(f"typeof({q}) NOT IN ({ok})")
    return f"SELECT {', '.join(parts)} FROM {ident(table)} WHERE {' OR '.join(conds)} ORDER BY rowid"


def anomaly_rows(con: duckdb.DuckDBPyConnection, types: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    """Every stored value whose type does not fit its column, one row per value.

    Columns: ``table``, ``column``, ``rowid`` (SQLite rowid), ``id`` (the record's id as text),
    ``value`` (the value as text; blobs as ``X'..'``), ``stored_type`` (SQLite ``typeof``),
    ``declared_type`` (INTEGER, REAL or TEXT). Sorted by table, rowid, column order.
    """
    import pandas as pd  # here, not at import: the DuckDB worker imports pandas only on a dirty file

    records: list[tuple] = []
    for table in sorted(types):
        columns = types[table]
        sql = _anomaly_sql(table, columns)
        if sql is None:
            continue
        checked = [(c, t) for c, t in columns if t in ACCEPTS]
        rows = con.execute("SELECT * FROM sqlite_query('omega', $1)", [sql]).fetchall()
        for row in rows:
            rid, rec_id = int(row[0]), row[1]
            for i, (c, t) in enumerate(checked):
                stored, value = row[2 + 2 * i], row[3 + 2 * i]
                if stored not in (*ACCEPTS[t], "null"):
                    records.append((table, c, rid, rec_id, value, stored, DECLARED[t]))
    df = pd.DataFrame.from_records(records, columns=ANOMALY_COLUMNS)
    return df.astype({"rowid": "int64"})
