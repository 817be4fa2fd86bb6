"""Query results as NumPy columns across the worker's pipe, rebuilt here as ``.df()`` builds them.

The worker process never imports pandas (it costs the worker's start ~0.7-1.3 s): a result whose
column types are all in :data:`NUMPY_TYPES` travels as ``fetchnumpy()`` arrays and becomes a
DataFrame in the parent with exactly the dtypes DuckDB's ``.df()`` gives (nullable integers and
booleans as pandas' masked arrays, strings inferred as pandas infers them). Any other result (a
BLOB, DECIMAL, LIST, ...) is converted by ``.df()`` in the worker, which then imports pandas.

Examples
--------
>>> import duckdb
>>> con = duckdb.connect()
>>> frame(fetch(con.execute("SELECT 1::BIGINT AS a, NULL::BIGINT AS b"))).dtypes.tolist()
[dtype('int64'), Int64Dtype()]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["NUMPY_TYPES", "fetch", "frame"]

#: DuckDB result types whose ``fetchnumpy()`` columns are rebuilt exactly as ``.df()`` builds them.
NUMPY_TYPES = frozenset(
    {
        "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT",
        "DOUBLE", "FLOAT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "DATE",
    }
)  # fmt: skip


def fetch(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The result of the statement just executed on ``cursor``, in a form that pickles cheaply."""
    description = cursor.description or []
    names = [d[0] for d in description]
    types = [str(d[1]) for d in description]
    if len(set(names)) == len(names) and all(t in NUMPY_TYPES for t in types):
        columns = cursor.fetchnumpy()
        return ("numpy", names, [columns[n] for n in names])
    return ("frame", cursor.df())


def frame(payload: tuple[Any, ...]) -> pd.DataFrame:
    """The DataFrame of a :func:`fetch` payload (the same as ``.df()`` of that result)."""
    import numpy as np
    import pandas as pd

    if payload[0] == "frame":
        result: pd.DataFrame = payload[1]
        return result
    _, names, arrays = payload
    columns: dict[str, Any] = {}
    for name, array in zip(names, arrays, strict=True):
        if isinstance(array, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(array)
            data = np.asarray(array.data)
            if data.dtype.kind in "iu":
                array = pd.arrays.IntegerArray(data, mask)
            elif data.dtype.kind == "b":
                array = pd.arrays.BooleanArray(data, mask)
        columns[name] = array
    return pd.DataFrame.from_dict(columns)
