"""Bulk read of a store file with DuckDB's SQLite scanner, run in the store's DuckDB worker process.

Why another process: DuckDB's own SQLite library must never open a file this process holds through
sqlite3 (see :mod:`omega_graph.duck._worker`). The scan runs as a handler of the store's worker
(:func:`omega_graph.duck.store_worker`; this file is loaded there by path, without its package, so
only numpy and duckdb are imported) on a fresh DuckDB connection of its own.

Protocol: the request (``path``, ``extension``, ``where``/``params`` (DuckDB predicate over ``e``),
``edge_max_rowid``, ``memory_max_rowid``, ``out``) goes to :func:`scan`. It hands over two parts,
the memories (in id order; usually first) and the edges (in any order), each as raw array files in
the scratch directory ``out`` (``/dev/shm`` where there is one) with ``<part>.json`` written last:
the memories are announced as they are ready (an emitted ``"nodes"``), the edges by the result. The
parent reads the memories while the worker scans the edges, and maps the files rather than copying
them. Any failure (the worker's error, its death, an unreadable part) means the caller reads with
sqlite3. No parameters are bound (see :func:`_run`).

Values of the wrong SQLite type (text in ``importance`` or ``weight``, a real in ``tier``) make the
scanner's typed read fail; the table is then read again through ``sqlite_query`` with such values
turned into NULL by SQLite (:func:`omega_graph.duck.tolerant_select`, the rule every reader uses).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omega_graph.duck._sql import ANY, ROWID, quote, tolerant_select  # absolute: loaded by path there

if TYPE_CHECKING:  # the worker loads this file alone; the graph package is the parent's
    from omega_graph.duck import Worker

    from .snapshot import GraphData, SnapshotState

NODES_TYPED = """
SELECT rowid AS mrow, hash(id) AS hid, tier, importance, id
FROM omega_src.memories WHERE rowid <= $max ORDER BY id
"""


def nodes_tolerant(top: int) -> str:
    """:data:`NODES_TYPED` for a file with values of the wrong type (read as NULL)."""
    src = tolerant_select(
        "memories", [("rowid", ROWID, "mrow"), ("id", ANY), ("tier", "BIGINT"), ("importance", "DOUBLE")],
        where=f"rowid <= {int(top)}", database="omega_src",
    )  # fmt: skip
    return f"SELECT mrow, hash(id) AS hid, tier, importance, id FROM ({src}) WHERE mrow <= $max ORDER BY id"


EDGES_TYPED_SOURCE = "(SELECT rowid AS r, * FROM omega_src.causal_edges WHERE rowid <= $max)"
_EDGE_COLUMNS: list[tuple[str, str] | tuple[str, str, str]] = [
    ("rowid", ROWID, "r"), ("id", ANY), ("from_memory", ANY), ("to_memory", ANY), ("weight", "DOUBLE"),
    ("edge_type", ANY), ("created_at", "BIGINT"),
]  # fmt: skip


def edges_tolerant_source(top: int) -> str:
    """:data:`EDGES_TYPED_SOURCE` for a file with values of the wrong type (read as NULL)."""
    src = tolerant_select("causal_edges", _EDGE_COLUMNS, where=f"rowid <= {int(top)}", database="omega_src")
    return f"({src})"


# One pass over the edges, materialised in parallel; of the text only the edge ids and the type names
# leave DuckDB: both endpoints become 64-bit hashes (the parent maps endpoint hashes to node indices).
EDGES = """
CREATE TEMP TABLE omega_edges AS
SELECT e.r AS r, hash(e.id) AS h, hash(e.from_memory) AS hf, hash(e.to_memory) AS ht, e.weight AS w,
       e.created_at AS c, hash(e.edge_type) AS th, e.id AS id
FROM {source} e
WHERE {where}
"""
# The edge types' names: one row per type hash (the earliest), its text read back by rowid in SQLite.
TYPE_ROWS = "SELECT th, min(r) AS r FROM omega_edges GROUP BY th ORDER BY r"
TYPE_NAMES = "SELECT r, edge_type, hash(edge_type) AS th FROM sqlite_query('omega_src', $sql)"
#: More edge types than this: read their names with one scan instead of by rowid.
MAX_TYPE_LOOKUPS = 500
SEPARATOR = "\x1f"
#: Sentinel for an integer that was not stored as an integer (mirrors snapshot.MISSING_INT).
MISSING_INT = -(2**63)


def _run(con: Any, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Execute ``sql`` with ``$name`` parameters written into it as literals.

    DuckDB's Python client imports pandas to inspect bound parameters (~0.4 s of a cold start); the
    values here are plain ints, floats and strings, so literals do. A string holding NUL is bound.
    """
    if not params:
        return con.execute(sql)
    if any(isinstance(v, str) and "\x00" in v for v in params.values()):
        return con.execute(sql, params)

    def literal(match: re.Match[str]) -> str:
        value = params[match.group(1)]
        if isinstance(value, bool) or value is None:
            raise TypeError(f"unexpected parameter {value!r}")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return f"CAST('{value!r}' AS DOUBLE)"  # repr round-trips, 'inf' included
        return "'" + str(value).replace("'", "''") + "'"

    return con.execute(re.sub(r"\$(\w+)", literal, sql))


def _typed_or_tolerant(con: Any, typed: str, tolerant: str, params: dict[str, Any], fetch: bool) -> Any:
    """Run ``typed``; on a value of the wrong type run ``tolerant``. Returns the arrays when ``fetch``."""
    import duckdb

    try:
        cur = _run(con, typed, params)
    except (duckdb.TypeMismatchException, duckdb.ConversionException):
        cur = _run(con, tolerant, params)
    return cur.fetchnumpy() if fetch else None


def _type_names(con: Any, req: dict[str, Any]) -> dict[str, int]:
    """``{edge type: its hash}`` for the types of ``omega_edges``."""
    rows = con.execute(TYPE_ROWS).fetchall()
    if len(rows) > MAX_TYPE_LOOKUPS:
        sql = f"SELECT DISTINCT edge_type FROM causal_edges WHERE rowid <= {int(req['edge_max_rowid'])}"
        found = _run(
            con, "SELECT edge_type, hash(edge_type) FROM sqlite_query('omega_src', $sql)", {"sql": sql}
        )
        wanted = {th for th, _ in rows}
        names = {t: h for t, h in found.fetchall() if h in wanted}
    else:
        rowids = ", ".join(str(int(r)) for _, r in rows) or "NULL"
        sql = f"SELECT rowid AS r, edge_type FROM causal_edges WHERE rowid IN ({rowids})"
        names = {t: h for _, t, h in _run(con, TYPE_NAMES, {"sql": sql}).fetchall()}
    if set(names.values()) != {th for th, _ in rows}:  # a row changed meanwhile: sqlite3 reads instead
        raise RuntimeError("edge types changed during the scan")
    return names


def _ints(arrays: dict[str, Any], name: str, dtype: Any) -> Any:
    import numpy as np

    col = arrays[name]
    if np.ma.isMaskedArray(col):  # NULL (tolerant read: a value of the wrong type)
        col = col.filled(MISSING_INT)
    return np.ascontiguousarray(col, dtype=dtype)


def _floats(arrays: dict[str, Any], name: str) -> Any:
    import numpy as np

    col = arrays[name]
    if np.ma.isMaskedArray(col):
        col = np.ma.filled(np.ma.asarray(col).astype(np.float64), np.nan)
    return np.ascontiguousarray(col, dtype=np.float64)


def read_nodes(con: Any, req: dict[str, Any]) -> dict[str, Any]:
    """The memories in id order: their arrays and their ids as one text."""
    import numpy as np

    top = int(req["memory_max_rowid"])
    tolerant = nodes_tolerant(top)
    nodes = _typed_or_tolerant(con, NODES_TYPED, tolerant, {"max": top}, True)
    ids = nodes["id"].tolist()
    try:
        text = SEPARATOR.join(ids)
        as_json = text.count(SEPARATOR) != max(len(ids) - 1, 0)  # an id holds the separator
    except TypeError:  # an id that is not text
        as_json = True
    if as_json:
        text = json.dumps(ids)
    return {
        "arrays": {
            "mrow": _ints(nodes, "mrow", np.int64),
            "hid": np.ascontiguousarray(nodes["hid"], dtype=np.uint64),
            "tier": _ints(nodes, "tier", np.int64),
            "importance": _floats(nodes, "importance"),
        },
        "ids": text,
        "ids_json": as_json,
        "n_nodes": len(ids),
    }


def read_edges(con: Any, req: dict[str, Any]) -> dict[str, Any]:
    """The kept edges in any order: their arrays (endpoints as hashes) and the edge types' names."""
    import numpy as np

    params = {"max": req["edge_max_rowid"], **{f"p{i}": v for i, v in enumerate(req["params"])}}
    _typed_or_tolerant(
        con,
        EDGES.format(source=EDGES_TYPED_SOURCE, where=req["where"]),
        EDGES.format(
            source=edges_tolerant_source(int(req["edge_max_rowid"])),
            where=req["where"],
        ),
        params,
        False,
    )
    names_of = _type_names(con, req)
    con.execute("SET preserve_insertion_order = true")  # the reads below see the table in one order
    e = con.execute("SELECT hf, ht, w, c, r, h, th, strlen(id) AS l FROM omega_edges").fetchnumpy()
    ids = _write_ids(con, req["out"], np.asarray(e["l"], dtype=np.int64))
    con.execute("DROP TABLE omega_edges")
    names = sorted(names_of)
    name_hash = np.array([names_of[t] for t in names], dtype=np.uint64)
    by_hash = np.argsort(name_hash)
    th = np.asarray(e["th"], dtype=np.uint64)
    code = by_hash[np.searchsorted(name_hash[by_hash], th)] if len(names) else np.zeros(0, np.int64)
    return {
        "arrays": {
            "hf": np.ascontiguousarray(e["hf"], dtype=np.uint64),
            "ht": np.ascontiguousarray(e["ht"], dtype=np.uint64),
            "w": _floats(e, "w"),
            "c": _ints(e, "c", np.int64),
            "c_bad": np.ascontiguousarray(np.ma.getmaskarray(e["c"]), dtype=bool),
            "r": _ints(e, "r", np.int64),
            "h": np.ascontiguousarray(e["h"], dtype=np.uint64),
            "code": np.ascontiguousarray(code, dtype=np.int16),
            "id_lengths": np.asarray(e["l"], dtype=np.int64),
            **ids,
        },
        "type_names": names,
    }


#: DuckDB writes the edge ids one per line, unquoted: no Python string is made for them.
IDS_COPY = (
    "COPY (SELECT id FROM omega_edges) TO '{path}' "
    "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')"
)


def _write_ids(con: Any, out: str, lengths: Any) -> dict[str, Any]:
    """The edge ids, in the table's order, as the file ``ids_edges.bin``: each id's UTF-8 bytes and a
    newline. Checked against the ids' byte lengths; when DuckDB wrote anything else (a quoted or
    escaped id), the ids are fetched and written by this process instead. Returns the part's extra
    arrays: ``ids_plain`` (1 when no id holds a newline)."""
    import numpy as np

    path = os.path.join(out, "ids_edges.bin")
    _run(con, IDS_COPY.replace("{path}", quote(path)))
    if os.path.getsize(path) != int(lengths.sum()) + len(lengths):
        ids = con.execute("SELECT id FROM omega_edges").fetchnumpy()["id"]
        with open(path, "wb") as fh:
            fh.write(b"".join(i.encode("utf-8") + b"\n" for i in ids))
    multiline = con.execute("SELECT count(*) FROM omega_edges WHERE contains(id, chr(10))").fetchone()[0]
    return {"ids_plain": np.array([multiline == 0], dtype=np.uint8)}


# ----- the parent's side ----------------------------------------------------------------------------
class _Collision(Exception):
    """Two memory ids share a 64-bit hash: sqlite3 must compare the text."""


def load(
    worker: Worker, path: str, predicate: tuple[str, list[Any]], state: SnapshotState
) -> GraphData | None:
    """Read the store file at ``path`` with DuckDB's SQLite scanner in the store's ``worker``.

    ``predicate`` is the DuckDB edge filter over ``e`` and its ``$p<i>`` parameters. Returns None
    when that is not possible here (no DuckDB or extension, the worker fails or cannot read the
    file, two memory ids share a 64-bit hash); the caller then reads through sqlite3.

    The worker reads the memories and the edges at once and hands the memories over as soon as they
    are read: this process splits the ids and indexes the memories' hashes while the edge scan runs.
    """
    from omega_graph.duck import WorkerError, extension_path

    where, params = predicate
    try:
        ext = extension_path()
    except ImportError:
        return None
    with worker.scratch() as out:
        request = {
            "path": path,
            "extension": None if ext is None else str(ext),
            "where": where,
            "params": params,
            "edge_max_rowid": state.edge_max_rowid,
            "memory_max_rowid": state.memory_max_rowid,
            "out": out,
        }
        nodes: list[dict[str, Any]] = []

        def take(part: Any) -> None:
            if part != "nodes" or nodes:
                raise ValueError(f"unexpected part {part!r}")
            got = _read_nodes(out)
            if got is None:
                raise _Collision
            nodes.append(got)

        try:
            part = worker.call(
                f"{os.path.abspath(__file__)}:scan", request, on_part=take, what="the graph scan"
            )
            if part != "edges" or not nodes:
                raise ValueError(f"unexpected result {part!r}")
            return _assemble(nodes[0], _read_part(out, "edges"), state, out)
        except _Collision:
            return None
        except (WorkerError, OSError, ValueError, KeyError) as failure:  # OSError: a part's files
            logging.getLogger(__name__).info(
                "DuckDB scan of %s failed (%s); reading with sqlite3", path, failure
            )
            return None


def _read_part(out: str, part: str) -> dict[str, Any]:
    """The metadata of one part, with its arrays under ``"arrays"``."""
    import numpy as np

    with open(os.path.join(out, f"{part}.json"), encoding="utf-8") as fh:
        meta = json.load(fh)
    meta["arrays"] = {
        name: _map(os.path.join(out, f"{name}.bin"), np.dtype(dtype), count)
        for name, (dtype, count) in meta.pop("dtypes").items()
    }
    return meta


def _map(path: str, dtype: Any, count: int) -> Any:
    """The file's array, mapped rather than copied (read-only; every caller derives new arrays)."""
    import numpy as np

    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(np.memmap(path, dtype=dtype, mode="r", shape=(count,)), dtype=dtype)


def _read_nodes(out: str) -> dict[str, Any] | None:
    """The memories part with ``node_ids`` and ``index`` (hash -> node), or None on a hash collision."""
    import pandas as pd

    meta = _read_part(out, "nodes")
    with open(os.path.join(out, "ids.txt"), encoding="utf-8", newline="") as fh:
        text = fh.read()
    n = meta["n_nodes"]
    meta["node_ids"] = json.loads(text) if meta["ids_json"] else (text.split(SEPARATOR) if n else [])
    index = pd.Index(meta["arrays"]["hid"])
    if not index.is_unique:  # two memory ids with one 64-bit hash: let sqlite3 compare the text
        return None
    meta["index"] = index  # is_unique built its hash table: the lookups below only probe it
    return meta


def _assemble(nodes: dict[str, Any], edges: dict[str, Any], state: SnapshotState, out: str) -> GraphData:
    """The two parts as a :class:`GraphData` in canonical edge order.

    Endpoint hashes become node indices in two threads (the lookups release the GIL); an endpoint
    that is no memory (foreign keys off) drops its edge.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from ._strings import StringStore
    from .snapshot import GraphData

    arrays, index = edges["arrays"], nodes["index"]
    lengths, plain = arrays.pop("id_lengths"), bool(arrays.pop("ids_plain")[0])
    ids = _map(os.path.join(out, "ids_edges.bin"), np.dtype(np.uint8), int(lengths.sum()) + len(lengths))
    store = StringStore.from_lengths(ids, lengths, sep=0x0A, plain=plain)
    with ThreadPoolExecutor(2) as pool:
        src, dst = pool.map(index.get_indexer, (arrays["hf"], arrays["ht"]))
    keep = (src >= 0) & (dst >= 0)
    eid = np.arange(len(keep), dtype=np.int32 if len(keep) < 2**31 else np.int64)
    if not keep.all():
        arrays = {k: v[keep] for k, v in arrays.items()}
        src, dst, eid = src[keep], dst[keep], eid[keep]
    n = nodes["arrays"]
    data = GraphData(
        node_ids=nodes["node_ids"],
        node_rowid=n["mrow"].copy(),
        tier=n["tier"].copy(),
        importance=n["importance"].copy(),
        src=src.astype(np.int32),
        dst=dst.astype(np.int32),
        weight=arrays["w"],
        created=arrays["c"],
        created_bad=arrays["c_bad"],
        etype=arrays["code"],
        erowid=arrays["r"],
        eid=eid,
        edge_ids=store,  # mapped: the file's pages stay when the folder is removed
        type_names=edges["type_names"],
        state=state,
        ehash=arrays["h"],
    )
    data.loader = "duckdb"
    return data.sorted_edges()  # its gathers copy the mapped edge arrays


# ----- the child's side -----------------------------------------------------------------------------
def _write_part(folder: str, part: str, got: dict[str, Any]) -> None:
    """Write a part's arrays as raw files, its metadata last."""
    dtypes = {}
    for name, arr in got.pop("arrays").items():
        arr.tofile(os.path.join(folder, f"{name}.bin"))
        dtypes[name] = [arr.dtype.str, len(arr)]
    if "ids" in got:
        with open(os.path.join(folder, "ids.txt"), "w", encoding="utf-8", newline="") as fh:
            fh.write(got.pop("ids"))
    got["dtypes"] = dtypes
    with open(os.path.join(folder, f"{part}.json"), "w", encoding="utf-8") as fh:
        json.dump(got, fh)


def _both_parts(con: Any, req: dict[str, Any], emit: Callable[[Any], None]) -> dict[str, Any]:
    """Hand over the memories from a second thread while this one scans the edges; return the edges.

    Both reads run at once on their own cursors (DuckDB releases the GIL), so the memories' sort
    fills the cores the edge scan leaves idle; the parent takes the memories as soon as they come.
    """
    import threading

    failed: list[BaseException] = []
    cursor = con.cursor()

    def nodes() -> None:
        try:
            _write_part(req["out"], "nodes", read_nodes(cursor, req))
            emit("nodes")
        except BaseException as err:
            failed.append(err)

    worker = threading.Thread(target=nodes)
    worker.start()
    try:
        edges = read_edges(con, req)
    finally:
        worker.join()
        cursor.close()
    if failed:
        raise failed[0]
    return edges


def scan(req: dict[str, Any], emit: Callable[[Any], None]) -> str:
    """The worker's handler: both parts written to ``req["out"]``, the memories emitted as ``"nodes"``."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        if req.get("extension"):
            con.execute(f"LOAD '{quote(req['extension'])}'")
        else:
            con.execute("LOAD sqlite")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")  # the parent sorts the edges
        con.execute(f"ATTACH '{quote(req['path'])}' AS omega_src (TYPE sqlite, READ_ONLY)")
        edges = _both_parts(con, req, emit)
    finally:
        con.close()
    _write_part(req["out"], "edges", edges)
    return "edges"
