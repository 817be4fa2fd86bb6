"""A snapshot built from frames: one store's ``memories`` and ``causal_edges`` rows, no store behind it.

A fleet export (:mod:`omega_graph.fleet`) holds each store's tables as Parquet; a Spark, Dask or Ray
worker gets them as pandas frames and no SQLite file. :func:`data_from_frames` turns such frames into
the same :class:`~.snapshot.GraphData` a read of the store file gives, and :func:`graph_from_frames`
wraps it in a :class:`~.causal_graph.CausalGraph` that answers every question a snapshot answers.

The frames
----------
``memories``: ``id``, ``tier``, ``importance``; ``edges``: ``id``, ``from_memory``, ``to_memory``,
``weight``, ``edge_type``, ``created_at`` (the crate's column names; other columns are ignored). A
null (the export writes a value of the wrong SQLite type as NULL) stands for a value of the wrong
type, as in a read of the file: NaN ``importance`` / ``weight``, :data:`~.snapshot.MISSING_INT`
``tier`` / ``created_at``, listed in :attr:`~.causal_graph.CausalGraph.bad_values`. A memory with a
null id is left out, as is an edge whose endpoint is not a memory.

``rowid``, an optional column of either frame, orders parallel edges of equal weight (the earliest
stored first) and names rows in messages; without it a row's position stands for it (the export
writes rows in rowid order). No answer about memories depends on it: only which of two equally strong
parallel edges a path reports.

What the snapshot holds
-----------------------
Every edge of the frames: a snapshot of the file with ``include_invalidated=True`` and no other
filter (a fleet export holds the crate's seven tables, not the belief side tables, so it cannot know
which edges were invalidated). Such a graph has no store: :meth:`~.causal_graph.CausalGraph.refresh`
raises :class:`~omega_graph.errors.ValidationError` (build a new one from new frames).

Examples
--------
>>> import pandas as pd
>>> memories = pd.DataFrame({"id": ["b", "a", "c"], "tier": [1, 1, 2], "importance": [0.5, 0.5, 0.9]})
>>> edges = pd.DataFrame({"id": ["ab", "bc"], "from_memory": ["a", "b"], "to_memory": ["b", "c"],
...                       "weight": [0.9, 0.5], "edge_type": ["causes", "enables"],
...                       "created_at": [10, 20]})
>>> g = graph_from_frames(memories, edges)
>>> g.memory_ids, g.number_of_edges(), g.is_dag(), g.loader
(['a', 'b', 'c'], 2, True, 'frames')
>>> p = g.strongest_path("a", "c")
>>> p.nodes, round(p.strength, 6)
(('a', 'b', 'c'), 0.45)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ..errors import ValidationError
from ._strings import StringStore
from .snapshot import MISSING_INT, BadValues, GraphData, SnapshotState

if TYPE_CHECKING:
    import pandas as pd

    from .causal_graph import CausalGraph

__all__ = ["EDGE_COLUMNS", "MEMORY_COLUMNS", "data_from_frames", "graph_from_frames"]

#: The columns each frame must hold (others are ignored; ``rowid`` is optional, see module doc).
MEMORY_COLUMNS = ("id", "tier", "importance")
EDGE_COLUMNS = ("id", "from_memory", "to_memory", "weight", "edge_type", "created_at")


def _check_columns(frame: object, name: str, needed: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("graph from frames", name, type(frame).__name__, "a pandas DataFrame")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(
            "graph from frames",
            name,
            missing,
            f"a frame with the columns {', '.join(needed)} (the store's {name} as exported); it lacks these",
        )
    return frame


def _texts(column: pd.Series) -> np.ndarray:
    """Object array of the column's values as str, None where null."""
    values = column.to_numpy(dtype=object, na_value=None)
    return np.array([v if v is None or isinstance(v, str) else str(v) for v in values], dtype=object)


def _ints(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values with :data:`MISSING_INT` for nulls, null mask)."""
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    null = numbers.isna().to_numpy()
    values = numbers.to_numpy(dtype=np.float64 if null.any() else np.int64, na_value=np.nan)
    out = np.asarray(values)
    if null.any():
        out = np.where(null, 0, out).astype(np.int64)
        out[null] = MISSING_INT
    return out.astype(np.int64, copy=False), null


def _floats(column: pd.Series) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))


def _rowids(frame: pd.DataFrame) -> np.ndarray:
    if "rowid" in frame.columns:
        rowid, null = _ints(frame["rowid"])
        if not null.any():
            return rowid
    return np.arange(1, len(frame) + 1, dtype=np.int64)


def data_from_frames(memories: pd.DataFrame, edges: pd.DataFrame) -> GraphData:
    """The snapshot arrays of one store's ``memories`` and ``edges`` frames (see module doc).

    Equal to the arrays :meth:`OmegaStore.causal_graph(include_invalidated=True)
    <omega_graph.OmegaStore.causal_graph>` reads from the file the frames were exported from (the
    row order stands for the rowids unless a ``rowid`` column is given).

    Raises
    ------
    ValidationError
        A frame that is not a DataFrame, lacks a column, or holds a memory id twice.

    Examples
    --------
    >>> import pandas as pd
    >>> d = data_from_frames(
    ...     pd.DataFrame({"id": ["a", "b"], "tier": [1, None], "importance": [0.5, 0.1]}),
    ...     pd.DataFrame({"id": ["ab", "ax"], "from_memory": ["a", "a"], "to_memory": ["b", "x"],
    ...                   "weight": [0.9, 0.5], "edge_type": ["causes", "causes"], "created_at": [1, 2]}))
    >>> d.n_nodes, d.n_edges, d.edge_ids_at(), [b.describe() for b in d.bad_values]
    (2, 1, ['ab'], ["memories.tier: 1 value(s) not an integer (e.g. memory 'b' holds None (null))"])
    """
    import pandas as pd

    memories = _check_columns(memories, "memories", MEMORY_COLUMNS)
    edges = _check_columns(edges, "edges", EDGE_COLUMNS)
    ids = _texts(memories["id"])
    present = np.flatnonzero(pd.notna(ids))
    order = present[np.argsort(ids[present], kind="stable")]  # Python's str order, as sorted()
    node_ids: list[str] = ids[order].tolist()
    if len(node_ids) > 1:
        dup = [a for a, b in zip(node_ids, node_ids[1:], strict=False) if a == b]
        if dup:
            raise ValidationError(
                "graph from frames",
                "memories.id",
                dup[0],
                "each memory once (ids are the store's primary key)",
            )
    tier, _ = _ints(memories["tier"])
    index = pd.Index(node_ids, dtype=object)
    src = index.get_indexer(_texts(edges["from_memory"]))
    dst = index.get_indexer(_texts(edges["to_memory"]))
    keep = np.flatnonzero((src >= 0) & (dst >= 0))
    created, created_bad = _ints(edges["created_at"])
    types = _texts(edges["edge_type"])[keep]
    types[pd.isna(types)] = ""  # a type of the wrong SQLite type: no type
    codes, names = pd.factorize(pd.Series(types, dtype=object), sort=True)
    edge_ids = _texts(edges["id"])[keep]
    edge_ids[pd.isna(edge_ids)] = ""
    data = GraphData(
        node_ids=node_ids,
        node_rowid=_rowids(memories)[order],
        tier=tier[order],
        importance=_floats(memories["importance"])[order],
        src=src[keep].astype(np.int32),
        dst=dst[keep].astype(np.int32),
        weight=_floats(edges["weight"])[keep],
        created=created[keep],
        etype=np.asarray(codes, dtype=np.int16),
        erowid=_rowids(edges)[keep],
        eid=np.arange(len(keep), dtype=np.int32),
        created_bad=created_bad[keep],
        edge_ids=StringStore.from_strings(edge_ids.tolist()),
        type_names=[str(t) for t in names],
        state=SnapshotState(len(edges), 0, len(node_ids), len(memories)),
    ).sorted_edges()
    data.loader = "frames"
    data.bad_values = _bad_values(data)
    return data


def _bad_values(data: GraphData) -> tuple[BadValues, ...]:
    """The unusable values, as :func:`~.loading.describe_bad_values` lists them for a file (a null
    stands for the stored value: the export does not keep values of the wrong type)."""
    nodes = np.array(data.node_ids, dtype=object)
    checks = [
        ("memories", "tier", "not an integer", data.node_rowid, data.tier == MISSING_INT, None),
        ("memories", "importance", "not a number", data.node_rowid, np.isnan(data.importance), None),
        ("causal_edges", "weight", "not a number", data.erowid, np.isnan(data.weight), None),
        ("causal_edges", "weight", "a number outside [0, 1]", data.erowid,
         (data.weight < 0.0) | (data.weight > 1.0), data.weight),
        ("causal_edges", "created_at", "not an integer", data.erowid, data.created_bad, None),
    ]  # fmt: skip
    out = []
    for table, column, problem, rowids, mask, values in checks:
        bad = np.flatnonzero(mask)
        if len(bad) == 0:
            continue
        first = bad[np.argsort(rowids[bad], kind="stable")[:3]]
        names = nodes[first].tolist() if table == "memories" else data.edge_ids_at(first)
        examples = tuple(
            (int(rowids[i]), str(name), None if values is None else float(values[i]),
             "null" if values is None else "real")
            for i, name in zip(first.tolist(), names, strict=True)
        )  # fmt: skip
        out.append(BadValues(table, column, problem, len(bad), examples))
    return tuple(out)


class NoStore:
    """The source of a graph built from frames: there is no store to read or catch up with."""

    path: str | None = None
    store: Any = None

    def close(self) -> None:
        """Nothing to release."""

    def _refuse(self) -> NoReturn:
        raise ValidationError(
            "causal graph",
            "refresh",
            "a graph built from frames",
            "a graph read from a store (store.causal_graph()); a graph from frames has no store to "
            "catch up with: build a new one from the new frames",
        )

    @contextmanager
    def connection(self) -> Iterator[Any]:
        self._refuse()
        yield  # pragma: no cover

    @contextmanager
    def read(self, conn: Any = None) -> Iterator[Any]:
        self._refuse()
        yield  # pragma: no cover


def graph_from_frames(memories: pd.DataFrame, edges: pd.DataFrame) -> CausalGraph:
    """A :class:`~.causal_graph.CausalGraph` over the frames (see module doc); no store behind it.

    Its answers equal those of ``store.causal_graph(include_invalidated=True)`` on the file the
    frames were exported from. ``loader`` is ``"frames"``; ``refresh()`` raises ``ValidationError``.
    """
    from .causal_graph import CausalGraph

    return CausalGraph.from_frames(memories, edges)
