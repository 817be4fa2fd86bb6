"""Loading a snapshot: the DuckDB child process and sqlite3 give the same arrays; values of the wrong
SQLite type are handled deliberately on both; a store writing in the same process is safe."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph.analytics import DataQualityWarning
from omega_graph.errors import ValidationError
from omega_graph.graph import CausalGraph
from omega_graph.graph.snapshot import MISSING_INT, GraphData, SnapshotState, hash_strings, pair_order
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.schema import migrate
from omega_graph.store import OmegaStore

ARRAYS = (
    "node_rowid",
    "tier",
    "importance",
    "src",
    "dst",
    "weight",
    "created",
    "created_bad",
    "etype",
    "erowid",
)


def assert_same_data(a: GraphData, b: GraphData) -> None:
    assert a.node_ids == b.node_ids
    assert a.type_names == b.type_names
    assert a.state == b.state
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)  # NaN == NaN here
        assert getattr(a, name).dtype == getattr(b, name).dtype, name
    assert a.edge_ids_at() == b.edge_ids_at()
    np.testing.assert_array_equal(a.edge_hashes(), b.edge_hashes())
    assert a.bad_values == b.bad_values


# ----- both loaders give the same snapshot ---------------------------------------------------------
IDS = ["a", "B", "é", "Z", "m-1", "m-10", "m-2", "日本", "x\x1fy", "😀", "isolated", "zz", "q1", "q2"]


@pytest.fixture
def varied_store(tmp_path: Path) -> Iterator[OmegaStore]:
    """Unicode ids (sort order), an id holding the child's separator, parallel edges with equal weights,
    zero weights, a self-loop, several types and times, an isolated memory, a sparse large rowid."""
    s = OmegaStore(tmp_path / "v.db")
    s.store_memories(StoredMemory(m, m, 1 + i % 12, i / 20, None, i, i) for i, m in enumerate(IDS))
    s.connection.execute("UPDATE memories SET rowid = 5000000000 WHERE id = 'zz'")  # sparse rowids
    ends = [m for m in IDS if m not in ("isolated", "q1", "q2")]
    edges = []
    for i in range(60):
        u, v = ends[i % len(ends)], ends[(i * 7 + 3) % len(ends)]
        w = [0.0, 0.5, 0.5, 1.0, 0.25][i % 5]
        edges.append(
            StoredCausalEdge(f"e{i:03d}", u, v, w, ["causes", "enables", "inhibits"][i % 3], 100 + i % 9)
        )
    edges += [StoredCausalEdge(f"p{i}", "q1", "q2", 0.5 if i else 0.2, "causes", 7) for i in range(4)]
    edges.append(StoredCausalEdge("loop", "Z", "Z", 0.3, "feedback", 5))
    # edge ids that a line- or separator-based hand-over would split or quote
    odd = ["line\nbreak", 'quote"d', "comma,id", "sep\x1fid", "tab\tid", "日本-é", "", " ", "\r\n"]
    edges += [StoredCausalEdge(i, "a", "B", 0.5, "causes", 1) for i in odd if i]
    s.store_causal_edges(edges)
    yield s
    s.close()


@pytest.mark.parametrize(
    "filters",
    [{}, {"min_weight": 0.3}, {"edge_types": ["causes", "feedback"]}, {"edge_types": []}, {"as_of": 104},
     {"min_weight": 0.5, "edge_types": ["enables"], "as_of": 106}],
)  # fmt: skip
def test_duckdb_and_sqlite3_give_the_same_snapshot(varied_store: OmegaStore, filters: dict) -> None:
    via_duck = CausalGraph(varied_store, loader="duckdb", **filters)
    via_sqlite = CausalGraph(varied_store, loader="sqlite3", **filters)
    assert (via_duck.loader, via_sqlite.loader) == ("duckdb", "sqlite3")
    assert_same_data(via_duck._data, via_sqlite._data)
    assert via_duck.memory_ids == sorted(IDS)  # code-point order, the separator id included
    ga, gb = via_duck.to_networkx(), via_sqlite.to_networkx()
    assert sorted(ga.edges(keys=True, data=True)) == sorted(gb.edges(keys=True, data=True))


ODD_TYPES = ["it's", "$p0", "a\x00b", "--", "x' OR '1'='1"]


@pytest.mark.parametrize("wanted", [ODD_TYPES[:1], ODD_TYPES[1:3], ODD_TYPES[3:], ODD_TYPES])
def test_edge_type_filters_with_quotes_dollars_and_nul(tmp_path: Path, wanted: list[str]) -> None:
    """Filter values reach the DuckDB child as SQL literals: quotes, ``$`` names and NUL stay data."""
    with OmegaStore(tmp_path / "odd.db") as s:
        s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        s.store_causal_edges(
            StoredCausalEdge(f"e{i}", "abc"[i % 3], "abc"[(i + 1) % 3], 0.5, t, i)
            for i, t in enumerate([*ODD_TYPES, "plain"])
        )
        via_duck = CausalGraph(s, loader="duckdb", edge_types=wanted, min_weight=0.25)
        assert via_duck.loader == "duckdb"
        assert_same_data(
            via_duck._data, CausalGraph(s, loader="sqlite3", edge_types=wanted, min_weight=0.25)._data
        )
        assert sorted(via_duck._data.type_names) == sorted(wanted)


def test_parallel_edges_are_ordered_strongest_then_earliest(varied_store: OmegaStore) -> None:
    g = CausalGraph(varied_store, loader="duckdb")
    d = g._data
    a, b = d.find("q1"), d.find("q2")
    run = np.flatnonzero((d.src == a) & (d.dst == b))
    assert np.all(np.diff(run) == 1)  # contiguous
    keys = list(zip((-d.weight[run]).tolist(), d.erowid[run].tolist(), strict=True))
    assert keys == sorted(keys)
    assert len(run) == 4
    assert g.strongest_path("q1", "q2").edge_ids == ("p1",)  # strongest; ties: the earliest stored


def test_auto_uses_sqlite3_for_small_and_in_memory_stores(varied_store: OmegaStore) -> None:
    assert CausalGraph(varied_store).loader == "sqlite3"  # far below DUCKDB_MIN_EDGES
    with OmegaStore.new_in_memory() as mem:
        mem.store_memories([StoredMemory("a", "a", 1, 0.5, None, 0, 0)])
        assert CausalGraph(mem, loader="duckdb").loader == "sqlite3"  # DuckDB cannot see memory


def test_unknown_loader_is_refused(varied_store: OmegaStore) -> None:
    with pytest.raises(ValidationError, match="loader.*one of auto, duckdb, sqlite3"):
        CausalGraph(varied_store, loader="pandas")


@pytest.mark.parametrize("memories", [0, 3])
def test_empty_graphs_load_through_duckdb(tmp_path: Path, memories: int) -> None:
    with OmegaStore(tmp_path / "e.db") as s:
        s.store_memories(StoredMemory(f"m{i}", "x", 1, 0.5, None, 0, 0) for i in range(memories))
        g = CausalGraph(s, loader="duckdb")
        assert (g.loader, len(g), g.number_of_edges()) == ("duckdb", memories, 0)
        assert_same_data(g._data, CausalGraph(s, loader="sqlite3")._data)


def test_edges_to_missing_memories_are_left_out_by_both(tmp_path: Path) -> None:
    path = tmp_path / "fk.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
    raw = sqlite3.connect(path)  # foreign keys off, as another tool might write
    raw.executemany(
        "INSERT INTO causal_edges VALUES (?, ?, ?, 0.5, 'causes', 0)",
        [("ok", "a", "b"), ("dangling", "a", "ghost"), ("orphan", "ghost", "b")],
    )
    raw.commit()
    raw.close()
    with OmegaStore(path) as s:
        duck, lite = CausalGraph(s, loader="duckdb"), CausalGraph(s, loader="sqlite3")
        assert duck.number_of_edges() == 1
        assert_same_data(duck._data, lite._data)


def test_small_loads_through_duckdb_never_fall_back(varied_store: OmegaStore) -> None:
    """On a small store the child's two parts are ready at about the same moment: their
    announcements must not mix (a mixed line would send the load to sqlite3 without a word)."""
    expected = CausalGraph(varied_store, loader="sqlite3")._data
    for _ in range(10):
        g = CausalGraph(varied_store, loader="duckdb")
        assert g.loader == "duckdb"
        assert_same_data(g._data, expected)


BROKEN_CHILDREN = {
    "exits at once": "cat > /dev/null\nexit 1\n",
    "dies after announcing nothing": "cat > /dev/null\necho garbage\nexit 0\n",
    "announces memories it never wrote": "cat > /dev/null\necho nodes\necho edges\nexit 0\n",
}


@pytest.mark.parametrize("script", BROKEN_CHILDREN.values(), ids=BROKEN_CHILDREN.keys())
def test_a_failing_child_falls_back_to_sqlite3(
    varied_store: OmegaStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    """Whatever the child process does wrong, the snapshot is read with sqlite3 and is the same."""
    expected = CausalGraph(varied_store, loader="sqlite3")._data
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\n" + script)
    broken.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))  # the child is started with this interpreter
    g = CausalGraph(varied_store, loader="duckdb")
    assert g.loader == "sqlite3"
    assert_same_data(g._data, expected)


# ----- values of the wrong SQLite type ------------------------------------------------------------
def typed_badly(path: Path) -> None:
    """A store file written with plain sqlite3 by a careless tool: text where numbers belong."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.executemany(
        "INSERT INTO memories VALUES (?, 'note', ?, ?, NULL, 0, 0)",
        [("m0", 1, 0.5), ("m1", 2, "high"), ("m2", 2.5, 0.2), ("m3", "top", 0.9), ("m4", 4, 0.4)],
    )
    conn.executemany(
        "INSERT INTO causal_edges VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("e0", "m0", "m1", 0.9, "causes", 10),
            ("e1", "m1", "m2", "strong", "causes", 20),  # text weight
            ("e2", "m2", "m3", 0.5, "enables", "yesterday"),  # text timestamp
            ("e3", "m0", "m4", 0.4, "causes", 30),
            ("e4", "m4", "m3", 1.5, "causes", 40),  # a number, out of range
        ],
    )
    conn.close()


@pytest.fixture(params=["sqlite3", "duckdb", "memory"])
def bad_graph_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[OmegaStore, str]]:
    if request.param == "memory":
        s = OmegaStore.new_in_memory()
        tmp = tmp_path / "src.db"
        typed_badly(tmp)
        for table in ("memories", "causal_edges"):
            rows = sqlite3.connect(tmp).execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            marks = ", ".join("?" * len(rows[0]))
            s.connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        yield s, "sqlite3"
    else:
        typed_badly(tmp_path / "bad.db")
        s = OmegaStore(tmp_path / "bad.db")
        yield s, request.param
    s.close()


def graph(store: OmegaStore, loader: str, **filters: object) -> CausalGraph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return CausalGraph(store, loader=loader, **filters)


def test_wrong_types_warn_once_naming_table_column_and_example(
    bad_graph_store: tuple[OmegaStore, str],
) -> None:
    store, loader = bad_graph_store
    with pytest.warns(DataQualityWarning) as caught:
        g = CausalGraph(store, loader=loader)
    assert g.loader == loader  # the DuckDB child read the file despite the bad values
    assert len(caught) == 1
    text = str(caught[0].message)
    for part in (
        "memories.tier: 2 value(s) not an integer (e.g. memory 'm2' holds 2.5 (real))",
        "memories.importance: 1 value(s) not a number (e.g. memory 'm1' holds 'high' (text))",
        "causal_edges.weight: 1 value(s) not a number (e.g. edge 'e1' holds 'strong' (text))",
        "causal_edges.weight: 1 value(s) a number outside [0, 1] (e.g. edge 'e4' holds 1.5 (real))",
        "causal_edges.created_at: 1 value(s) not an integer (e.g. edge 'e2' holds 'yesterday' (text))",
    ):
        assert part in text
    assert [(b.table, b.column, b.count) for b in g.bad_values] == [
        ("memories", "tier", 2), ("memories", "importance", 1), ("causal_edges", "weight", 1),
        ("causal_edges", "weight", 1), ("causal_edges", "created_at", 1),
    ]  # fmt: skip


def test_wrong_types_become_missing_values(bad_graph_store: tuple[OmegaStore, str]) -> None:
    g = graph(*bad_graph_store)
    nodes = dict(g.to_networkx().nodes(data=True))
    assert nodes["m1"] == {"tier": 2, "importance": None}
    assert nodes["m2"]["tier"] is None and nodes["m3"]["tier"] is None
    assert nodes["m0"] == {"tier": 1, "importance": 0.5}
    edges = {k: d for _, _, k, d in g.to_networkx().edges(keys=True, data=True)}
    assert math.isnan(edges["e1"]["weight"]) and edges["e1"]["created_at"] == 20
    assert edges["e2"]["created_at"] is None and edges["e2"]["weight"] == 0.5
    d = g._data
    assert int(np.count_nonzero(d.created == MISSING_INT)) == 1


def test_structure_still_answers_with_bad_weights(bad_graph_store: tuple[OmegaStore, str]) -> None:
    g = graph(*bad_graph_store)
    assert g.number_of_edges() == 5
    assert g.is_dag()
    assert g.shortest_path("m0", "m3").nodes == ("m0", "m4", "m3")
    assert not g.d_separated("m0", "m3", None)


@pytest.mark.parametrize(
    "ask",
    [
        lambda g: g.strongest_path("m0", "m2"),
        lambda g: g.top_paths("m0", "m2"),
        lambda g: g.effects("m0"),
        lambda g: g.causes("m3"),
        lambda g: g.total_effect("m0", "m2"),
        lambda g: g.influence(),
    ],
    ids=["strongest_path", "top_paths", "effects", "causes", "total_effect", "influence"],
)
def test_strength_questions_name_the_bad_edge(bad_graph_store: tuple[OmegaStore, str], ask) -> None:
    g = graph(*bad_graph_store)
    with pytest.raises(
        ValidationError,
        match=r"weight = 'strong' is invalid: .*edge 'e1' at rowid 2 \(stored as text\), and 1 more .*"
        r"fix the stored weights .*store_causal_edge.*delete_causal_edge",
    ):
        ask(g)


def test_time_respecting_paths_name_the_bad_timestamp(bad_graph_store: tuple[OmegaStore, str]) -> None:
    store, loader = bad_graph_store
    g = graph(store, loader, min_weight=0.0)
    with pytest.raises(
        ValidationError, match=r"created_at = 'yesterday' .*edge 'e2'.*fix the stored timestamps"
    ):
        g.strongest_path("m0", "m4", time_respecting=True)


def test_filters_with_bad_values(bad_graph_store: tuple[OmegaStore, str]) -> None:
    store, loader = bad_graph_store
    # min_weight keeps an edge whose weight is unknown (text), so strengths still refuse to answer
    assert sorted(graph(store, loader, min_weight=0.6).to_networkx().edges(keys=True)) == [
        ("m0", "m1", "e0"), ("m1", "m2", "e1"), ("m4", "m3", "e4"),
    ]  # fmt: skip
    # as_of leaves out an edge whose time is unknown
    kept = {k for _, _, k in graph(store, loader, as_of=10**12).to_networkx().edges(keys=True)}
    assert kept == {"e0", "e1", "e3", "e4"}


def test_bad_values_are_the_same_through_both_loaders(tmp_path: Path) -> None:
    typed_badly(tmp_path / "bad.db")
    with OmegaStore(tmp_path / "bad.db") as s:
        for filters in ({}, {"min_weight": 0.6}, {"as_of": 35}):
            assert_same_data(graph(s, "duckdb", **filters)._data, graph(s, "sqlite3", **filters)._data)


def test_fixing_the_store_and_refreshing_clears_the_error(bad_graph_store: tuple[OmegaStore, str]) -> None:
    store, loader = bad_graph_store
    g = graph(store, loader)
    store.connection.execute("UPDATE causal_edges SET weight = 0.7 WHERE id IN ('e1', 'e4')")
    g.refresh()
    assert [(b.column, b.problem) for b in g.bad_values] == [
        ("tier", "not an integer"),
        ("importance", "not a number"),
        ("created_at", "not an integer"),
    ]
    assert g.strongest_path("m0", "m2").strength == pytest.approx(0.9 * 0.7)
    fresh = graph(store, loader)
    assert_same_data(g._data, fresh._data)


def test_refresh_warns_about_a_new_bad_value(tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "r.db") as s:
        s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        s.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.5, "causes", 0)])
        g = CausalGraph(s)
        s.connection.execute("INSERT INTO causal_edges VALUES ('bc', 'b', 'c', 'much', 'causes', 0)")
        with pytest.warns(DataQualityWarning, match=r"edge 'bc' holds 'much'"):
            g.refresh()
        assert_same_data(g._data, graph(s, "sqlite3")._data)


# ----- building blocks ------------------------------------------------------------------------------
@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([0.0, 0.25, 0.5, 1.0, math.nan])),
        max_size=60,
    )
)
def test_the_reverse_order_sorted_with_the_edges_is_the_one_built_later(
    edges: list[tuple[int, int, float]],
) -> None:
    """Large snapshots sort by (dst, src) beside the canonical sort; it must equal the lazy build."""
    nodes = [(i + 1, f"n{i}", 1, 0.5) for i in range(7)]
    rows = [(r + 1, f"e{r}", f"n{u}", f"n{v}", None if w != w else w, "causes", 0)
            for r, (u, v, w) in enumerate(edges)]  # fmt: skip
    state = SnapshotState(len(rows), 0, 7, 7)
    lazy = GraphData.from_rows(nodes, rows, state)
    expected = [a.copy() for a in lazy._reverse()]
    import omega_graph.graph.snapshot as snapshot

    old, snapshot.PARALLEL_MIN = snapshot.PARALLEL_MIN, 0
    try:
        eager = GraphData.from_rows(nodes, rows, state)
    finally:
        snapshot.PARALLEL_MIN = old
    assert "reverse" in eager._cache
    for got, want in zip(eager._reverse(), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(eager.erowid, lazy.erowid)


def test_hash_strings_accepts_values_that_are_not_text() -> None:
    assert hash_strings([1, "a"]).tolist() == hash_strings(["1", "a"]).tolist()
    assert len(hash_strings(["x"] * 5)) == 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=40))
def test_pair_order_is_a_stable_sort_by_pair(pairs: list[tuple[int, int]]) -> None:
    major = np.array([p[0] for p in pairs], dtype=np.int32)
    minor = np.array([p[1] for p in pairs], dtype=np.int32)
    expected = np.lexsort((np.arange(len(pairs)), minor, major))
    np.testing.assert_array_equal(pair_order(major, minor, 7), expected)
    order, keys = pair_order(major, minor, 7, with_keys=True)
    np.testing.assert_array_equal(order, expected)
    sorted_pairs = [pairs[i] for i in expected]
    for i in range(len(pairs) - 1):  # keys ordered like the pairs, equal exactly for equal pairs
        assert (keys[i] < keys[i + 1]) == (sorted_pairs[i] < sorted_pairs[i + 1])
        assert (keys[i] == keys[i + 1]) == (sorted_pairs[i] == sorted_pairs[i + 1])


# ----- a store writing in the same process ----------------------------------------------------------
WRITER_SCRIPT = textwrap.dedent(
    """
    import logging, sys, threading, time
    logging.basicConfig(level=logging.INFO)  # a child that fails says why on stderr
    from omega_graph.graph import CausalGraph
    from omega_graph.models import StoredMemory
    from omega_graph.store import OmegaStore

    path = sys.argv[1]
    stop = threading.Event()
    failures = []

    def write():
        w = OmegaStore(path)
        i = 0
        while not stop.is_set():
            try:
                w.store_memory(StoredMemory(f"w{i}", "x", 1, 0.5, None, 0, 0))
                i += 1
            except Exception as err:
                failures.append(repr(err))
        w.close()

    store = OmegaStore(path)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    loaders = []
    try:
        t0 = time.monotonic()
        while (time.monotonic() - t0 < 3 or len(loaders) < 3) and time.monotonic() - t0 < 120:
            g = CausalGraph(store, loader="duckdb")
            assert g.number_of_edges() == 6000
            loaders.append(g.loader)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not failures, failures[:3]
    print(len(loaders), loaders.count("duckdb"))
    """
)


def test_loading_through_duckdb_while_this_process_writes(tmp_path: Path) -> None:
    """DuckDB's own SQLite library in this process would truncate the WAL index under the store
    (SIGBUS) and drop its locks; the child process keeps both intact."""
    path = tmp_path / "live.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(f"m{i}", "x", 1, 0.5, None, 0, 0) for i in range(2000))
        s.store_causal_edges(
            StoredCausalEdge(f"e{i}", f"m{i % 2000}", f"m{(i * 7) % 2000}", 0.5, "causes", i)
            for i in range(6000)
        )
    done = subprocess.run(
        [sys.executable, "-c", WRITER_SCRIPT, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]  # a SIGBUS here was the in-process scanner
    loads, through_duckdb = map(int, done.stdout.split())
    assert loads >= 3 and through_duckdb == loads, done.stderr[-3000:]  # the fast path held under the writer
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM causal_edges").fetchone() == (6000,)
    conn.close()


# ----- another process committing edges continuously ------------------------------------------------
BATCH = textwrap.dedent(
    """
    def batch(store, k):
        \"\"\"Commit k: re-weight one old edge, delete a recent one, insert a new one (the new tail).\"\"\"
        from omega_graph.models import StoredCausalEdge
        with store.transaction():
            old = store.get_causal_edges_from(f"m{k % 500}")
            if old:
                e = old[0]
                store.store_causal_edge(StoredCausalEdge(e.id, e.from_memory, e.to_memory, (k % 10) / 10,
                                                         e.edge_type, e.created_at))
            if k > 5:
                store.delete_causal_edge(f"n{k - 5}")
            store.store_causal_edge(StoredCausalEdge(f"n{k}", f"m{k % 500}", f"m{k * 3 % 500}", 0.5,
                                                     "causes", k))
    """
)
LIVE_WRITER = BATCH + textwrap.dedent(
    """
    import sys
    from omega_graph.store import OmegaStore
    store = OmegaStore(sys.argv[1])
    k = 0
    while True:
        k += 1
        batch(store, k)
        print(k, flush=True)
    """
)


def test_loads_under_a_live_writer_use_the_fast_path_and_equal_a_rebuild(tmp_path: Path) -> None:
    """Another process commits continuously; each DuckDB load equals a rebuild at the state it reports."""
    path, initial = tmp_path / "busy.db", tmp_path / "initial.db"
    with OmegaStore(path) as s:
        s.store_memories(StoredMemory(f"m{i}", "x", 1 + i % 12, 0.5, None, 0, 0) for i in range(500))
        s.store_causal_edges(
            StoredCausalEdge(f"e{i}", f"m{i % 500}", f"m{(i * 7 + 1) % 500}", 0.25, "causes", i)
            for i in range(3000)
        )
        s.backup(initial)
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "1"  # the writer is running
        with OmegaStore(path) as reader:
            loads = [CausalGraph(reader, loader="duckdb")._data for _ in range(3)]
    finally:
        writer.kill()
        writer.wait()
    scope: dict = {}
    exec(BATCH, scope)
    replayed, done = OmegaStore(initial), 0
    try:
        for data in sorted(loads, key=lambda d: d.state.log_seq):
            assert data.loader == "duckdb"  # the fast path, although the store changed during the scan
            assert data.state.edge_max_id is not None and data.state.edge_max_id.startswith("n")
            k = int(data.state.edge_max_id[1:])  # the tail edge names the last commit the load saw
            for j in range(done + 1, k + 1):
                scope["batch"](replayed, j)
            done = k
            assert_same_data(data, CausalGraph(replayed, loader="sqlite3")._data)
    finally:
        replayed.close()
    assert len({d.state.log_seq for d in loads}) > 1  # the writer committed between the loads


def test_the_smallest_int64_created_at_is_a_valid_time_not_bad_data(tmp_path: Path) -> None:
    """created_at = -2**63 is a valid i64 (the crate's type): no loader, refresh or cache may report it
    as "not an integer", and it counts for as_of and time-respecting paths; a text created_at does not."""
    s = OmegaStore(tmp_path / "t.db")
    s.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
    s.store_causal_edges(
        [
            StoredCausalEdge("ab", "a", "b", 0.5, "causes", -(2**63)),
            StoredCausalEdge("bc", "b", "c", 0.5, "causes", 7),
        ]
    )
    for loader in ("duckdb", "sqlite3"):
        g = CausalGraph(s, loader=loader, cache=False)
        assert g.bad_values == () and g._data.created_bad.tolist() == [False, False]
        assert g.to_networkx()["a"]["b"]["ab"]["created_at"] == -(2**63)
        assert CausalGraph(s, loader=loader, as_of=0).number_of_edges() == 1
        assert g.strongest_path("a", "c", time_respecting=True).edge_ids == ("ab", "bc")
    s.connection.execute("UPDATE causal_edges SET created_at = 'soon' WHERE id = 'bc'")
    s.store_causal_edge(StoredCausalEdge("ca", "c", "a", 0.5, "causes", -(2**63)))
    g.refresh()
    duck = CausalGraph(s, loader="duckdb", cache=False)
    for snap in (g, duck, CausalGraph(s, loader="sqlite3", cache=False)):
        by_id = dict(zip(snap._data.edge_ids_at(), snap._data.created_bad.tolist(), strict=True))
        assert by_id == {"ab": False, "bc": True, "ca": False}
        assert [(b.column, b.count) for b in snap.bad_values] == [("created_at", 1)]
    assert_same_data(g._data, duck._data)
    s.close()
