"""Bringing a snapshot up to date with the store at a cost that grows with the changes.

Refresh: new edge rows have rowids above the snapshot's largest (SQLite picks a new rowid above the
maximum, even for ``INSERT OR REPLACE``); updates and deletes, foreign-key cascades included, are in
``omega_edge_log``. A refresh re-reads the logged rowids and everything above
``min(old max rowid, smallest deleted rowid - 1)`` (a rowid freed at the tail can be reused), drops a
snapshot edge whose id reappears under a new rowid (the crate's ``INSERT OR REPLACE`` deletes without a
log entry), and falls back to a full load when the log was pruned.

Memories: ``omega_memory_log`` records memories whose id, tier or importance changed, and deleted
ones. A refresh re-reads the updated memories and writes their tier and importance in place, and
appends new memories (rows above the old largest rowid that account for the whole change of
``count(*)``). Anything else re-reads the memory list, one pass over ``memories``: a deletion, a
changed id or rowid, a pruned log, or the crate's ``INSERT OR REPLACE``, which moves a memory to a
new rowid without a log entry.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from .beliefs import read_beliefs
from .loading import (
    CHUNK,
    EDGE_COLS,
    NODE_COLS,
    Filters,
    Source,
    finish,
    int_or_missing,
    load_sqlite,
    read_full,
    read_state,
)
from .snapshot import GraphData, SnapshotState, hash_strings

__all__ = ["load", "refresh"]


def load(source: Source, filters: Filters, loader: str = "auto") -> GraphData:
    """A full snapshot that equals a rebuild at the state it reports.

    One full read (:func:`~.loading.read_full`); a read by the DuckDB child, which need not see one
    state of the store, is then caught up through the change logs in one read transaction. However
    busy a writer is, that is one scan and one catch-up: no retry.
    """
    data = read_full(source, filters, loader)
    if data.loader != "duckdb":
        return data
    return refresh(data, source, filters, "sqlite3", fresh=True)


class Diverged(Exception):
    """A caught-up snapshot does not hold what the store holds (see ``verify`` in :func:`refresh`)."""


def refresh(
    data: GraphData,
    source: Source,
    filters: Filters,
    loader: str = "auto",
    fresh: bool = False,
    verify: bool = False,
) -> GraphData:
    """``data`` brought up to date with the store; a new :class:`GraphData` (``data`` is untouched).

    ``fresh``: ``data`` is a new read whose unusable values were not described yet (they are then
    described and warned about as for any new snapshot). ``verify`` (an unfiltered ``data`` from a
    source not trusted blindly): raise :class:`Diverged` unless the result holds as many edges and
    memories as the store at the state it reports (a write the logs did not see).
    """
    known = () if fresh else data.bad_values
    with source.read() as conn:
        state = read_state(conn)
        beliefs = read_beliefs(conn, state, data.beliefs)  # at the state the edges are read at
        edges_now = conn.execute("SELECT count(*) FROM causal_edges").fetchone()[0] if verify else None
        old = data.state
        same_last = old.memory_max_rowid == 0 or _id_at(conn, old.memory_max_rowid) == _id_at_snapshot(data)
        if state == old and same_last:
            _check(data, edges_now, state)
            if beliefs is not data.beliefs:
                data = dataclasses.replace(data, beliefs=beliefs)
            return finish(conn, data) if fresh else data
        logged = state.log_seq - old.log_seq
        have = conn.execute("SELECT count(*) FROM omega_edge_log WHERE seq > ?", (old.log_seq,)).fetchone()[0]
        replayable = logged >= 0 and have == logged  # else the log was pruned or reset
        if not replayable and source.path is None:
            return finish(conn, load_sqlite(conn, filters), known)
        if replayable:
            log = conn.execute(
                "SELECT edge_id, edge_rowid, op FROM omega_edge_log WHERE seq > ? ORDER BY seq",
                (old.log_seq,),
            ).fetchall()
            last_op = {r: op for _, r, op in log}
            cols = EDGE_COLS
            above = conn.execute(
                f"SELECT {cols} FROM causal_edges WHERE rowid > ?", (old.edge_max_rowid,)
            ).fetchall()
            # An id seen in the log or in a new row, held by the snapshot at an unlogged rowid, moved:
            # its old row was deleted without a log entry (INSERT OR REPLACE); see _apply.
            busy_ids = [e for e, _, _ in log] + [r[1] for r in above]
            busy = hash_strings(busy_ids)
            logged_rows = np.fromiter(last_op, np.int64, len(last_op))
            # one pass over the snapshot per column: the few edges whose id or rowid the changes name
            hits = _Hits(np.flatnonzero(_isin(data.edge_hashes(), busy)),
                         np.flatnonzero(_isin(data.erowid, logged_rows)))  # fmt: skip
            floor = _stable_floor(conn, data, set(last_op), set(busy_ids), hits)
            touched = sorted(r for r in last_op if r <= floor)
            new_mem = conn.execute(
                f"SELECT {NODE_COLS} FROM memories WHERE rowid > ?", (old.memory_max_rowid,)
            ).fetchall()
            changed = _memory_changes(conn, old.memory_log_seq, state.memory_log_seq)
            reload_memories = (
                state.memory_count != old.memory_count + len(new_mem) or not same_last or changed is None
            )
            patched: list[tuple] = []
            if changed is None or reload_memories:
                new_mem = conn.execute(f"SELECT {NODE_COLS} FROM memories").fetchall()
            else:
                for i in range(0, len(changed), CHUNK):
                    chunk = changed[i : i + CHUNK]
                    patched += conn.execute(
                        f"SELECT {NODE_COLS} FROM memories WHERE rowid IN ({', '.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
            rows = (
                above
                + conn.execute(
                    f"SELECT {cols} FROM causal_edges WHERE rowid > ? AND rowid <= ?",
                    (floor, old.edge_max_rowid),
                ).fetchall()
            )
            for i in range(0, len(touched), CHUNK):
                chunk = touched[i : i + CHUNK]
                rows += conn.execute(
                    f"SELECT {cols} FROM causal_edges WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
    if not replayable:
        return load(source, filters, loader)
    new = _apply(data, state, new_mem, reload_memories, floor, hits, rows, busy, filters)
    new.beliefs = beliefs
    _check(new, edges_now, state)
    _patch_memories(new, patched)
    new.loader = data.loader
    with source.read() as conn:
        return finish(conn, new, known)


def _check(data: GraphData, edges_now: int | None, state: SnapshotState) -> None:
    if edges_now is not None and (data.n_edges, data.n_nodes) != (edges_now, state.memory_count):
        raise Diverged(f"{data.n_edges} edges and {data.n_nodes} memories; the store holds {edges_now} and "
                       f"{state.memory_count}")  # fmt: skip


def _memory_changes(conn: sqlite3.Connection, since: int, now: int) -> list[int] | None:
    """Rowids of the memories whose tier or importance changed after log seq ``since`` (ids kept).

    None when the log cannot tell what changed: a memory was deleted or changed its id or rowid, or
    the log was pruned (the caller then reads the memory list again).
    """
    if now == since:
        return []
    log = conn.execute("SELECT memory_rowid, op FROM omega_memory_log WHERE seq > ?", (since,)).fetchall()
    if now < since or len(log) != now - since or any(op == "delete" for _, op in log):
        return None
    return sorted({rowid for rowid, _ in log})


def _patch_memories(data: GraphData, rows: list[tuple]) -> None:
    """Write the re-read memories' tier and importance into ``data`` (new arrays: the old snapshot
    may share them). A row whose id the snapshot does not hold is new and was read with the rest."""
    if not rows:
        return
    data.tier, data.importance = data.tier.copy(), data.importance.copy()
    for _, memory_id, tier, importance in rows:
        i = data.find(memory_id)
        if i >= 0:
            data.tier[i] = int_or_missing(tier)
            data.importance[i] = np.nan if importance is None else importance


def _isin(big: np.ndarray, values: Any) -> np.ndarray:
    """``np.isin`` for a few values against a large array: a hash lookup per element, no sort of E
    (pandas' membership test: ~3x faster than a binary search into the sorted values at 3M edges)."""
    import pandas as pd

    small = np.asarray(values, dtype=big.dtype)
    if len(small) == 0:
        return np.zeros(len(big), dtype=bool)
    return pd.Series(big, copy=False).isin(small).to_numpy()


@dataclass(frozen=True)
class _Hits:
    """Positions of the snapshot's edges whose id is among the changed ones (``by_id``: in the log or
    in a new row) or whose rowid is in the log (``by_rowid``). Every other edge is untouched."""

    by_id: np.ndarray
    by_rowid: np.ndarray


def _stable_floor(
    conn: sqlite3.Connection, data: GraphData, logged: set[int], busy_ids: set[str], hits: _Hits
) -> int:
    """A rowid that no row inserted since the snapshot can be at or below.

    SQLite gives a new row ``max(rowid) + 1``. A row that existed at the snapshot and is still there,
    never logged and whose id was never re-stored or deleted elsewhere, existed the whole time, so the
    table's maximum never fell below it: rows inserted since lie above it. The snapshot's last row is
    checked first (the usual case: nothing re-read below the old maximum), then the snapshot's kept
    rows from the top. 0 when none qualifies (everything is re-read).
    """
    old = data.state
    if old.edge_max_rowid == 0:
        return 0
    if old.edge_max_rowid not in logged and old.edge_max_id is not None and old.edge_max_id not in busy_ids:
        row = conn.execute("SELECT id FROM causal_edges WHERE rowid = ?", (old.edge_max_rowid,)).fetchone()
        if row is not None and row[0] == old.edge_max_id:
            return old.edge_max_rowid
    hashes = data.edge_hashes()
    ok = np.ones(data.n_edges, dtype=bool)
    ok[hits.by_id] = ok[hits.by_rowid] = False  # (moved edges are among those named by id)
    candidates = np.sort(data.erowid[ok])[::-1]
    want = dict(zip(data.erowid[ok].tolist(), hashes[ok].tolist(), strict=True))
    for i in range(0, len(candidates), CHUNK):
        chunk = candidates[i : i + CHUNK].tolist()
        found = dict(conn.execute(
            f"SELECT rowid, id FROM causal_edges WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
        ).fetchall())  # fmt: skip
        present = [r for r in chunk if r in found]
        by_rowid = dict(zip(present, hash_strings([found[r] for r in present]).tolist(), strict=True))
        for r in chunk:  # descending
            if by_rowid.get(r) == want[r]:
                return r
    return 0


def _filtered(rows: list[tuple], hashes: np.ndarray, f: Filters) -> tuple[list[tuple], np.ndarray]:
    """The rows a snapshot with filters ``f`` keeps (same predicates as :meth:`Filters.where`)."""
    ok = [f.keeps(r[4], r[5], r[6]) for r in rows]
    return [r for r, k in zip(rows, ok, strict=True) if k], hashes[
        np.array(ok, dtype=bool)
    ] if rows else hashes


def _id_at(conn: sqlite3.Connection, rowid: int) -> str | None:
    row = conn.execute("SELECT id FROM memories WHERE rowid = ?", (rowid,)).fetchone()
    return row[0] if row else None


def _id_at_snapshot(data: GraphData) -> str | None:
    """The id the snapshot's largest memory rowid held (None if that memory was not read)."""
    where = np.flatnonzero(data.node_rowid == data.state.memory_max_rowid)
    return data.node_ids[int(where[0])] if len(where) else None


def _apply(
    data: GraphData,
    state: SnapshotState,
    mem_rows: list[tuple],
    reload_memories: bool,
    floor: int,
    hits: _Hits,
    rows: list[tuple],
    busy: np.ndarray,
    filters: Filters,
) -> GraphData:
    # 1. nodes, and the (monotone) map from old node index to new node index (-1: gone)
    if reload_memories:
        mem_rows = sorted(mem_rows, key=lambda r: r[1])
        node_ids = [r[1] for r in mem_rows]
        pos = {m: i for i, m in enumerate(node_ids)}
        remap = np.array([pos.get(m, -1) for m in data.node_ids], dtype=np.int64)
        node_rowid = np.array([r[0] for r in mem_rows], dtype=np.int64)
        tier = np.array([int_or_missing(r[2]) for r in mem_rows], dtype=np.int64)
        importance = np.array([r[3] for r in mem_rows], dtype=np.float64)  # None -> NaN
    elif mem_rows:
        mem_rows = sorted(mem_rows, key=lambda r: r[1])
        new_ids = [r[1] for r in mem_rows]
        at = np.searchsorted(np.array(data.node_ids, dtype=object), np.array(new_ids, dtype=object))
        remap = np.arange(data.n_nodes, dtype=np.int64) + np.searchsorted(
            at, np.arange(data.n_nodes), "right"
        )
        dest = at + np.arange(len(at))
        n = data.n_nodes + len(new_ids)
        node_ids = [""] * n
        keep_slots = np.ones(n, dtype=bool)
        keep_slots[dest] = False
        for i, j in enumerate(np.flatnonzero(keep_slots).tolist()):
            node_ids[j] = data.node_ids[i]
        for k, j in enumerate(dest.tolist()):
            node_ids[j] = new_ids[k]
        node_rowid, tier, importance = (
            np.empty(n, dtype=a.dtype) for a in (data.node_rowid, data.tier, data.importance)
        )
        for arr, old_arr, col in (
            (node_rowid, data.node_rowid, 0),
            (tier, data.tier, 2),
            (importance, data.importance, 3),
        ):
            arr[keep_slots] = old_arr
            arr[dest] = [int_or_missing(r[col]) if col == 2 else r[col] for r in mem_rows]
    else:
        node_ids, node_rowid, tier, importance = data.node_ids, data.node_rowid, data.tier, data.importance
        remap = None

    # 2. old edges that survive: not re-read, not moved, endpoints still present, id nowhere else
    # Named by rowid: re-read (or gone). Named by id: moved (re-stored elsewhere: INSERT OR REPLACE),
    # or also named by rowid. An id lives in one row: a re-read row's id drops its old copy, and the
    # re-read ids are the changed ones but for rows above the floor, whose old copies go anyway.
    keep = data.erowid <= floor
    keep[hits.by_id] = keep[hits.by_rowid] = False
    row_hash = hash_strings([r[1] for r in rows])
    extra = np.setdiff1d(row_hash, busy)
    if len(extra):
        keep &= ~_isin(data.edge_hashes(), extra)
    rows, row_hash = _filtered(rows, row_hash, filters)
    src, dst = data.src, data.dst
    if remap is not None:
        src, dst = remap[src], remap[dst]
        keep &= (src >= 0) & (dst >= 0)

    # 3. the re-read rows, with edge types merged into the sorted name list
    lookup = {m: i for i, m in enumerate(node_ids)} if rows and len(rows) * 20 > len(node_ids) else None

    def find(m: str) -> int:
        if lookup is not None:
            return lookup.get(m, -1)
        from bisect import bisect_left

        i = bisect_left(node_ids, m)
        return i if i < len(node_ids) and node_ids[i] == m else -1

    ends = [(find(r[2]), find(r[3])) for r in rows]
    ok = [a >= 0 and b >= 0 for a, b in ends]
    type_names = sorted(set(data.type_names) | {r[5] for r, good in zip(rows, ok, strict=True) if good})
    code = {t: i for i, t in enumerate(type_names)}
    type_remap = np.array([code[t] for t in data.type_names] or [0], dtype=np.int16)
    new = [(r, e, h) for r, e, h, good in zip(rows, ends, row_hash.tolist(), ok, strict=True) if good]

    old_cols = {
        "src": src.astype(np.int32, copy=False),
        "dst": dst.astype(np.int32, copy=False),
        "weight": data.weight,
        "created": data.created,
        "created_bad": data.created_bad,
        "etype": type_remap[data.etype] if len(data.etype) else data.etype,
        "erowid": data.erowid,
        "ehash": data.edge_hashes(),
        "eid": data.eid,
    }
    edge_ids = data.edge_ids.append([r[1] for r, _, _ in new])
    new_cols = {
        "src": [e[0] for _, e, _ in new],
        "dst": [e[1] for _, e, _ in new],
        "weight": [r[4] for r, _, _ in new],  # None -> NaN
        "created": [int_or_missing(r[6]) for r, _, _ in new],
        "created_bad": [r[6] is None for r, _, _ in new],
        "etype": [code[r[5]] for r, _, _ in new],
        "erowid": [r[0] for r, _, _ in new],
        "ehash": [h for _, _, h in new],
        "eid": np.arange(len(data.edge_ids), len(edge_ids)),
    }
    new_arrays = {k: np.asarray(v, dtype=old_cols[k].dtype) for k, v in new_cols.items()}
    cols: dict[str, Any] = _merge(old_cols, keep, new_arrays, len(node_ids), search=remap is None)
    if len(edge_ids) > 2 * len(cols["eid"]) + 1024:  # mostly ids of edges gone since: pack the live ones
        edge_ids = edge_ids.take(cols["eid"])
        cols["eid"] = np.arange(len(edge_ids), dtype=cols["eid"].dtype)
    new_data = GraphData(
        node_ids=node_ids, node_rowid=node_rowid, tier=tier, importance=importance,
        edge_ids=edge_ids, type_names=type_names, state=state, **cols,
    )  # fmt: skip
    if node_ids is data.node_ids and all(
        cols[k] is getattr(data, k) for k in ("src", "dst", "weight", "erowid")
    ):
        # the same memories and edges (only attributes changed): every derived structure still holds
        new_data._cache.update(data._cache)
    return new_data


def _descending(weight: float) -> float:
    """The sort key of a weight in canonical order: ``-weight``, a weight that is not a number last
    (as numpy's sorts place NaN)."""
    return -weight if weight == weight else math.inf


#: Above this many re-read edges, the merge sorts keys of every edge instead of a search per edge.
MERGE_SEARCH_MAX = 20_000


def _merge(
    old: dict[str, np.ndarray], keep: np.ndarray, new: dict[str, np.ndarray], n: int, search: bool = True
) -> dict[str, np.ndarray]:
    """The old edges that ``keep`` holds, with the (few) new ones inserted in canonical order.

    O(E) copies and no sort of E: each output column is written once, as runs of the old column
    between the dropped and inserted positions (every new array costs its page faults, which on a
    virtual machine is most of the price of a copy). ``search=False`` (old endpoints remapped, with
    -1 for memories gone: no longer sorted) or many new edges: keys of every kept edge are searched.
    """
    if len(new["src"]) == 0 and keep.all():
        return old
    order = np.lexsort((new["erowid"], -new["weight"], new["dst"], new["src"]))
    new = {k: v[order] for k, v in new.items()}
    src, dst, w_old, r_old = old["src"], old["dst"], old["weight"], old["erowid"]
    drop = np.flatnonzero(~keep)
    if not search or len(new["src"]) > MERGE_SEARCH_MAX:  # a vectorised search over every edge's key
        kept = {k: v[keep] for k, v in old.items()}
        key_old = kept["src"].astype(np.int64) * n + kept["dst"]
        key_new = new["src"].astype(np.int64) * n + new["dst"]
        lo, hi = np.searchsorted(key_old, key_new, "left"), np.searchsorted(key_old, key_new, "right")
        at = _place(lo, hi, new, kept["weight"], kept["erowid"])
        return {k: np.insert(kept[k], at, new[k]) for k in kept}
    # few: find each new edge's place among all old edges (sorted by src, then dst), then splice
    lo = np.searchsorted(src, new["src"], "left")
    hi = np.searchsorted(src, new["src"], "right")
    for i, (a, b, v) in enumerate(zip(lo.tolist(), hi.tolist(), new["dst"].tolist(), strict=True)):
        run = dst[a:b]
        lo[i], hi[i] = a + np.searchsorted(run, v, "left"), a + np.searchsorted(run, v, "right")
    at_full = _place(lo, hi, new, w_old, r_old)
    segments, new_pos, total = _splice_plan(len(src), drop, at_full)
    out = {}
    for k, column in old.items():
        merged = np.empty(total, dtype=column.dtype)
        for to, start, length in segments:
            merged[to : to + length] = column[start : start + length]
        merged[new_pos] = new[k]
        out[k] = merged
    return out


def _place(
    lo: np.ndarray, hi: np.ndarray, new: dict[str, np.ndarray], w_old: np.ndarray, r_old: np.ndarray
) -> np.ndarray:
    """Insertion points: before the first old edge of the same pair that sorts after the new one by
    ``(-weight, rowid)`` (parallel edges), else at the pair's place."""
    at = lo.copy()
    for i in np.flatnonzero(hi > lo).tolist():
        j, w, r = int(lo[i]), _descending(float(new["weight"][i])), int(new["erowid"][i])
        while j < hi[i] and (_descending(float(w_old[j])), r_old[j]) < (w, r):
            j += 1
        at[i] = j
    return at


def _splice_plan(
    n_old: int, drop: np.ndarray, at: np.ndarray
) -> tuple[list[tuple[int, int, int]], np.ndarray, int]:
    """Runs ``(output start, old start, length)`` of the kept old rows, the output positions of the
    new rows (inserted before old position ``at[i]``, ``at`` ascending), and the output length."""
    dropped = set(drop.tolist())
    bounds = sorted({0, n_old, *dropped, *(d + 1 for d in dropped), *at.tolist()})
    inserts = at.tolist()
    segments, new_pos = [], np.empty(len(inserts), dtype=np.int64)
    out, k = 0, 0
    for b, e in zip(bounds[:-1], bounds[1:], strict=True):
        while k < len(inserts) and inserts[k] == b:
            new_pos[k] = out
            out, k = out + 1, k + 1
        if b not in dropped:
            segments.append((out, b, e - b))
            out += e - b
    while k < len(inserts):  # after the last old row
        new_pos[k] = out
        out, k = out + 1, k + 1
    return segments, new_pos, out
