"""SQL text shared by every reader of a store: quoting, and SQLite's dynamic typing, each rule once.

SQLite stores any value in any column: a file written by another tool can hold the text ``'high'``
in ``memories.importance`` (declared REAL) or ``2.5`` in ``tier`` (declared INTEGER). omega-graph's
rule, everywhere: **a value whose SQLite storage class does not fit its column reads as NULL.**
:data:`ACCEPTS` says which storage classes fit; :func:`sqlite_value` applies the rule in SQLite SQL
(for sqlite3 readers), :func:`tolerant_select` builds the DuckDB query that reads a table through
``sqlite_query`` with the rule applied by SQLite (reals printed with 17 significant digits, so they
come back bit for bit; blobs travel as hex). This module imports nothing but the standard library.

Examples
--------
>>> print(ident('we"ird'), literal("it's"))
"we""ird" 'it''s'
>>> print(sqlite_value("tier", "BIGINT"))
CASE WHEN typeof("tier") = 'integer' THEN "tier" END
>>> print(usable("e.weight", "DOUBLE"))
typeof(e.weight) IN ('integer', 'real')
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ACCEPTS",
    "ANY",
    "DECLARED",
    "ROWID",
    "duck_decode",
    "ident",
    "literal",
    "quote",
    "sqlite_transport",
    "sqlite_value",
    "tolerant_select",
    "usable",
]

#: SQLite storage classes (besides NULL) that a column of each DuckDB type accepts.
ACCEPTS: dict[str, tuple[str, ...]] = {
    "BIGINT": ("integer",),
    "DOUBLE": ("integer", "real"),
    "VARCHAR": ("text",),
}
#: The SQLite declaration behind each DuckDB type the scanner reports.
DECLARED: dict[str, str] = {"BIGINT": "INTEGER", "DOUBLE": "REAL", "VARCHAR": "TEXT"}
#: Pseudo types for :func:`tolerant_select`: ``ROWID`` (an integer by construction), ``ANY`` (passed as is).
ROWID, ANY = "ROWID", "ANY"


def quote(text: str) -> str:
    """Escape ``text`` for the inside of a single-quoted SQL string literal."""
    return text.replace("'", "''")


def literal(text: str) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + quote(text) + "'"


def ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _column(column: str) -> str:
    """A bare name is quoted; a qualified one (``e.weight``) or ``rowid`` is used as written."""
    return column if "." in column or column == "rowid" else ident(column)


def usable(column: str, dtype: str) -> str:
    """SQLite condition: the stored value of ``column`` fits ``dtype`` (NULL does not count)."""
    classes = ", ".join(literal(c) for c in ACCEPTS[dtype])
    op = f"= {classes}" if len(ACCEPTS[dtype]) == 1 else f"IN ({classes})"
    return f"typeof({_column(column)}) {op}"


def sqlite_value(column: str, dtype: str) -> str:
    """SQLite expression: the value of ``column`` when its storage class fits ``dtype``, else NULL."""
    return f"CASE WHEN {usable(column, dtype)} THEN {_column(column)} END"


def sqlite_transport(column: str, dtype: str) -> str:
    """SQLite expression carrying ``column`` through ``sqlite_query`` as text, the rule applied.

    Reals are printed with 17 significant digits (bit for bit back), blobs as hex; see :func:`duck_decode`.
    """
    c = _column(column)
    if dtype in (ROWID, ANY):
        return c
    if dtype == "DOUBLE":
        return f"CASE WHEN {usable(column, dtype)} THEN printf('%!.17g', {c}) END"
    if dtype in ACCEPTS:
        return sqlite_value(column, dtype)
    return f"CASE WHEN {c} IS NOT NULL THEN hex({c}) END"  # BLOB and anything else


def duck_decode(name: str, dtype: str) -> str:
    """DuckDB expression turning the transported column ``name`` back into ``dtype``."""
    c = ident(name)
    if dtype in ("BIGINT", "DOUBLE"):
        return f"TRY_CAST({c} AS {dtype})"
    if dtype == ROWID:
        return f"CAST({c} AS BIGINT)"
    if dtype in ("VARCHAR", ANY):
        return c
    return f"unhex({c})"


def tolerant_select(
    table: str,
    columns: Sequence[tuple[str, str] | tuple[str, str, str]],
    *,
    where: str | None = None,
    database: str = "omega",
) -> str:
    """DuckDB query reading ``table`` through ``sqlite_query`` with the typing rule applied by SQLite.

    ``columns`` are ``(column, dtype)`` or ``(column, dtype, alias)``; ``dtype`` is a DuckDB type
    (BIGINT, DOUBLE, VARCHAR, BLOB), :data:`ROWID` or :data:`ANY`. ``where`` is SQLite SQL.

    Examples
    --------
    >>> print(tolerant_select("memories", [("rowid", "ROWID", "r"), ("tier", "BIGINT")]))
    SELECT CAST("r" AS BIGINT) AS "r", TRY_CAST("tier" AS BIGINT) AS "tier" FROM sqlite_query('omega', 'SELECT rowid AS "r", CASE WHEN typeof("tier") = ''integer'' THEN "tier" END AS "tier" FROM "memories"')
    """
    inner, outer = [], []
    for spec in columns:
        column, dtype = spec[0], spec[1]
        alias = spec[2] if len(spec) == 3 else column
        inner.append(f"{sqlite_transport(column, dtype)} AS {ident(alias)}")
        outer.append(f"{duck_decode(alias, dtype)} AS {ident(alias)}")
    sqlite_sql = f"SELECT {', '.join(inner)} FROM {ident(table)}" + (f" WHERE {where}" if where else "")
    return f"SELECT {', '.join(outer)} FROM sqlite_query({literal(database)}, {literal(sqlite_sql)})"
