"""Every graph query against independent networkx reference computations, on real causal networks.

The references here are written from the definitions with networkx only (they never call
omega_graph.graph); other graph test modules import them.
"""

from __future__ import annotations

import csv
import itertools
import math
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from conftest import compat_dir, data_dir

from omega_graph.errors import NoPathError, NotADAGError
from omega_graph.graph import CausalGraph
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

DAGS = ["asia", "sachs", "child", "insurance", "alarm"]
TYPES = ("causes", "enables", "inhibits", "correlates")
REL = 1e-9


# ----- references ------------------------------------------------------------------------------------
def reference_multigraph(
    nodes: list[str], edges: list[tuple[str, str, str, float, str, int]]
) -> nx.MultiDiGraph:
    """Edges ``(id, from, to, weight, type, created_at)`` as the MultiDiGraph the contract describes."""
    g = nx.MultiDiGraph()
    g.add_nodes_from(nodes)
    for eid, u, v, w, t, c in edges:
        g.add_edge(u, v, key=eid, weight=w, edge_type=t, created_at=c)
    return g


def strongest_digraph(g: nx.MultiDiGraph) -> nx.DiGraph:
    """Positive-weight edges only, the strongest of parallel edges, cost = -ln(weight)."""
    d = nx.DiGraph()
    d.add_nodes_from(g)
    for u, v, w in g.edges(data="weight"):
        if w > 0 and (not d.has_edge(u, v) or d[u][v]["weight"] < w):
            d.add_edge(u, v, weight=w, cost=-math.log(w))
    return d


def ref_strength(g: nx.MultiDiGraph, s: str, t: str) -> float | None:
    """Greatest product of weights over s -> t paths; None when no positive path exists."""
    d = strongest_digraph(g)
    try:
        return math.exp(-nx.dijkstra_path_length(d, s, t, weight="cost"))
    except nx.NetworkXNoPath:
        return None


def best_pair_weight(g: nx.MultiDiGraph, u: str, v: str) -> float:
    return max(d["weight"] for d in g.get_edge_data(u, v).values())


def path_product(g: nx.MultiDiGraph, nodes: list[str]) -> float:
    return math.prod((best_pair_weight(g, u, v) for u, v in itertools.pairwise(nodes)), start=1.0)


def ref_reach(g: nx.MultiDiGraph, v: str, reverse: bool) -> dict[str, tuple[int, float]]:
    """memory -> (fewest edges, best strength) for every descendant (ancestor when reverse)."""
    h = g.reverse(copy=True) if reverse else g
    depth = nx.single_source_shortest_path_length(h, v)
    best = nx.single_source_dijkstra_path_length(strongest_digraph(h), v, weight="cost")
    return {m: (k, math.exp(-best[m]) if m in best else 0.0) for m, k in depth.items() if m != v}


def ref_total_effect(g: nx.MultiDiGraph, s: str, t: str) -> float:
    return sum(
        math.prod((g.edges[e]["weight"] for e in path), start=1.0)
        for path in nx.all_simple_edge_paths(g, s, t)
    )


def ref_top_strengths(
    g: nx.MultiDiGraph, s: str, t: str, k: int, max_length: int | None = None
) -> list[float]:
    d = strongest_digraph(g)
    out: list[float] = []
    try:
        for p in nx.shortest_simple_paths(d, s, t, weight="cost"):
            if max_length is None or len(p) - 1 <= max_length:
                out.append(math.prod((d[u][v]["weight"] for u, v in itertools.pairwise(p)), start=1.0))
            if len(out) == k:
                break
    except nx.NetworkXNoPath:
        pass
    return out


def canonical_cycle(c: list[str]) -> tuple[str, ...]:
    k = c.index(min(c))
    return tuple(c[k:] + c[:k])


# ----- checks shared with the random-graph tests --------------------------------------------------
def check_all(graph: CausalGraph, ref: nx.MultiDiGraph, pairs: list[tuple[str, str]] | None = None) -> None:
    """Run every query of the graph against the references (small graphs: all pairs)."""
    nodes = sorted(ref)
    pairs = pairs if pairs is not None else list(itertools.product(nodes, nodes))
    check_networkx_view(graph, ref)
    dag = nx.is_directed_acyclic_graph(ref)
    assert graph.is_dag() == dag
    for v in nodes:
        for reverse in (False, True):
            frame = graph.causes(v) if reverse else graph.effects(v)
            want = ref_reach(ref, v, reverse)
            got = {r.memory_id: (r.depth, r.strength) for r in frame.itertuples()}
            assert got.keys() == want.keys()
            for m, (dep, st) in want.items():
                assert got[m][0] == dep
                assert got[m][1] == pytest.approx(st, rel=REL, abs=1e-300)
            keys = [(-r.strength, r.depth, r.memory_id) for r in frame.itertuples()]
            assert keys == sorted(keys)
    for s, t in pairs:
        check_paths(graph, ref, s, t)
        if s != t:
            check_total_effect(graph, ref, s, t)
    check_influence(graph, ref)
    check_cycles(graph, ref)


def check_networkx_view(graph: CausalGraph, ref: nx.MultiDiGraph) -> None:
    g = graph.to_networkx()
    assert isinstance(g, nx.MultiDiGraph)
    assert sorted(g.nodes) == sorted(ref.nodes)
    assert sorted(g.edges(keys=True, data=True)) == sorted(ref.edges(keys=True, data=True))


def check_paths(graph: CausalGraph, ref: nx.MultiDiGraph, s: str, t: str) -> None:
    want = ref_strength(ref, s, t) if s != t else 1.0
    if want is None:
        with pytest.raises(NoPathError, match=repr(s)):
            graph.strongest_path(s, t)
    else:
        p = graph.strongest_path(s, t)
        assert p.strength == pytest.approx(want, rel=REL)
        check_valid(p, ref)
        assert all(w > 0 for w in p.weights)
    # shortest: fewest edges, then strongest among them
    if nx.has_path(ref, s, t):
        p = graph.shortest_path(s, t)
        check_valid(p, ref)
        length = nx.shortest_path_length(ref, s, t)
        assert len(p) == length
        best = max(path_product(ref, q) for q in nx.all_shortest_paths(ref, s, t))
        assert p.strength == pytest.approx(best, rel=REL, abs=0.0)
    else:
        with pytest.raises(NoPathError):
            graph.shortest_path(s, t)
    if s != t:
        for k, max_len in ((3, None), (4, 2)):
            want_top = ref_top_strengths(ref, s, t, k, max_len)
            if not want_top:
                with pytest.raises(NoPathError):
                    graph.top_paths(s, t, k=k, max_length=max_len)
                continue
            got = graph.top_paths(s, t, k=k, max_length=max_len)
            assert [p.strength for p in got] == pytest.approx(want_top, rel=REL)
            assert len({p.nodes for p in got}) == len(got)
            for p in got:
                check_valid(p, ref)
                assert len(set(p.nodes)) == len(p.nodes)
                assert max_len is None or len(p) <= max_len


def check_valid(p, ref: nx.MultiDiGraph) -> None:
    """The path's edges exist, connect its nodes, are the strongest parallel edge, and multiply up."""
    assert len(p.nodes) == len(p.edge_ids) + 1 == len(p.weights) + 1
    for (u, v), eid, w in zip(itertools.pairwise(p.nodes), p.edge_ids, p.weights, strict=True):
        data = ref.get_edge_data(u, v, key=eid)
        assert data is not None, (u, v, eid)
        assert data["weight"] == w == best_pair_weight(ref, u, v)
    assert p.strength == pytest.approx(math.prod(p.weights, start=1.0), rel=1e-15)


def check_total_effect(graph: CausalGraph, ref: nx.MultiDiGraph, s: str, t: str) -> None:
    between = (nx.descendants(ref, s) | {s}) & (nx.ancestors(ref, t) | {t})
    sub = ref.subgraph(between)
    if t in between and not nx.is_directed_acyclic_graph(sub):
        with pytest.raises(NotADAGError) as info:
            graph.total_effect(s, t)
        cycle = info.value.cycle
        assert set(cycle) <= between
        for u, v in itertools.pairwise([*cycle, cycle[0]]):
            assert ref.has_edge(u, v)
    else:
        assert graph.total_effect(s, t) == pytest.approx(ref_total_effect(ref, s, t), rel=REL, abs=1e-300)


def check_influence(graph: CausalGraph, ref: nx.MultiDiGraph) -> None:
    """Against networkx run to convergence (its default tol stops at an L1 step of N * 1e-6): within
    1e-9 per node and in L1 (influence's own bound is 1e-10 in L1)."""
    nodes = sorted(ref)
    cases: list[dict] = [{}, {"alpha": 0.6}, {"personalization": {nodes[0]: 1.0, nodes[-1]: 3.0}}]
    for kw in cases:
        for reverse in (False, True):
            h = ref.reverse(copy=True) if reverse else ref
            want = nx.pagerank(h, weight="weight", tol=1e-12, max_iter=10_000, **kw)
            frame = graph.influence(reverse=reverse, **kw)
            got = dict(zip(frame.memory_id, frame.score, strict=True))
            assert got.keys() == want.keys()
            diffs = [abs(got[m] - want[m]) for m in want]
            assert max(diffs, default=0.0) <= 1e-9 and math.fsum(diffs) <= 1e-9
            assert frame.attrs["error_bound"] <= 1e-10
            assert frame["rank"].tolist() == list(range(1, len(nodes) + 1))
            keys = list(zip(-frame.score, frame.memory_id, strict=True))
            assert keys == sorted(keys)


def check_cycles(graph: CausalGraph, ref: nx.MultiDiGraph) -> None:
    want = {canonical_cycle(c) for c in nx.simple_cycles(nx.DiGraph(ref))}
    got = graph.find_cycles(limit=None)
    assert len(got) == len(want)
    assert {tuple(c) for c in got} == want
    assert all(tuple(c) == canonical_cycle(c) for c in got)
    if len(want) > 1:
        assert len(graph.find_cycles(limit=1)) == 1


def check_d_separation(graph: CausalGraph, ref: nx.MultiDiGraph, limit: int = 400) -> None:
    nodes = sorted(ref)
    d = nx.DiGraph(ref)
    count = 0
    for x, y in itertools.combinations(nodes, 2):
        for z in [set(), *({n} for n in nodes if n not in (x, y))][:6]:
            assert graph.d_separated(x, y, z) == nx.is_d_separator(d, {x}, {y}, z), (x, y, z)
            count += 1
            if count >= limit:
                return


# ----- the real networks ---------------------------------------------------------------------------
def read_network(name: str) -> tuple[list[str], list[tuple[str, str, str, float, str, int]]]:
    folder = data_dir()
    nodes = [
        line.strip() for line in (folder / "nodes" / f"{name}.txt").read_text().splitlines() if line.strip()
    ]
    with (folder / f"{name}.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    edges = [
        (f"edge-{i:05d}", r["source"], r["target"], float(r["weight"]), TYPES[i % 4], 1764100000 + i)
        for i, r in enumerate(rows)
    ]
    return nodes, edges


def fill_store(store: OmegaStore, nodes: list[str], edges: list[tuple]) -> None:
    store.store_memories(
        StoredMemory(
            m, f"Observation of {m}", 1 + i % 12, round((i * 0.37) % 1, 3), None, 1764000000 + 60 * i, 0
        )
        for i, m in enumerate(nodes)
    )
    store.store_causal_edges(StoredCausalEdge(*e) for e in edges)


def network_ref(store: OmegaStore, nodes: list[str], edges: list[tuple]) -> nx.MultiDiGraph:
    g = reference_multigraph(nodes, edges)
    for m, t, w in store.connection.execute("SELECT id, tier, importance FROM memories"):
        g.nodes[m].update(tier=t, importance=w)
    return g


@pytest.fixture(params=["memory", "file"])
def store_kind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OmegaStore]:
    store = OmegaStore.new_in_memory() if request.param == "memory" else OmegaStore(tmp_path / "g.db")
    yield store
    store.close()


@pytest.mark.parametrize("name", DAGS)
def test_real_dag_matches_networkx(name: str, store_kind: OmegaStore) -> None:
    nodes, edges = read_network(name)
    fill_store(store_kind, nodes, edges)
    ref = network_ref(store_kind, nodes, edges)
    graph = store_kind.causal_graph()
    assert len(graph) == len(nodes) and graph.number_of_edges() == len(edges)
    pairs = (
        None
        if len(nodes) <= 20
        else [(s, t) for s, t in itertools.product(nodes, nodes) if hash((s, t)) % 7 == 0]
    )
    check_all(graph, ref, pairs)
    check_d_separation(graph, ref)


def test_real_weights_include_zero() -> None:
    """The bnlearn networks hold weight-0 edges: reachability keeps them, strength never uses them."""
    zeros = [e for name in DAGS for e in read_network(name)[1] if e[3] == 0.0]
    assert zeros


@pytest.fixture
def sachs_cyclic(tmp_path: Path) -> Iterator[tuple[OmegaStore, nx.MultiDiGraph]]:
    """The cyclic consensus network as the original crate wrote it (hash-derived weights in [0, 1))."""
    path = tmp_path / "sachs.db"
    shutil.copy(compat_dir() / "omega-rust-sachs_cdt_consensus.db", path)
    raw = sqlite3.connect(path)
    edges = raw.execute(
        "SELECT id, from_memory, to_memory, weight, edge_type, created_at FROM causal_edges"
    ).fetchall()
    mems = raw.execute("SELECT id, tier, importance FROM memories").fetchall()
    raw.close()
    ref = reference_multigraph([m for m, _, _ in mems], edges)
    for m, t, w in mems:
        ref.nodes[m].update(tier=t, importance=w)
    store = OmegaStore(path)
    yield store, ref
    store.close()


def test_cyclic_sachs_matches_networkx(sachs_cyclic: tuple[OmegaStore, nx.MultiDiGraph]) -> None:
    store, ref = sachs_cyclic
    graph = store.causal_graph()
    assert not graph.is_dag()
    check_all(graph, ref)
    cycles = graph.find_cycles()
    assert cycles == [["mem-PIP2", "mem-PIP3", "mem-plcg"]] or {tuple(c) for c in cycles} == {
        canonical_cycle(c) for c in nx.simple_cycles(nx.DiGraph(ref))
    }
    with pytest.raises(NotADAGError, match="d-separation needs an acyclic"):
        graph.d_separated("mem-PKA", "mem-pakts473", [])


def test_cyclic_sachs_total_effect_names_the_cycle(sachs_cyclic: tuple[OmegaStore, nx.MultiDiGraph]) -> None:
    store, ref = sachs_cyclic
    graph = store.causal_graph()
    cycle = next(iter(nx.simple_cycles(nx.DiGraph(ref))))
    a, b = cycle[0], cycle[1]
    with pytest.raises(NotADAGError, match="total_effect needs an acyclic") as info:
        graph.total_effect(a, b)
    assert sorted(info.value.cycle) == sorted(cycle)
