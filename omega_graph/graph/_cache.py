"""The persisted snapshot: a derived, disposable copy of a store's full snapshot for a fast reopen.

``store.causal_graph()`` on a file store looks for a cache entry (:mod:`._cachefile`: one file of
named arrays, checksummed, written atomically, mapped on read) made from the same store. A valid
entry is mapped as it is and caught up with the store through the change logs (the same
:func:`~._refresh.refresh` a live snapshot uses), so a new process answers from the state of the
store now at the cost of the changes, not of a full read.

What is cached: the *unfiltered* snapshot (every memory, every edge) with the structures most
questions share (both directions' collapsed adjacency, the reverse order, the cost matrices). A
snapshot with filters (``min_weight``, ``edge_types``, ``as_of``) is the cached one with the same
predicate applied to its arrays (:func:`filtered`), which equals a filtered read of the store.

Trust: the SQLite file is the only truth. An entry is used only when all of these hold, else the
store is read in full and the entry rewritten:

* its own checksum, size and format (:func:`._cachefile.read`);
* the snapshot layout version (:data:`LAYOUT`) and the file's schema version;
* the store's identity (``omega_store_identity``: another file at this path, or a restored one,
  has another);
* the history since the entry: the change logs still hold every entry since its positions, the last
  entry it saw is still there unchanged, and the log triggers are in place (a write with them
  dropped would bypass the logs);
* after the catch-up, the snapshot holds as many edges and memories as the store does.

Writing never fails a load: an unwritable or full cache folder warns once
(:class:`~omega_graph.errors.CacheWarning`) and the snapshot is used as read. The entry is written
in a background thread after the snapshot is returned (the arrays are never modified in place; the
interpreter waits for it at exit). Stores below :data:`CACHE_MIN_EDGES` edges are not cached: they
are read in full about as fast. The folder stays under a byte budget (4 GiB or a quarter of the
free disk, whichever is smaller; ``OMEGA_GRAPH_CACHE_MAX_BYTES`` overrides it), the least recently
used entries going first. An entry is about 200 bytes per edge (the arrays, the edge ids, both
directions' structures).

Location: ``$OMEGA_GRAPH_CACHE_DIR`` if set, else the user's cache folder (``~/.cache/omega-graph``
on Linux, ``~/Library/Caches/omega-graph`` on macOS, ``%LOCALAPPDATA%\\omega-graph\\Cache`` on
Windows), one entry per store file, ``graph/<file name>-<hash of its absolute path>.ogc``.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import warnings
from typing import Any

import numpy as np

from .. import schema
from ..errors import DataQualityWarning
from . import _cachefile
from ._refresh import Diverged, load, refresh
from ._strings import StringStore
from .loading import Filters, Source, edge_position, finish
from .snapshot import Adjacency, GraphData, SnapshotState

__all__ = ["LAYOUT", "clear", "filtered", "open_snapshot"]

#: Version of the arrays' layout in an entry; a change of GraphData's fields bumps it.
LAYOUT = 3
_LOG = logging.getLogger(__name__)
_COLUMNS = (
    "node_rowid", "tier", "importance", "src", "dst", "weight", "created", "created_bad", "etype", "erowid", "eid",
)  # fmt: skip
_ADJACENCY = ("indptr", "nbr", "weight", "edge")
_writers: list[threading.Thread] = []


#: Stores with fewer edges (by largest rowid) are read in full: that is about as fast as a reopen.
CACHE_MIN_EDGES = 100_000


def open_snapshot(source: Source, filters: Filters, loader: str, use_cache: bool) -> GraphData:
    """The snapshot a new :class:`~.causal_graph.CausalGraph` holds: from the cache when it can be
    trusted (see module doc), else a full read, which then refreshes the cache."""
    if not use_cache or source.path is None:
        return load(source, filters, loader)
    with source.read() as conn:  # (closed before loading: a load reads at states of its own)
        small = edge_position(conn)[0] < CACHE_MIN_EDGES
        expect = {"layout": LAYOUT, "schema": schema.user_version(conn), "identity": _identity(conn)}
        trusted = expect["identity"] is not None and _triggers_in_place(conn)
    if small:
        return load(source, filters, loader)  # the cheaper path: read in full
    path = _cachefile.entry_path(source.path)
    with warnings.catch_warnings():
        if filters != Filters():  # the full snapshot is a step: only the filtered one warns
            warnings.simplefilter("ignore", DataQualityWarning)
        data = _reopen(path, expect, source) if trusted else None
        if data is None:
            data = load(source, Filters(), loader)
            if trusted:
                _save(path, data, expect, source)
    return filtered(data, filters, source) if filters != Filters() else data


def _reopen(path: Any, expect: dict[str, Any], source: Source) -> GraphData | None:
    why: list[str] = []
    entry = _cachefile.read(path, expect=expect, why=why)
    if entry is None:
        _LOG.info("graph cache for %s not used: %s", source.path, "; ".join(why) or "no entry")
        return None
    cached = _from_entry(entry.meta, entry.arrays)
    with source.read() as conn:
        if not _history_holds(conn, entry.meta["fingerprint"]):
            _LOG.info("graph cache for %s not used: the change logs do not continue it", source.path)
            return None
    try:
        data = refresh(cached, source, Filters(), "auto", fresh=True, verify=True)
    except Diverged as err:  # a change the logs did not see
        _LOG.info("graph cache for %s not used: caught up, it holds %s", source.path, err)
        return None
    if data is not cached:
        if data.node_ids is cached.node_ids:  # the same memories: their ids need no new encoding
            data._cache["node_store"] = cached._cache["node_store"]
        _save(path, data, expect, source)
    return data


def filtered(data: GraphData, filters: Filters, source: Source) -> GraphData:
    """``data`` (unfiltered) with the edges ``filters`` keeps: equal to a filtered read of the store
    (the predicate of :meth:`~.loading.Filters.where`, on the arrays)."""
    keep = ~(data.weight < filters.min_weight)  # a weight that is not a number (NaN) is kept
    if filters.edge_types is not None:
        wanted = [i for i, t in enumerate(data.type_names) if t in filters.edge_types]
        keep &= np.isin(data.etype, np.array(wanted, dtype=data.etype.dtype))
    if filters.as_of is not None:
        keep &= ~data.created_bad & (data.created <= filters.as_of)
    # every edge kept (an as_of after the last edge, as known_at=now gives): the same arrays, no copy
    out = dataclasses.replace(data) if keep.all() else data.subset_edges(keep)
    with source.read() as conn:
        return finish(conn, out)


def clear(db_path: str | None = None) -> int:
    """Remove the cache entry of the store file at ``db_path`` (every entry when None); the count."""
    wait_for_writes()
    return _cachefile.clear(db_path)


def folder() -> str:
    """Where the entries live (see module doc)."""
    return str(_cachefile.cache_dir() / "graph")


def wait_for_writes() -> None:
    """Block until the background cache writes of this process are done."""
    while _writers:
        _writers.pop().join()


# ----- identity and history ---------------------------------------------------------------------
def _identity(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute(schema.IDENTITY_SQL).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _triggers_in_place(conn: sqlite3.Connection) -> bool:
    names = schema.LOG_TRIGGERS
    rows = conn.execute(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' * len(names))})",
        names,
    ).fetchone()
    return bool(rows[0] == len(names))


def _fingerprint(conn: sqlite3.Connection, state: SnapshotState) -> list[Any]:
    """The last log entries a snapshot at ``state`` saw: a store that forked from that history (same
    identity, other writes) holds other rows at those sequence numbers."""
    edge = conn.execute(
        "SELECT edge_id, edge_rowid, op FROM omega_edge_log WHERE seq = ?", (state.log_seq,)
    ).fetchone()
    memory = conn.execute(
        "SELECT memory_rowid, op FROM omega_memory_log WHERE seq = ?", (state.memory_log_seq,)
    ).fetchone()
    return [state.log_seq, None if edge is None else list(edge), state.memory_log_seq,
            None if memory is None else list(memory)]  # fmt: skip


def _history_holds(conn: sqlite3.Connection, fingerprint: list[Any]) -> bool:
    state = SnapshotState(0, int(fingerprint[0]), 0, 0, None, int(fingerprint[2]))
    return _fingerprint(conn, state) == fingerprint


# ----- entry <-> snapshot -----------------------------------------------------------------------
def _save(path: Any, data: GraphData, expect: dict[str, Any], source: Source) -> None:
    """Write ``data`` (and its shared structures, built now if missing) in a background thread."""
    data.prepare()
    data.edge_hashes()
    with source.read() as conn:
        fingerprint = _fingerprint(conn, data.state)

    def write() -> None:  # the arrays are never modified in place, so this thread may read them
        arrays, meta = _to_entry(data, {**expect, "fingerprint": fingerprint})
        if not _cachefile.write(path, arrays, meta):
            _LOG.info("graph cache entry %s not written", path)

    thread = threading.Thread(target=write, name="omega-graph-cache-write")
    thread.start()
    _writers[:] = [t for t in _writers if t.is_alive()] + [thread]


def _to_entry(data: GraphData, expect: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    nodes = data._cache.get("node_store") or StringStore.from_strings(data.node_ids)
    arrays: dict[str, np.ndarray] = {name: getattr(data, name) for name in _COLUMNS}
    edges = data.edge_ids.flat()
    arrays.update(node_ids=nodes.buffer, node_starts=nodes.starts, edge_ids=edges.buffer,
                  edge_starts=edges.starts, ehash=data.edge_hashes())  # fmt: skip
    for side in ("forward", "backward"):
        adj = data._cache[side]
        arrays.update({f"{side}_{k}": getattr(adj, k) for k in _ADJACENCY})
    order, a, b = data._cache["reverse"]
    arrays.update(reverse_order=order, reverse_a=a, reverse_b=b)
    for reverse in (False, True):
        matrix = data._cache.get(f"cost_{reverse}")
        if matrix is not None:
            arrays.update({f"cost_{reverse}_{k}": getattr(matrix, k) for k in ("data", "indices", "indptr")})
    meta = {
        **expect,
        "state": dataclasses.asdict(data.state),
        "type_names": data.type_names,
        "node_ids": [nodes.plain, nodes.sep],
        "edge_ids": [edges.plain, edges.sep],
        "loader": data.loader,
    }
    return arrays, meta


def _from_entry(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GraphData:
    nodes = StringStore(
        arrays["node_ids"], arrays["node_starts"], bool(meta["node_ids"][0]), int(meta["node_ids"][1])
    )
    data = GraphData(
        node_ids=nodes.tolist(),
        edge_ids=StringStore(
            arrays["edge_ids"], arrays["edge_starts"], bool(meta["edge_ids"][0]), int(meta["edge_ids"][1])
        ),
        type_names=list(meta["type_names"]),
        state=SnapshotState(**meta["state"]),
        ehash=arrays["ehash"],
        node_rowid=arrays["node_rowid"], tier=arrays["tier"], importance=arrays["importance"],
        src=arrays["src"], dst=arrays["dst"], weight=arrays["weight"], created=arrays["created"],
        created_bad=arrays["created_bad"], etype=arrays["etype"], erowid=arrays["erowid"], eid=arrays["eid"],
    )  # fmt: skip
    data.loader = "cache"
    data._cache["node_store"] = nodes
    for side in ("forward", "backward"):
        data._cache[side] = Adjacency(*(arrays[f"{side}_{k}"] for k in _ADJACENCY))
    data._cache["reverse"] = (arrays["reverse_order"], arrays["reverse_a"], arrays["reverse_b"])
    for reverse in (False, True):
        if f"cost_{reverse}_data" in arrays:
            data._cache[f"cost_{reverse}"] = data._csr(
                arrays[f"cost_{reverse}_data"],
                arrays[f"cost_{reverse}_indices"],
                arrays[f"cost_{reverse}_indptr"],
            )
    return data
