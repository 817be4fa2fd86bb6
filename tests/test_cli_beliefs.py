"""The command line and causal beliefs over time: the graph filters of issue 13 and the belief commands.

Every graph query command, run with ``--valid-at``, ``--known-at`` and ``--include-invalidated``
(alone and with the older filters), must answer what ``store.causal_graph(...)`` answers on the same
file; the edge sets are also written out by hand, so a filter that does not reach the snapshot, or a
snapshot that filters wrongly, fails. ``invalidate``, ``reinstate`` and ``history`` round-trip
through the store; every error leaves the file as it was (its SQL dump is compared).
"""

from __future__ import annotations

import inspect
import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from test_cli import as_json, assert_error, ok

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.cli import main
from omega_graph.cli._common import TIMESTAMP, GraphFilter, graph_filter_options, iso_utc, open_graph
from omega_graph.errors import OmegaGraphError

# ----- the known store ---------------------------------------------------------------------------------
#: id: (from, to, weight, edge_type, created_at)
EDGES = {
    "ab": ("a", "b", 0.9, "causes", 100),
    "bc": ("b", "c", 0.8, "causes", 200),
    "ac": ("a", "c", 0.3, "causes", 150),
    "bd": ("b", "d", 0.6, "causes", 250),
    "cd": ("c", "d", 0.5, "correlates", 300),
    "da": ("d", "a", 0.4, "feedback", 350),
}
#: (edge, event, at): ab invalidated at 400 and reinstated at 600; bc invalidated at 500; da at 380.
BELIEFS = [
    ("ab", "invalidate", 400),
    ("da", "invalidate", 380),
    ("bc", "invalidate", 500),
    ("ab", "reinstate", 600),
]
#: validity windows: ac holds over [100, 350], cd from 320 on.
VALIDITY = {"ac": (100, 350), "cd": (320, None)}


def iso(seconds: int) -> str:
    """ISO 8601 without an offset, years zero-padded (``0999-12-31T23:59:59``)."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()


#: name: (options, causal_graph keywords, the edges the snapshot holds, worked out by hand)
FILTERS: dict[str, tuple[list[str], dict[str, Any], set[str]]] = {
    "default": ([], {}, {"ab", "ac", "bd", "cd"}),
    "include-invalidated": (["--include-invalidated"], {"include_invalidated": True}, set(EDGES)),
    "known-at-220": (["--known-at", "220"], {"known_at": 220}, {"ab", "bc", "ac"}),
    "known-at-370": (["--known-at", "370"], {"known_at": 370}, set(EDGES)),
    "known-at-450": (["--known-at", "450"], {"known_at": 450}, {"bc", "ac", "bd", "cd"}),
    "known-at-450-iso": (["--known-at", iso(450)], {"known_at": 450}, {"bc", "ac", "bd", "cd"}),
    "known-at-650": (["--known-at", "650"], {"known_at": 650}, {"ab", "ac", "bd", "cd"}),
    "known-at-450-include": (
        ["--known-at", "450", "--include-invalidated"],
        {"known_at": 450, "include_invalidated": True},
        set(EDGES),
    ),
    "known-at-220-include": (
        ["--known-at", "220", "--include-invalidated"],
        {"known_at": 220, "include_invalidated": True},
        {"ab", "bc", "ac"},
    ),
    "valid-at-310": (["--valid-at", "310"], {"valid_at": 310}, {"ab", "ac", "bd"}),
    "valid-at-350": (["--valid-at", "350"], {"valid_at": 350}, {"ab", "ac", "bd", "cd"}),
    "valid-at-351-iso": (["--valid-at", iso(351)], {"valid_at": 351}, {"ab", "bd", "cd"}),
    "valid-at-351-include": (
        ["--valid-at", "351", "--include-invalidated"],
        {"valid_at": 351, "include_invalidated": True},
        {"ab", "bc", "bd", "cd", "da"},
    ),
    "as-of-260": (["--as-of", "260"], {"as_of": 260}, {"ab", "ac", "bd"}),
    "known-valid-weight": (
        ["--known-at", "450", "--valid-at", "360", "--min-weight", "0.55"],
        {"known_at": 450, "valid_at": 360, "min_weight": 0.55},
        {"bc", "bd"},
    ),
    "everything": (
        [
            "--known-at",
            "450",
            "--valid-at",
            "360",
            "--min-weight",
            "0.55",
            "--as-of",
            "240",
            "--edge-type",
            "causes",
        ],
        {"known_at": 450, "valid_at": 360, "min_weight": 0.55, "as_of": 240, "edge_types": ["causes"]},
        {"bc"},
    ),  # fmt: skip
}

#: Every command that takes the graph filters.
GRAPH_COMMANDS = {
    "path", "top-paths", "causes", "effects", "influence", "cycles", "adjust", "instruments", "export",
}  # fmt: skip
#: The six GraphFilter fields, none of which a command may take as a parameter of its own.
FILTER_FIELDS = {"min_weight", "edge_types", "as_of", "valid_at", "known_at", "include_invalidated"}


def build_store(path: Path) -> Path:
    with OmegaStore(path) as store:
        store.store_memories(StoredMemory(m, f"memory {m}", 1, 0.5, None, 0, 0) for m in "abcd")
        store.store_causal_edges(StoredCausalEdge(e, *spec) for e, spec in EDGES.items())
        for edge_id, (lo, hi) in VALIDITY.items():
            store.set_edge_validity(edge_id, lo, hi)
        for edge_id, event, at in BELIEFS:
            if event == "invalidate":
                store.invalidate_causal_edge(edge_id, at=at, reason=f"test {at}")
            else:
                store.reinstate_causal_edge(edge_id, at=at)
    return path


@pytest.fixture(scope="module")
def beliefs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The known store as a file, shared by the read-only tests of this module."""
    return build_store(tmp_path_factory.mktemp("beliefs") / "beliefs.db")


@pytest.fixture
def fresh_db(tmp_path: Path) -> Path:
    """The known store as a file of this test alone (for the writing commands)."""
    return build_store(tmp_path / "beliefs.db")


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def table_rows(text: str) -> list[list[str]]:
    """The cells of the table after the title line, split on runs of two or more spaces."""
    import re

    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and line) + 1
    return [re.split(r"\s{2,}", line.strip()) for line in lines[start:]]


# ----- each filter reaches the snapshot ------------------------------------------------------------------
def path_dict(path: Any) -> dict[str, Any]:
    return {"nodes": list(path.nodes), "edge_ids": list(path.edge_ids),
            "weights": [float(w) for w in path.weights], "strength": float(path.strength)}  # fmt: skip


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


#: command: (arguments, what the graph answers, what of the command's JSON to compare with it)
QUESTIONS: dict[str, tuple[list[str], Callable[[Any], Any], Callable[[Any], Any]]] = {
    "path": (["a", "d"], lambda g: path_dict(g.strongest_path("a", "d")), lambda j: j),
    "top-paths": (["a", "d", "-k", "10"], lambda g: [path_dict(p) for p in g.top_paths("a", "d", k=10)] or None,
                  lambda j: j),
    "causes": (["d", "--limit", "0"], lambda g: records(g.causes("d")), lambda j: j),
    "effects": (["a", "--limit", "0"], lambda g: records(g.effects("a")), lambda j: j),
    "influence": (
        ["--top", "0"],
        lambda g: records(g.influence(tol=1e-10).sort_values(["rank", "memory_id"], kind="stable")),
        lambda j: j,
    ),
    "cycles": (["--limit", "20"], lambda g: (g.is_dag(), sorted(map(tuple, g.find_cycles(limit=21)))),
               lambda j: (j["is_dag"], sorted(map(tuple, j["cycles"])))),
    "adjust": (["b", "d"], lambda g: sorted(sorted(s) for s in g.adjustment_sets("b", "d")),
               lambda j: sorted(j["sets"])),
    "instruments": (["a", "c"], lambda g: g.instruments("a", "c"), lambda j: j["instruments"]),
}  # fmt: skip


def expected_answer(store: OmegaStore, kwargs: dict[str, Any], question: Callable[[Any], Any]) -> Any:
    """The graph's answer, or the error class when the graph refuses the question."""
    try:
        answer = question(store.causal_graph(**kwargs))
    except OmegaGraphError as err:
        return type(err)
    return "no path" if answer is None else answer


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_reach_the_exported_snapshot(
    run: Callable[..., Result], beliefs_db: Path, tmp_path: Path, name: str
) -> None:
    options, kwargs, expected = FILTERS[name]
    out = tmp_path / "graph.json"
    ok(run("export", beliefs_db, out, *options))
    data = json.loads(out.read_text(encoding="utf-8"))
    exported = {e["key"] for e in data["edges"]}
    with OmegaStore(beliefs_db) as store:
        library = {k for _, _, k in store.causal_graph(**kwargs).to_networkx().edges(keys=True)}
    assert exported == library == expected
    assert {n["id"] for n in data["nodes"]} == set("abcd")


@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("command", list(QUESTIONS))
def test_every_graph_query_answers_like_the_snapshot(
    run: Callable[..., Result], beliefs_db: Path, command: str, name: str
) -> None:
    options, kwargs, _ = FILTERS[name]
    args, question, pick = QUESTIONS[command]
    with OmegaStore(beliefs_db) as store:
        expected = expected_answer(store, kwargs, question)
    result = run(command, beliefs_db, *args, *options, "--json")
    if expected == "no path" or isinstance(expected, type):
        assert_error(result)
    else:
        assert pick(as_json(result)) == expected


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ([], ["a", "b", "d"]),  # ab 0.9 * bd 0.6
        (["--known-at", "450"], ["a", "c", "d"]),  # ab invalidated at 400: ac 0.3 * cd 0.5
        (["--known-at", "450", "--valid-at", "351"], None),  # ac's window is over: no path
        (["--known-at", "450", "--include-invalidated"], ["a", "b", "d"]),
        (["--valid-at", "310", "--min-weight", "0.7"], None),  # bd 0.6 too weak
    ],
)
def test_the_strongest_path_moves_with_the_beliefs(
    run: Callable[..., Result], beliefs_db: Path, options: list[str], path: list[str] | None
) -> None:
    result = run("path", beliefs_db, "a", "d", *options, "--json")
    if path is None:
        assert_error(result, "no causal path from 'a' to 'd'")
    else:
        assert as_json(result)["nodes"] == path


@pytest.mark.parametrize(
    ("options", "is_dag"),
    [
        ([], True),
        (["--include-invalidated"], False),
        (["--known-at", "370"], False),
        (["--known-at", "390"], True),
    ],
)
def test_an_invalidated_feedback_edge_closes_a_cycle_only_when_believed(
    run: Callable[..., Result], beliefs_db: Path, options: list[str], is_dag: bool
) -> None:
    assert as_json(run("cycles", beliefs_db, *options, "--json"))["is_dag"] is is_dag
    text = ok(run("cycles", beliefs_db, *options)).stdout
    assert ("is a DAG" in text) is is_dag


def test_the_graph_commands_take_one_filter_parameter() -> None:
    found = {}
    for name, command in main.commands.items():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        if "--known-at" in options:
            found[name] = command
            assert {
                "--valid-at",
                "--include-invalidated",
                "--as-of",
                "--min-weight",
                "--edge-type",
            } <= options
    assert set(found) == GRAPH_COMMANDS
    for name, command in found.items():
        assert command.callback is not None
        parameters = set(inspect.signature(command.callback).parameters)
        assert "graph_filter" in parameters, name
        assert not parameters & FILTER_FIELDS, (name, parameters & FILTER_FIELDS)


# ----- GraphFilter and the option callbacks ---------------------------------------------------------------
def probe_command() -> tuple[click.Command, list[GraphFilter]]:
    seen: list[GraphFilter] = []

    @click.command()
    @graph_filter_options
    def probe(graph_filter: GraphFilter) -> None:
        seen.append(graph_filter)

    return probe, seen


times = st.integers(min_value=-62_135_596_800, max_value=253_402_300_799)


@st.composite
def filter_options(draw: st.DrawFn) -> tuple[list[str], GraphFilter]:
    """Command-line options in a random order, and the GraphFilter they must give."""
    chunks: list[list[str]] = []
    values: dict[str, Any] = {}
    if draw(st.booleans()):
        values["min_weight"] = draw(st.floats(0.0, 1.0))
        chunks.append(["--min-weight", repr(values["min_weight"])])
    types = draw(st.lists(st.text("abcxyz_", min_size=1, max_size=6), max_size=3))
    chunks.extend(["--edge-type", t] for t in types)
    for field in ("as_of", "valid_at", "known_at"):
        if draw(st.booleans()):
            values[field] = t = draw(times)
            shown = iso(t) if draw(st.booleans()) else str(t)
            chunks.append(["--" + field.replace("_", "-"), shown])
    if draw(st.booleans()):
        values["include_invalidated"] = True
        chunks.append(["--include-invalidated"])
    order = draw(st.permutations(range(len(chunks))))
    args = [a for i in order for a in chunks[i]]
    if types:  # repeated --edge-type options keep the order of the command line
        values["edge_types"] = tuple(v for o, v in zip(args, args[1:], strict=False) if o == "--edge-type")
    return args, GraphFilter(**values)


@given(filter_options())
def test_the_option_callbacks_build_the_graph_filter(case: tuple[list[str], GraphFilter]) -> None:
    args, expected = case
    probe, seen = probe_command()
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert seen == [expected]
    assert seen[0].given() == [
        o for o, f in [("--min-weight", "min_weight"), ("--edge-type", "edge_types"), ("--as-of", "as_of"),
                       ("--valid-at", "valid_at"), ("--known-at", "known_at"),
                       ("--include-invalidated", "include_invalidated")]
        if f in {k for k, v in vars(expected).items() if v != getattr(GraphFilter(), k)}
    ]  # fmt: skip


@given(times)
def test_history_times_read_back_as_timestamps(seconds: int) -> None:
    shown = iso_utc(seconds)
    assert shown.endswith("Z") and len(shown) == len("2025-11-24T16:00:00Z")
    assert TIMESTAMP.convert(shown, None, None) == seconds


@pytest.mark.parametrize("name", ["default", "known-at-450", "valid-at-351-include", "everything"])
def test_open_graph_passes_every_filter(beliefs_db: Path, name: str) -> None:
    _, kwargs, expected = FILTERS[name]
    fields = {**kwargs, "edge_types": tuple(kwargs.get("edge_types", ()))}
    with OmegaStore(beliefs_db) as store:
        graph = open_graph(store, GraphFilter(**fields))
        assert {k for _, _, k in graph.to_networkx().edges(keys=True)} == expected
        assert (graph.valid_at, graph.known_at, graph.include_invalidated) == (
            kwargs.get("valid_at"), kwargs.get("known_at"), kwargs.get("include_invalidated", False)
        )  # fmt: skip


# ----- invalidate / reinstate / history: round trips --------------------------------------------------------
def test_invalidate_then_reinstate_round_trip(run: Callable[..., Result], fresh_db: Path) -> None:
    at = 1_764_000_000  # 2025-11-24T16:00:00Z
    line = ok(run("invalidate", fresh_db, "bd", "--at", "2025-11-24T16:00:00", "--reason", "redeployed",
                  "--superseded-by", "cd")).stdout  # fmt: skip
    assert line == (
        "invalidated causal edge 'bd' at 2025-11-24T16:00:00Z (1764000000): redeployed; superseded by 'cd'\n"
    )
    with OmegaStore(fresh_db) as store:
        history = store.edge_history("bd")
        assert history.iloc[-1].to_dict() == {
            "at": at, "event": "invalidated", "detail": "redeployed; superseded by 'cd'"
        }  # fmt: skip
        assert "bd" not in {k for _, _, k in store.causal_graph().to_networkx().edges(keys=True)}
        assert "bd" in {k for _, _, k in store.causal_graph(known_at=at - 1).to_networkx().edges(keys=True)}
    assert as_json(run("effects", fresh_db, "b", "--json")) == []  # b -> c and b -> d are invalidated
    kept = as_json(run("effects", fresh_db, "b", "--include-invalidated", "--json"))
    assert {r["memory_id"] for r in kept} == {"a", "c", "d"}
    data = as_json(run("reinstate", fresh_db, "bd", "--at", at + 60, "--reason", "confirmed", "--json"))
    assert data == {"edge_id": "bd", "at": at + 60, "reason": "confirmed"}
    with OmegaStore(fresh_db) as store:
        assert list(store.edge_history("bd")["event"])[-2:] == ["invalidated", "reinstated"]
        assert "bd" in {k for _, _, k in store.causal_graph().to_networkx().edges(keys=True)}
        assert "bd" not in {
            k for _, _, k in store.causal_graph(known_at=at + 30).to_networkx().edges(keys=True)
        }
    # invalidated again later: allowed, and the table line says so
    data = as_json(run("invalidate", fresh_db, "bd", "--at", at + 120, "--json"))
    assert data == {"edge_id": "bd", "at": at + 120, "reason": None, "superseded_by": None}


def test_the_path_command_sees_an_invalidation_at_once(run: Callable[..., Result], fresh_db: Path) -> None:
    assert as_json(run("path", fresh_db, "a", "d", "--json"))["edge_ids"] == ["ab", "bd"]
    ok(run("invalidate", fresh_db, "bd", "--at", 700))
    assert as_json(run("path", fresh_db, "a", "d", "--json"))["edge_ids"] == ["ac", "cd"]
    assert as_json(run("path", fresh_db, "a", "d", "--known-at", 699, "--json"))["edge_ids"] == ["ab", "bd"]
    ok(run("reinstate", fresh_db, "bd", "--at", 800))
    assert as_json(run("path", fresh_db, "a", "d", "--json"))["edge_ids"] == ["ab", "bd"]
    assert as_json(run("path", fresh_db, "a", "d", "--known-at", 750, "--json"))["edge_ids"] == ["ac", "cd"]


@pytest.mark.parametrize("command", ["invalidate", "reinstate"])
def test_the_default_time_is_now(run: Callable[..., Result], fresh_db: Path, command: str) -> None:
    edge = "bc" if command == "reinstate" else "bd"  # bc is invalidated, bd is not
    before = int(time.time())
    data = as_json(run(command, fresh_db, edge, "--json"))
    after = int(time.time())
    assert before <= data["at"] <= after
    with OmegaStore(fresh_db) as store:
        assert int(store.edge_history(edge)["at"].iloc[-1]) == data["at"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["invalidate", "{db}", "bd", "--at", "250"], "invalidated causal edge 'bd' at 1970-01-01T00:04:10Z (250)"),
        (["invalidate", "{db}", "bd", "--at", "2025-11-24T17:00:00+01:00", "--reason", "why; because"],
         "invalidated causal edge 'bd' at 2025-11-24T16:00:00Z (1764000000): why; because"),
        (["invalidate", "{db}", "bd", "--at", "1000", "--superseded-by", "cd"],
         "invalidated causal edge 'bd' at 1970-01-01T00:16:40Z (1000): superseded by 'cd'"),
        (["reinstate", "{db}", "bc", "--at", "1000"], "reinstated causal edge 'bc' at 1970-01-01T00:16:40Z (1000)"),
        (["reinstate", "{db}", "bc", "--at", "1970-01-02", "--reason", "again"],
         "reinstated causal edge 'bc' at 1970-01-02T00:00:00Z (86400): again"),
    ],
)  # fmt: skip
def test_confirmation_lines(run: Callable[..., Result], fresh_db: Path, args: list[str], line: str) -> None:
    result = ok(run(*[a.format(db=fresh_db) for a in args]))
    assert result.stdout == line + "\n"
    assert result.stderr == ""


def test_history_json_is_the_edge_history(run: Callable[..., Result], fresh_db: Path) -> None:
    with OmegaStore(fresh_db) as store:
        store.add_edge_evidence("ab", memory_id="c", note="seen twice")
        store.store_causal_edge(StoredCausalEdge("ab", "a", "b", 0.7, "causes", 100))  # weight in place
        expected = store.edge_history("ab")
    data = as_json(run("history", fresh_db, "ab", "--json"))
    assert data == [
        {"at": int(at), "event": event, "detail": detail}
        for at, event, detail in expected.itertuples(index=False, name=None)
    ]
    assert all(type(r["at"]) is int for r in data)
    events = [r["event"] for r in data]
    assert events[0] == "created"
    assert set(events) == {"created", "invalidated", "reinstated", "evidence_added", "weight_changed"}
    assert events.index("invalidated") < events.index("reinstated")


def test_history_table(run: Callable[..., Result], beliefs_db: Path) -> None:
    text = ok(run("history", beliefs_db, "ab")).stdout
    lines = text.splitlines()
    assert lines[0] == "history of causal edge 'ab' (a -> b, weight 0.9), believed: 3 events"
    assert lines[1].split() == ["at", "(UTC)", "seconds", "event", "detail"]
    assert table_rows(text) == [
        [iso(100) + "Z", "100", "created", "weight 0.9"],
        [iso(400) + "Z", "400", "invalidated", "test 400"],
        [iso(600) + "Z", "600", "reinstated"],
    ]
    text = ok(run("history", beliefs_db, "bc")).stdout
    assert text.splitlines()[0] == (
        f"history of causal edge 'bc' (b -> c, weight 0.8), invalidated since {iso(500)}Z: 2 events"
    )
    with OmegaStore(beliefs_db) as store:
        frame = store.edge_history("ac")
    rows = table_rows(ok(run("history", beliefs_db, "ac")).stdout)
    assert [r[1:3] for r in rows] == [[str(a), e] for a, e in zip(frame["at"], frame["event"], strict=True)]
    assert rows[1][3] == "valid from 100 to 350"


# ----- errors: one line, non-zero, the file unchanged --------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (["invalidate", "{db}", "nope"], ["causal edge 'nope' not found", "EDGE names no stored causal edge"]),
        (["invalidate", "{db}", "AB"], ["causal edge 'AB' not found", "did you mean 'ab'"]),
        (["invalidate", "{db}", "bc"], ["causal edge 'bc' is already invalidated (at 500)", "reinstate it first"]),
        (["invalidate", "{db}", "ab", "--at", "599"],
         ["causal edge 'ab'.at = 599", "at or after its last belief change (reinstated at 600)"]),
        (["invalidate", "{db}", "bd", "--at", "249"], ["causal edge 'bd'.at = 249", "at or after the edge's created_at (250)"]),
        (["invalidate", "{db}", "ab", "--at", "99999999999999"], ["99999999999999", "years 1 to 9999"]),
        (["invalidate", "{db}", "ab", "--at", "-99999999999999"], ["-99999999999999", "years 1 to 9999"]),
        (["invalidate", "{db}", "ab", "--superseded-by", "ab"], ["superseded_by = 'ab'", "another edge"]),
        (["invalidate", "{db}", "ab", "--superseded-by", "zz"],
         ["causal edge 'zz' not found", "--superseded-by names no stored causal edge"]),
        (["reinstate", "{db}", "ab"], ["causal edge 'ab' is not invalidated", "nothing to reinstate"]),
        (["reinstate", "{db}", "bc", "--at", "499"], ["at or after its last belief change (invalidated at 500)"]),
        (["reinstate", "{db}", "nope"], ["causal edge 'nope' not found"]),
        (["history", "{db}", "nope"], ["causal edge 'nope' not found"]),
    ],
)  # fmt: skip
def test_errors_leave_the_file_unchanged(
    run: Callable[..., Result], fresh_db: Path, args: list[str], phrases: list[str]
) -> None:
    before = dump(fresh_db)
    assert_error(run(*[a.format(db=fresh_db) for a in args]), *phrases)
    assert dump(fresh_db) == before


@pytest.mark.parametrize("command", ["invalidate", "reinstate", "history"])
def test_a_missing_database_is_not_created(run: Callable[..., Result], tmp_path: Path, command: str) -> None:
    db = tmp_path / "missing.db"
    assert_error(run(command, db, "e1"), f"database '{db}' not found", "omega-graph init")
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["invalidate", "{db}"], "Missing argument 'EDGE'"),
        (["reinstate", "{db}"], "Missing argument 'EDGE'"),
        (["history", "{db}"], "Missing argument 'EDGE'"),
        (["invalidate", "{db}", "ab", "--at", "tomorrow"], "'tomorrow' is not a timestamp"),
        (["reinstate", "{db}", "bc", "--at", "2025-13-01"], "'2025-13-01' is not a timestamp"),
        (["history", "{db}", "ab", "--at", "5"], "No such option '--at'"),
        (["reinstate", "{db}", "bc", "--superseded-by", "ab"], "No such option '--superseded-by'"),
        (["path", "{db}", "a", "d", "--known-at", "last week"], "'last week' is not a timestamp"),
        (["causes", "{db}", "d", "--valid-at", "soon"], "'soon' is not a timestamp"),
        (["influence", "{db}", "--known-at"], "'--known-at' requires an argument"),
        (["export", "{db}", "{tmp}/t", "--format", "csv", "--known-at", "5"],
         "--known-at: the graph filters apply to graphml and json, not csv"),
        (["export", "{db}", "{tmp}/t", "--format", "parquet", "--include-invalidated", "--valid-at", "3"],
         "--valid-at, --include-invalidated: the graph filters apply to graphml and json, not parquet"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(
    run: Callable[..., Result], fresh_db: Path, tmp_path: Path, args: list[str], phrase: str
) -> None:
    before = dump(fresh_db)
    assert_error(run(*[a.format(db=fresh_db, tmp=tmp_path) for a in args]), phrase, code=2)
    assert dump(fresh_db) == before
    assert not (tmp_path / "t").exists()


# ----- help --------------------------------------------------------------------------------------------------
def test_help_lists_the_belief_commands_after_the_graph_queries(run: Callable[..., Result]) -> None:
    text = ok(run("--help")).stdout
    names = ["instruments", "invalidate", "reinstate", "history", "import-edges"]
    positions = [text.index(f"\n  {name} ") for name in names]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("command", "usage", "phrases"),
    [
        ("invalidate", "DB EDGE", ["--at", "--reason", "--superseded-by", "--json", "reinstate"]),
        ("reinstate", "DB EDGE", ["--at", "--reason", "--json", "not invalidated"]),
        ("history", "DB EDGE", ["weight_changed", "evidence_added", "--json"]),
        ("path", "DB SRC DST", ["--valid-at", "--known-at", "--include-invalidated", "current ones"]),
        ("export", "DB OUT", ["--valid-at", "--known-at", "--include-invalidated"]),
    ],
)
def test_help(run: Callable[..., Result], command: str, usage: str, phrases: list[str]) -> None:
    text = " ".join(ok(run(command, "--help")).stdout.split())
    assert text.startswith(f"Usage: main {command} [OPTIONS] {usage}")
    for phrase in phrases:
        assert phrase in text, phrase
