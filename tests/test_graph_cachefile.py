"""The graph cache's file layer: round trips, every way an entry is refused (and why), atomic writes
under SIGKILL, full and unwritable disks, the byte budget, the location rules, clear().

Everything is real: files under ``tmp_path``, real child processes killed with SIGKILL, real file
size limits (RLIMIT_FSIZE) in forked children.
"""

from __future__ import annotations

import json
import logging
import mmap
import multiprocessing
import os
import random
import re
import signal
import sqlite3
import struct
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from omega_graph.errors import CacheWarning, ValidationError
from omega_graph.graph import _cachefile as cf

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork, signals and RLIMIT_FSIZE")

#: Arrays shaped like a snapshot's: every dtype it uses, an empty one and a one-element one.
SNAPSHOT: dict[str, np.ndarray] = {
    "src": np.arange(1000, dtype=np.int32),
    "dst": np.arange(1000, dtype=np.int32)[::-1].copy(),
    "weight": np.linspace(0.0, 1.0, 1000),
    "tier": np.arange(1000, dtype=np.int16) % 12,
    "etype": (np.arange(1000) % 3).astype(np.uint8),
    "ehash": np.arange(1000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15),
    "erowid": np.arange(1000, dtype=np.int64) - 500,
    "empty": np.empty(0, dtype=np.int64),
    "one": np.array([7], dtype=np.int16),
}
META: dict[str, Any] = {"schema": 3, "store": {"path": "/x/omega.db", "size": 123}, "state": [1, 2, 3]}
PREFIX = struct.Struct("<8sIIQQ")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """No folder disabled by an earlier test, no budget or location override from the environment."""
    monkeypatch.setattr(cf, "_DISABLED", {})
    monkeypatch.delenv("OMEGA_GRAPH_CACHE_MAX_BYTES", raising=False)
    monkeypatch.delenv("OMEGA_GRAPH_CACHE_DIR", raising=False)


@pytest.fixture
def entry(tmp_path: Path) -> Path:
    """A good entry holding SNAPSHOT and META."""
    path = tmp_path / "graph" / "e.ogc"
    assert cf.write(path, SNAPSHOT, META)
    return path


def layout(path: Path) -> tuple[int, dict[str, Any], int]:
    """(header length, header JSON, file size) of an entry, read with the standard library only."""
    raw = path.read_bytes()
    _, _, hlen, _, _ = PREFIX.unpack_from(raw)
    return hlen, json.loads(raw[PREFIX.size : PREFIX.size + hlen]), len(raw)


def reseal(raw: bytearray) -> bytearray:
    """Recompute the checksum after a deliberate edit, so only the edit itself is under test."""
    h = xxhash.xxh3_64()
    h.update(raw[:24])
    h.update(raw[PREFIX.size :])
    raw[24:32] = struct.pack("<Q", h.intdigest())
    return raw


def refused(path: Path, expect: dict[str, object] | None = None) -> str:
    """Assert that ``read`` refuses the file; return its one reason."""
    why: list[str] = []
    assert cf.read(path, expect, why) is None
    assert len(why) == 1
    return why[0]


def mapped(a: np.ndarray) -> bool:
    """Whether the array's memory is a view of an mmap (not a copy)."""
    base: object = a
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def versioned(k: int, n: int) -> dict[str, np.ndarray]:
    """Version ``k`` of an entry: every version's bytes differ everywhere."""
    return {"a": np.full(n, k, dtype=np.int64), "b": np.arange(n, dtype=np.float64) + k / 7}


def assert_version(e: cf.CacheEntry | None, n: int) -> int:
    assert e is not None
    k = e.meta["version"]
    for name, want in versioned(k, n).items():
        np.testing.assert_array_equal(e.arrays[name], want, err_msg=name)
    return int(k)


def in_child(fn: Callable[[], object]) -> Any:
    """Run ``fn`` in a forked child and return its result (the parent's state stays untouched)."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def main() -> None:
        try:
            sender.send(("ok", fn()))
        except BaseException as exc:
            sender.send(("error", repr(exc)))

    proc = ctx.Process(target=main)
    proc.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        proc.join()
        pytest.fail(f"the child died with exit code {proc.exitcode}")
    proc.join()
    assert status == "ok", value
    return value


def cache_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, CacheWarning)]


def temp_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.tmp"))


# -- round trips ------------------------------------------------------------------------------------

DTYPES = ["<i2", "<i4", "<i8", "|u1", "<u8", "<f8", "|b1"]
any_array = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=6))
)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arrays=st.dictionaries(st.text(min_size=1, max_size=8), any_array, max_size=5),
    meta=st.dictionaries(st.text(max_size=8), json_value, max_size=4),
)
def test_round_trip_returns_equal_mapped_read_only_arrays(
    tmp_path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    path = tmp_path / "graph" / "rt.ogc"
    assert cf.write(path, arrays, meta)
    e = cf.read(path)
    assert e is not None and e.meta == meta and e.arrays.keys() == arrays.keys()
    for name, want in arrays.items():
        got = e.arrays[name]
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        np.testing.assert_array_equal(got, want)
        assert not got.flags.writeable
        if got.size:
            assert mapped(got) and got.ctypes.data % cf.ALIGN == 0


@pytest.mark.parametrize("name", list(SNAPSHOT))
def test_snapshot_dtypes_come_back_mapped(entry: Path, name: str) -> None:
    e = cf.read(entry)
    assert e is not None and e.meta == META
    got, want = e.arrays[name], SNAPSHOT[name]
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    assert mapped(got) == (want.size > 0)
    with pytest.raises(ValueError, match="read-only"):
        got[...] = 0


def test_other_layouts_and_dtypes_round_trip(tmp_path: Path) -> None:
    arrays = {
        "strided": np.arange(10)[::3],
        "fortran": np.asfortranarray(np.arange(6).reshape(2, 3)),
        "big-endian": np.arange(4, dtype=">i4"),
        "scalar": np.array(2.5),
        "datetime": np.array([1, 2], dtype="M8[s]"),
        "text": np.array(["ab", "c"]),
        "3d-empty": np.zeros((2, 0, 3), dtype=np.float32),
    }
    assert cf.write(tmp_path / "x.ogc", arrays, {})
    e = cf.read(tmp_path / "x.ogc")
    assert e is not None
    for name, want in arrays.items():
        assert e.arrays[name].dtype == want.dtype and e.arrays[name].shape == want.shape
        np.testing.assert_array_equal(e.arrays[name], want, err_msg=name)


def test_a_mapping_outlives_replacement_and_removal_of_its_file(entry: Path) -> None:
    old = cf.read(entry)
    assert old is not None
    held = old.arrays["weight"]
    assert cf.write(entry, {"weight": np.zeros(3)}, {"v": 2})
    np.testing.assert_array_equal(held, SNAPSHOT["weight"])
    new = cf.read(entry)
    assert new is not None and new.meta == {"v": 2}
    entry.unlink()
    np.testing.assert_array_equal(held, SNAPSHOT["weight"])


@pytest.mark.parametrize(
    "bad_arrays, bad_meta",
    [
        pytest.param({}, {"x": object()}, id="meta not JSON"),
        pytest.param({}, {"x": float("nan")}, id="NaN in meta"),
        pytest.param({"": np.zeros(2)}, {}, id="empty name"),
        pytest.param({1: np.zeros(2)}, {}, id="name not a str"),
        pytest.param({"o": np.array([None, 1])}, {}, id="object dtype"),
        pytest.param({"r": np.zeros(2, dtype="i4,f8")}, {}, id="structured dtype"),
    ],
)
def test_arguments_that_can_never_be_written_raise(tmp_path: Path, bad_arrays: Any, bad_meta: Any) -> None:
    with pytest.raises(ValidationError, match="graph cache entry"):
        cf.write(tmp_path / "x.ogc", bad_arrays, bad_meta)
    assert list(tmp_path.iterdir()) == []


# -- refusals: every one says why -------------------------------------------------------------------


@pytest.mark.parametrize(
    "expect, reason",
    [
        ({"schema": 3}, None),
        ({"schema": 3, "state": (1, 2, 3)}, None),  # compared as JSON: a tuple equals the stored list
        ({"store": {"size": 123, "path": "/x/omega.db"}}, None),
        ({}, None),
        ({"schema": 4}, "meta['schema'] is 3, expected 4"),
        ({"schema": "3"}, "meta['schema'] is 3, expected '3'"),
        ({"store": {"path": "/x/omega.db"}}, "meta['store'] is"),
        ({"identity": "abc"}, "meta['identity'] is '<missing>', expected 'abc'"),
        ({"schema": 3, "when": object()}, "expect is not JSON"),
    ],
)
def test_expect_must_equal_meta(entry: Path, expect: dict[str, object], reason: str | None) -> None:
    if reason is None:
        assert cf.read(entry, expect) is not None
    else:
        assert refused(entry, expect).startswith(reason)


CUTS: dict[str, Callable[[int, dict[str, Any], int], int]] = {
    "empty": lambda hlen, doc, size: 0,
    "inside the magic": lambda hlen, doc, size: 5,
    "inside the prefix": lambda hlen, doc, size: 20,
    "inside the header": lambda hlen, doc, size: PREFIX.size + hlen // 2,
    "before the first array": lambda hlen, doc, size: PREFIX.size + hlen,
    "inside an array": lambda hlen, doc, size: doc["arrays"]["weight"]["offset"] + 7,
    "one byte short": lambda hlen, doc, size: size - 1,
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_truncated_files_are_refused(entry: Path, cut: str) -> None:
    raw = entry.read_bytes()
    at = CUTS[cut](*layout(entry))
    entry.write_bytes(raw[:at])
    assert refused(entry).startswith("truncated")


def test_appended_bytes_are_refused(entry: Path) -> None:
    with open(entry, "ab") as f:
        f.write(b"\0")
    assert refused(entry).startswith("size mismatch")


def _flips() -> Iterator[Any]:
    """Byte positions (from an entry's layout) to flip, and the reason the reader must give."""
    yield pytest.param(lambda h, d, n: 0, "wrong magic", id="magic")
    yield pytest.param(lambda h, d, n: 8, "format version 0", id="version")
    yield pytest.param(lambda h, d, n: 12, "checksum", id="header length")
    yield pytest.param(lambda h, d, n: 16, "truncated", id="file size")
    yield pytest.param(lambda h, d, n: 24, "checksum", id="checksum")
    yield pytest.param(lambda h, d, n: PREFIX.size + 2, "checksum", id="header JSON")
    yield pytest.param(lambda h, d, n: PREFIX.size + h - 1, "checksum", id="header end")
    for name, want in SNAPSHOT.items():
        if want.nbytes:
            yield pytest.param(
                lambda h, d, n, a=name: d["arrays"][a]["offset"], "checksum", id=f"{name} first"
            )
            last = lambda h, d, n, a=name: d["arrays"][a]["offset"] + d["arrays"][a]["nbytes"] - 1  # noqa: E731
            yield pytest.param(last, "checksum", id=f"{name} last")
    one_end = lambda h, d, n: d["arrays"]["one"]["offset"] + 2  # noqa: E731
    yield pytest.param(one_end, "checksum", id="padding after an array")
    yield pytest.param(lambda h, d, n: n - 1, "checksum", id="last byte")


@pytest.mark.parametrize("where, reason", list(_flips()))
def test_a_flipped_byte_anywhere_is_refused(
    entry: Path, where: Callable[[int, dict[str, Any], int], int], reason: str
) -> None:
    """Header, arrays and padding are all under the checksum; the prefix fields are checked first."""
    raw = bytearray(entry.read_bytes())
    raw[where(*layout(entry))] ^= 0x01
    entry.write_bytes(raw)
    assert reason in refused(entry)


def _sqlite_file(p: Path) -> None:
    with sqlite3.connect(p) as con:
        con.execute("CREATE TABLE t (x)")
    con.close()


@pytest.mark.parametrize(
    "make, reason",
    [
        pytest.param(lambda p: None, "missing", id="no file"),
        pytest.param(lambda p: p.write_bytes(b""), "truncated", id="empty file"),
        pytest.param(
            lambda p: p.write_bytes(random.Random(1).randbytes(4096)), "wrong magic", id="random bytes"
        ),
        pytest.param(_sqlite_file, "wrong magic", id="SQLite file"),
        pytest.param(lambda p: p.write_text("hello\n"), "wrong magic", id="text"),
        pytest.param(lambda p: p.mkdir(), "not a regular file", id="directory"),
        pytest.param(os.mkfifo, "not a regular file", id="FIFO", marks=posix_only),
        pytest.param(lambda p: p.symlink_to(p.parent / "nowhere"), "missing", id="dangling symlink"),
        pytest.param(
            lambda p: p.write_bytes(cf.MAGIC + bytes(100)), "format version 0", id="magic then zeros"
        ),
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, make: Callable[[Path], None], reason: str) -> None:
    path = tmp_path / "foreign.ogc"
    make(path)
    assert refused(path).startswith(reason)


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1])
def test_other_format_versions_are_refused(entry: Path, version: int) -> None:
    raw = bytearray(entry.read_bytes())
    raw[8:12] = struct.pack("<I", version)
    entry.write_bytes(reseal(raw))
    assert refused(entry) == f"format version {version}, this reader reads {cf.FORMAT_VERSION}"


def forge(path: Path, header: bytes, body: bytes = bytes(64)) -> None:
    """A file with a valid prefix and checksum around any header; the body starts at byte 4096."""
    raw = bytearray(PREFIX.pack(cf.MAGIC, cf.FORMAT_VERSION, 4096 - PREFIX.size, 4096 + len(body), 0))
    raw += header.ljust(4096 - PREFIX.size) + body
    path.write_bytes(reseal(raw))


def spec(**changes: object) -> bytes:
    """A header with one array ``a`` (two int64 at 4096), changed by ``changes`` (None drops a key)."""
    a = {"dtype": "<i8", "shape": [2], "offset": 4096, "nbytes": 16} | changes
    doc = {"arrays": {"a": {k: v for k, v in a.items() if v is not None}}, "checksum": "xxh3_64", "meta": {}}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "header, reason",
    [
        pytest.param(spec(), None, id="control: a forged good file reads"),
        pytest.param(b"{nope", "header is not JSON", id="not JSON"),
        pytest.param(b"\xff\xfe{}", "header is not JSON", id="not UTF-8"),
        pytest.param(b"[]", "header is not an object", id="a JSON list"),
        pytest.param(b'{"arrays": {}, "meta": {}}', "header is not an object naming", id="no checksum name"),
        pytest.param(b'{"arrays": {}, "checksum": "xxh3_64"}', "header lacks", id="no meta"),
        pytest.param(
            b'{"arrays": [], "meta": {}, "checksum": "xxh3_64"}', "header lacks", id="arrays a list"
        ),
        pytest.param(spec(dtype=None), "array 'a': description lacks a dtype", id="no dtype"),
        pytest.param(spec(dtype="x9"), "array 'a': unknown dtype", id="unknown dtype"),
        pytest.param(spec(dtype="|O"), "array 'a': dtype '|O' cannot be mapped", id="object dtype"),
        pytest.param(spec(dtype="i4,i4"), "array 'a': dtype 'i4,i4' cannot be mapped", id="structured dtype"),
        pytest.param(spec(shape=None), "array 'a': shape, offset", id="no shape"),
        pytest.param(spec(shape=[-2]), "array 'a': shape, offset", id="negative shape"),
        pytest.param(spec(shape=[2.0]), "array 'a': shape, offset", id="float shape"),
        pytest.param(spec(offset=True), "array 'a': shape, offset", id="bool offset"),
        pytest.param(spec(nbytes=None), "array 'a': shape, offset", id="no nbytes"),
        pytest.param(spec(nbytes=15), "array 'a': nbytes 15 is not 2 x 8", id="nbytes mismatch"),
        pytest.param(spec(offset=4104), "misaligned or outside", id="misaligned offset"),
        pytest.param(spec(offset=0), "misaligned or outside", id="offset in the header"),
        pytest.param(spec(offset=4160), "misaligned or outside", id="past the end"),
        pytest.param(spec(shape=[2**61], nbytes=2**64), "misaligned or outside", id="huge"),
    ],
)
def test_checksummed_but_malformed_headers_are_refused(
    tmp_path: Path, header: bytes, reason: str | None
) -> None:
    path = tmp_path / "forged.ogc"
    forge(path, header, np.array([5, 6], dtype="<i8").tobytes().ljust(64, b"\0"))
    if reason is None:
        e = cf.read(path)
        assert e is not None and e.arrays["a"].tolist() == [5, 6]
    else:
        assert reason in refused(path)


def test_refusals_are_logged(entry: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=cf.__name__)
    cf.read(tmp_path / "absent.ogc")
    cf.read(entry, {"schema": 9})
    levels = {r.levelno for r in caplog.records if "absent.ogc" in r.getMessage()}
    assert levels == {logging.DEBUG}
    assert any(r.levelno == logging.INFO and "expected 9" in r.getMessage() for r in caplog.records)


# -- atomic writes ----------------------------------------------------------------------------------


def _write_forever(path: Path, n: int, first: int) -> None:
    k = first
    while True:
        cf.write(path, versioned(k, n), {"version": k})
        k += 1


@posix_only
@pytest.mark.parametrize(
    "kills", [pytest.param(12, id="12 kills"), pytest.param(100, marks=pytest.mark.slow)]
)
def test_sigkill_while_writing_never_leaves_a_torn_entry(tmp_path: Path, kills: int) -> None:
    """A child rewrites a 16 MiB entry in a loop and is SIGKILLed at random moments: the final name
    holds nothing (before the first write completes) or a whole entry equal to a version written."""
    path, n = tmp_path / "graph" / "k.ogc", 1 << 20
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(kills)
    versions, killed_mid_write = set(), 0
    for i in range(kills):
        proc = ctx.Process(target=_write_forever, args=(path, n, 1000 * i))
        proc.start()
        time.sleep(rng.uniform(0.0, 0.1))
        proc.kill()  # SIGKILL
        proc.join()
        killed_mid_write += bool(temp_files(tmp_path))
        if path.exists():
            versions.add(assert_version(cf.read(path), n))
    assert versions and killed_mid_write
    assert cf.write(path, versioned(1, n), {"version": 1})  # removes the dead writers' temp files
    assert temp_files(tmp_path) == []


def test_concurrent_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    path, n = tmp_path / "graph" / "c.ogc", 50_000

    def work(w: int) -> None:
        for j in range(5):
            assert cf.write(path, versioned(10 * w + j, n), {"version": 10 * w + j})
            assert_version(cf.read(path), n)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert_version(cf.read(path), n)
    assert temp_files(tmp_path) == []


def _dead_pid() -> int:
    proc = multiprocessing.get_context("fork").Process(target=lambda: None)
    proc.start()
    proc.join()
    assert proc.pid is not None
    return proc.pid


@posix_only
def test_stale_temp_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    folder = tmp_path / "graph"
    folder.mkdir()
    dead = folder / f".e.ogc.{_dead_pid()}.0123abcd.tmp"
    live_young = folder / f".e.ogc.{os.getpid()}.89abcdef.tmp"  # another thread of ours may be writing
    live_old = folder / f".f.ogc.{os.getpid()}.deadbeef.tmp"
    not_ours = folder / ".notes.tmp"
    for p in (dead, live_young, live_old, not_ours):
        p.write_bytes(b"partial")
    old = time.time() - 2 * cf.STALE_TEMP_SECONDS
    os.utime(live_old, (old, old))
    assert cf.write(folder / "e.ogc", SNAPSHOT, META)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["e.ogc", live_young.name, not_ours.name])


# -- failing disks ----------------------------------------------------------------------------------


def _file_as_folder(root: Path) -> Path:
    (root / "graph").write_bytes(b"a file where the folder should be")
    return root / "graph" / "e.ogc"


def _under_a_file(root: Path) -> Path:
    (root / "file").write_bytes(b"")
    return root / "file" / "cache" / "graph" / "e.ogc"


def _directory_at_entry(root: Path) -> Path:
    (root / "graph" / "e.ogc").mkdir(parents=True)
    return root / "graph" / "e.ogc"


@pytest.mark.parametrize("make", [_file_as_folder, _under_a_file, _directory_at_entry])
def test_unwritable_folder_returns_false_and_warns_once(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    (tmp_path / "bad").mkdir()
    path = make(tmp_path / "bad")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert cf.write(path, SNAPSHOT, META) is False
        assert cf.write(path, SNAPSHOT, META) is False
        assert cf.write(tmp_path / "good" / "graph" / "e.ogc", SNAPSHOT, META)  # other folders still work
    (message,) = cache_warnings(record)
    assert message.startswith(f"graph cache disabled for {path.parent}: ")
    assert message.endswith("set OMEGA_GRAPH_CACHE_DIR to a writable directory, or pass cache=False")
    assert temp_files(tmp_path) == []


def _write_under_fsize_limit(path: Path, limit: int) -> tuple[list[bool], list[str], list[str]]:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else exceeding the limit kills the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        results = [cf.write(path, {"big": np.zeros(1 << 18)}, {"v": v}) for v in range(2)]
    return results, cache_warnings(record), sorted(os.listdir(path.parent))


@posix_only
@pytest.mark.parametrize("limit", [0, 1 << 20])
def test_file_size_limit_keeps_the_previous_entry(entry: Path, limit: int) -> None:
    """EFBIG (RLIMIT_FSIZE; 0 makes every write fail) while writing 2 MiB: False, one warning, no temp
    file, and the previous good entry still reads."""
    results, messages, names = in_child(lambda: _write_under_fsize_limit(entry, limit))
    assert results == [False, False]
    assert len(messages) == 1 and "File too large" in messages[0]
    assert names == [entry.name]
    e = cf.read(entry)
    assert e is not None and e.meta == META


# -- budget and eviction ----------------------------------------------------------------------------


def test_eviction_removes_least_recently_used_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, arrays = tmp_path / "graph", {"a": np.zeros(1000)}
    old = time.time() - 1000
    for i in range(4):
        assert cf.write(folder / f"e{i}.ogc", arrays, {"i": i})
        os.utime(folder / f"e{i}.ogc", (old + i, old + i))
    size = (folder / "e0.ogc").stat().st_size
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_MAX_BYTES", str(3 * size + size // 2))
    assert cf.read(folder / "e0.ogc") is not None  # a read makes e0 the most recently used
    assert cf.write(folder / "new.ogc", arrays, {"i": 9})
    assert sorted(p.name for p in folder.iterdir()) == ["e0.ogc", "e3.ogc", "new.ogc"]


def test_an_entry_larger_than_the_budget_is_not_written(entry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_MAX_BYTES", "4096")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert cf.write(entry, SNAPSHOT, {"v": 2}) is False
    assert cache_warnings(record) == []
    e = cf.read(entry)
    assert e is not None and e.meta == META  # untouched
    assert temp_files(entry.parent) == []


@pytest.mark.parametrize(
    "value, expected",
    [("12345", 12345), (" 0 ", 0), ("-5", 0), ("lots", None), ("", None)],
)
def test_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: int | None) -> None:
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_MAX_BYTES", value)
    got = cf.budget(tmp_path)
    if expected is None:  # the default: at most 4 GiB, at most a quarter of the disk's free space
        import shutil

        assert 0 < got <= min(cf.DEFAULT_MAX_BYTES, shutil.disk_usage(tmp_path).free // 4 + 1)
    else:
        assert got == expected


# -- location and clear ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "platform, env, expected",
    [
        ("linux", {}, "/home/u/.cache/omega-graph"),
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/omega-graph"),
        ("linux", {"XDG_CACHE_HOME": "relative/xdg"}, "/home/u/.cache/omega-graph"),  # XDG: ignore relative
        ("linux", {"XDG_CACHE_HOME": ""}, "/home/u/.cache/omega-graph"),
        ("freebsd14", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/omega-graph"),
        ("darwin", {"XDG_CACHE_HOME": "/xdg"}, "/home/u/Library/Caches/omega-graph"),
        ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/omega-graph/Cache"),
        ("win32", {}, "/home/u/AppData/Local/omega-graph/Cache"),
        ("linux", {"OMEGA_GRAPH_CACHE_DIR": "/mine", "XDG_CACHE_HOME": "/xdg"}, "/mine"),
        ("win32", {"OMEGA_GRAPH_CACHE_DIR": "/mine"}, "/mine"),
    ],
)
def test_platform_cache_dir(platform: str, env: dict[str, str], expected: str) -> None:
    assert cf._platform_cache_dir(platform, env, Path("/home/u")).as_posix() == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG applies on Linux")
def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cf.cache_dir() == tmp_path / "home" / ".cache" / "omega-graph"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cf.cache_dir() == tmp_path / "xdg" / "omega-graph"
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_DIR", str(tmp_path / "mine"))
    assert cf.cache_dir() == tmp_path / "mine"
    assert cf.entry_path(tmp_path / "a.db").parent == tmp_path / "mine" / "graph"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_DIR", "rel")
    assert cf.cache_dir() == tmp_path / "rel"


def test_entry_path_is_keyed_by_the_resolved_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "data" / "omega.db"
    db.parent.mkdir()
    db.touch()
    (tmp_path / "link.db").symlink_to(db)
    monkeypatch.chdir(tmp_path)
    spellings: list[str | Path] = [
        db,
        "data/omega.db",
        tmp_path / "data" / ".." / "data" / "omega.db",
        tmp_path / "link.db",
    ]
    (path,) = {cf.entry_path(s, tmp_path / "c") for s in spellings}
    assert path.parent == tmp_path / "c" / "graph"
    assert re.fullmatch(r"omega\.db-[0-9a-f]{16}\.ogc", path.name)
    other = cf.entry_path(tmp_path / "elsewhere" / "omega.db", tmp_path / "c")
    assert other != path and other.name.startswith("omega.db-")
    odd = cf.entry_path(tmp_path / ".my store?.db", tmp_path / "c")
    assert re.fullmatch(r"my_store_\.db-[0-9a-f]{16}\.ogc", odd.name)


def test_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "c"
    for db in ("a.db", "b.db", "c.db"):
        assert cf.write(cf.entry_path(tmp_path / db, root), {"x": np.arange(3)}, {})
    (root / "graph" / "notes.txt").write_text("not an entry")
    assert cf.clear(tmp_path / "a.db", root) == 1
    assert cf.clear(tmp_path / "a.db", root) == 0
    assert cf.read(cf.entry_path(tmp_path / "b.db", root)) is not None
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_DIR", str(root))
    assert cf.clear(tmp_path / "b.db") == 1
    assert cf.clear() == 1
    assert os.listdir(root / "graph") == ["notes.txt"]
    assert cf.clear(directory=tmp_path / "nowhere") == 0


# -- speed --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_reopening_a_large_entry_is_fast(tmp_path: Path) -> None:
    """A 3M-edge-sized entry (about 300 MiB) validates and maps in well under 0.5 s."""
    n = 3_000_000
    arrays = {name: np.ones(n, dtype=dt) for name, dt in [("src", "<i4"), ("dst", "<i4"), ("weight", "<f8")]}
    arrays |= {f"extra{i}": np.ones(n, dtype="<i8") for i in range(11)}
    path = tmp_path / "big.ogc"
    assert cf.write(path, arrays, {})
    assert path.stat().st_size > 280 << 20
    start = time.perf_counter()
    e = cf.read(path)
    elapsed = time.perf_counter() - start
    assert e is not None and elapsed < 0.5, elapsed
