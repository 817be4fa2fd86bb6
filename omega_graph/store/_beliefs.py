"""Beliefs about causal edges over time: validity windows, invalidation instead of deletion, evidence.

Everything lives in side tables keyed by the edge id (schema migration 5): the crate's file format is
untouched, its ``INSERT OR REPLACE`` of an edge keeps what they hold, a real delete removes it.

Two times (bi-temporal, as in the literature on temporal databases):

- **valid time**: :meth:`~BeliefOps.set_edge_validity` states the interval during which the causal
  relation holds in the world (inclusive, ``None`` open-ended); the latest setting counts.
- **transaction time**: :meth:`~BeliefOps.invalidate_causal_edge` records that the store stopped
  believing the edge at ``at``, :meth:`~BeliefOps.reinstate_causal_edge` that it believes it again.
  Nothing is deleted; an edge's belief events are in time order (a new one may not be dated before
  the edge's last one), so "what did the store believe at t" has one answer: the latest
  invalidation or reinstatement at or before t.

Times are Unix seconds, ints within years 1 to 9999; ``at=None`` means now.
"""

from __future__ import annotations

import json
import numbers
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ConflictError, NotFoundError, ValidationError
from ._base import StoreBase, db_errors

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BeliefOps", "TIME_MAX", "TIME_MIN", "check_time"]

#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds: the accepted range of times.
TIME_MIN, TIME_MAX = -62_135_596_800, 253_402_300_799
_BELIEF_EVENTS = "('invalidated', 'reinstated')"
#: The bulk form's rows in one statement (the ids as one JSON array, in order): no per-row binding.
_INSERT_INVALIDATIONS = (
    "INSERT INTO omega_edge_events (edge_id, event, at, recorded_at, reason, superseded_by, "
    "valid_from, valid_to) SELECT value, 'invalidated', ?, ?, ?, NULL, NULL, NULL FROM json_each(?) "
    "ORDER BY key"
)
#: True when the bulk form's events (``seq >= :first``, ``:n`` distinct edge ids) break no rule: every
#: edge exists, none was created after ``:when``, and none's previous belief event is an invalidation
#: or dated after ``:when``. The edges' rows are read in rowid order (a materialized list of rowids
#: from the id index), so the table is walked forward, not probed at random.
_BULK_OK = f"""
WITH r AS MATERIALIZED (
    SELECT e.rowid AS r FROM omega_edge_events n CROSS JOIN causal_edges e ON e.id = n.edge_id
    WHERE n.seq >= :first ORDER BY 1
)
SELECT (SELECT count(*) FROM r) = :n
   AND NOT EXISTS (SELECT 1 FROM r CROSS JOIN causal_edges e ON e.rowid = r.r
                   WHERE typeof(e.created_at) = 'integer' AND e.created_at > :when)
   AND NOT EXISTS (SELECT 1 FROM omega_edge_events n CROSS JOIN omega_edge_events p ON p.seq = (
                       SELECT max(q.seq) FROM omega_edge_events q
                       WHERE q.edge_id = n.edge_id AND q.seq < :first AND q.event IN {_BELIEF_EVENTS})
                   WHERE n.seq >= :first AND (p.event = 'invalidated' OR p.at > :when))
"""
_INSERT_EVENT = (
    "INSERT INTO omega_edge_events (edge_id, event, at, recorded_at, reason, superseded_by, "
    "valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def check_time(entity: str, field: str, value: Any) -> int:
    """Unix seconds: an int (not bool) within years 1 to 9999.

    >>> import numpy as np
    >>> check_time("causal edge 'e1'", "at", 1_764_000_000), check_time("causal edge 'e1'", "at", np.int64(5))
    (1764000000, 5)
    >>> check_time("causal edge 'e1'", "at", 1.5e9)
    Traceback (most recent call last):
    ...
    omega_graph.errors.ValidationError: causal edge 'e1'.at = 1500000000.0 is invalid: expected an int of Unix seconds within years 1 to 9999
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy and pandas integers too
    if type(value) is not int or not TIME_MIN <= value <= TIME_MAX:
        raise ValidationError(entity, field, value, "an int of Unix seconds within years 1 to 9999")
    return value


def _text_or_none(entity: str, field: str, value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise ValidationError(entity, field, value, "text (str) or None")
    return value


def _edge_entity(edge_id: object) -> str:
    return f"causal edge {edge_id!r}"


class BeliefOps(StoreBase):
    """Validity, invalidation, reinstatement and evidence of causal edges (see module doc)."""

    # ----- checks -------------------------------------------------------------------------------
    def _require_edge(self, edge_id: object, field: str = "edge_id") -> str:
        if type(edge_id) is not str or not edge_id:
            raise ValidationError("causal edge", field, edge_id, "an edge id (non-empty str)")
        if self._conn.execute("SELECT 1 FROM causal_edges WHERE id = ?", (edge_id,)).fetchone() is None:
            raise NotFoundError("causal edge", edge_id, f"{field} names no stored edge; check the id")
        return edge_id

    def _when(self, edge_id: str, at: object) -> int:
        return int(time.time()) if at is None else check_time(_edge_entity(edge_id), "at", at)

    def _last_belief(self, edge_id: str) -> tuple[str, int] | None:
        """The edge's latest invalidation or reinstatement ``(event, at)``, or None."""
        row = self._conn.execute(
            f"SELECT event, at FROM omega_edge_events WHERE edge_id = ? AND event IN {_BELIEF_EVENTS} "
            "ORDER BY seq DESC LIMIT 1",
            (edge_id,),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def _belief_row(
        self, edge_id: str, event: str, at: object, reason: object, superseded_by: object
    ) -> tuple:
        """The validated event row; ConflictError when the edge is already in that state."""
        entity = _edge_entity(edge_id)
        when = self._when(edge_id, at)
        reason = _text_or_none(entity, "reason", reason)
        last = self._last_belief(edge_id)
        invalidated = last is not None and last[0] == "invalidated"
        if event == "invalidated" and invalidated:
            raise ConflictError(
                f"{entity} is already invalidated (at {last[1]}); reinstate it first"  # type: ignore[index]
            )
        if event == "reinstated" and not invalidated:
            raise ConflictError(f"{entity} is not invalidated; there is nothing to reinstate")
        created = self._conn.execute(
            "SELECT created_at FROM causal_edges WHERE id = ?", (edge_id,)
        ).fetchone()[0]
        if event == "invalidated" and type(created) is int and when < created:
            raise ValidationError(entity, "at", when, f"a time at or after the edge's created_at ({created})")
        if last is not None and when < last[1]:
            raise ValidationError(
                entity, "at", when, f"a time at or after its last belief change ({last[0]} at {last[1]})"
            )
        return (edge_id, event, when, int(time.time()), reason, superseded_by, None, None)

    # ----- valid time ---------------------------------------------------------------------------
    @db_errors
    def set_edge_validity(
        self,
        edge_id: str,
        valid_from: int | None = None,
        valid_to: int | None = None,
        *,
        at: int | None = None,
    ) -> None:
        """State when the causal relation holds in the world: ``[valid_from, valid_to]``, inclusive.

        ``None`` leaves that end open. The latest setting counts; earlier ones stay in
        :meth:`edge_history`, dated ``at`` (when it was stated; default now, e.g. a past date when
        back-filling a history).

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
        2
        >>> store.store_causal_edge(StoredCausalEdge("e1", "a", "b", 0.8, "causes", 100))
        >>> store.set_edge_validity("e1", valid_from=100, valid_to=200)
        >>> store.causal_graph(valid_at=150).number_of_edges(), store.causal_graph(valid_at=250).number_of_edges()
        (1, 0)
        """
        edge_id = self._require_edge(edge_id)
        entity = _edge_entity(edge_id)
        lo = None if valid_from is None else check_time(entity, "valid_from", valid_from)
        hi = None if valid_to is None else check_time(entity, "valid_to", valid_to)
        if lo is not None and hi is not None and hi < lo:
            raise ValidationError(entity, "valid_to", hi, f"a time at or after valid_from ({lo})")
        now = int(time.time())
        when = now if at is None else check_time(entity, "at", at)
        with self.transaction():
            self._conn.execute(_INSERT_EVENT, (edge_id, "validity_set", when, now, None, None, lo, hi))

    # ----- transaction time ---------------------------------------------------------------------
    @db_errors
    def invalidate_causal_edge(
        self, edge_id: str, at: int | None = None, reason: str | None = None, superseded_by: str | None = None
    ) -> None:
        """Withdraw the belief in an edge at ``at`` (default now) without deleting anything.

        ``superseded_by`` names the edge that replaces it (another stored edge). Invalidating an
        invalidated edge is a :class:`~omega_graph.errors.ConflictError`; :meth:`reinstate_causal_edge`
        undoes it and both stay on record. Snapshots leave invalidated edges out (see
        :meth:`causal_graph`).

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
        2
        >>> store.store_causal_edge(StoredCausalEdge("e1", "a", "b", 0.8, "causes", 100))
        >>> store.invalidate_causal_edge("e1", at=200, reason="refuted by a later episode")
        >>> store.causal_graph().number_of_edges(), store.causal_graph(known_at=150).number_of_edges()
        (0, 1)
        """
        edge_id = self._require_edge(edge_id)
        if superseded_by is not None:
            entity = _edge_entity(edge_id)
            if type(superseded_by) is not str or not superseded_by:
                raise ValidationError(
                    entity, "superseded_by", superseded_by, "an edge id (non-empty str) or None"
                )
            if superseded_by == edge_id:
                raise ValidationError(
                    entity, "superseded_by", superseded_by, "another edge than the one invalidated"
                )
            if (
                self._conn.execute("SELECT 1 FROM causal_edges WHERE id = ?", (superseded_by,)).fetchone()
                is None
            ):
                raise NotFoundError(
                    "causal edge",
                    superseded_by,
                    f"superseded_by of {entity} names no stored edge; store the replacing edge first",
                )
        row = self._belief_row(edge_id, "invalidated", at, reason, superseded_by)
        with self.transaction():
            self._conn.execute(_INSERT_EVENT, row)

    @db_errors
    def invalidate_causal_edges(
        self, edge_ids: Iterable[str], at: int | None = None, reason: str | None = None
    ) -> int:
        """Invalidate many edges in one transaction, all or nothing; return how many.

        The same rules as :meth:`invalidate_causal_edge` for each edge (an id twice in ``edge_ids`` is
        a :class:`~omega_graph.errors.ConflictError`). The rows are written in id order (so the
        indexes are walked in order, not at random) and checked as a set afterwards, in one pass.
        """
        when = int(time.time()) if at is None else check_time("causal edges", "at", at)
        reason = _text_or_none("causal edges", "reason", reason)
        if isinstance(edge_ids, str) or not isinstance(edge_ids, Iterable):
            raise ValidationError(
                "causal edges", "edge_ids", edge_ids, "an iterable of edge ids, not one str"
            )
        ids = list(edge_ids)
        for edge_id in ids:
            if type(edge_id) is not str or not edge_id:
                raise ValidationError("causal edges", "edge_ids", edge_id, "edge ids (non-empty str)")
        ids.sort()
        for previous, edge_id in zip(ids, ids[1:], strict=False):
            if previous == edge_id:
                raise ConflictError(
                    f"causal edge {edge_id!r} is named twice in edge_ids; nothing was invalidated"
                )
        now = int(time.time())
        conn = self._conn
        with self.transaction():
            first = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM omega_edge_events").fetchone()[0]
            if any("\x00" in e for e in ids):  # JSON text cannot carry NUL into SQLite's json_each
                conn.executemany(
                    _INSERT_EVENT, ((e, "invalidated", when, now, reason, None, None, None) for e in ids)
                )
            else:
                conn.execute(_INSERT_INVALIDATIONS, (when, now, reason, json.dumps(ids, ensure_ascii=False)))
            if not conn.execute(_BULK_OK, {"first": first, "when": when, "n": len(ids)}).fetchone()[0]:
                self._explain_bulk_invalidation(first, when)
        return len(ids)

    def _explain_bulk_invalidation(self, first: int, when: int) -> None:
        """Raise (the caller rolls back) for the first of the events from ``first`` on that breaks a rule.

        Called only when :data:`_BULK_OK` found one: each new event's edge must exist and be created by
        ``when``, and the edge's previous belief event must not be an invalidation or dated later.
        """
        bad = self._conn.execute(
            f"""SELECT n.edge_id, e.id IS NULL, p.event, p.at, e.created_at
                FROM omega_edge_events n
                LEFT JOIN causal_edges e ON e.id = n.edge_id
                LEFT JOIN omega_edge_events p ON p.seq = (
                    SELECT max(q.seq) FROM omega_edge_events q
                    WHERE q.edge_id = n.edge_id AND q.seq < n.seq AND q.event IN {_BELIEF_EVENTS})
                WHERE n.seq >= ? AND (e.id IS NULL OR p.event = 'invalidated' OR p.at > ?
                      OR (typeof(e.created_at) = 'integer' AND e.created_at > ?))
                ORDER BY n.seq LIMIT 1""",
            (first, when, when),
        ).fetchone()
        edge_id, missing, event, last_at, created = bad
        if missing:
            raise NotFoundError(
                "causal edge", edge_id, "edge_ids names no stored edge; nothing was invalidated"
            )
        if event == "invalidated":
            raise ConflictError(
                f"causal edge {edge_id!r} is already invalidated (at {last_at}); nothing was invalidated"
            )
        if type(created) is int and created > when:
            expected = f"a time at or after the edge's created_at ({created})"
        else:
            expected = f"a time at or after its last belief change ({event} at {last_at})"
        raise ValidationError(_edge_entity(edge_id), "at", when, expected)

    @db_errors
    def reinstate_causal_edge(self, edge_id: str, at: int | None = None, reason: str | None = None) -> None:
        """Believe an invalidated edge again from ``at`` (default now); both events stay on record.

        An edge that is not invalidated is a :class:`~omega_graph.errors.ConflictError`.
        """
        edge_id = self._require_edge(edge_id)
        row = self._belief_row(edge_id, "reinstated", at, reason, None)
        with self.transaction():
            self._conn.execute(_INSERT_EVENT, row)

    # ----- evidence -----------------------------------------------------------------------------
    @db_errors
    def add_edge_evidence(
        self,
        edge_id: str,
        memory_id: str | None = None,
        reflexion_id: str | None = None,
        note: str | None = None,
        *,
        at: int | None = None,
    ) -> None:
        """Link an edge to a memory or a reflexion episode that supports it, with an optional note.

        At least one of the three. The memory and the episode must exist
        (:class:`~omega_graph.errors.NotFoundError`); the link goes when either is deleted, or the edge.
        ``at``: when the evidence was added (default now).
        """
        edge_id = self._require_edge(edge_id)
        entity = _edge_entity(edge_id)
        for field, value, table, kind in (
            ("memory_id", memory_id, "memories", "memory"),
            ("reflexion_id", reflexion_id, "reflexion_episodes", "reflexion episode"),
        ):
            if value is None:
                continue
            if type(value) is not str or not value:
                raise ValidationError(entity, field, value, f"a {kind} id (non-empty str) or None")
            if self._conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (value,)).fetchone() is None:
                raise NotFoundError(kind, value, f"store it before citing it as evidence for {entity}")
        note = _text_or_none(entity, "note", note)
        when = int(time.time()) if at is None else check_time(entity, "at", at)
        if memory_id is None and reflexion_id is None and note is None:
            raise ValidationError(entity, "evidence", None, "a memory_id, a reflexion_id or a note")
        with self.transaction():
            self._conn.execute(
                "INSERT INTO omega_edge_evidence (edge_id, memory_id, reflexion_id, note, added_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (edge_id, memory_id, reflexion_id, note, when),
            )

    @db_errors
    def edge_evidence(self, edge_id: str) -> pd.DataFrame:
        """The evidence of an edge: columns ``memory_id``, ``reflexion_id``, ``note``, ``added_at``."""
        import pandas as pd

        edge_id = self._require_edge(edge_id)
        rows = self._conn.execute(
            "SELECT memory_id, reflexion_id, note, added_at FROM omega_edge_evidence WHERE edge_id = ? "
            "ORDER BY added_at, seq",
            (edge_id,),
        ).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
        return pd.DataFrame(
            {
                "memory_id": pd.Series(columns[0], dtype=object),  # None where absent, in every column
                "reflexion_id": pd.Series(columns[1], dtype=object),
                "note": pd.Series(columns[2], dtype=object),
                "added_at": pd.Series(columns[3], dtype="int64"),
            }
        )

    @db_errors
    def edge_history(self, edge_id: str) -> pd.DataFrame:
        """The story of an edge, in time order: columns ``at``, ``event``, ``detail``.

        Events: ``created`` (its ``created_at``), ``weight_changed`` (recorded when the weight is
        updated in place; the crate's ``INSERT OR REPLACE`` rewrites the row unseen),
        ``validity_set``, ``invalidated``, ``reinstated`` and ``evidence_added``. An event without a
        time of its own (a validity setting, evidence) takes the time it was recorded. At equal times:
        the creation, then weight changes, belief events and evidence, each in the order written.
        """
        import pandas as pd

        edge_id = self._require_edge(edge_id)
        conn = self._conn
        created, weight = conn.execute(
            "SELECT created_at, weight FROM causal_edges WHERE id = ?", (edge_id,)
        ).fetchone()
        out: list[tuple[int, int, int, str, str]] = [
            (created if type(created) is int else 0, 0, 0, "created", f"weight {weight}")
        ]
        for seq, old, new, at in conn.execute(
            "SELECT seq, old_weight, new_weight, at FROM omega_edge_weight_log WHERE edge_id = ?", (edge_id,)
        ):
            out.append((at, 1, seq, "weight_changed", f"{old} -> {new}"))
        for seq, event, at, reason, sup, lo, hi in conn.execute(
            "SELECT seq, event, at, reason, superseded_by, valid_from, valid_to FROM omega_edge_events "
            "WHERE edge_id = ?",
            (edge_id,),
        ):
            if event == "validity_set":
                detail = f"valid from {'-' if lo is None else lo} to {'-' if hi is None else hi}"
            else:
                parts = [reason or ""] + ([f"superseded by {sup!r}"] if sup else [])
                detail = "; ".join(p for p in parts if p)
            out.append((at, 2, seq, event, detail))
        for seq, memory, episode, note, at in conn.execute(
            "SELECT seq, memory_id, reflexion_id, note, added_at FROM omega_edge_evidence WHERE edge_id = ?",
            (edge_id,),
        ):
            parts = [
                f"memory {memory!r}" if memory else "",
                f"reflexion {episode!r}" if episode else "",
                note or "",
            ]
            out.append((at, 3, seq, "evidence_added", "; ".join(p for p in parts if p)))
        out.sort(key=lambda r: (r[0], r[1], r[2]))
        frame = pd.DataFrame([(r[0], r[3], r[4]) for r in out], columns=["at", "event", "detail"])
        return frame.astype({"at": "int64"})
