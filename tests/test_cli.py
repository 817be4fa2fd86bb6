"""The command line's query commands and its error handling, run through click's CliRunner.

Every answer printed with ``--json`` is compared with the same question asked of the store or its
causal graph directly; every error case checks the exit status, a one-line message on stderr that
names the problem, and that no traceback escapes. Entry points via real subprocesses live in
``test_cli_report.py``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from pathlib import Path

import pytest
from click.testing import Result

from omega_graph import DatabaseStatistics, OmegaStore, StoredCausalEdge, StoredMemory
from omega_graph.errors import NoPathError
from omega_graph.sample import build_sample_store

QUERY_COMMANDS = {
    "stats": [],
    "path": ["asia:smoke", "asia:dysp"],
    "top-paths": ["asia:smoke", "asia:dysp"],
    "causes": ["asia:dysp"],
    "effects": ["asia:smoke"],
    "influence": [],
    "cycles": [],
}
#: Other commands that read an existing store: they must refuse a missing one too.
READING_COMMANDS = {
    **QUERY_COMMANDS,
    "export": ["out.json"],
    "backup": ["copy.db"],
    "report": [],
}


# ----- fixtures and helpers ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample store as a file, shared by the read-only tests of this module."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    build_sample_store(path).close()
    return path


@pytest.fixture
def sample(sample_db: Path) -> Iterator[OmegaStore]:
    """The sample store opened directly, to compute the expected answers."""
    with OmegaStore(sample_db) as store:
        yield store


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def as_json(result: Result) -> object:
    return json.loads(ok(result).stdout)


def assert_error(result: Result, *phrases: str, code: int = 1) -> str:
    """Exit ``code``, one ``Error: ...`` line on stderr containing every phrase, no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    if code == 1:
        assert len(lines) == 1, result.stderr
    message = lines[-1]
    assert message.startswith("Error: "), result.stderr
    for phrase in phrases:
        assert phrase in message, message
    assert result.stdout == ""
    return message


def path_dict(path: object) -> dict[str, object]:
    return {
        "nodes": list(path.nodes),  # type: ignore[attr-defined]
        "edge_ids": list(path.edge_ids),  # type: ignore[attr-defined]
        "weights": list(path.weights),  # type: ignore[attr-defined]
        "strength": path.strength,  # type: ignore[attr-defined]
    }


# ----- entry, help, version ----------------------------------------------------------------------------
def test_version(run: Callable[..., Result]) -> None:
    from omega_graph import __version__

    assert ok(run("--version")).stdout.strip() == f"omega-graph, version {__version__}"


def test_help_lists_every_command_in_order(run: Callable[..., Result]) -> None:
    text = ok(run("--help")).stdout
    names = [
        "init", "stats", "path", "top-paths", "causes", "effects", "influence", "cycles",
        "import-edges", "export", "report", "backup", "restore", "generate", "demo",
    ]  # fmt: skip
    positions = [text.index(f"\n  {name} ") for name in names]
    assert positions == sorted(positions)


@pytest.mark.parametrize("command", [*QUERY_COMMANDS, "import-edges", "export", "generate", "demo"])
def test_every_command_has_help(run: Callable[..., Result], command: str) -> None:
    text = ok(run(command, "--help")).stdout
    assert text.startswith(f"Usage: main {command}") or text.startswith(f"Usage: omega-graph {command}")
    if command in QUERY_COMMANDS:
        assert "--json" in text


def test_import_help_states_the_defaults(run: Callable[..., Result]) -> None:
    text = " ".join(ok(run("import-edges", "--help")).stdout.split())
    for phrase in ["tier 1", "importance 0.5", "content = the node name", ":edge-000000", "edge_type 'causes'",
                   "needs --weight", "[default: now]"]:  # fmt: skip
        assert phrase in text


# ----- stats -----------------------------------------------------------------------------------------
def test_stats_json_is_keyed_by_field_names(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore
) -> None:
    data = as_json(run("stats", sample_db, "--json"))
    assert list(data) == [f.name for f in fields(DatabaseStatistics)]
    assert data == asdict(sample.get_statistics())


def test_stats_table(run: Callable[..., Result], sample_db: Path, sample: OmegaStore) -> None:
    lines = ok(run("stats", sample_db)).stdout.splitlines()
    assert lines[0].split() == ["entity", "count"]
    assert set(lines[1]) == {"-", " "}
    stats = sample.get_statistics()
    assert lines[2].split() == ["memories", str(stats.memory_count)]
    assert lines[6].split() == ["causal", "edges", str(stats.causal_edge_count)]
    assert len(lines) == 2 + 7
    # numbers right-aligned: every count ends in the same column
    assert len({len(line) for line in lines[2:]}) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("asia", DatabaseStatistics(8, 4, 6, 9, 8, 4, 2)),
        ("sachs_cdt_consensus", DatabaseStatistics(11, 4, 6, 9, 18, 6, 3)),
    ],
)
def test_stats_on_a_file_of_the_original_crate(
    run: Callable[..., Result], compat_copy: Callable[[str], Path], name: str, expected: DatabaseStatistics
) -> None:
    path = compat_copy(name)
    assert as_json(run("stats", path, "--json")) == asdict(expected)


# ----- path and top-paths ------------------------------------------------------------------------------
PAIRS = [
    ("asia:smoke", "asia:dysp"),
    ("alarm:KINKEDTUBE", "alarm:HR"),
    ("insurance:Age", "insurance:PropCost"),
    ("sachs_cdt_consensus:PIP2", "sachs_cdt_consensus:plcg"),
]


@pytest.mark.parametrize(("src", "dst"), PAIRS)
@pytest.mark.parametrize("mode", ["strongest", "shortest", "time-respecting"])
def test_path_json_matches_the_graph(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore, src: str, dst: str, mode: str
) -> None:
    graph = sample.causal_graph()
    flags = {"strongest": [], "shortest": ["--shortest"], "time-respecting": ["--time-respecting"]}[mode]
    result = run("path", sample_db, src, dst, *flags, "--json")
    try:
        if mode == "shortest":
            expected = graph.shortest_path(src, dst)
        else:
            expected = graph.strongest_path(src, dst, time_respecting=mode == "time-respecting")
    except NoPathError:
        assert_error(result, f"no causal path from {src!r} to {dst!r}")
        return
    data = as_json(result)
    assert list(data) == ["nodes", "edge_ids", "weights", "strength"]
    assert data == path_dict(expected)


def test_path_table(run: Callable[..., Result], sample_db: Path, sample: OmegaStore) -> None:
    expected = sample.causal_graph().strongest_path("alarm:KINKEDTUBE", "alarm:HR")
    lines = ok(run("path", sample_db, "alarm:KINKEDTUBE", "alarm:HR")).stdout.splitlines()
    assert lines[0] == (
        f"Strongest path from 'alarm:KINKEDTUBE' to 'alarm:HR': {len(expected.edge_ids)} edges, "
        f"strength {expected.strength:.6g}"
    )
    assert lines[1].split() == ["step", "from", "to", "edge_id", "weight", "strength"]
    rows = [line.split() for line in lines[3:]]
    assert [r[3] for r in rows] == list(expected.edge_ids)
    assert [r[1] for r in rows] == list(expected.nodes[:-1])
    assert float(rows[-1][-1]) == pytest.approx(expected.strength, rel=1e-5)


def test_path_filters_reach_the_graph(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore
) -> None:
    src, dst = "alarm:KINKEDTUBE", "alarm:HR"
    strong = sample.causal_graph(min_weight=0.5)
    with pytest.raises(NoPathError):
        strong.strongest_path(src, dst)  # the 0.228 link is needed
    assert_error(run("path", sample_db, src, dst, "--min-weight", "0.5"), "no causal path")
    typed = sample.causal_graph(edge_types=["causes", "enables"])
    data = as_json(
        run("path", sample_db, src, dst, "--edge-type", "causes", "--edge-type", "enables", "--json")
    )
    assert data == path_dict(typed.strongest_path(src, dst))


@pytest.mark.parametrize("as_of", ["1764000000", "2025-11-24", "2025-11-24T16:00:00+00:00"])
def test_as_of_accepts_seconds_and_iso_dates(run: Callable[..., Result], sample_db: Path, as_of: str) -> None:
    # every sample edge is created after 2025-11-24 16:00 UTC, so nothing is left
    assert_error(run("path", sample_db, "asia:smoke", "asia:dysp", "--as-of", as_of), "no causal path")


def test_as_of_rejects_garbage(run: Callable[..., Result], sample_db: Path) -> None:
    assert_error(run("cycles", sample_db, "--as-of", "yesterday"), "is not a timestamp", code=2)


@pytest.mark.parametrize(("k", "max_length"), [(1, None), (3, None), (5, 2)])
def test_top_paths_json_matches_the_graph(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore, k: int, max_length: int | None
) -> None:
    src, dst = "asia:smoke", "asia:dysp"
    expected = sample.causal_graph().top_paths(src, dst, k=k, max_length=max_length)
    extra = [] if max_length is None else ["--max-length", max_length]
    data = as_json(run("top-paths", sample_db, src, dst, "-k", k, *extra, "--json"))
    assert data == [path_dict(p) for p in expected]


def test_top_paths_table(run: Callable[..., Result], sample_db: Path) -> None:
    lines = ok(run("top-paths", sample_db, "asia:smoke", "asia:dysp")).stdout.splitlines()
    assert lines[0].split() == ["rank", "strength", "edges", "path"]
    assert lines[2].split()[:3] == ["1", "0.135", "2"]
    assert lines[2].endswith("asia:smoke -> asia:bronc -> asia:dysp")
    assert len(lines) == 2 + 2  # the two simple paths from smoke to dysp


# ----- causes / effects ----------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["causes", "effects"])
@pytest.mark.parametrize(
    ("memory_id", "options"),
    [
        ("alarm:BP", {}),
        ("alarm:VENTLUNG", {"max_depth": 2}),
        ("alarm:KINKEDTUBE", {"min_strength": 0.3}),
        ("sachs_cdt_consensus:PIP3", {"max_depth": 1, "min_strength": 0.0}),
    ],
)
def test_lineage_json_matches_the_graph(
    run: Callable[..., Result],
    sample_db: Path,
    sample: OmegaStore,
    direction: str,
    memory_id: str,
    options: dict[str, float],
) -> None:
    graph = sample.causal_graph()
    frame = getattr(graph, direction)(memory_id, **options)
    flags = [x for k, v in options.items() for x in (f"--{k.replace('_', '-')}", v)]
    everything = as_json(run(direction, sample_db, memory_id, *flags, "--limit", 0, "--json"))
    assert everything == frame.to_dict(orient="records")
    first = as_json(run(direction, sample_db, memory_id, *flags, "--limit", 3, "--json"))
    assert first == everything[:3]


def test_causes_table_says_how_many_are_hidden(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore
) -> None:
    frame = sample.causal_graph().causes("alarm:BP")
    lines = ok(run("causes", sample_db, "alarm:BP", "--limit", 4)).stdout.splitlines()
    assert (
        lines[0]
        == f"causes of 'alarm:BP': {len(frame)} memories, showing the strongest 4; --limit 0 shows all"
    )
    assert lines[1].split() == ["memory_id", "depth", "strength"]
    assert [line.split()[0] for line in lines[3:]] == frame["memory_id"].head(4).tolist()


def test_a_root_has_no_causes(run: Callable[..., Result], sample_db: Path) -> None:
    assert (
        ok(run("causes", sample_db, "asia:smoke")).stdout.strip()
        == "'asia:smoke' has no causes (with these filters)"
    )
    assert as_json(run("causes", sample_db, "asia:smoke", "--json")) == []


# ----- influence / cycles ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flags", "kwargs"),
    [
        ([], {}),
        (["--reverse"], {"reverse": True}),
        (["--alpha", "0.5"], {"alpha": 0.5}),
        (["--tol", "1e-6"], {"tol": 1e-6}),
        (["--personalize", "asia:smoke", "--personalize", "asia:tub"],
         {"personalization": {"asia:smoke": 1.0, "asia:tub": 1.0}}),
    ],
)  # fmt: skip
def test_influence_json_matches_the_graph(
    run: Callable[..., Result], sample_db: Path, sample: OmegaStore, flags: list[str], kwargs: dict
) -> None:
    frame = sample.causal_graph().influence(**kwargs).sort_values("rank")
    data = as_json(run("influence", sample_db, "--top", 7, *flags, "--json"))
    assert data == frame.head(7).to_dict(orient="records")
    assert all(list(row) == ["memory_id", "score", "rank"] for row in data)
    assert len(as_json(run("influence", sample_db, "--top", 0, "--json"))) == len(frame)


def test_influence_table(run: Callable[..., Result], sample_db: Path, sample: OmegaStore) -> None:
    frame = sample.causal_graph().influence().sort_values("rank")
    lines = ok(run("influence", sample_db, "--top", 3)).stdout.splitlines()
    assert (
        lines[0]
        == f"memories where causal influence accumulates (PageRank, alpha 0.85): top 3 of {len(frame)}"
    )
    assert [line.split()[1] for line in lines[3:]] == frame["memory_id"].head(3).tolist()


def test_cycles(run: Callable[..., Result], sample_db: Path, sample: OmegaStore) -> None:
    graph = sample.causal_graph()
    data = as_json(run("cycles", sample_db, "--json"))
    assert data == {"is_dag": False, "cycles": graph.find_cycles(limit=11)[:10], "truncated": False}
    cycle = data["cycles"][0]
    assert sorted(cycle) == sorted(f"sachs_cdt_consensus:{n}" for n in ("PIP2", "PIP3", "plcg"))
    text = ok(run("cycles", sample_db)).stdout
    assert text.startswith("the causal graph is not a DAG; 1 cycle:")
    assert " -> ".join([*cycle, cycle[0]]) in text
    # without the feedback edges the graph is a DAG
    acyclic = ["--edge-type", "causes", "--edge-type", "enables", "--edge-type", "correlates"]
    assert as_json(run("cycles", sample_db, *acyclic, "--json")) == {
        "is_dag": True,
        "cycles": [],
        "truncated": False,
    }
    assert ok(run("cycles", sample_db, *acyclic)).stdout.strip() == "the causal graph is a DAG: no cycles"


def test_an_empty_store(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    ok(run("init", db))
    assert ok(run("influence", db)).stdout.strip() == "no memories to rank: the causal graph is empty"
    assert as_json(run("influence", db, "--json")) == []
    assert as_json(run("cycles", db, "--json")) == {"is_dag": True, "cycles": [], "truncated": False}
    assert set(as_json(run("stats", db, "--json")).values()) == {0}


def test_cycles_limit_reports_truncation(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "loops.db"
    with OmegaStore(db) as store:
        store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abcd")
        pairs = ["ab", "ba", "bc", "cb", "cd", "dc"]
        store.store_causal_edges(StoredCausalEdge(f"e{p}", p[0], p[1], 0.5, "causes", 0) for p in pairs)
    data = as_json(run("cycles", db, "--limit", 2, "--json"))
    assert len(data["cycles"]) == 2 and data["truncated"] is True
    assert as_json(run("cycles", db, "--limit", 3, "--json"))["truncated"] is False


# ----- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", list(READING_COMMANDS))
def test_missing_database_is_not_created(run: Callable[..., Result], tmp_path: Path, command: str) -> None:
    db = tmp_path / "typo.db"
    message = assert_error(run(command, db, *READING_COMMANDS[command]), "not found", "omega-graph init")
    assert "import-edges" in message
    assert not db.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", list(QUERY_COMMANDS))
def test_a_file_that_is_not_a_database(run: Callable[..., Result], tmp_path: Path, command: str) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not SQLite, just some notes about memories\n" * 20)
    before = bogus.read_bytes()
    assert_error(run(command, bogus, *QUERY_COMMANDS[command]), "'", "is not a SQLite database")
    assert bogus.read_bytes() == before


def test_a_sqlite_file_that_is_not_a_store_is_left_alone(run: Callable[..., Result], tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
    before = other.read_bytes()
    for command in QUERY_COMMANDS:
        assert_error(run(command, other, *QUERY_COMMANDS[command]), "is not an omega store", "people")
    assert other.read_bytes() == before


def test_an_empty_file_is_not_a_store(run: Callable[..., Result], tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert_error(run("stats", empty), "is not an omega store", "holds no tables", "omega-graph init")
    assert empty.stat().st_size == 0


def test_a_directory_is_not_a_store(run: Callable[..., Result], tmp_path: Path) -> None:
    assert_error(run("stats", tmp_path), "is a directory")


def test_a_store_from_a_newer_version_is_refused(run: Callable[..., Result], tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    OmegaStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    assert_error(run("stats", db), "99", "upgrade omega-graph")


@pytest.mark.parametrize(
    ("command", "args", "missing", "suggestion"),
    [
        ("path", ["asia:smok", "asia:dysp"], "asia:smok", "asia:smoke"),
        ("path", ["asia:smoke", "ASIA:DYSP"], "ASIA:DYSP", "asia:dysp"),
        ("top-paths", ["asia:smoke", "asia:dysq"], "asia:dysq", "asia:dysp"),
        ("causes", ["alarm:B"], "alarm:B", "alarm:BP"),
        ("effects", ["nowhere"], "nowhere", None),
        ("influence", ["--personalize", "asia:smokes"], "asia:smokes", "asia:smoke"),
    ],
)
def test_unknown_memory_id(
    run: Callable[..., Result],
    sample_db: Path,
    command: str,
    args: list[str],
    missing: str,
    suggestion: str | None,
) -> None:
    message = assert_error(run(command, sample_db, *args), f"memory {missing!r} not found")
    if suggestion is None:
        assert "did you mean" not in message
    else:
        assert f"did you mean {suggestion!r}" in message


@pytest.mark.parametrize("command", ["path", "top-paths"])
def test_no_path(run: Callable[..., Result], sample_db: Path, command: str) -> None:
    # effects never flow back to their causes in a DAG network
    assert_error(
        run(command, sample_db, "asia:dysp", "asia:smoke"),
        "no causal path from 'asia:dysp' to 'asia:smoke'",
        f"see what 'asia:dysp' reaches with `omega-graph effects {sample_db} asia:dysp`",
    )


def test_no_time_respecting_path_says_what_to_drop(run: Callable[..., Result], sample_db: Path) -> None:
    with OmegaStore(sample_db) as store, pytest.raises(NoPathError):
        store.causal_graph().strongest_path("asia:smoke", "asia:dysp", time_respecting=True)
    assert_error(
        run("path", sample_db, "asia:smoke", "asia:dysp", "--time-respecting"), "drop --time-respecting"
    )


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["path", "{db}", "asia:smoke"], "Missing argument 'DST'"),
        (["path", "{db}", "asia:smoke", "asia:dysp", "--shortest", "--time-respecting"], "drop --shortest"),
        (["influence", "{db}", "--alpha", "1.5"], "--alpha"),
        (["top-paths", "{db}", "a", "b", "-k", "0"], "-k"),
        (["causes", "{db}", "asia:dysp", "--min-strength", "2"], "--min-strength"),
        (["stats"], "Missing argument 'DB'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(
    run: Callable[..., Result], sample_db: Path, args: list[str], phrase: str
) -> None:
    assert_error(run(*[a.format(db=sample_db) for a in args]), phrase, code=2)


def test_json_output_is_strict_json(run: Callable[..., Result], sample_db: Path) -> None:
    for command, args in QUERY_COMMANDS.items():
        text = ok(run(command, sample_db, *args, "--json")).stdout
        json.loads(text, parse_constant=lambda c, command=command: pytest.fail(f"{command} printed {c}"))
