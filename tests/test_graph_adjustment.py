"""Back-door adjustment sets: ``minimal_adjustment_set`` and ``adjustment_sets`` against brute force.

The references are written from the definitions with networkx only, independently of
omega_graph.graph.adjustment: a set ``z`` is a valid adjustment set for ``x -> y`` when no member is a
descendant of ``x`` and ``z`` d-separates ``x`` and ``y`` once ``x``'s outgoing edges are removed
(``ref_valid``); the brute force enumerates subsets of candidate nodes, keeps the valid ones, and the
minimal ones are those with no valid proper subset. Graphs: the real DAGs of test_graph_reference
(asia and sachs on every ordered pair, the larger ones on sampled pairs), hypothesis DAGs of up to
12 memories, worked examples, cycles and bad input.
"""

from __future__ import annotations

import itertools
import random
import re
import warnings
from collections.abc import Callable, Iterable, Iterator

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_identification import back_door_graph, digraph, graph_of, ref_valid
from test_graph_reference import DAGS, fill_store, read_network

from omega_graph.errors import LimitWarning, NotADAGError, NotFoundError, ValidationError
from omega_graph.graph import CausalGraph
from omega_graph.store import OmegaStore

#: A limit no test graph reaches: ``adjustment_sets`` returns every minimal set, without a warning.
BIG = 10**6
#: The brute force on the larger real DAGs skips pairs with more candidate nodes than this.
MAX_CANDIDATES = 14

Edges = list[tuple[str, str]]


# ----- references ------------------------------------------------------------------------------------
def set_key(s: frozenset[str]) -> tuple[int, list[str]]:
    """The contract's order: fewest members first, then the lexicographically smallest sorted members."""
    return len(s), sorted(s)


def ref_minimal_sets(
    d: nx.DiGraph, x: str, y: str, candidates: Iterable[str], *, prune: bool = False
) -> list[frozenset[str]]:
    """Every minimal valid adjustment set for ``x -> y`` among the subsets of ``candidates``, by set_key.

    ``prune=False`` is the definition taken literally: every subset is tested, the valid family is
    kept whole, and a set is minimal when no other member of the family is a proper subset of it.
    ``prune=True`` enumerates by increasing size and skips the supersets of the valid sets already
    found (they are not minimal); a set tested valid then has no valid proper subset, since such a
    subset would contain a minimal valid set, found earlier and contained in it.
    """
    h = back_door_graph(d, x)
    desc = nx.descendants(d, x)
    pool = sorted(candidates)
    valid: list[frozenset[str]] = []
    for size in range(len(pool) + 1):
        for combo in itertools.combinations(pool, size):
            s = frozenset(combo)
            if prune and any(v <= s for v in valid):
                continue
            if not s & desc and nx.is_d_separator(h, {x}, {y}, set(s)):
                valid.append(s)
    minimal = [s for s in valid if not any(t < s for t in valid)]
    return sorted(minimal, key=set_key)


def ancestral_candidates(d: nx.DiGraph, x: str, y: str) -> set[str]:
    """An(x) ∪ An(y) minus x, y and the descendants of x: every minimal valid set lies in it."""
    return (nx.ancestors(d, x) | nx.ancestors(d, y)) - nx.descendants(d, x) - {x, y}


def all_sets(g: CausalGraph, x: str, y: str) -> list[frozenset[str]]:
    """``adjustment_sets`` with a limit never reached: a LimitWarning would be a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LimitWarning)
        return g.adjustment_sets(x, y, limit=BIG)


def check_pair(
    g: CausalGraph, d: nx.DiGraph, x: str, y: str, candidates: Iterable[str], *, prune: bool = False
) -> list[frozenset[str]]:
    """Both methods on ``x -> y`` against the brute force over ``candidates``; returns the sets."""
    want = ref_minimal_sets(d, x, y, candidates, prune=prune)
    got = all_sets(g, x, y)
    assert isinstance(got, list) and all(isinstance(s, frozenset) for s in got), got
    assert got == want, (x, y)
    first = g.minimal_adjustment_set(x, y)
    assert first == (want[0] if want else None), (x, y)
    assert first is None or isinstance(first, frozenset)
    # the contract's claim, checked on the reference: no valid set exactly when y is a parent of x
    assert (not want) == d.has_edge(y, x), (x, y)
    for s in got:
        assert ref_valid(d, x, y, set(s)), (x, y, s)
        for m in s:
            assert not ref_valid(d, x, y, set(s - {m})), (x, y, s, m)
    return got


# ----- real networks ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=DAGS)
def real(request: pytest.FixtureRequest) -> Iterator[tuple[str, CausalGraph]]:
    store = OmegaStore.new_in_memory()
    fill_store(store, *read_network(request.param))
    yield request.param, store.causal_graph()
    store.close()


def test_real_networks(real: tuple[str, CausalGraph]) -> None:
    """asia and sachs: every ordered pair, every subset of the other nodes; the larger DAGs: sampled
    pairs (some with y a parent of x, some with x a parent of y, the rest any), subsets of the
    ancestral candidates, pairs with more than MAX_CANDIDATES of them skipped."""
    name, g = real
    d = digraph(g)
    assert nx.is_directed_acyclic_graph(d)
    nodes = sorted(d)
    pairs = list(itertools.permutations(nodes, 2))
    seen: list[list[frozenset[str]]] = []
    if name in ("asia", "sachs"):
        for x, y in pairs:
            seen.append(check_pair(g, d, x, y, set(nodes) - {x, y}))
    else:
        rng = random.Random(f"adjustment-{name}")
        done: set[tuple[str, str]] = set()
        # sampled from three pools: y a parent of x, x a parent of y, any pair
        for pool, quota in ((sorted((v, u) for u, v in d.edges), 3), (sorted(d.edges), 6), (pairs, 20)):
            pool = rng.sample(pool, len(pool))
            taken = 0
            for x, y in pool:
                cand = ancestral_candidates(d, x, y)
                if (x, y) in done or len(cand) > MAX_CANDIDATES:
                    continue
                seen.append(check_pair(g, d, x, y, cand, prune=True))
                done.add((x, y))
                taken += 1
                if taken == quota:
                    break
            assert taken == quota, f"only {taken} pairs of {name} within the brute-force bound"
    # the sample is not trivial: pairs with no valid set, with the empty set, with a non-empty one
    assert any(not s for s in seen)
    assert any(s == [frozenset()] for s in seen)
    assert any(s and s[0] for s in seen)
    assert any(len(s) > 1 for s in seen)


# ----- hypothesis DAGs -------------------------------------------------------------------------------
@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], Edges]:
    n = draw(st.integers(2, 12))
    names = draw(st.permutations([f"m{i}" for i in range(n)]))  # topological order != id order
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=3 * n, unique=True))
    return names, [(names[i], names[j]) for i, j in chosen]


@settings(max_examples=80)
@given(dag=dags(), seed=st.integers(0, 2**16))
def test_random_dags(dag: tuple[list[str], Edges], seed: int) -> None:
    g = graph_of(*dag)
    d = digraph(g)
    rng = random.Random(seed)
    nodes = sorted(d)
    for x, y in rng.sample(list(itertools.permutations(nodes, 2)), min(5, len(nodes) * (len(nodes) - 1))):
        check_pair(g, d, x, y, set(nodes) - {x, y}, prune=True)


# ----- worked examples -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("edges", "want"),
    [
        pytest.param([("x", "y")], [set()], id="no-confounding"),
        pytest.param([], [set()], id="unconnected"),
        pytest.param([("c", "x"), ("c", "y"), ("x", "y")], [{"c"}], id="confounder"),
        pytest.param([("y", "m"), ("m", "x")], [{"m"}], id="y-ancestor-not-parent"),
        pytest.param([("c", "x"), ("c", "m"), ("x", "m"), ("m", "y")], [{"c"}], id="mediator-excluded"),
        pytest.param(
            [("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")], [set()], id="m-bias-empty-only"
        ),
        pytest.param(
            [("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("m", "x"), ("m", "y"), ("x", "y")],
            [{"a", "m"}, {"b", "m"}],
            id="butterfly",
        ),
        pytest.param(
            [("z", "x"), ("x", "y"), ("u", "x"), ("u", "y"), ("c", "x"), ("c", "y")],
            [{"c", "u"}],
            id="two-confounders-and-instrument",
        ),
        pytest.param(
            [("a", "x"), ("a", "b"), ("b", "y"), ("c", "x"), ("c", "b"), ("x", "y")],
            [{"b"}, {"a", "c"}],
            id="fewest-members-before-lexicographic",
        ),
        pytest.param(
            [("zeta", "x"), ("zeta", "alpha"), ("alpha", "y"), ("x", "y")],
            [{"alpha"}, {"zeta"}],
            id="lexicographic-not-topological",
        ),
        pytest.param(
            [("b", "x"), ("b", "d"), ("d", "y"), ("a", "x"), ("a", "c"), ("c", "y")],
            [{"a", "b"}, {"a", "d"}, {"b", "c"}, {"c", "d"}],
            id="two-paths-sorted-members",
        ),
    ],
)
def test_worked_examples(edges: Edges, want: list[set[str]]) -> None:
    nodes = sorted({"x", "y"} | {v for e in edges for v in e})
    g = graph_of(nodes, edges)
    expected = [frozenset(s) for s in want]
    assert check_pair(g, digraph(g), "x", "y", set(nodes) - {"x", "y"}) == expected
    assert g.minimal_adjustment_set("x", "y") == expected[0]


@pytest.mark.parametrize(
    "edges",
    [
        pytest.param([("y", "x")], id="parent"),
        pytest.param([("y", "x"), ("c", "x"), ("c", "y"), ("x", "m")], id="parent-and-confounder"),
        pytest.param([("y", "x"), ("y", "m"), ("m", "x")], id="parent-and-ancestor"),
    ],
)
def test_y_a_parent_of_x_has_no_adjustment_set(edges: Edges) -> None:
    nodes = sorted({v for e in edges for v in e})
    g = graph_of(nodes, edges)
    assert g.minimal_adjustment_set("x", "y") is None
    assert all_sets(g, "x", "y") == []
    assert ref_minimal_sets(digraph(g), "x", "y", set(nodes) - {"x", "y"}) == []


# ----- limit -------------------------------------------------------------------------------------------
def parallel_paths(k: int) -> tuple[CausalGraph, list[frozenset[str]]]:
    """x -> y and k back-door paths x <- a_i -> b_i -> y: the 2**k minimal sets pick a_i or b_i each."""
    edges = [("x", "y")]
    for i in range(k):
        edges += [(f"a{i}", "x"), (f"a{i}", f"b{i}"), (f"b{i}", "y")]
    nodes = sorted({v for e in edges for v in e})
    family = [frozenset(p) for p in itertools.product(*([f"a{i}", f"b{i}"] for i in range(k)))]
    return graph_of(nodes, edges), sorted(family, key=set_key)


def test_parallel_paths_reference() -> None:
    g, family = parallel_paths(3)
    d = digraph(g)
    assert ref_minimal_sets(d, "x", "y", set(d) - {"x", "y"}) == family
    assert all_sets(g, "x", "y") == family
    assert g.minimal_adjustment_set("x", "y") == frozenset({"a0", "a1", "a2"})


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8, 9, 100])
def test_limit(limit: int) -> None:
    g, family = parallel_paths(3)  # 8 minimal sets
    if limit < len(family):
        with pytest.warns(LimitWarning):
            got = g.adjustment_sets("x", "y", limit=limit)
        assert len(got) == limit
        assert len(set(got)) == limit
        assert set(got) <= set(family)
        assert got == sorted(got, key=set_key)
        assert got[0] == g.minimal_adjustment_set("x", "y") == family[0]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert g.adjustment_sets("x", "y", limit=limit) == family


def test_default_limit_is_100() -> None:
    g, family = parallel_paths(7)  # 128 minimal sets
    with pytest.warns(LimitWarning):
        got = g.adjustment_sets("x", "y")
    assert len(got) == len(set(got)) == 100
    assert set(got) <= set(family)
    assert got[0] == g.minimal_adjustment_set("x", "y") == frozenset(f"a{i}" for i in range(7))
    assert all_sets(g, "x", "y") == family


# ----- cycles ------------------------------------------------------------------------------------------
def check_cycle(d: nx.DiGraph, cycle: list[str], region: set[str]) -> None:
    assert cycle and set(cycle) <= region
    for u, v in itertools.pairwise([*cycle, cycle[0]]):
        assert d.has_edge(u, v), (u, v)


METHODS: list[Callable[[CausalGraph], object]] = [
    lambda g: g.minimal_adjustment_set("x", "y"),
    lambda g: g.adjustment_sets("x", "y"),
]


@pytest.mark.parametrize("call", METHODS, ids=["minimal_adjustment_set", "adjustment_sets"])
@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        pytest.param([("x", "y"), ("p", "q"), ("q", "p"), ("q", "x")], {"p", "q"}, id="ancestors-of-x"),
        pytest.param([("x", "y"), ("u", "v"), ("v", "u"), ("v", "y")], {"u", "v"}, id="ancestors-of-y"),
        pytest.param([("x", "y"), ("x", "c"), ("c", "x")], {"x", "c"}, id="through-x"),
        pytest.param([("x", "y"), ("y", "w"), ("w", "y")], {"y", "w"}, id="through-y"),
        pytest.param(
            [("a", "x"), ("a", "y"), ("x", "y"), ("a", "b"), ("b", "c"), ("c", "a")],
            {"a", "b", "c"},
            id="through-a-confounder",
        ),
    ],
)
def test_a_cycle_among_the_ancestors_is_named(
    call: Callable[[CausalGraph], object], edges: Edges, cycle: set[str]
) -> None:
    nodes = sorted({"x", "y"} | {v for e in edges for v in e})
    g = graph_of(nodes, edges)
    d = digraph(g)
    with pytest.raises(NotADAGError, match=r"needs an acyclic causal graph, but it has the cycle ") as info:
        call(g)
    assert set(info.value.cycle) == cycle
    check_cycle(d, info.value.cycle, nx.ancestors(d, "x") | nx.ancestors(d, "y") | {"x", "y"})


@pytest.mark.parametrize(
    "edges",
    [
        pytest.param([("y", "r"), ("r", "s"), ("s", "r")], id="descendants-of-y"),
        pytest.param([("x", "d1"), ("d1", "d2"), ("d2", "d1"), ("c", "d1")], id="descendants-of-x"),
        pytest.param([("p", "q"), ("q", "p")], id="unconnected"),
        pytest.param([("y", "x2"), ("x2", "y2"), ("y2", "x2")], id="below-y-again"),
    ],
)
def test_a_cycle_elsewhere_does_not_matter(edges: Edges) -> None:
    edges = [("c", "x"), ("c", "y"), ("x", "y"), *edges]
    nodes = sorted({v for e in edges for v in e})
    g = graph_of(nodes, edges)
    assert not g.is_dag()
    d = digraph(g)
    # every minimal set lies in the ancestors of x and y, an acyclic part the reference can take
    region = nx.ancestors(d, "x") | nx.ancestors(d, "y") | {"x", "y"}
    sub = nx.DiGraph(d.subgraph(region))
    assert nx.is_directed_acyclic_graph(sub)
    want = ref_minimal_sets(sub, "x", "y", ancestral_candidates(sub, "x", "y"))
    assert want == [frozenset({"c"})]
    assert all_sets(g, "x", "y") == want
    assert g.minimal_adjustment_set("x", "y") == frozenset({"c"})


# ----- bad input -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> CausalGraph:
    return graph_of(list("abcd"), [("a", "b"), ("b", "c"), ("d", "c")])


@pytest.mark.parametrize("method", ["minimal_adjustment_set", "adjustment_sets"])
@pytest.mark.parametrize(
    ("x", "y", "error", "match"),
    [
        ("a", "a", ValidationError, r"{m}\.y = 'a' is invalid: expected .*other than x"),
        (3, "c", ValidationError, r"{m}\.x = 3 is invalid: expected "),
        (None, "c", ValidationError, r"{m}\.x = None is invalid: expected "),
        (["a"], "c", ValidationError, r"{m}\.x = \['a'\] is invalid: expected "),
        ("a", b"c", ValidationError, r"{m}\.y = b'c' is invalid: expected "),
        ("a", 1.5, ValidationError, r"{m}\.y = 1\.5 is invalid: expected "),
        ("zz", "c", NotFoundError, r"'zz' not found.*\bx="),
        ("a", "zz", NotFoundError, r"'zz' not found.*\by="),
    ],
)
def test_bad_ids(
    small: CausalGraph, method: str, x: object, y: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match.replace("{m}", method)):
        getattr(small, method)(x, y)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "3", True, False, None, 2.0])
def test_bad_limit(small: CausalGraph, limit: object) -> None:
    match = rf"adjustment_sets\.limit = {re.escape(repr(limit))} is invalid: expected "
    with pytest.raises(ValidationError, match=match):
        small.adjustment_sets("a", "c", limit=limit)  # type: ignore[arg-type]


# ----- the minimum on graphs too big for the brute force: a networkx max-flow reference --------------------
def ref_cut_size(moral: nx.Graph, x: str, y: str, allowed: set[str], removed: set[str]) -> int:
    """Fewest allowed nodes separating x and y in ``moral`` once ``removed`` are gone (unit capacities)."""
    net = nx.DiGraph()
    for v in moral:
        if v not in removed:
            net.add_edge((v, "in"), (v, "out"), capacity=1 if v in allowed else len(moral) + 1)
    for u, v in moral.edges:
        if u not in removed and v not in removed:
            net.add_edge((u, "out"), (v, "in"), capacity=len(moral) + 1)
            net.add_edge((v, "out"), (u, "in"), capacity=len(moral) + 1)
    return int(nx.maximum_flow_value(net, (x, "out"), (y, "in")))


def ref_minimum(d: nx.DiGraph, x: str, y: str) -> frozenset[str] | None:
    """The definition's minimum, by Lauritzen's moral criterion and networkx flows.

    The valid sets that matter lie among the ancestors of x and y in the back-door graph; there a set
    separates x and y exactly when it does in the moral graph. Fewest members: a unit-capacity max
    flow. Ties by sorted ids: greedily, in id order, keep a node when removing it (and those kept)
    lowers the remaining minimum by one, i.e. it belongs to a minimum set with them.
    """
    if d.has_edge(y, x):
        return None
    h = back_door_graph(d, x)
    region = nx.ancestors(h, x) | nx.ancestors(h, y) | {x, y}
    moral = nx.moral_graph(h.subgraph(region))
    allowed = region - nx.descendants(d, x) - {x, y}
    k = ref_cut_size(moral, x, y, allowed, set())
    chosen: set[str] = set()
    for v in sorted(allowed):
        if len(chosen) == k:
            break
        if ref_cut_size(moral, x, y, allowed, chosen | {v}) == k - len(chosen) - 1:
            chosen.add(v)
    return frozenset(chosen)


def random_dag(n: int, p: float, seed: int) -> tuple[list[str], Edges]:
    rng = random.Random(seed)
    names = [f"v{i:02d}" for i in range(n)]
    rng.shuffle(names)  # topological order is not id order
    return names, [(names[i], names[j]) for i in range(n) for j in range(i + 1, n) if rng.random() < p]


@pytest.mark.parametrize(("n", "p", "seed"), [(30, 0.15, 1), (40, 0.12, 2), (60, 0.08, 3), (80, 0.06, 4)])
def test_minimum_against_max_flow_on_larger_dags(n: int, p: float, seed: int) -> None:
    g = graph_of(*random_dag(n, p, seed))
    d = digraph(g)
    rng = random.Random(seed)
    sizes = set()
    for _ in range(15):
        x, y = rng.sample(sorted(d), 2)
        got = g.minimal_adjustment_set(x, y)
        assert got == ref_minimum(d, x, y), (x, y)
        if got is not None:
            assert ref_valid(d, x, y, set(got))
            sizes.add(len(got))
    assert max(sizes) >= 3  # the flows had several units to find


def test_minimum_on_the_real_networks(real: tuple[str, CausalGraph]) -> None:
    _, g = real
    d = digraph(g)
    for x, y in itertools.islice(itertools.permutations(sorted(d), 2), 0, None, 7):
        assert g.minimal_adjustment_set(x, y) == ref_minimum(d, x, y), (x, y)
