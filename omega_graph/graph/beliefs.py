"""Beliefs on a snapshot: the edges it leaves out for their invalidation or their validity window.

A snapshot reads the store's belief events (``omega_edge_events``, see
:mod:`omega_graph.store._beliefs`) in the same read transaction as its edges, so both stand at one
state; :class:`BeliefFilter` then says which edges the snapshot holds:

- by default, the edges not invalidated: an edge whose latest invalidation or reinstatement is an
  invalidation is left out (``include_invalidated=True`` keeps every edge);
- ``known_at=t``: what the store believed at ``t``: an edge whose latest invalidation or reinstatement
  at or before ``t`` is an invalidation is left out (later events do not count), and with it every
  edge created after ``t`` (the snapshot's ``as_of`` becomes ``min(as_of, t)``);
- ``valid_at=t``: the edges whose validity window (its latest setting) contains ``t``; an edge with
  no window is valid at every time.

The three compose by intersection with the other filters (``min_weight``, ``edge_types``,
``as_of``). Weights are always the current ones: the weight log records changes made in place, but a
snapshot does not rewind them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from .snapshot import GraphData, SnapshotState

__all__ = ["BeliefFilter", "Beliefs", "apply", "read_beliefs"]

_OPEN_LOW, _OPEN_HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max


@dataclass(frozen=True)
class Beliefs:
    """The store's belief events on stored edges at one state, grouped by edge, then as written.

    ``version`` is ``(last seq, count)`` of the events table and the edges' position (largest rowid,
    last edge log entry): equal versions hold equal events on the same edge rows (events are only
    appended, and removed with their edge; an edge re-stored by ``INSERT OR REPLACE`` gets a new
    rowid). An edge is named by its rowid at that state (the snapshot's ``erowid``): events of an
    edge id that is not stored are left out, as they concern no edge of the snapshot.
    """

    version: tuple[int, int, int, int]
    rowid: np.ndarray  # int64: the edge's rowid, ascending
    event: np.ndarray  # int8: 0 validity set, 1 invalidated, 2 reinstated
    at: np.ndarray  # int64
    valid_from: np.ndarray  # int64, _OPEN_LOW when open
    valid_to: np.ndarray  # int64, _OPEN_HIGH when open


#: The events in the order written, each with its edge's rowid: a forward scan of the events table
#: and one probe of the edge id index per event (CROSS JOIN keeps that order), integers only.
_EVENTS_SQL = (
    "SELECT e.rowid, CASE v.event WHEN 'validity_set' THEN 0 WHEN 'invalidated' THEN 1 ELSE 2 END, v.at, "
    f"coalesce(v.valid_from, {_OPEN_LOW}), coalesce(v.valid_to, {_OPEN_HIGH}) "
    "FROM omega_edge_events v CROSS JOIN causal_edges e ON e.id = v.edge_id ORDER BY v.seq"
)


def read_beliefs(conn: sqlite3.Connection, state: SnapshotState, previous: Beliefs | None = None) -> Beliefs:
    """The belief events at ``state``, in the caller's read transaction (the one ``state`` was read
    in); ``previous`` when they and the edges' rows did not change."""
    seq, count = conn.execute("SELECT coalesce(max(seq), 0), count(*) FROM omega_edge_events").fetchone()
    version = (int(seq), int(count), state.edge_max_rowid, state.log_seq)
    if previous is not None and previous.version == version:
        return previous
    rows = conn.execute(_EVENTS_SQL).fetchall()
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 5)
    table = table[np.argsort(table[:, 0], kind="stable")]  # by edge, each edge's events as written
    return Beliefs(
        version,
        np.ascontiguousarray(table[:, 0]),
        table[:, 1].astype(np.int8),
        np.ascontiguousarray(table[:, 2]),
        np.ascontiguousarray(table[:, 3]),
        np.ascontiguousarray(table[:, 4]),
    )


def _last_of_each_edge(rowids: np.ndarray) -> np.ndarray:
    """Positions of the last event of each edge in ``rowids`` (grouped by edge)."""
    if len(rowids) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.append(rowids[1:] != rowids[:-1], True))


@dataclass(frozen=True)
class BeliefFilter:
    """Which edges a snapshot holds, by belief (see module doc)."""

    valid_at: int | None = None
    known_at: int | None = None
    include_invalidated: bool = False

    def excluded(self, b: Beliefs) -> np.ndarray:
        """Positions (into ``b``'s events) of one event of each edge this filter leaves out."""
        out = []
        if not self.include_invalidated:
            belief = b.event != 0
            if self.known_at is not None:
                belief &= b.at <= self.known_at
            pos = np.flatnonzero(belief)
            last = pos[_last_of_each_edge(b.rowid[pos])]
            out.append(last[b.event[last] == 1])
        if self.valid_at is not None:
            pos = np.flatnonzero(b.event == 0)
            last = pos[_last_of_each_edge(b.rowid[pos])]
            t = self.valid_at
            out.append(last[(b.valid_from[last] > t) | (b.valid_to[last] < t)])
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def apply(data: GraphData, f: BeliefFilter) -> GraphData:
    """``data`` without the edges ``f`` leaves out (``data`` itself when it leaves none out)."""
    b = data.beliefs
    if b is None or b.version[1] == 0:
        return data

    def build() -> GraphData:
        rowids = b.rowid[f.excluded(b)]
        if len(rowids) == 0 or data.n_edges == 0:
            return data
        gone = np.zeros(int(max(rowids.max(), data.erowid.max())) + 1, dtype=bool)
        gone[rowids] = True  # rowids at the snapshot's state: exactly its edges' erowid
        keep = ~gone[data.erowid]
        return data if keep.all() else data.subset_edges(keep)

    view: GraphData = data._cached(("beliefs", f, b.version), build)
    return view
