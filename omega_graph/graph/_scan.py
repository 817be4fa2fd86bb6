"""Bulk read of a store file with DuckDB's SQLite scanner, run as a *child process* of the loader.

Why a child process: DuckDB's SQLite extension carries its own copy of the SQLite library, and
SQLite's file locks on Unix are POSIX locks, which belong to the process. A second SQLite library in
the process that holds the store open does not see that process's locks: opening the WAL file's
``-shm`` it concludes it is the first user and truncates it under the store's mapping (a ``SIGBUS``
crash when the store writes meanwhile; reproduced), and closing its descriptors drops the locks the
store's connections hold. In a child process every lock is seen and kept as SQLite intends.

Protocol: the request is JSON on stdin (``path``, ``extension``, ``where``/``params`` (DuckDB
predicate over ``e``), ``edge_max_rowid``, ``memory_max_rowid``, ``out``). The child hands over two
parts, the memories (in id order; usually first) and the edges (in any order), each as raw array
files in the directory ``out`` (``/dev/shm`` where there is one) with ``<part>.json`` written last
and the part's name printed on stdout; the parent reads the memories while the child scans the
edges, and maps the files rather than copying them. Anything else (no line, a wrong line, a nonzero
exit, an unreadable part) is a failure and the caller reads with sqlite3. The script imports nothing
from omega_graph (a fast start: only numpy and duckdb) and binds no parameters (see :func:`_run`).

Values of the wrong SQLite type (text in ``importance`` or ``weight``, a real in ``tier``) make the
scanner's typed read fail; the table is then read again through ``sqlite_query`` with such values
turned into NULL by SQLite (see :mod:`omega_graph.analytics._typing` for the same technique).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the child runs this file as a script and imports nothing from omega_graph
    from .snapshot import GraphData, SnapshotState

NODES_TYPED = """
SELECT rowid AS mrow, hash(id) AS hid, tier, importance, id
FROM omega_src.memories WHERE rowid <= $max ORDER BY id
"""
NODES_TOLERANT = """
SELECT CAST(mrow AS BIGINT) AS mrow, hash(id) AS hid, TRY_CAST(tier AS BIGINT) AS tier,
       TRY_CAST(importance AS DOUBLE) AS importance, id
FROM sqlite_query('omega_src', 'SELECT rowid AS mrow, id,
    CASE WHEN typeof(tier) = ''integer'' THEN tier END AS tier,
    CASE WHEN typeof(importance) IN (''integer'', ''real'') THEN printf(''%!.17g'', importance) END
        AS importance
    FROM memories WHERE rowid <= {max:d}')
WHERE CAST(mrow AS BIGINT) <= $max ORDER BY id
"""
EDGES_TYPED_SOURCE = "(SELECT rowid AS r, * FROM omega_src.causal_edges WHERE rowid <= $max)"
EDGES_TOLERANT_SOURCE = """(
SELECT CAST(r AS BIGINT) AS r, id, from_memory, to_memory, TRY_CAST(weight AS DOUBLE) AS weight, edge_type,
       TRY_CAST(created_at AS BIGINT) AS created_at
FROM sqlite_query('omega_src', 'SELECT rowid AS r, id, from_memory, to_memory,
    CASE WHEN typeof(weight) IN (''integer'', ''real'') THEN printf(''%!.17g'', weight) END AS weight,
    edge_type, CASE WHEN typeof(created_at) = ''integer'' THEN created_at END AS created_at
    FROM causal_edges WHERE rowid <= {max:d}')
WHERE CAST(r AS BIGINT) <= $max)"""
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
        col = col.astype(np.float64).filled(np.nan)
    return np.ascontiguousarray(col, dtype=np.float64)


def read_nodes(con: Any, req: dict[str, Any]) -> dict[str, Any]:
    """The memories in id order: their arrays and their ids as one text."""
    import numpy as np

    top = int(req["memory_max_rowid"])
    tolerant = NODES_TOLERANT.replace("{max:d}", str(top))
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
            source=EDGES_TOLERANT_SOURCE.replace("{max:d}", str(int(req["edge_max_rowid"]))),
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
    _run(con, IDS_COPY.replace("{path}", _quote(path)))
    if os.path.getsize(path) != int(lengths.sum()) + len(lengths):
        ids = con.execute("SELECT id FROM omega_edges").fetchnumpy()["id"]
        with open(path, "wb") as fh:
            fh.write(b"".join(i.encode("utf-8") + b"\n" for i in ids))
    multiline = con.execute("SELECT count(*) FROM omega_edges WHERE contains(id, chr(10))").fetchone()[0]
    return {"ids_plain": np.array([multiline == 0], dtype=np.uint8)}


def _quote(text: str) -> str:
    return text.replace("'", "''")


# ----- the parent's side ----------------------------------------------------------------------------
def load(path: str, predicate: tuple[str, list[Any]], state: SnapshotState) -> GraphData | None:
    """Read the store file at ``path`` with DuckDB's SQLite scanner in a child process.

    ``predicate`` is the DuckDB edge filter over ``e`` and its ``$p<i>`` parameters. Returns None
    when that is not possible here (no DuckDB or extension, no Python executable, the scanner cannot
    read the file, two memory ids share a 64-bit hash); the caller then reads through sqlite3.

    The child reads the memories and the edges at once and hands the memories over as soon as they
    are read: this process splits the ids and indexes the memories' hashes while the edge scan runs.
    """
    import subprocess
    import tempfile

    where, params = predicate
    try:
        from ..analytics._duck import extension_path

        ext = extension_path()
    except ImportError:
        return None
    if not sys.executable:
        return None
    request = {
        "path": path,
        "extension": None if ext is None else str(ext),
        "where": where,
        "params": params,
        "edge_max_rowid": state.edge_max_rowid,
        "memory_max_rowid": state.memory_max_rowid,
    }
    shm = "/dev/shm"  # memory-backed where there is one: the arrays never touch a disk
    folder = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="omega-graph-", dir=folder) as out:
        request["out"] = out
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*_package_roots(), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        with open(os.path.join(out, "stderr.txt"), "w+b") as err:
            try:
                child = subprocess.Popen(
                    [sys.executable, "-P", os.path.abspath(__file__)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    env=env,
                )
            except OSError:
                return None
            try:
                assert child.stdin is not None
                with child.stdin:
                    child.stdin.write(json.dumps(request).encode())
                return _receive(child, out, state)
            except (_ChildFailed, OSError, ValueError, KeyError) as failure:  # OSError: a pipe or a part
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-1:] or [repr(failure)]
                logging.getLogger(__name__).info(
                    "DuckDB scan of %s failed (%s); reading with sqlite3", path, tail
                )
                return None
            finally:
                if child.poll() is None:  # not needed any more (a hash collision) or failed
                    child.kill()
                child.wait()
                if child.stdout is not None:
                    child.stdout.close()


class _ChildFailed(Exception):
    """The child stopped before handing over a part."""


def _receive(child: Any, out: str, state: SnapshotState) -> GraphData | None:
    """Take the two parts as the child announces them (one line each on its stdout, the memories
    usually first); None on a hash collision between memory ids."""
    nodes: dict[str, Any] | None = None
    seen: set[str] = set()
    while len(seen) < 2:
        line = child.stdout.readline().decode(errors="replace").strip()
        if line not in ("nodes", "edges") or line in seen:
            raise _ChildFailed(line or "no announcement")
        seen.add(line)
        if line == "nodes":
            nodes = _read_nodes(out)
            if nodes is None:
                return None
    if child.wait() != 0:
        raise _ChildFailed("exit")
    assert nodes is not None
    return _assemble(nodes, _read_part(out, "edges"), state, out)


def _package_roots() -> list[str]:
    """Directories holding numpy and duckdb, so the child imports the same ones as this process."""
    import os

    roots: list[str] = []
    for name in ("duckdb", "numpy"):
        module = sys.modules.get(name)
        if module is None:
            module = __import__(name)
        root = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__ or "")))
        if root not in roots:
            roots.append(root)
    return roots


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
    """Write a part's arrays as raw files, its metadata last, and announce it on stdout."""
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
    os.write(sys.stdout.fileno(), f"{part}\n".encode())  # one write: the two threads' lines never mix


def _both_parts(con: Any, req: dict[str, Any]) -> dict[str, Any]:
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
        except BaseException as err:  # noqa: BLE001 - raised again below, in the main thread
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


def main() -> int:
    req = json.load(sys.stdin)
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        if req.get("extension"):
            con.execute(f"LOAD '{_quote(req['extension'])}'")
        else:
            con.execute("LOAD sqlite")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")  # the parent sorts the edges
        con.execute(f"ATTACH '{_quote(req['path'])}' AS omega_src (TYPE sqlite, READ_ONLY)")
        edges = _both_parts(con, req)
    finally:
        con.close()
    _write_part(req["out"], "edges", edges)
    return 0


if __name__ == "__main__":
    status = main()
    os._exit(status)  # everything is written and closed: skip the interpreter's teardown (~0.1 s)
