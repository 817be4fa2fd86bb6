"""The file layer of the persisted graph snapshot cache: named numpy arrays in one validated file.

An entry is disposable: :func:`read` returns ``None`` (and says why) rather than anything doubtful,
and :func:`write` returns ``False`` rather than fail; the SQLite file stays the only truth.

File format (version 1, little-endian)
--------------------------------------
========  ======  ============================================================================
offset    size    content
========  ======  ============================================================================
0         8       magic ``b"OMEGAGC\\x00"``
8         4       format version (u32, :data:`FORMAT_VERSION`)
12        4       header length *H* (u32): JSON header bytes, space-padded so data starts aligned
16        8       file size (u64): the reader refuses a file of any other size (torn, truncated)
24        8       checksum (u64): xxh3_64 of bytes ``[0, 24)`` and ``[32, file size)``
32        *H*     JSON ``{"arrays": {name: {"dtype", "shape", "offset", "nbytes"}}, "checksum":
                  "xxh3_64", "meta": {...}}``; ``dtype`` is numpy's ``dtype.str`` (``"<i8"``)
...               each array's C-order bytes at its ``offset`` (a multiple of 64), zero padding
                  between arrays and after the last one up to a multiple of 64
========  ======  ============================================================================

The checksum covers everything but itself: header, arrays and padding; one flipped bit anywhere is
a refusal. xxh3_64 (package ``xxhash``, which releases the GIL) measured on this machine (2 cores,
400 MiB in the page cache): 26-30 GB/s single-threaded once mapped, 30-50 ms (8-13 GB/s) for a
fresh mapping in a new process (page faults included); 2 threads gain nothing (memory-bound).
Alternatives: ``zlib.crc32`` 4.0 GB/s (6.9 with 2 threads, 120-150 ms fresh), ``zlib.adler32`` 3.2
(6.0), ``hashlib.blake2b`` 0.9 (1.7). So one single-threaded streaming xxh3_64 pass.

Writes go to a temp file in the entry's folder (``.<name>.<pid>.<random>.tmp``), are fsync'ed, then
``os.replace``'d onto the final name and the folder fsync'ed: a reader sees the old entry or the
new, whole one, even across SIGKILL (tested) or power loss (by the fsyncs). Temp files of dead writers, or older than
:data:`STALE_TEMP_SECONDS`, are removed by the next write. Arrays are read-only views of a private
``mmap``; on POSIX a mapping stays valid when the entry is replaced or evicted (the old inode lives
until unmapped). Files are never modified in place (truncating a mapped file would raise SIGBUS).
On Windows, replacing an entry another process has mapped fails: that write returns ``False``.

Examples
--------
>>> import shutil, tempfile
>>> import numpy as np
>>> folder = Path(tempfile.mkdtemp())
>>> path = folder / "graph" / "demo.ogc"
>>> write(path, {"src": np.arange(3, dtype=np.int32)}, {"schema": 1})
True
>>> entry = read(path, expect={"schema": 1})
>>> entry.meta, entry.arrays["src"].tolist(), entry.arrays["src"].flags.writeable
({'schema': 1}, [0, 1, 2], False)
>>> why: list[str] = []
>>> read(path, expect={"schema": 2}, why=why) is None, why
(True, ["meta['schema'] is 1, expected 2"])
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import json
import logging
import math
import mmap
import os
import re
import secrets
import shutil
import stat
import struct
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

import numpy as np
import xxhash

from ..errors import CacheWarning, ValidationError, warn

__all__ = ["CacheEntry", "StrPath", "budget", "cache_dir", "clear", "entry_path", "read", "write"]

log = logging.getLogger(__name__)

StrPath: TypeAlias = "str | os.PathLike[str]"

MAGIC = b"OMEGAGC\x00"
FORMAT_VERSION = 1
#: Arrays start at multiples of this many bytes (a cache line; mmap itself is page-aligned).
ALIGN = 64
#: The budget's upper bound; also see :func:`budget`.
DEFAULT_MAX_BYTES = 4 << 30
#: A temp file this old (seconds) is a dead writer's, whatever its pid says.
STALE_TEMP_SECONDS = 600
SUFFIX = ".ogc"

_PREFIX = struct.Struct("<8sIIQQ")  # magic, version, header length, file size, checksum
_CHECKED = 24  # prefix bytes under the checksum: all but the checksum itself
_CHUNK = 64 << 20
_TEMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")
_DISABLED: dict[str, str] = {}  # entry folder -> why writing there failed, for this process
_LOCK = threading.Lock()


@dataclass(frozen=True)
class CacheEntry:
    """A validated entry: its ``meta`` and its ``arrays`` (read-only, memory-mapped; empty ones not)."""

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


def cache_dir() -> Path:
    """The graph cache's root directory.

    ``$OMEGA_GRAPH_CACHE_DIR`` if set, else the user's cache directory: ``$XDG_CACHE_HOME/omega-graph``
    (an absolute ``XDG_CACHE_HOME`` only) or ``~/.cache/omega-graph`` on Linux and other POSIX,
    ``~/Library/Caches/omega-graph`` on macOS, ``%LOCALAPPDATA%\\omega-graph\\Cache`` on Windows.

    Examples
    --------
    >>> _platform_cache_dir("linux", {"XDG_CACHE_HOME": "/var/xdg"}, Path("/home/u")).as_posix()
    '/var/xdg/omega-graph'
    >>> _platform_cache_dir("darwin", {}, Path("/Users/u")).as_posix()
    '/Users/u/Library/Caches/omega-graph'
    """
    return _platform_cache_dir(sys.platform, os.environ, Path.home())


def _platform_cache_dir(platform: str, env: Mapping[str, str], home: Path) -> Path:
    if env.get("OMEGA_GRAPH_CACHE_DIR"):
        return Path(env["OMEGA_GRAPH_CACHE_DIR"]).expanduser().absolute()
    if platform == "darwin":
        return home / "Library" / "Caches" / "omega-graph"
    if platform == "win32":
        local = env.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "omega-graph" / "Cache"
    xdg = env.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".cache") / "omega-graph"


def entry_path(db_path: StrPath, directory: StrPath | None = None) -> Path:
    """The cache entry of a store file: ``<directory>/graph/<file name>-<hash16>.ogc``.

    ``hash16`` is the first 16 hex digits of the sha256 of the file's resolved absolute path, so
    every spelling of one file (relative, ``..``, symlinks) shares one entry. ``directory`` defaults
    to :func:`cache_dir`.

    Examples
    --------
    >>> p = entry_path("/data/omega.db", directory="/tmp/c")
    >>> p.parent.as_posix(), p.name.startswith("omega.db-"), p.suffix, p == entry_path("/data/../data/omega.db", "/tmp/c")
    ('/tmp/c/graph', True, '.ogc', True)
    """
    resolved = Path(db_path).expanduser().resolve()
    digest = sha256(os.fsencode(resolved)).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", resolved.name).lstrip(".")[:48] or "store"
    root = Path(directory) if directory is not None else cache_dir()
    return root / "graph" / f"{stem}-{digest}{SUFFIX}"


def budget(folder: StrPath) -> int:
    """The byte budget of an entry folder.

    ``$OMEGA_GRAPH_CACHE_MAX_BYTES`` (an integer) if set, else the smaller of
    :data:`DEFAULT_MAX_BYTES` (4 GiB) and a quarter of (free disk + bytes the folder's entries hold).

    Examples
    --------
    >>> 0 < budget(".") <= DEFAULT_MAX_BYTES
    True
    """
    raw = os.environ.get("OMEGA_GRAPH_CACHE_MAX_BYTES", "").strip()
    if raw:
        try:
            return max(0, int(raw))
        except ValueError:
            log.warning("OMEGA_GRAPH_CACHE_MAX_BYTES=%r is not a number of bytes; using the default", raw)
    held = sum(size for _, size, _ in _entries(Path(folder)))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return DEFAULT_MAX_BYTES
    return min(DEFAULT_MAX_BYTES, (free + held) // 4)


def write(path: StrPath, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bool:
    """Write an entry atomically; ``False`` (never an exception) when the cache cannot take it.

    Returns ``False`` without writing when the entry alone exceeds the folder's :func:`budget`,
    and when writing fails (unwritable or uncreatable folder, full disk, file size limit, read-only
    filesystem). A failure removes the temp file, leaves the previous entry at ``path`` untouched
    (it is still valid for what its meta says), emits one :class:`~omega_graph.errors.CacheWarning`
    for the folder and disables writing there for the rest of the process. After a write, entries
    least recently used (mtime; :func:`read` touches) are evicted until the folder fits its budget.

    Raises
    ------
    ValidationError
        A programming error, whatever the disk: ``meta`` is not JSON (or holds NaN), a name is not
        a non-empty str, an array holds objects or structured records.
    """
    path = Path(path)
    folder = path.parent
    header, items, total = _layout(arrays, meta)
    if str(folder.absolute()) in _DISABLED:
        return False
    tmp: Path | None = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # others cannot plant entries
        limit = budget(folder)
        if total > limit:
            log.info("graph cache entry %s not written: %d bytes exceed the budget of %d", path, total, limit)
            return False
        _remove_stale_temps(folder)
        tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "xb") as f:
            digest = _write_body(f, header, items, total)
            f.seek(_CHECKED)
            f.write(struct.pack("<Q", digest))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(folder)
    except OSError as exc:
        _disable(folder, exc)
        return False
    finally:
        if tmp is not None:
            with suppress(OSError):
                tmp.unlink()
    _evict(folder, limit, keep=path)
    return True


def read(
    path: StrPath, expect: Mapping[str, object] | None = None, why: list[str] | None = None
) -> CacheEntry | None:
    """The entry at ``path`` if it is whole, of this format and matches ``expect``; else ``None``.

    Never raises. Refused (``None``): a missing file or a directory, wrong magic, another format
    version, a size other than the prefix says (truncated, torn, appended to), a checksum mismatch,
    a header that is not JSON of the expected shape, arrays outside the file or misaligned, or an
    ``expect`` item (compared after a JSON round trip, so tuples equal lists) unequal to ``meta``'s.
    The reason is logged (DEBUG for a missing file, INFO otherwise) and appended to ``why``. A
    successful read touches the file's mtime (the LRU clock of eviction).
    """
    path = Path(path)
    try:
        result = _open(path, expect)
    except Exception as exc:  # a cache never fails its caller; the reason says what happened
        result = f"unreadable: {exc!r}"
    if isinstance(result, str):
        level = logging.DEBUG if result.startswith("missing") else logging.INFO
        log.log(level, "graph cache entry %s refused: %s", path, result)
        if why is not None:
            why.append(result)
        return None
    with suppress(OSError):
        os.utime(path)
    return result


def clear(db_path: StrPath | None = None, directory: StrPath | None = None) -> int:
    """Remove the entry of one store file, or every entry when ``db_path`` is None; the count removed.

    Never fails: missing files and folders count zero. ``directory`` defaults to :func:`cache_dir`.

    Examples
    --------
    >>> import tempfile
    >>> clear("/data/omega.db", directory=tempfile.mkdtemp()), clear(directory="/nonexistent")
    (0, 0)
    """
    if db_path is not None:
        targets = [entry_path(db_path, directory)]
    else:
        root = Path(directory) if directory is not None else cache_dir()
        targets = [p for _, _, p in _entries(root / "graph")]
    removed = 0
    for p in targets:
        with suppress(OSError):
            p.unlink()
            removed += 1
    return removed


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _layout(
    arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]
) -> tuple[bytes, list[tuple[str, np.ndarray]], int]:
    """The padded JSON header, the arrays to write and the file size."""
    try:
        meta_json = json.loads(json.dumps(dict(meta), allow_nan=False))
    except (TypeError, ValueError) as err:
        raise ValidationError("graph cache entry", "meta", meta, "JSON values, no NaN") from err
    items = []
    for name, value in arrays.items():
        arr = np.asarray(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        if not isinstance(name, str) or not name:
            raise ValidationError("graph cache entry", "arrays", name, "non-empty str names")
        if arr.dtype.hasobject or arr.dtype.fields is not None or arr.dtype.itemsize == 0:
            raise ValidationError("graph cache entry", f"arrays[{name!r}]", arr.dtype, "a plain dtype")
        items.append((name, arr))
    start, data_start, pos, header = -1, _align(_PREFIX.size), 0, b""
    while start != data_start:  # offsets grow with the header: a few rounds reach the fixed point
        start = pos = data_start
        specs: dict[str, dict[str, Any]] = {}
        for name, arr in items:
            specs[name] = dict(dtype=arr.dtype.str, shape=list(arr.shape), offset=pos, nbytes=arr.nbytes)
            pos = _align(pos + arr.nbytes)
        doc = {"arrays": specs, "checksum": "xxh3_64", "meta": meta_json}
        header = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        data_start = _align(_PREFIX.size + len(header))
    return header.ljust(data_start - _PREFIX.size), items, pos


def _write_body(f: BinaryIO, header: bytes, items: list[tuple[str, np.ndarray]], total: int) -> int:
    """Write prefix (checksum 0), header, arrays and padding; return the checksum."""
    h = xxhash.xxh3_64()
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), total, 0)
    h.update(prefix[:_CHECKED])
    f.write(prefix)
    f.write(header)
    h.update(header)
    pos = _PREFIX.size + len(header)
    for _, arr in items:
        with arr.reshape(-1).view(np.uint8).data as flat:
            for i in range(0, flat.nbytes, _CHUNK):
                f.write(flat[i : i + _CHUNK])
                h.update(flat[i : i + _CHUNK])
        pos += arr.nbytes
        pad = bytes(_align(pos) - pos)
        f.write(pad)
        h.update(pad)
        pos += len(pad)
    return h.intdigest()


def _digest(mm: mmap.mmap) -> int:
    h = xxhash.xxh3_64()
    with memoryview(mm) as whole, whole[:_CHECKED] as head, whole[_PREFIX.size :] as body:
        h.update(head)
        h.update(body)
    return h.intdigest()


def _open(path: Path, expect: Mapping[str, object] | None) -> CacheEntry | str:
    """The entry, or why not."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block
    try:
        f = os.fdopen(os.open(path, flags), "rb")
    except FileNotFoundError:
        return "missing: no file"
    except IsADirectoryError:  # Linux opens folders; others may refuse them
        return "not a regular file"
    with f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        head = f.read(_PREFIX.size)
        if not MAGIC.startswith(head[: len(MAGIC)]):
            return "wrong magic: not a graph cache file"
        if len(head) < _PREFIX.size:
            return f"truncated: {len(head)} bytes, shorter than the {_PREFIX.size}-byte prefix"
        _, version, hlen, size, checksum = _PREFIX.unpack(head)
        if version != FORMAT_VERSION:
            return f"format version {version}, this reader reads {FORMAT_VERSION}"
        if st.st_size != size:
            what = "truncated" if st.st_size < size else "size mismatch"
            return f"{what}: {st.st_size} bytes, the prefix says {size}"
        if _PREFIX.size + hlen > size:
            return f"header length {hlen} out of bounds"
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if _digest(mm) != checksum:
        mm.close()
        return "checksum mismatch: corrupted bytes"
    result = _entry(path, mm, hlen, expect)
    if isinstance(result, str):
        mm.close()
    return result


def _entry(path: Path, mm: mmap.mmap, hlen: int, expect: Mapping[str, object] | None) -> CacheEntry | str:
    try:
        doc = json.loads(mm[_PREFIX.size : _PREFIX.size + hlen])
    except ValueError as err:
        return f"header is not JSON: {err}"
    if not isinstance(doc, dict) or doc.get("checksum") != "xxh3_64":
        return "header is not an object naming checksum xxh3_64"
    meta, specs = doc.get("meta"), doc.get("arrays")
    if not isinstance(meta, dict) or not isinstance(specs, dict):
        return "header lacks its meta or arrays object"
    layout = []
    for name, spec in specs.items():
        parsed = _parse_spec(spec, _PREFIX.size + hlen, len(mm))
        if isinstance(parsed, str):
            return f"array {name!r}: {parsed}"
        layout.append((name, *parsed))
    if expect:
        try:
            wanted = json.loads(json.dumps(dict(expect)))
        except (TypeError, ValueError):
            return f"expect is not JSON: {expect!r}"
        for key, value in wanted.items():
            if key not in meta or meta[key] != value:
                return f"meta[{key!r}] is {meta.get(key, '<missing>')!r}, expected {value!r}"
    arrays: dict[str, np.ndarray] = {}
    for name, dtype, shape, offset, count in layout:
        if count == 0:
            arrays[name] = np.empty(shape, dtype)
            arrays[name].flags.writeable = False
        else:
            arrays[name] = np.frombuffer(mm, dtype, count, offset).reshape(shape)
    return CacheEntry(path, meta, arrays)


def _parse_spec(
    spec: object, data_start: int, size: int
) -> tuple[np.dtype[Any], tuple[int, ...], int, int] | str:
    """An array's (dtype, shape, offset, element count), or why its description is unusable."""
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str):
        return "description lacks a dtype"
    try:
        dtype = np.dtype(spec["dtype"])
    except (TypeError, ValueError):
        return f"unknown dtype {spec['dtype']!r}"
    if dtype.hasobject or dtype.fields is not None or dtype.itemsize == 0:
        return f"dtype {spec['dtype']!r} cannot be mapped"
    shape, offset, nbytes = spec.get("shape"), spec.get("offset", -1), spec.get("nbytes", -1)
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in [*shape, offset, nbytes]):
        return "shape, offset and nbytes must be non-negative integers"
    count = math.prod(shape)
    if nbytes != count * dtype.itemsize:
        return f"nbytes {nbytes} is not {count} x {dtype.itemsize}"
    if offset % ALIGN or offset < data_start or offset + nbytes > size:
        return f"bytes [{offset}, {offset + nbytes}) misaligned or outside the data [{data_start}, {size})"
    return dtype, tuple(shape), offset, count


def _entries(folder: Path) -> list[tuple[int, int, Path]]:
    """The folder's entries as (mtime_ns, size, path), oldest first; none if it is unreadable."""
    found = []
    with suppress(OSError):
        for p in folder.iterdir():
            with suppress(OSError):
                st = p.stat()
                if p.suffix == SUFFIX and stat.S_ISREG(st.st_mode):
                    found.append((st.st_mtime_ns, st.st_size, p))
    return sorted(found)


def _evict(folder: Path, limit: int, keep: Path) -> None:
    entries = _entries(folder)
    held = sum(size for _, size, _ in entries)
    for _, size, p in entries:
        if held <= limit:
            break
        if p == keep:
            continue
        try:
            p.unlink()
        except FileNotFoundError:
            pass  # another process evicted it
        except OSError:
            continue
        log.debug("graph cache entry %s evicted (%d bytes)", p, size)
        held -= size


def _pid_alive(pid: int) -> bool:
    if os.name == "nt" or pid == os.getpid():  # on Windows os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, as another user
        pass
    return True


def _remove_stale_temps(folder: Path) -> None:
    now = time.time()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TEMP.match(name)
        p = folder / name
        with suppress(OSError):
            if match and (now - p.stat().st_mtime > STALE_TEMP_SECONDS or not _pid_alive(int(match[1]))):
                p.unlink()


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; Windows and some filesystems cannot fsync a folder, which is fine."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _disable(folder: Path, exc: OSError) -> None:
    key = str(folder.absolute())
    with _LOCK:
        first = key not in _DISABLED
        _DISABLED[key] = str(exc)
    log.info("graph cache write in %s failed: %s", key, exc)
    if first:
        hint = "set OMEGA_GRAPH_CACHE_DIR to a writable directory, or pass cache=False"
        warn(CacheWarning(f"graph cache disabled for {key}: {exc}; {hint}"))
