"""Packed sort keys for node pairs, and DuckDB's string hash: the two encodings the snapshot builds on.

>>> hash_strings(["a"]).dtype.name
'uint64'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["hash_strings", "pair_order", "unpack_pairs"]


def pair_order(major: np.ndarray, minor: np.ndarray, n: int, with_keys: bool = False) -> Any:
    """Positions sorted by ``(major, minor, position)``: a stable sort by the pair.

    Packs pair and position into one int64 and sorts values (numpy's vectorised sort, several times
    faster than ``argsort``) when they fit in 63 bits, else a stable argsort of the pair key. With
    ``with_keys`` also returns the sorted pair keys ``major << b | minor`` (see :func:`unpack_pairs`).

    >>> pair_order(np.array([1, 0, 1, 0]), np.array([0, 2, 0, 1]), 3).tolist()
    [3, 1, 0, 2]
    >>> order, keys = pair_order(np.array([1, 0, 1, 0]), np.array([0, 2, 0, 1]), 3, with_keys=True)
    >>> [m.tolist() for m in unpack_pairs(keys, 3)]
    [[0, 0, 1, 1], [1, 2, 0, 0]]
    """
    e, bn = len(major), _pair_bits(n)
    be = max(int(e - 1).bit_length(), 1)
    key = major.astype(np.int64) << bn | minor.astype(np.int64)
    if 2 * bn + be <= 63:
        key <<= be
        key |= np.arange(e, dtype=np.int64)
        key.sort()
        order = key & ((1 << be) - 1)
        if with_keys:
            key >>= be
            return order, key
        return order
    order = np.argsort(key, kind="stable")
    return (order, key[order]) if with_keys else order


def _pair_bits(n: int) -> int:
    return max(int(max(n, 1) - 1).bit_length(), 1)


def unpack_pairs(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(major, minor)`` as int32 from the keys :func:`pair_order` returns for ``n`` nodes."""
    bn = _pair_bits(n)
    return (keys >> bn).astype(np.int32), (keys & ((1 << bn) - 1)).astype(np.int32)


def hash_strings(values: Sequence[str]) -> np.ndarray:
    """DuckDB's 64-bit ``hash()`` of each string, in order (the same function the bulk loader uses).

    >>> h = hash_strings(["e1", "e2", "e1"])
    >>> h.dtype.name, bool(h[0] == h[2]), bool(h[0] != h[1])
    ('uint64', True, True)
    """
    if len(values) == 0:
        return np.empty(0, dtype=np.uint64)
    import duckdb
    import pandas as pd

    frame = pd.DataFrame({"v": pd.Series(list(values), dtype=object)})
    with duckdb.connect(":memory:") as con:
        con.execute("SET preserve_insertion_order = true")  # one row out per row in, in order
        con.register("omega_hash_input", frame)
        try:  # a DataFrame scan: ~30x faster than a list parameter for 100k values
            return np.asarray(
                con.execute("SELECT hash(v::VARCHAR) AS h FROM omega_hash_input").fetchnumpy()["h"], np.uint64
            )
        except duckdb.Error:  # values that are not all text: convert one by one
            row = con.execute("SELECT list_transform(?::VARCHAR[], x -> hash(x))", [list(values)]).fetchone()
    return np.asarray(row[0] if row else [], dtype=np.uint64)
