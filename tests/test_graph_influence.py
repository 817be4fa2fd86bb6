"""``CausalGraph.influence``: weighted PageRank converged to its documented L1 error bound.

References, written here without omega_graph.graph:

- an exact solve: ``numpy.linalg.solve`` of ``(I - alpha (P^T + p d^T)) x = (1 - alpha) p`` on small
  graphs, ``scipy.sparse.linalg.spsolve`` of ``(I - alpha P^T) y = p``, ``x = y / sum(y)`` on medium
  ones (``P`` row-normalised from the summed parallel weights, zero rows for dangling nodes ``d``);
- networkx run to convergence: ``nx.pagerank(G, ..., tol=1e-12, max_iter=10_000, weight="weight")``.

The real networks are those of ``data/`` (see its README); ``sachs_cdt_consensus.csv`` has no weight
column, and every one of its edges gets weight 1.0 here (weighted PageRank is then the plain one).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np
import pytest
from conftest import data_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_random import multigraphs
from test_graph_reference import reference_multigraph

import omega_graph
from omega_graph.errors import ConvergenceError, NotFoundError, OmegaGraphError, ValidationError
from omega_graph.graph import CausalGraph
from omega_graph.graph import influence as influence_module
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

NETWORKS = ["asia", "sachs", "child", "insurance", "alarm", "sachs_cdt_consensus"]
#: The comparison with networkx run to convergence (max abs per node, and L1).
AGREE = 1e-9
#: Rounding of the exact references themselves (dense or sparse LU), on top of ``tol``.
SLACK = 1e-13


# ----- references -----------------------------------------------------------------------------------
def exact_pagerank(
    nodes: list[str],
    edges: list[tuple],
    alpha: float = 0.85,
    personalization: dict[str, float] | None = None,
    reverse: bool = False,
) -> dict[str, float]:
    """Exact scores by a dense solve; ``edges`` are ``(id, from, to, weight, ...)``."""
    n = len(nodes)
    idx = {m: i for i, m in enumerate(nodes)}
    w = np.zeros((n, n))
    for _, u, v, weight, *_ in edges:
        a, b = (idx[v], idx[u]) if reverse else (idx[u], idx[v])
        w[a, b] += weight
    s = w.sum(axis=1)
    dangling = s == 0
    pm = np.divide(w, s[:, None], out=np.zeros_like(w), where=~dangling[:, None])
    p = personalization_vector(nodes, personalization)
    m = np.eye(n) - alpha * (pm.T + np.outer(p, dangling))
    x = np.linalg.solve(m, (1 - alpha) * p)
    return dict(zip(nodes, x.tolist(), strict=True))


def personalization_vector(nodes: list[str], personalization: dict[str, float] | None) -> np.ndarray:
    if personalization is None:
        return np.full(len(nodes), 1.0 / len(nodes))
    p = np.array([float(personalization.get(m, 0.0)) for m in nodes])
    return p / p.sum()


def sparse_exact(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """Exact scores for nodes 0..n-1 by a sparse LU solve of the unnormalised linear system."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    a = sp.csr_array((w, (src, dst)), shape=(n, n))  # duplicates add
    s = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)
    pm = sp.diags_array(inv) @ a
    y = sla.spsolve((sp.eye_array(n) - alpha * pm.T).tocsc(), np.full(n, 1.0 / n))
    return y / y.sum()


def scores(frame: Any) -> dict[str, float]:
    return dict(zip(frame.memory_id, frame.score, strict=True))


def distance(got: dict[str, float], want: dict[str, float]) -> tuple[float, float]:
    """(max abs, L1) over the same keys."""
    assert got.keys() == want.keys()
    diffs = [abs(got[m] - want[m]) for m in want]
    return max(diffs, default=0.0), math.fsum(diffs)


# ----- fixtures -------------------------------------------------------------------------------------
def read_network(name: str) -> tuple[list[str], list[tuple]]:
    folder = data_dir()
    nodes = [s.strip() for s in (folder / "nodes" / f"{name}.txt").read_text().splitlines() if s.strip()]
    with (folder / f"{name}.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    edges = [
        (f"edge-{i:05d}", r["source"], r["target"], float(r.get("weight") or 1.0), "causes", 1764100000 + i)
        for i, r in enumerate(rows)
    ]
    return nodes, edges


def make_store(nodes: list[str], edges: list[tuple]) -> OmegaStore:
    store = OmegaStore.new_in_memory()
    store.store_memories(StoredMemory(m, m, 1 + i % 12, 0.5, None, i, i) for i, m in enumerate(nodes))
    store.store_causal_edges(StoredCausalEdge(*e) for e in edges)
    return store


@pytest.fixture(scope="module", params=NETWORKS)
def network(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str], list[tuple], CausalGraph]]:
    nodes, edges = read_network(request.param)
    store = make_store(nodes, edges)
    yield request.param, nodes, edges, store.causal_graph()
    store.close()


@pytest.fixture
def cyclic() -> Iterator[CausalGraph]:
    """a -> b <-> c, d alone: the 2-cycle makes the power step shrink by only alpha per iteration."""
    store = make_store(list("abcd"), [("ab", "a", "b", 0.9, "causes", 1), ("ac", "a", "c", 0.3, "causes", 2),
                                      ("bc", "b", "c", 0.5, "causes", 3), ("cb", "c", "b", 0.2, "causes", 4)])  # fmt: skip
    yield store.causal_graph()
    store.close()


# ----- against networkx run to convergence, on real networks ---------------------------------------
CASES: list[dict[str, Any]] = [
    {},
    {"alpha": 0.5},
    {"alpha": 0.95},
    {"personalization": "first-and-last"},
    {"personalization": "first-and-last", "alpha": 0.7},
]


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_real_networks_match_converged_networkx(network: tuple, case: dict, reverse: bool) -> None:
    name, nodes, edges, graph = network
    kw = dict(case)
    if kw.get("personalization") == "first-and-last":
        kw["personalization"] = {nodes[0]: 1.0, nodes[-1]: 3.0}
    ref = reference_multigraph(nodes, edges)
    h = ref.reverse(copy=True) if reverse else ref
    want = nx.pagerank(h, weight="weight", tol=1e-12, max_iter=10_000, **kw)
    frame = graph.influence(reverse=reverse, **kw)
    worst, l1 = distance(scores(frame), want)
    assert worst <= AGREE and l1 <= AGREE, (name, worst, l1)
    exact = exact_pagerank(nodes, edges, reverse=reverse, **kw)
    assert distance(scores(frame), exact)[1] <= 1e-10 + SLACK
    assert frame.attrs["error_bound"] <= 1e-10


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.85, 0.99])
@pytest.mark.parametrize("tol", [1e-6, 1e-10, 1e-12, 1e-13])
def test_real_networks_within_tol_of_the_exact_solve(network: tuple, alpha: float, tol: float) -> None:
    _, nodes, edges, graph = network
    for reverse in (False, True):
        try:
            frame = graph.influence(reverse=reverse, alpha=alpha, tol=tol)
        except ConvergenceError as err:  # documented: about 1e-13 is the rounding floor at alpha 0.99
            assert alpha == 0.99 and tol == 1e-13, err
            assert "rounding level" in str(err) and err.error_bound < 1e-12
            continue
        exact = exact_pagerank(nodes, edges, alpha=alpha, reverse=reverse)
        assert distance(scores(frame), exact)[1] <= tol + SLACK
        assert 0.0 <= frame.attrs["error_bound"] <= tol
        assert frame.score.sum() == pytest.approx(1.0, abs=1e-12)


# ----- hypothesis: random multigraphs against the dense solve --------------------------------------
@st.composite
def options(draw: st.DrawFn, nodes: list[str]) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "alpha": draw(st.sampled_from([0.0, 0.5, 0.85, 0.9, 0.99])),
        "tol": draw(st.sampled_from([1e-4, 1e-8, 1e-10, 1e-12])),
        "reverse": draw(st.booleans()),
    }
    if draw(st.booleans()):
        weights = draw(
            st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 7.0]), min_size=len(nodes), max_size=len(nodes))
        )
        if any(weights):
            kw["personalization"] = {
                m: w for m, w in zip(nodes, weights, strict=True) if w or draw(st.booleans())
            }
    return kw


@settings(max_examples=150)
@given(st.data(), multigraphs(max_nodes=12, max_edges=30))
def test_random_multigraphs_within_tol_of_the_exact_solve(data: st.DataObject, graph_data: tuple) -> None:
    """Parallel edges, weight-0 edges, self-loops, dangling and isolated memories."""
    nodes, edges = graph_data
    kw = data.draw(options(nodes))
    store = make_store(nodes, edges)
    with store:
        try:
            frame = store.causal_graph().influence(**kw)
        except ConvergenceError as err:  # max_iter is the count that always suffices: only rounding stops it
            assert "rounding" in str(err) and kw["tol"] <= kw["alpha"] / (1 - kw["alpha"]) * 1e-13, err
            return
    tol = kw.pop("tol")
    exact = exact_pagerank(nodes, edges, **kw)
    assert distance(scores(frame), exact)[1] <= tol + SLACK
    assert frame.attrs["error_bound"] <= tol
    assert frame["rank"].tolist() == list(range(1, len(nodes) + 1))
    keys = list(zip(-frame.score, frame.memory_id, strict=True))
    assert keys == sorted(keys)


# ----- a medium graph: where networkx's early stop is far off ---------------------------------------
@pytest.fixture(scope="module")
def medium() -> Iterator[tuple[CausalGraph, np.ndarray, np.ndarray, np.ndarray, int]]:
    """3,000 memories, 12,000 random edges with hub sources, 2% weight 0, parallel edges and cycles."""
    rng = np.random.default_rng(11)
    n, e = 3000, 12_000
    src = np.minimum((rng.pareto(1.2, e) * n / 50).astype(np.int64), n - 1)
    src = np.where(rng.random(e) < 0.5, rng.permutation(n)[src], rng.integers(0, n, e))
    dst = rng.integers(0, n, e)
    w = rng.random(e).round(6)
    w[rng.random(e) < 0.02] = 0.0
    nodes = [f"m{i:05d}" for i in range(n)]
    store = make_store(nodes, [(f"e{k:06d}", nodes[u], nodes[v], float(x), "causes", k)
                               for k, (u, v, x) in enumerate(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True))])  # fmt: skip
    yield store.causal_graph(), src, dst, w, n
    store.close()


@pytest.mark.parametrize("alpha", [0.85, 0.95])
def test_medium_graph_converged_where_networkx_default_stops_early(medium: tuple, alpha: float) -> None:
    graph, src, dst, w, n = medium
    exact = sparse_exact(n, src, dst, w, alpha)
    frame = graph.influence(alpha=alpha)
    got = frame.set_index("memory_id").score.sort_index().to_numpy()
    assert np.abs(got - exact).sum() <= 1e-10 + SLACK
    early = nx.pagerank(graph.to_networkx(), alpha=alpha, weight="weight")  # tol=1e-6: stops at N * 1e-6
    early_vec = np.array([early[m] for m in sorted(early)])
    assert np.abs(early_vec - exact).sum() > 1e3 * np.abs(got - exact).sum()
    assert frame.attrs["iterations"] < influence_module.iterations_needed(alpha, 1e-10)


def test_threaded_products_give_the_same_scores(medium: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, src, dst, w, n = medium
    plain = graph.influence(alpha=0.9, tol=1e-12)
    monkeypatch.setattr(influence_module, "_THREADED_NNZ", 1)
    monkeypatch.setattr(influence_module, "_threads", lambda: 2)
    data = graph._data
    saved = dict(data._cache)
    data._cache.clear()  # the chain is rebuilt with two row blocks per matrix
    try:
        threaded = graph.influence(alpha=0.9, tol=1e-12)
        chain = data._cache["pagerank_chain_False"]
        assert chain.threaded and len(chain.nn.blocks) == 2
    finally:
        data._cache.clear()
        data._cache.update(saved)
    exact = sparse_exact(n, src, dst, w, 0.9)
    for frame in (plain, threaded):
        got = frame.set_index("memory_id").score.sort_index().to_numpy()
        assert np.abs(got - exact).sum() <= 1e-12 + SLACK
    assert np.abs(threaded.score.to_numpy() - plain.score.to_numpy()).sum() <= 2e-12


# ----- the bound, the cache and warm starts ----------------------------------------------------------
def test_attrs_report_the_bound_met(cyclic: CausalGraph) -> None:
    frame = cyclic.influence(tol=1e-8, alpha=0.9)
    assert set(frame.attrs) == {"error_bound", "iterations", "alpha", "tol"}
    assert 0.0 < frame.attrs["error_bound"] <= 1e-8
    assert frame.attrs["alpha"] == 0.9 and frame.attrs["tol"] == 1e-8
    # the 2-cycle b <-> c: the step shrinks by exactly alpha, so the a-priori count is nearly used up
    assert 0.5 * influence_module.iterations_needed(0.9, 1e-8) < frame.attrs["iterations"]
    assert frame.attrs["iterations"] <= influence_module.iterations_needed(0.9, 1e-8)


def test_a_cached_result_is_reused_and_warm_starts_a_tighter_one(cyclic: CausalGraph) -> None:
    first = cyclic.influence(tol=1e-6)
    again = cyclic.influence(tol=1e-4)  # the cached bound meets it: no work
    assert again.attrs["iterations"] == 0 and again.attrs["error_bound"] == first.attrs["error_bound"]
    assert again.equals(first)
    tight = cyclic.influence(tol=1e-12)  # starts from the cached vector
    cold = influence_module.iterations_needed(0.85, 1e-12) - influence_module.iterations_needed(0.85, 1e-6)
    assert 0 < tight.attrs["iterations"] <= cold + 5
    exact = exact_pagerank(
        list("abcd"), [("", "a", "b", 0.9), ("", "a", "c", 0.3), ("", "b", "c", 0.5), ("", "c", "b", 0.2)]
    )
    assert distance(scores(tight), exact)[1] <= 1e-12 + SLACK
    # other keys are computed on their own
    assert cyclic.influence(tol=1e-6, reverse=True).attrs["iterations"] > 0
    assert cyclic.influence(tol=1e-6, alpha=0.5).attrs["iterations"] > 0
    assert cyclic.influence(tol=1e-6, personalization={"a": 1.0}).attrs["iterations"] > 0


def test_the_results_cache_is_bounded(cyclic: CausalGraph) -> None:
    for i in range(3 * influence_module.RESULTS_KEPT):
        cyclic.influence(personalization={"a": 1.0, "b": float(i)})
    assert len(cyclic._data._cache["pagerank_results"]) == influence_module.RESULTS_KEPT


def test_refresh_brings_new_edges_into_the_ranking() -> None:
    nodes = list("abc")
    edges = [("ab", "a", "b", 0.9, "causes", 1)]
    store = make_store(nodes, edges)
    with store:
        g = store.causal_graph()
        g.influence()
        store.store_causal_edge(StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2))
        frame = g.refresh().influence()
        assert frame.attrs["iterations"] > 0
        exact = exact_pagerank(nodes, [*edges, ("bc", "b", "c", 0.5)])
        assert distance(scores(frame), exact)[1] <= 1e-10 + SLACK


# ----- degenerate graphs ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "edges",
    [
        [],
        [("aa", "a", "b", 0.0, "causes", 1), ("bb", "b", "a", 0.0, "causes", 2)],
        [("cc", "c", "c", 0.0, "x", 1)],
    ],
    ids=["no-edges", "only-weight-0", "weight-0-self-loop"],
)
def test_without_positive_weights_the_scores_are_the_personalization(edges: list[tuple]) -> None:
    with make_store(list("abc"), edges) as store:
        g = store.causal_graph()
        assert g.influence().score.tolist() == pytest.approx([1 / 3] * 3, abs=1e-15)
        frame = g.influence(personalization={"b": 2.0, "c": 6.0})
        assert scores(frame) == pytest.approx({"a": 0.0, "b": 0.25, "c": 0.75}, abs=1e-15)


def test_an_empty_store_ranks_nothing() -> None:
    with OmegaStore.new_in_memory() as store:
        frame = store.causal_graph().influence()
    assert frame.empty and list(frame.columns) == ["memory_id", "score", "rank"]
    assert frame.attrs["error_bound"] == 0.0


def test_alpha_zero_is_the_personalization_exactly(cyclic: CausalGraph) -> None:
    frame = cyclic.influence(alpha=0.0, personalization={"a": 1.0, "d": 1.0})
    assert scores(frame) == {"a": 0.5, "b": 0.0, "c": 0.0, "d": 0.5}
    assert frame.attrs["error_bound"] == 0.0


# ----- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": math.nan}, "alpha"),
        ({"alpha": True}, "alpha"),
        ({"alpha": "0.85"}, "alpha"),
        ({"tol": 0.0}, "tol"),
        ({"tol": -1e-10}, "tol"),
        ({"tol": math.inf}, "tol"),
        ({"tol": math.nan}, "tol"),
        ({"tol": "1e-10"}, "tol"),
        ({"tol": True}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": -5}, "max_iter"),
        ({"max_iter": 10.0}, "max_iter"),
        ({"max_iter": True}, "max_iter"),
        ({"personalization": ["a"]}, "personalization"),
        ({"personalization": {"a": 0.0}}, "at least one positive"),
        ({"personalization": {"a": -1.0}}, r"personalization\['a'\]"),
        ({"personalization": {"a": math.inf}}, r"personalization\['a'\]"),
        ({"personalization": {"a": math.nan}}, r"personalization\['a'\]"),
        ({"personalization": {"a": "1"}}, r"personalization\['a'\]"),
    ],
)
def test_bad_options_raise_validation_error_naming_them(cyclic: CausalGraph, kw: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field) as info:
        cyclic.influence(**kw)
    assert "expected" in str(info.value)


@pytest.mark.parametrize("key", ["nope", 7, None])
def test_unknown_personalization_keys_raise_not_found(cyclic: CausalGraph, key: object) -> None:
    with pytest.raises(NotFoundError, match="personalization keys must be memories"):
        cyclic.influence(personalization={key: 1.0})


def test_alpha_one_is_refused_with_the_reason(cyclic: CausalGraph) -> None:
    with pytest.raises(ValidationError, match=r"\[0, 1\).*no error bound"):
        cyclic.influence(alpha=1.0)


def test_too_few_iterations_raise_convergence_error(cyclic: CausalGraph) -> None:
    with pytest.raises(ConvergenceError) as info:
        cyclic.influence(alpha=0.99, max_iter=50)
    err = info.value
    assert isinstance(err, OmegaGraphError) and isinstance(err, ArithmeticError)
    assert err.iterations == 50 and err.tol == 1e-10 and 1e-10 < err.error_bound < math.inf
    needed = influence_module.iterations_needed(0.99, 1e-10)
    assert f"raise max_iter ({needed} iterations suffice" in str(err)
    assert "after 50 iterations the error bound is" in str(err) and "influence" in str(err)
    # the a-priori count is enough
    assert cyclic.influence(alpha=0.99, max_iter=needed).attrs["error_bound"] <= 1e-10


def test_max_iter_one_is_a_single_certified_step(cyclic: CausalGraph) -> None:
    assert cyclic.influence(alpha=0.0, max_iter=1).attrs["iterations"] == 1
    with pytest.raises(ConvergenceError, match="after 1 iterations"):
        cyclic.influence(max_iter=1)


def test_a_tol_below_rounding_stops_early(medium: tuple) -> None:
    graph = medium[0]
    with pytest.raises(ConvergenceError, match="rounding level") as info:
        graph.influence(tol=1e-19)
    assert info.value.iterations < 200  # not run on to max_iter
    assert "ask for tol >=" in str(info.value)


def test_convergence_error_is_exported() -> None:
    assert omega_graph.ConvergenceError is ConvergenceError
    assert "ConvergenceError" in omega_graph.__all__ and "ConvergenceError" in omega_graph.errors.__all__


# ----- the command line ----------------------------------------------------------------------------
@pytest.fixture
def cyclic_db(tmp_path: Any) -> Any:
    path = tmp_path / "cyclic.db"
    make_file = OmegaStore(path)
    make_file.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
    make_file.store_causal_edges([StoredCausalEdge("ab", "a", "b", 0.9, "causes", 1),
                                  StoredCausalEdge("bc", "b", "c", 0.5, "causes", 2),
                                  StoredCausalEdge("cb", "c", "b", 0.2, "causes", 3)])  # fmt: skip
    make_file.close()
    return path


@pytest.mark.parametrize("tol", ["1e-6", "1e-12"])
def test_cli_tol_gives_the_graph_answer(cyclic_db: Any, tol: str) -> None:
    import json

    from click.testing import CliRunner

    from omega_graph.cli import main

    result = CliRunner().invoke(main, ["influence", str(cyclic_db), "--tol", tol, "--alpha", "0.9", "--json"])
    assert result.exit_code == 0, result.output
    with OmegaStore(cyclic_db) as store:
        want = store.causal_graph().influence(alpha=0.9, tol=float(tol))
    assert json.loads(result.output) == want.to_dict(orient="records")


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--tol", "0"], 2, "--tol"),
        (["--tol", "-1e-10"], 2, "--tol"),
        (["--tol", "inf"], 1, "influence.tol = inf is invalid"),
        (["--tol", "1e-19"], 1, "rounding level"),  # ConvergenceError: one line, no traceback
    ],
)
def test_cli_bad_tol_is_one_line(cyclic_db: Any, args: list[str], code: int, phrase: str) -> None:
    from click.testing import CliRunner

    from omega_graph.cli import main

    result = CliRunner().invoke(main, ["influence", str(cyclic_db), *args])
    assert result.exit_code == code, result.output
    assert phrase in result.output and "Traceback" not in result.output
