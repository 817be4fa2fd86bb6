"""The persisted snapshot: a reopen equals a fresh load, whatever happened to the store or the cache.

Every test compares a snapshot taken with the cache against one taken with ``cache=False`` from the
same store, and checks whether the cache was used (``loader == "cache"``) when it should and should
not be. Real files, real processes (SIGKILL, a file size limit), no mocks.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.errors import CacheWarning, NoPathError, ValidationError
from omega_graph.graph import CausalGraph, _cache, _cachefile, loading

COLUMNS = ("node_rowid", "tier", "importance", "src", "dst", "weight", "created", "etype", "erowid")


def assert_same(a: CausalGraph, b: CausalGraph) -> None:
    """Same snapshot: arrays, ids, state, and a few answers."""
    x, y = a._data, b._data
    assert x.node_ids == y.node_ids
    assert x.type_names == y.type_names
    assert x.state == y.state
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
    assert x.edge_ids_at() == y.edge_ids_at()
    assert x.bad_values == y.bad_values
    for ask in (lambda g: g.influence().to_dict("list"), lambda g: g.effects("m0").to_dict("list"),
                lambda g: g.strongest_path("m0", "m9")):  # fmt: skip
        assert outcome(ask, a) == outcome(ask, b)


def outcome(ask: Callable[[CausalGraph], object], g: CausalGraph) -> object:
    """The answer, or the error's type and message (a bad weight, no path)."""
    try:
        return ask(g)
    except (NoPathError, ValidationError) as err:
        return type(err).__name__, str(err)


@pytest.fixture(params=["sqlite3", "duckdb"])
def cache_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache folder of the test; full reads through sqlite3, or through the DuckDB child (whose
    edge ids come as lines of a file: another layout of the id buffer)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_DIR", str(folder))
    monkeypatch.setattr(_cache, "CACHE_MIN_EDGES", 0)  # small stores use the cache too
    if request.param == "duckdb":
        monkeypatch.setattr(loading, "DUCKDB_MIN_EDGES", 0)
        monkeypatch.setenv("OMEGA_GRAPH_TEST_DUCKDB", "1")
    return folder


def fill(path: Path, memories: int = 60, edges: int = 240) -> None:
    with OmegaStore(path) as s:
        s.store_memories(
            StoredMemory(f"m{i}", "x", 1 + i % 12, (i % 10) / 10, None, i, i) for i in range(memories)
        )
        s.store_causal_edges(
            StoredCausalEdge(f"e{i}", f"m{i % memories}", f"m{(i * 7 + 1) % memories}", (i % 11) / 10,
                             ["causes", "enables", "inhibits"][i % 3], 100 + i % 50)
            for i in range(edges)
        )  # fmt: skip


@pytest.fixture
def store_path(tmp_path: Path, cache_dir: Path) -> Path:
    path = tmp_path / "c.db"
    fill(path)
    return path


def cached(path: Path, **filters: object) -> CausalGraph:
    """A snapshot through the cache, its background write finished."""
    with OmegaStore(path) as s:
        g = s.causal_graph(**filters)  # type: ignore[arg-type]
    _cache.wait_for_writes()
    return g


def fresh(path: Path, **filters: object) -> CausalGraph:
    with OmegaStore(path) as s:
        return s.causal_graph(cache=False, **filters)  # type: ignore[arg-type]


def entry(path: Path) -> Path:
    return _cachefile.entry_path(path)


# ----- reopen, unchanged and changed ------------------------------------------------------------------
def test_first_load_writes_the_entry_and_a_reopen_uses_it(store_path: Path) -> None:
    first = cached(store_path)
    assert first.loader != "cache" and entry(store_path).is_file()
    again = cached(store_path)
    assert again.loader == "cache"
    assert_same(again, fresh(store_path))


def test_cache_false_neither_reads_nor_writes(store_path: Path) -> None:
    with OmegaStore(store_path) as s:
        assert s.causal_graph(cache=False).loader != "cache"
    assert not entry(store_path).exists()
    cached(store_path)
    with OmegaStore(store_path) as s:
        assert s.causal_graph(cache=False).loader != "cache"


def _crate(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    for statement in sql:
        conn.execute(statement)
    conn.close()


CHANGES: dict[str, Callable[[Path], None]] = {
    "edges inserted": lambda p: _with(p, lambda s: s.store_causal_edges(
        StoredCausalEdge(f"n{i}", "m1", f"m{i}", 0.5, "new type", 5) for i in range(2, 30))),
    "edges updated and deleted": lambda p: _with(p, lambda s: (
        s.store_causal_edge(StoredCausalEdge("e3", "m5", "m9", 0.95, "causes", 1)),
        s.delete_causal_edge("e4"), s.delete_causal_edge("e239"))),
    "memories changed": lambda p: _with(p, lambda s: (
        s.store_memory(StoredMemory("m2", "y", 9, 0.05, None, 0, 0)), s.delete_memory("m7"),
        s.store_memory(StoredMemory("a-new", "y", 2, 0.5, None, 0, 0)))),
    "crate SQL from another connection": lambda p: _crate(
        p,
        "INSERT OR REPLACE INTO causal_edges VALUES ('e10', 'm0', 'm9', 0.99, 'causes', 3)",
        "INSERT OR REPLACE INTO memories VALUES ('m11', 'z', 4, 0.4, NULL, 0, 0)",
        "UPDATE causal_edges SET weight = 0.01 WHERE edge_type = 'enables'",
        "DELETE FROM causal_edges WHERE id = 'e20'",
    ),
    "a value of the wrong type": lambda p: _crate(p, "UPDATE causal_edges SET weight = 'high' WHERE id = 'e1'"),
    "1,000 edge changes": lambda p: _with(p, lambda s: s.store_causal_edges(
        StoredCausalEdge(f"e{i % 240}" if i % 2 else f"k{i}", f"m{i % 60}", f"m{(i * 3) % 60}", 0.3, "causes", i)
        for i in range(1000))),
}  # fmt: skip


def _with(path: Path, act: Callable[[OmegaStore], object]) -> None:
    with OmegaStore(path) as s:
        act(s)


@pytest.mark.filterwarnings("ignore::omega_graph.errors.DataQualityWarning")  # the wrong-typed value
@pytest.mark.parametrize("change", list(CHANGES))
def test_reopen_after_changes_equals_a_fresh_load(store_path: Path, change: str) -> None:
    cached(store_path)
    CHANGES[change](store_path)
    again, reference = cached(store_path), fresh(store_path)
    assert again.loader == "cache"  # caught up through the logs, not re-read
    assert_same(again, reference)
    assert cached(store_path).loader == "cache"  # the entry was rewritten at the new state
    assert_same(cached(store_path), reference)


@pytest.mark.parametrize(
    "filters",
    [{"min_weight": 0.35}, {"edge_types": ["enables", "inhibits"]}, {"edge_types": []}, {"as_of": 120},
     {"min_weight": 0.2, "edge_types": ["causes"], "as_of": 140}],
)  # fmt: skip
def test_filters_are_served_from_the_cache(store_path: Path, filters: dict) -> None:
    cached(store_path)  # the entry holds the full snapshot
    g = cached(store_path, **filters)
    assert g.loader == "cache"
    assert (g.min_weight, g.edge_types, g.as_of) == (fresh(store_path, **filters).min_weight,
                                                    fresh(store_path, **filters).edge_types,
                                                    fresh(store_path, **filters).as_of)  # fmt: skip
    assert_same(g, fresh(store_path, **filters))


def test_a_filtered_first_load_writes_the_full_snapshot(store_path: Path) -> None:
    first = cached(store_path, min_weight=0.5)
    assert_same(first, fresh(store_path, min_weight=0.5))
    assert_same(cached(store_path), fresh(store_path))


def test_reopen_in_a_new_process(store_path: Path) -> None:
    cached(store_path)
    CHANGES["edges updated and deleted"](store_path)
    script = textwrap.dedent(
        f"""
        import os
        from omega_graph import OmegaStore
        from omega_graph.graph import _cache, loading
        _cache.CACHE_MIN_EDGES = 0
        if os.environ.get("OMEGA_GRAPH_TEST_DUCKDB"):
            loading.DUCKDB_MIN_EDGES = 0
        with OmegaStore({str(store_path)!r}) as s:
            g = s.causal_graph()
        print(g.loader, g.number_of_edges(), g.effects("m1").to_json())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=os.environ
    )
    reference = fresh(store_path)
    assert out.stdout.strip().split(maxsplit=2) == [
        "cache",
        str(reference.number_of_edges()),
        reference.effects("m1").to_json(),
    ]


# ----- an entry that must not be used -----------------------------------------------------------------
def _truncate(p: Path) -> None:
    data = entry(p).read_bytes()
    entry(p).write_bytes(data[: len(data) // 2])


def _flip(p: Path) -> None:
    data = bytearray(entry(p).read_bytes())
    data[len(data) * 2 // 3] ^= 0x40
    entry(p).write_bytes(bytes(data))


def _foreign(p: Path) -> None:
    entry(p).write_bytes(os.urandom(4096))


def _other_store(p: Path) -> None:  # another store's entry under this store's name
    other = p.with_name("other.db")
    fill(other, memories=60, edges=240)
    cached(other)
    shutil.copyfile(entry(other), entry(p))


def _older_layout(p: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "LAYOUT", _cache.LAYOUT + 1)


def _older_schema(p: Path) -> None:
    """An entry written by an omega-graph of an older schema (otherwise whole and valid)."""
    old = _cachefile.read(entry(p))
    assert old is not None
    meta = {**old.meta, "schema": old.meta["schema"] - 1}
    arrays = {k: np.array(v) for k, v in old.arrays.items()}
    del old
    assert _cachefile.write(entry(p), arrays, meta)


def _restored(p: Path) -> None:
    backup = p.with_name("backup.db")
    with OmegaStore(p) as s:
        s.backup(backup)
        s.store_causal_edges(StoredCausalEdge(f"late{i}", "m1", "m2", 0.5, "causes", 1) for i in range(5))
    cached(p)  # the entry now stands for the later state
    OmegaStore.restore(backup, p)
    with OmegaStore(p) as s:  # the restored history goes on differently, past the cached positions
        s.store_causal_edges(StoredCausalEdge(f"fork{i}", "m3", "m4", 0.2, "causes", 1) for i in range(9))
        for i in range(8):
            s.delete_causal_edge(f"e{i}")


def _replaced(p: Path) -> None:
    other = p.with_name("replacement.db")
    fill(other, memories=60, edges=200)
    os.replace(other, p)


def _forked_copy(p: Path) -> None:
    """A copy of this very store (same identity) that took other writes replaces it."""
    copy = p.with_name("copy.db")
    shutil.copyfile(p, copy)
    with OmegaStore(p) as s:
        s.delete_causal_edge("e1")
        s.delete_causal_edge("e2")
    cached(p)
    with OmegaStore(copy) as s:  # the same log positions, other entries
        s.store_causal_edge(StoredCausalEdge("e3", "m8", "m9", 0.7, "causes", 1))
        s.delete_causal_edge("e9")
    os.replace(copy, p)


def _triggers_dropped(p: Path) -> None:
    _crate(p, "DROP TRIGGER omega_edge_log_delete", "DELETE FROM causal_edges WHERE id = 'e8'")


def _log_pruned(p: Path) -> None:
    _crate(p, "DELETE FROM causal_edges WHERE id = 'e8'", "DELETE FROM omega_edge_log")


SPOILERS = {
    "truncated": _truncate,
    "corrupted": _flip,
    "foreign": _foreign,
    "another store's entry": _other_store,
    "an older cache layout": _older_layout,
    "an older schema": _older_schema,
    "restored from a backup": _restored,
    "replaced by another file": _replaced,
    "replaced by a forked copy": _forked_copy,
    "log triggers dropped": _triggers_dropped,
    "log pruned": _log_pruned,
}


@pytest.mark.parametrize("spoiler", list(SPOILERS))
def test_a_doubtful_entry_means_a_normal_load(store_path: Path, spoiler: str, monkeypatch) -> None:
    cached(store_path)
    spoil = SPOILERS[spoiler]
    spoil(store_path, monkeypatch) if spoiler == "an older cache layout" else spoil(store_path)  # type: ignore[call-arg]
    g = cached(store_path)
    if spoiler != "log pruned":  # a pruned log is noticed by the catch-up, which then reads in full
        assert g.loader != "cache"
    assert_same(g, fresh(store_path))
    if spoiler != "log triggers dropped":  # the rewritten entry is trusted again
        assert cached(store_path).loader == "cache"


def test_a_read_only_store_file(store_path: Path) -> None:
    cached(store_path)
    before = store_path.read_bytes()
    os.chmod(store_path, 0o444)
    try:
        g = CausalGraph.__new__(CausalGraph)  # opened without the store's writing connection
        uri_store = OmegaStore(store_path)
        g = uri_store.causal_graph()
        uri_store.close()
        assert g.loader == "cache"
        assert_same(g, fresh(store_path))
    finally:
        os.chmod(store_path, 0o644)
    assert store_path.read_bytes() == before  # the graph layer never writes the store


def test_an_unwritable_cache_folder_warns_once_and_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_cache, "CACHE_MIN_EDGES", 0)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("OMEGA_GRAPH_CACHE_DIR", str(blocker))
    path = tmp_path / "u.db"
    fill(path)
    with pytest.warns(CacheWarning, match="OMEGA_GRAPH_CACHE_DIR") as record:
        first, second = cached(path), cached(path)
    assert len([w for w in record if w.category is CacheWarning]) == 1
    assert first.loader != "cache" and second.loader != "cache"
    assert_same(second, fresh(path))


# ----- writes that are killed or run out of space -------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import os, resource, signal, sys
    from omega_graph import OmegaStore
    from omega_graph.graph import _cache, loading
    _cache.CACHE_MIN_EDGES = 0
    if os.environ.get("OMEGA_GRAPH_TEST_DUCKDB"):
        loading.DUCKDB_MIN_EDGES = 0
    limit = int(sys.argv[2])
    with OmegaStore(sys.argv[1]) as s:
        if limit >= 0:  # the store is open: from now on, a full disk (writes fail with EFBIG)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        print("ready", flush=True)
        g = s.causal_graph()
    _cache.wait_for_writes()
    print(g.loader, g.number_of_edges(), flush=True)
    """
)


def test_a_full_disk_while_writing_never_fails_the_load(store_path: Path) -> None:
    CHANGES["edges inserted"](store_path)
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", WRITER, str(store_path), "2048"],
        capture_output=True, text=True, env=os.environ, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loader, edges = done.stdout.split()[1:]
    assert loader != "cache" and int(edges) == fresh(store_path).number_of_edges()
    assert "CacheWarning" in done.stderr
    leftovers = [p for p in entry(store_path).parent.iterdir()] if entry(store_path).parent.exists() else []
    assert not any(p.name.endswith(".tmp") for p in leftovers) and not entry(store_path).exists()
    assert_same(cached(store_path), fresh(store_path))


@pytest.fixture
def big_store(tmp_path: Path, cache_dir: Path) -> Path:
    path = tmp_path / "big.db"
    fill(path, memories=3000, edges=40_000)  # an entry of a few MB: a write takes a while
    return path


def test_sigkill_while_the_cache_is_written_leaves_nothing_torn(big_store: Path) -> None:
    reference = fresh(big_store)
    for delay in (0.3, 0.5, 0.7, 0.9, 1.1, 1.4):
        if entry(big_store).exists():
            entry(big_store).unlink()
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(big_store), "-1"],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        why: list[str] = []
        if entry(big_store).exists():  # whole, or not there: never a torn entry that is used
            assert _cachefile.read(entry(big_store), why=why) is not None, why
        g = cached(big_store)
        assert_same(g, reference)
    assert cached(big_store).loader == "cache"


# ----- clearing ------------------------------------------------------------------------------------------
def test_clear_graph_cache(store_path: Path) -> None:
    cached(store_path)
    with OmegaStore(store_path) as s:
        assert s.clear_graph_cache() == 1 and not entry(store_path).exists()
        assert s.clear_graph_cache() == 0


def test_cli_cache_clear(store_path: Path) -> None:
    cached(store_path)
    done = subprocess.run(
        [sys.executable, "-m", "omega_graph", "cache", "clear", str(store_path)],
        capture_output=True, text=True, env=os.environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "removed 1" in done.stdout and not entry(store_path).exists()


@pytest.mark.parametrize("args, code, says", [([], 2, "give DB or --all"), (["--all"], 0, "removed 2")])
def test_cli_cache_clear_all_or_a_usage_error(
    store_path: Path, args: list[str], code: int, says: str
) -> None:
    other = store_path.with_name("other.db")
    fill(other)
    cached(store_path), cached(other)
    done = subprocess.run(
        [sys.executable, "-m", "omega_graph", "cache", "clear", *args], capture_output=True, text=True, env=os.environ
    )  # fmt: skip
    assert done.returncode == code and says in done.stdout + done.stderr
    assert entry(store_path).exists() == (code != 0)


def test_validation_of_cache_argument(store_path: Path) -> None:
    with OmegaStore(store_path) as s, pytest.raises(ValidationError, match="cache"):
        s.causal_graph(cache="yes")  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_writes_left() -> Iterator[None]:
    yield
    _cache.wait_for_writes()
