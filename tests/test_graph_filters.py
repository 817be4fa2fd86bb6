"""The edge filter is stated once (Filters.clauses); its SQLite, DuckDB and Python renderings agree on
rows of every SQLite storage class (values of the wrong type read as NULL / None)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omega_graph import duck
from omega_graph.graph.loading import EDGE_COLS, Filters

WEIGHTS = st.one_of(
    st.floats(-1, 2, allow_nan=False), st.integers(-2, 3), st.just("strong"), st.none(), st.just(b"\x01")
)
TIMES = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.integers(0, 10), st.floats(0, 10), st.just("soon"), st.none()
)
TYPES = st.sampled_from(["causes", "enables", "inhibits"])
FILTERS = st.builds(
    Filters,
    min_weight=st.floats(-1, 2, allow_nan=False),
    edge_types=st.one_of(st.none(), st.lists(TYPES, max_size=3, unique=True).map(tuple)),
    as_of=st.one_of(st.none(), st.integers(-5, 12)),
)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duck.connect()
    yield c
    c.close()


def _kept(
    con: duckdb.DuckDBPyConnection, path: Path, rows: list[tuple], f: Filters
) -> tuple[list, list, list]:
    path.unlink(missing_ok=True)
    lite = sqlite3.connect(path)
    lite.execute("CREATE TABLE causal_edges (id TEXT, from_memory TEXT, to_memory TEXT, weight REAL, "
                 "edge_type TEXT, created_at INTEGER)")  # fmt: skip
    lite.executemany("INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)", rows)
    lite.commit()
    where, params = f.where()
    in_sqlite = [
        r[0] for r in lite.execute(f"SELECT id FROM causal_edges e WHERE {where} ORDER BY id", params)
    ]
    in_python = sorted(
        r[1] for r in lite.execute(f"SELECT {EDGE_COLS} FROM causal_edges") if f.keeps(r[4], r[5], r[6])
    )
    lite.close()  # before DuckDB's own SQLite library opens the file
    con.execute(f"ATTACH '{duck.quote(str(path))}' AS omega (TYPE sqlite, READ_ONLY)")
    try:
        source = duck.tolerant_select("causal_edges", [("id", duck.ANY), ("weight", "DOUBLE"),
                                                       ("edge_type", duck.ANY), ("created_at", "BIGINT")])  # fmt: skip
        dwhere, dparams = f.duck_where()
        in_duck = [r[0] for r in con.execute(
            f"SELECT id FROM ({source}) e WHERE {dwhere} ORDER BY id", {f"p{i}": v for i, v in enumerate(dparams)}
        ).fetchall()]  # fmt: skip
    finally:
        con.execute("DETACH omega")
    return in_sqlite, in_duck, in_python


@pytest.mark.parametrize(("f", "want"), [
    (Filters(), ["a", "b", "c", "d", "e"]),
    (Filters(min_weight=0.5), ["a", "c", "d", "e"]),  # text and NULL weights are kept
    (Filters(edge_types=("enables",)), ["b", "d"]),
    (Filters(edge_types=()), []),
    (Filters(as_of=5), ["a", "b"]),  # a text or real created_at fails as_of
])  # fmt: skip
def test_known_rows(con: duckdb.DuckDBPyConnection, tmp_path: Path, f: Filters, want: list[str]) -> None:
    rows = [("a", "x", "y", 0.9, "causes", 1), ("b", "x", "y", 0.1, "enables", 5),
            ("c", "x", "y", "strong", "causes", 6), ("d", "x", "y", None, "enables", 2.5),
            ("e", "x", "y", 0.5, "inhibits", "soon")]  # fmt: skip
    assert _kept(con, tmp_path / "f.db", rows, f) == (want, want, want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(WEIGHTS, TYPES, TIMES), max_size=12), f=FILTERS)
def test_the_three_renderings_agree(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, rows: list, f: Filters
) -> None:
    table = [(f"e{i:02d}", "x", "y", w, t, c) for i, (w, t, c) in enumerate(rows)]
    in_sqlite, in_duck, in_python = _kept(con, tmp_path / "h.db", table, f)
    assert in_sqlite == in_duck == in_python
