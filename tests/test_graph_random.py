"""Hypothesis: random multigraphs (parallel edges, zero weights, cycles, self-loops, isolated memories)
against the networkx references of test_graph_reference."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_reference import (
    check_all,
    check_d_separation,
    reference_multigraph,
)

from omega_graph.errors import NoPathError
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

WEIGHTS = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)
)


@st.composite
def multigraphs(draw: st.DrawFn, max_nodes: int = 7, max_edges: int = 14, self_loops: bool = True) -> tuple:
    n = draw(st.integers(1, max_nodes))
    nodes = [f"m{i:02d}" for i in range(n)]
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                WEIGHTS,
                st.sampled_from("xyz"),
                st.integers(0, 4),
            ),
            max_size=max_edges,
        )
    )
    edges = [
        (f"e{k:03d}", nodes[u], nodes[v], w, t, c)
        for k, (u, v, w, t, c) in enumerate(raw)
        if self_loops or u != v
    ]
    return nodes, edges


def build(nodes: list[str], edges: list[tuple]) -> tuple[OmegaStore, nx.MultiDiGraph]:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1 + i % 12, i / 10, None, i, i) for i, m in enumerate(nodes))
    store.store_causal_edges(StoredCausalEdge(*e) for e in edges)
    ref = reference_multigraph(nodes, edges)
    for i, m in enumerate(nodes):
        ref.nodes[m].update(tier=1 + i % 12, importance=i / 10)
    return store, ref


@settings(max_examples=60)
@given(multigraphs())
def test_random_multigraph_matches_networkx(graph_data: tuple) -> None:
    store, ref = build(*graph_data)
    with store:
        check_all(store.causal_graph(), ref)


@settings(max_examples=40)
@given(
    multigraphs(max_nodes=8, max_edges=12, self_loops=False).filter(
        lambda g: nx.is_directed_acyclic_graph(reference_multigraph(*g))
    )
)
def test_random_dag_d_separation_matches_networkx(graph_data: tuple) -> None:
    store, ref = build(*graph_data)
    with store:
        check_d_separation(store.causal_graph(), ref, limit=200)


def ref_time_respecting(ref: nx.MultiDiGraph, s: str, t: str) -> float | None:
    """Best product over simple edge paths with positive weights and non-decreasing created_at."""
    best = None
    for path in nx.all_simple_edge_paths(ref, s, t):
        data = [ref.edges[e] for e in path]
        if all(d["weight"] > 0 for d in data) and all(
            a["created_at"] <= b["created_at"] for a, b in itertools.pairwise(data)
        ):
            value = math.prod(d["weight"] for d in data)
            best = value if best is None else max(best, value)
    return best


@settings(max_examples=60)
@given(multigraphs(max_nodes=6, max_edges=12))
def test_random_time_respecting_strongest_path(graph_data: tuple) -> None:
    store, ref = build(*graph_data)
    with store:
        graph = store.causal_graph()
        for s, t in itertools.product(sorted(ref), repeat=2):
            if s == t:
                assert graph.strongest_path(s, t, time_respecting=True).nodes == (s,)
                continue
            want = ref_time_respecting(ref, s, t)
            if want is None:
                with pytest.raises(NoPathError, match="non-decreasing created_at"):
                    graph.strongest_path(s, t, time_respecting=True)
                continue
            p = graph.strongest_path(s, t, time_respecting=True)
            assert p.strength == pytest.approx(want, rel=1e-9)
            assert len(set(p.nodes)) == len(p.nodes)
            times = [
                ref.edges[u, v, k]["created_at"]
                for (u, v), k in zip(itertools.pairwise(p.nodes), p.edge_ids, strict=True)
            ]
            assert times == sorted(times)
            weights = [
                ref.edges[u, v, k]["weight"]
                for (u, v), k in zip(itertools.pairwise(p.nodes), p.edge_ids, strict=True)
            ]
            assert list(p.weights) == weights
            # never stronger than the unconstrained strongest path
            assert p.strength <= graph.strongest_path(s, t).strength * (1 + 1e-12)
