"""The command line's identification commands: ``adjust`` (back-door adjustment sets) and ``instruments``.

Real store files under tmp_path, run through click's CliRunner. Every printed answer is compared
with the same question asked of the causal graph of the same file, and with answers worked out by
hand (small graphs) or from the definition with networkx (hypothesis DAGs, every subset tried).
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import as_json, assert_error, ok

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.cli import main
from omega_graph.cli._commands_identify import EMPTY_SET
from omega_graph.errors import LimitWarning
from omega_graph.sample import build_sample_store

Edges = list[tuple[str, str]]
ASIA = "asia:"
SACHS = "sachs_cdt_consensus:"


# ----- fixtures and helpers ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample store (it has a feedback cycle among three sachs memories), read only."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    build_sample_store(path).close()
    return path


def write_store(path: Path, edges: Edges, nodes: str | list[str] = "") -> Path:
    """A store file whose memories are ``nodes`` and every edge's end, edges ``u -> v`` of weight 0.5."""
    names = sorted(set(nodes) | {m for e in edges for m in e})
    with OmegaStore(path) as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in names)
        store.store_causal_edges(
            StoredCausalEdge(f"e{k}", u, v, 0.5, "causes", 0) for k, (u, v) in enumerate(edges)
        )
    return path


def answer(result: Result) -> dict[str, Any]:
    """The JSON object a command printed (after checking it succeeded)."""
    data = as_json(result)
    assert isinstance(data, dict)
    return data


def table_rows(text: str) -> list[list[str]]:
    """The data rows of the aligned table in ``text`` (cells split on runs of two or more spaces)."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and "-" in line)
    return [re.split(r"\s{2,}", line.strip()) for line in lines[rule + 1 :]]


def sorted_sets(sets: list[frozenset[str]]) -> list[list[str]]:
    return [sorted(s) for s in sets]


def parallel_back_doors(k: int) -> Edges:
    """x -> y and k back-door paths x <- a_i -> b_i -> y: 2**k minimal sets (a_i or b_i for each i)."""
    return [("x", "y")] + [
        e for i in range(1, k + 1) for e in ((f"a{i}", "x"), (f"a{i}", f"b{i}"), (f"b{i}", "y"))
    ]


def all_parallel_sets(k: int) -> list[list[str]]:
    picks = [sorted(p) for p in itertools.product(*[(f"a{i}", f"b{i}") for i in range(1, k + 1)])]
    return sorted(picks)


# ----- adjust: worked examples -----------------------------------------------------------------------
#: name: (edges, expected minimal sets in order, x is not an ancestor of y)
WORKED: dict[str, tuple[Edges, list[list[str]], bool]] = {
    "confounder": ([("c", "x"), ("c", "y"), ("x", "m"), ("m", "y")], [["c"]], False),
    "two ways to block": ([("a", "x"), ("b", "x"), ("a", "c"), ("b", "c"), ("c", "y"), ("x", "y")],
                          [["c"], ["a", "b"]], False),
    "m-bias: the collider stays out": ([("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")], [[]], False),
    "no back-door path": ([("x", "m"), ("m", "y"), ("p", "x")], [[]], False),
    "confounded, no effect": ([("c", "x"), ("c", "y")], [["c"]], True),
    "unrelated": ([("p", "x"), ("q", "y")], [[]], True),
    "a chain of confounders": ([("c", "d"), ("d", "x"), ("c", "y"), ("x", "y")], [["c"], ["d"]], False),
    "two parallel back doors": (parallel_back_doors(2), all_parallel_sets(2), False),
}  # fmt: skip


@pytest.fixture(params=list(WORKED))
def worked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, list[list[str]], bool]]:
    edges, expected, zero = WORKED[request.param]
    yield write_store(tmp_path / "g.db", edges, "xy"), expected, zero


def test_adjust_json_matches_the_graph_and_the_worked_answer(
    run: Callable[..., Result], worked: tuple[Path, list[list[str]], bool]
) -> None:
    db, expected, _ = worked
    data = answer(run("adjust", db, "x", "y", "--json"))
    assert data == {
        "x": "x",
        "y": "y",
        "criterion": "back-door",
        "sets": expected,
        "minimal": expected[0],
        "truncated": False,
        "reason": None,
    }
    with OmegaStore(db) as store:
        g = store.causal_graph()
        assert data["sets"] == sorted_sets(g.adjustment_sets("x", "y"))
        minimal = g.minimal_adjustment_set("x", "y")
        assert minimal is not None and data["minimal"] == sorted(minimal)
        assert all(g.is_valid_adjustment_set("x", "y", s) for s in data["sets"])


def test_adjust_table(run: Callable[..., Result], worked: tuple[Path, list[list[str]], bool]) -> None:
    db, expected, zero = worked
    text = ok(run("adjust", db, "x", "y")).stdout
    lines = text.splitlines()
    count = f"{len(expected)} minimal set{'s' * (len(expected) != 1)}"
    assert lines[0] == f"adjustment sets for the effect of 'x' on 'y' (Pearl's back-door criterion): {count}"
    note = "note: 'x' is not an ancestor of 'y', so its causal effect on 'y' is zero"
    assert (note in text) is zero
    if zero:
        assert lines[1].startswith(note)
    else:
        assert lines[1].split() == ["size", "members"]
    assert table_rows(text) == [[str(len(s)), ", ".join(s) if s else EMPTY_SET] for s in expected]


@pytest.mark.parametrize(
    ("edges", "x", "y"),
    [
        ([("y", "x")], "x", "y"),
        ([("y", "x"), ("c", "x"), ("c", "y"), ("x", "m")], "x", "y"),
        ([("b", "a"), ("a", "c")], "a", "b"),
    ],
)
def test_adjust_when_y_causes_x_directly(
    run: Callable[..., Result], tmp_path: Path, edges: Edges, x: str, y: str
) -> None:
    db = write_store(tmp_path / "g.db", edges)
    reason = f"no valid adjustment set: {y!r} causes {x!r} directly ({y} -> {x}), a back-door path no set can block"
    # an answer, not an error: exit 0
    assert ok(run("adjust", db, x, y)).stdout.strip() == reason
    data = answer(run("adjust", db, x, y, "--json"))
    assert data == {"x": x, "y": y, "criterion": "back-door", "sets": [], "minimal": None,
                    "truncated": False, "reason": reason}  # fmt: skip
    with OmegaStore(db) as store:
        g = store.causal_graph()
        assert g.adjustment_sets(x, y) == [] and g.minimal_adjustment_set(x, y) is None


# ----- adjust: the limit ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("k", "limit", "truncated"),
    [(3, None, False), (3, 8, False), (3, 7, True), (3, 1, True), (7, None, True), (7, 128, False)],
)
def test_adjust_limit(
    run: Callable[..., Result], tmp_path: Path, k: int, limit: int | None, truncated: bool
) -> None:
    db = write_store(tmp_path / "parallel.db", parallel_back_doors(k))
    option = [] if limit is None else ["--limit", limit]
    data = answer(run("adjust", db, "x", "y", *option, "--json"))
    every = all_parallel_sets(k)
    shown = min(len(every), 100 if limit is None else limit)
    assert data["truncated"] is truncated
    assert len(data["sets"]) == shown
    assert data["sets"][0] == data["minimal"] == [f"a{i}" for i in range(1, k + 1)]
    assert all(s in every for s in data["sets"])
    assert data["sets"] == sorted(data["sets"], key=lambda s: (len(s), s))
    if not truncated:
        assert data["sets"] == every
    with OmegaStore(db) as store, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = store.causal_graph().adjustment_sets("x", "y", 100 if limit is None else limit)
    assert data["sets"] == sorted_sets(expected)
    assert any(issubclass(w.category, LimitWarning) for w in caught) is truncated

    result = ok(run("adjust", db, "x", "y", *option))
    assert result.stderr == ""  # the LimitWarning becomes part of the answer, not a warning
    first = result.stdout.splitlines()[0]
    if truncated:
        assert first.endswith(
            f": more than {shown} minimal sets exist, showing {shown}; raise --limit to see more"
        )
    else:
        assert first.endswith(f": {shown} minimal sets")
    assert len(table_rows(result.stdout)) == shown


# ----- adjust and instruments on the sample store ----------------------------------------------------
def test_sample_store_answers_match_the_graph(run: Callable[..., Result], sample_db: Path) -> None:
    x, y = ASIA + "either", ASIA + "dysp"
    with OmegaStore(sample_db) as store:
        g = store.causal_graph()
        assert not g.is_dag()  # the sachs feedback cycle lies elsewhere: it does not matter here
        sets, found = g.adjustment_sets(x, y), g.instruments(x, y)
    data = answer(run("adjust", sample_db, x, y, "--json"))
    assert data["sets"] == sorted_sets(sets) == [[ASIA + "bronc"], [ASIA + "lung"], [ASIA + "smoke"]]
    assert data["minimal"] == [ASIA + "bronc"]
    assert answer(run("instruments", sample_db, x, y, "--json")) == {
        "x": x,
        "y": y,
        "instruments": found,
    }
    assert found == [ASIA + "asia", ASIA + "tub"]
    text = ok(run("instruments", sample_db, x, y)).stdout
    assert text.splitlines()[0] == f"instruments for the effect of {x!r} on {y!r}: 2 memories"
    assert table_rows(text) == [[m] for m in found]


@pytest.mark.parametrize(
    "filters",
    [
        ["--edge-type", "causes"],
        ["--edge-type", "causes", "--edge-type", "correlates"],
        ["--min-weight", "0.4"],
        ["--as-of", "0"],
    ],
)
def test_graph_filters_reach_the_graph(
    run: Callable[..., Result], sample_db: Path, filters: list[str]
) -> None:
    x, y = ASIA + "either", ASIA + "dysp"
    pairs = list(zip(filters[::2], filters[1::2], strict=True))
    opts = dict(pairs)
    types = [v for k, v in pairs if k == "--edge-type"] or None
    as_of = int(opts["--as-of"]) if "--as-of" in opts else None
    with OmegaStore(sample_db) as store:
        g = store.causal_graph(float(opts.get("--min-weight", 0.0)), types, as_of)
        sets, found = sorted_sets(g.adjustment_sets(x, y)), g.instruments(x, y)
        reaches = nx.has_path(g, x, y)
    assert answer(run("adjust", sample_db, x, y, *filters, "--json"))["sets"] == sets
    assert answer(run("instruments", sample_db, x, y, *filters, "--json"))["instruments"] == found
    assert ("is not an ancestor" in ok(run("adjust", sample_db, x, y, *filters)).stdout) is not reaches
    if not found:
        assert ok(run("instruments", sample_db, x, y, *filters)).stdout.strip() == (
            f"no instrument for the effect of {x!r} on {y!r} (with these filters)"
        )


def test_either_dysp_without_the_enabling_edges(run: Callable[..., Result], sample_db: Path) -> None:
    # only 'causes' edges: either no longer reaches dysp, and nothing connects them
    text = ok(run("adjust", sample_db, ASIA + "either", ASIA + "dysp", "--edge-type", "causes")).stdout
    assert "note: 'asia:either' is not an ancestor of 'asia:dysp'" in text
    assert table_rows(text) == [["0", EMPTY_SET]]


# ----- instruments -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([("z", "x"), ("x", "y"), ("u", "x"), ("u", "y")], ["z"]),
        ([("z", "x"), ("w", "z"), ("x", "y"), ("u", "x"), ("u", "y")], ["w", "z"]),
        ([("z", "x"), ("z", "y"), ("x", "y")], []),
        ([("x", "y")], []),
        ([("x", "z"), ("z", "y")], []),
    ],
)
def test_instruments(run: Callable[..., Result], tmp_path: Path, edges: Edges, expected: list[str]) -> None:
    db = write_store(tmp_path / "g.db", edges)
    with OmegaStore(db) as store:
        assert store.causal_graph().instruments("x", "y") == expected
    assert answer(run("instruments", db, "x", "y", "--json")) == {
        "x": "x",
        "y": "y",
        "instruments": expected,
    }
    text = ok(run("instruments", db, "x", "y")).stdout
    if expected:
        noun = "memory" if len(expected) == 1 else "memories"
        assert text.splitlines()[0] == f"instruments for the effect of 'x' on 'y': {len(expected)} {noun}"
        assert table_rows(text) == [[m] for m in expected]
    else:
        assert text.strip() == "no instrument for the effect of 'x' on 'y' (with these filters)"


# ----- hypothesis: the printed sets are the contract's, computed from the definition --------------------
def ref_valid(d: nx.DiGraph, x: str, y: str, z: set[str]) -> bool:
    cut = d.copy()
    cut.remove_edges_from(list(d.out_edges(x)))
    return not (z & nx.descendants(d, x)) and nx.is_d_separator(cut, {x}, {y}, z)


def ref_minimal_sets(d: nx.DiGraph, x: str, y: str) -> list[list[str]]:
    """Every valid set with no valid proper subset, by brute force over the subsets of the other nodes."""
    others = sorted(set(d) - {x, y})
    valid = [
        set(z)
        for r in range(len(others) + 1)
        for z in itertools.combinations(others, r)
        if ref_valid(d, x, y, set(z))
    ]
    minimal = [z for z in valid if not any(v < z for v in valid)]
    return sorted((sorted(z) for z in minimal), key=lambda s: (len(s), s))


@st.composite
def dag_pairs(draw: st.DrawFn) -> tuple[Edges, list[str], str, str]:
    n = draw(st.integers(2, 7))
    names = draw(st.permutations([f"m{i}" for i in range(n)]))  # topological order != id order
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=2 * n, unique=True))
    x, y = draw(st.permutations(names).map(lambda p: p[:2]))
    return [(names[i], names[j]) for i, j in chosen], names, x, y


@settings(max_examples=40)
@given(case=dag_pairs())
def test_random_dags_print_the_contract(case: tuple[Edges, list[str], str, str]) -> None:
    edges, names, x, y = case
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as folder:
        db = write_store(Path(folder) / "g.db", edges, names)
        data = json.loads(ok(runner.invoke(main, ["adjust", str(db), x, y, "--json"])).stdout)
        found = json.loads(ok(runner.invoke(main, ["instruments", str(db), x, y, "--json"])).stdout)
        with OmegaStore(db) as store:
            g = store.causal_graph()
            assert found["instruments"] == g.instruments(x, y)
            assert data["sets"] == sorted_sets(g.adjustment_sets(x, y))
    d = nx.DiGraph()
    d.add_nodes_from(names)
    d.add_edges_from(edges)
    want = ref_minimal_sets(d, x, y)
    assert data["sets"] == want, (edges, x, y)
    assert data["minimal"] == (want[0] if want else None)
    assert data["truncated"] is False
    assert (data["reason"] is None) is bool(want)
    assert (data["reason"] is not None) is d.has_edge(y, x)


# ----- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["adjust", "instruments"])
@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        ([ASIA + "eithr", ASIA + "dysp"], ["memory 'asia:eithr' not found", "did you mean 'asia:either'"]),
        ([ASIA + "either", "ASIA:DYSP"], ["memory 'ASIA:DYSP' not found", "did you mean 'asia:dysp'"]),
        ([ASIA + "either", ASIA + "either"], [".y = 'asia:either' is invalid", "a memory other than x"]),
        (
            [SACHS + "PKC", SACHS + "pmek"],
            ["needs an acyclic causal graph", "cycle", SACHS + "PIP2", SACHS + "PIP3", SACHS + "plcg"],
        ),
    ],
)
def test_errors_are_one_line(
    run: Callable[..., Result], sample_db: Path, command: str, args: list[str], phrases: list[str]
) -> None:
    assert_error(run(command, sample_db, *args), *phrases)


@pytest.mark.parametrize("command", ["adjust", "instruments"])
def test_without_the_feedback_edges_the_sachs_question_is_answered(
    run: Callable[..., Result], sample_db: Path, command: str
) -> None:
    acyclic = ["--edge-type", "causes", "--edge-type", "enables", "--edge-type", "correlates"]
    x, y = SACHS + "PKC", SACHS + "pmek"
    with OmegaStore(sample_db) as store:
        g = store.causal_graph(edge_types=["causes", "enables", "correlates"])
        expected = sorted_sets(g.adjustment_sets(x, y)) if command == "adjust" else g.instruments(x, y)
    data = answer(run(command, sample_db, x, y, *acyclic, "--json"))
    assert data["sets" if command == "adjust" else "instruments"] == expected


@pytest.mark.parametrize("command", ["adjust", "instruments"])
def test_missing_or_foreign_database(run: Callable[..., Result], tmp_path: Path, command: str) -> None:
    db = tmp_path / "typo.db"
    assert_error(run(command, db, "x", "y"), "not found", "omega-graph init")
    assert not db.exists()
    bogus = tmp_path / "notes.db"
    bogus.write_text("not SQLite\n" * 100)
    assert_error(run(command, bogus, "x", "y"), "is not a SQLite database")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["adjust", "{db}", "x", "y", "--limit", "0"], "--limit"),
        (["adjust", "{db}", "x", "y", "--limit", "many"], "--limit"),
        (["adjust", "{db}", "x"], "Missing argument 'Y'"),
        (["instruments", "{db}", "x"], "Missing argument 'Y'"),
        (["instruments", "{db}", "x", "y", "--limit", "3"], "No such option '--limit'"),
    ],
)
def test_usage_errors_exit_2(
    run: Callable[..., Result], tmp_path: Path, args: list[str], phrase: str
) -> None:
    db = write_store(tmp_path / "g.db", [("x", "y")])
    assert_error(run(*[a.format(db=db) for a in args]), phrase, code=2)


# ----- help --------------------------------------------------------------------------------------------
def test_help_lists_the_commands_after_the_graph_queries(run: Callable[..., Result]) -> None:
    text = ok(run("--help")).stdout
    names = ["cycles", "adjust", "instruments", "import-edges"]
    positions = [text.index(f"\n  {name} ") for name in names]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("adjust", ["back-door criterion", "--limit", "--json", "--edge-type", "[default: 100;"]),
        ("instruments", ["instrument", "--json", "--min-weight", "--as-of"]),
    ],
)
def test_help(run: Callable[..., Result], command: str, phrases: list[str]) -> None:
    text = " ".join(ok(run(command, "--help")).stdout.split())
    assert text.startswith(f"Usage: main {command} [OPTIONS] DB X Y")
    for phrase in phrases:
        assert phrase in text
