"""The ``fleet`` commands through click's CliRunner (and one real ``spark-submit``), on small real fleets.

Every JSON answer is compared with the library (``omega_graph.fleet``) and with references from the
store files themselves (``OmegaStore(path)``, plain sqlite3 rows, networkx); exit statuses: 0, 1 for
a skipped store or a data problem (one line on stderr), 2 for a usage error. The Spark commands run
against the session-wide ``spark`` fixture (local mode; a command's ``session()`` call gets it).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from click.testing import Result
from test_cli import as_json, assert_error, ok

from omega_graph import OmegaStore
from omega_graph.analytics.statistics import FREQUENCIES
from omega_graph.cli._commands_fleet import FREQUENCIES as CLI_FREQUENCIES
from omega_graph.fleet import export, generate, read_manifest, statistics

Run = Callable[..., Result]
STORES = 8


@pytest.fixture(scope="module")
def fleet_src(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight generated agent stores of 20-60 edges (store 5 has a cycle)."""
    return [Path(p) for p in generate(tmp_path_factory.mktemp("src"), stores=STORES, seed=2, edges=(20, 60))]


@pytest.fixture(scope="module")
def export_dir(fleet_src: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet") / "export"
    assert export([fleet_src[0].parent], out).ok
    return out


def store_facts(path: Path) -> dict[str, Any]:
    with OmegaStore(path) as store:
        s = store.get_statistics()
        return {"store_id": store.identity, "memories": s.memory_count, "causal_edges": s.causal_edge_count,
                "vectors": s.vector_count, "reflexion_episodes": s.reflexion_count, "skills": s.skill_count,
                "architectures": s.architecture_count, "intelligences": s.intelligence_count}  # fmt: skip


def frame(records: list[dict[str, Any]], like: pd.DataFrame) -> pd.DataFrame:
    """JSON records back into a frame shaped like the library's (periods parsed, columns ordered)."""
    df = pd.DataFrame(records, columns=list(like.columns))
    for column in like.columns:
        if pd.api.types.is_datetime64_any_dtype(like[column]):
            df[column] = pd.to_datetime(df[column])
    return df


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    keys = list(a.columns)
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)


# ----- generate -------------------------------------------------------------------------------------------
def test_generate_prints_what_it_made(run: Run, tmp_path: Path) -> None:
    args = ["--stores", 6, "--seed", 3, "--edges", 20, 50]
    made = as_json(run("fleet", "generate", tmp_path / "a", *args, "--json"))
    assert made["seed"] == 3 and made["edges"] == [20, 50] and len(made["stores"]) == 6
    for i, row in enumerate(made["stores"]):
        path = Path(row["path"])
        assert path.name == f"agent-{i:04d}-v{row['version']}.db" and row["version"] == (
            2 if i % 3 == 2 else 1
        )
        facts = store_facts(path)
        assert {k: row[k] for k in ("store_id", "memories", "causal_edges")} == {
            k: facts[k] for k in ("store_id", "memories", "causal_edges")
        }
        with OmegaStore(path) as store:
            assert row["cyclic"] == (not store.causal_graph().is_dag()) == (i == 5)
    text = ok(run("fleet", "generate", tmp_path / "b", *args)).stdout
    memories, edges = (sum(r[k] for r in made["stores"]) for k in ("memories", "causal_edges"))
    assert (
        f"generated 6 stores in {tmp_path / 'b'} (seed 3, 20-50 edges each): {memories:,} memories, {edges:,} causal edges"
        in text
    )
    assert "4 v1 and 2 v2 agents, 1 with cycles" in text and "omega-graph fleet export" in text
    for row in made["stores"]:  # the same seed, the same stores (and identities)
        assert store_facts(tmp_path / "b" / Path(row["path"]).name)["store_id"] == row["store_id"]
    assert_error(run("fleet", "generate", tmp_path / "a", *args), "already exist", "--force")
    assert ok(run("fleet", "generate", tmp_path / "a", *args, "--force", "-q")).stdout == ""
    assert_error(run("fleet", "generate", tmp_path / "c", "--edges", 50, 20), "LO 50 is above HI 20", code=2)
    assert run("fleet", "generate", tmp_path / "c", "--stores", -1).exit_code == 2


# ----- export ---------------------------------------------------------------------------------------------
def test_export_lists_skipped_stores_and_exits_1(run: Run, tmp_path: Path) -> None:
    src = tmp_path / "src"
    paths = [Path(p) for p in generate(src, stores=4, seed=5, edges=(20, 40))]
    (src / "notes.txt").write_text("not a store")
    shutil.copy(paths[0], src / "zz-copy.db")
    out = tmp_path / "out"
    result = run("fleet", "export", src, "--out", out, "--json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    got = json.loads(result.stdout)
    facts = [store_facts(p) for p in paths]
    assert got["ok"] is False and got["stores"] == 4 and got["removed"] == [] and got["unchanged"] == []
    assert sorted(got["exported"]) == sorted(f["store_id"] for f in facts)
    reasons = {Path(s["path"]).name: s["reason"] for s in got["skipped"]}
    assert set(reasons) == {"notes.txt", "zz-copy.db"}
    assert "not a SQLite database" in reasons["notes.txt"] and "same identity as" in reasons["zz-copy.db"]
    for table in ("memories", "causal_edges", "vectors", "reflexion_episodes", "skills"):
        assert got["counts"][table] == sum(f[table] for f in facts), table
    manifest = read_manifest(out, required=True)  # the others were exported either way
    assert {s.store_id for s in manifest.stores} == set(got["exported"])
    assert all((out / rel).is_file() for s in manifest.stores for rel in s.files.values())

    again = run("fleet", "export", src, "--out", out)
    assert again.exit_code == 1
    assert "exported 0, unchanged 4, removed 0, skipped 2" in again.stdout
    assert str(src / "notes.txt") in again.stdout and "same identity as" in again.stdout
    (src / "notes.txt").unlink()
    (src / "zz-copy.db").unlink()
    assert (
        "exported 0, unchanged 4, removed 0, skipped 0"
        in ok(run("fleet", "export", src, "--out", out)).stdout
    )
    paths[1].unlink()
    gone = as_json(run("fleet", "export", src, "--out", out, "--json"))
    assert gone["ok"] is True and gone["removed"] == [facts[1]["store_id"]] and gone["stores"] == 3
    assert ok(run("fleet", "export", src, "--out", out, "-q")).stdout == ""
    logged = ok(run("fleet", "export", src, "--out", out, "--progress"))
    assert (
        "exporting: 0/3 (0%)" in logged.stderr and "exporting: 3/3 (100%) agent-0003-v1.db" in logged.stderr
    )


def test_export_usage_and_source_errors(run: Run, tmp_path: Path) -> None:
    assert run("fleet", "export", tmp_path).exit_code == 2  # no --out
    assert run("fleet", "export", "--out", tmp_path / "out").exit_code == 2  # no SOURCES
    assert_error(
        run("fleet", "export", tmp_path / "nope", "--out", tmp_path / "out"), "fleet source", "not found"
    )
    assert not (tmp_path / "out").exists()


# ----- stats ----------------------------------------------------------------------------------------------
def test_stats_json_equals_the_library_and_the_store_files(
    run: Run, export_dir: Path, fleet_src: list[Path]
) -> None:
    got = as_json(run("fleet", "stats", export_dir, "--json"))
    assert (got["engine"], got["stores"], got["per_store"], got["freq"]) == ("duckdb", STORES, True, "day")
    frames = statistics(None, export_dir)
    assert list(got["statistics"]) == list(frames)
    for name, df in frames.items():
        stat = got["statistics"][name]
        assert stat["columns"] == list(df.columns) and stat["rows"] == len(df) and stat["stores"] == STORES
        assert_same(frame(stat["data"], df), df)
    overview = pd.DataFrame(got["statistics"]["overview"]["data"])
    for path in fleet_src:
        facts = store_facts(path)
        mine = overview[overview["store"] == facts["store_id"]].set_index("entity")["count"]
        assert {e: int(mine[e]) for e in mine.index} == {e: facts[e] for e in mine.index}
    whole = as_json(run("fleet", "stats", export_dir, "--json", "--fleet", "--freq", "week"))
    counts = {r["entity"]: r["count"] for r in whole["statistics"]["overview"]["data"]}
    assert counts == overview.groupby("entity")["count"].sum().to_dict() and whole["per_store"] is False
    periods = pd.to_datetime([r["period"] for r in whole["statistics"]["activity"]["data"]])
    assert len(periods) and (periods.day_of_week == 0).all()  # weeks start on Monday


def test_stats_prints_a_summary_and_writes_files(run: Run, export_dir: Path, tmp_path: Path) -> None:
    frames = statistics(None, export_dir)
    text = ok(run("fleet", "stats", export_dir)).stdout
    assert f"{STORES} stores in {export_dir}; statistics per store on duckdb" in text
    for name, df in frames.items():
        line = next(li for li in text.splitlines() if li.startswith(name + " "))
        assert line.split()[1:3] == [str(len(df)), str(STORES)], line
    totals = frames["overview"].groupby("entity")["count"].sum()
    line = next(li for li in text.splitlines() if li.startswith("causal_edges "))
    assert line.split()[1] == str(totals["causal_edges"])
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        text = ok(run("fleet", "stats", export_dir, "--out", out, "--format", fmt)).stdout
        for name, df in frames.items():
            path = out / f"{name}.{fmt}"
            assert f"{name}: {path}" in text
            if fmt == "csv":
                back = pd.read_csv(path, dtype={"store": str, "memory_id": str, "edge_type": str})
            else:
                import duckdb

                back = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
            assert_same(frame(back.to_dict(orient="records"), df), df)


def test_stats_errors(run: Run, export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_error(run("fleet", "stats", tmp_path), "fleet export", "not found", "omega-graph fleet export")
    assert_error(run("fleet", "stats", export_dir, "--engine", "duckdb", "--master", "local[2]"),
                 "--master runs on Spark", code=2)  # fmt: skip
    assert run("fleet", "stats", export_dir, "--freq", "fortnight").exit_code == 2
    with monkeypatch.context() as m:  # Java is missing
        m.setenv("PATH", str(tmp_path))
        m.delenv("JAVA_HOME", raising=False)
        assert_error(
            run("fleet", "stats", export_dir, "--engine", "spark"), "Java runtime", "default-jre-headless"
        )
    with monkeypatch.context() as m:  # pyspark is not installed: `import pyspark` fails
        m.setitem(sys.modules, "pyspark", None)
        assert_error(
            run("fleet", "stats", export_dir, "--master", "local[2]"), "pip install 'omega-graph[spark]'"
        )
        assert_error(run("fleet", "graph", export_dir), "not installed", "omega-graph[spark]")


def test_frequencies_are_the_statistics_own() -> None:
    assert CLI_FREQUENCIES == tuple(FREQUENCIES)


# ----- Spark: stats and graph -------------------------------------------------------------------------------
def test_stats_on_spark_equal_duckdb(run: Run, spark: object, export_dir: Path) -> None:
    on_spark = as_json(run("fleet", "stats", export_dir, "--master", "local[2]", "--json"))
    on_duckdb = as_json(run("fleet", "stats", export_dir, "--json"))
    assert on_spark["engine"] == "spark" and on_duckdb["engine"] == "duckdb"
    frames = statistics(None, export_dir)
    for name, df in frames.items():
        a, b = on_spark["statistics"][name], on_duckdb["statistics"][name]
        assert (a["rows"], a["stores"], a["columns"]) == (b["rows"], b["stores"], b["columns"])
        assert_same(frame(a["data"], df), frame(b["data"], df))


def plain_graph(path: Path) -> nx.DiGraph:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        graph = nx.DiGraph()
        graph.add_nodes_from(r[0] for r in conn.execute("SELECT id FROM memories"))
        graph.add_edges_from(conn.execute("SELECT from_memory, to_memory FROM causal_edges"))
    finally:
        conn.close()
    return graph


def test_graph_answers_equal_the_engine_on_each_store(
    run: Run, spark: object, export_dir: Path, fleet_src: list[Path]
) -> None:
    got = as_json(run("fleet", "graph", export_dir, "--master", "local[2]", "--top-k", 3, "--json"))
    assert got["master"] == "local[2]" and got["top_k"] == 3 and got["export"] == str(export_dir)
    answers = {a["store"]: a for a in got["answers"]}
    assert [a["store"] for a in got["answers"]] == sorted(answers)
    assert set(answers) == {s.store_id for s in read_manifest(export_dir).stores}
    for path in fleet_src:
        with OmegaStore(path) as store:
            answer = answers[store.identity]
            graph = store.causal_graph(include_invalidated=True)
            top = graph.influence().memory_id.head(3).tolist()
        plain = plain_graph(path)
        assert (
            answer["is_dag"]
            == nx.is_directed_acyclic_graph(plain)
            == (path.name.startswith("agent-0005") is False)
        )
        assert answer["scc_count"] == nx.number_strongly_connected_components(plain)
        assert answer["top_influence"] == top and answer["reason"] is None
        if answer["is_dag"]:
            assert answer["cycle"] is None
        else:
            cycle = answer["cycle"]
            assert all(plain.has_edge(a, b) for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True))


def test_graph_strongest_paths_from_a_pairs_csv(
    run: Run, spark: object, export_dir: Path, fleet_src: list[Path], tmp_path: Path
) -> None:
    path = fleet_src[3]
    with OmegaStore(path) as store:
        sid, graph = store.identity, store.causal_graph(include_invalidated=True)
        edge = store.connection.execute(
            "SELECT from_memory, to_memory FROM causal_edges ORDER BY id LIMIT 1"
        ).fetchone()
        expected = graph.strongest_path(edge[0], edge[1])
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"store,src,dst\n{sid},{edge[0]},{edge[1]}\n{sid},{edge[1]},{edge[0]}\n{sid},{edge[0]},nope\n"
                     f"{'0' * 32},a,b\n")  # fmt: skip
    got = as_json(run("fleet", "graph", export_dir, "--pairs", pairs, "--json"))
    rows = {(r["store"], r["src"], r["dst"]): r for r in got["paths"]}
    assert len(rows) == 4
    found = rows[(sid, edge[0], edge[1])]
    assert found["nodes"] == list(expected.nodes) and found["strength"] == pytest.approx(expected.strength)
    back = rows[(sid, edge[1], edge[0])]  # the generated stores are DAGs but store 5: no way back
    assert back["nodes"] is None and back["strength"] == 0.0 and "no causal path" in back["reason"]
    assert "not a memory of this store" in rows[(sid, edge[0], "nope")]["reason"]
    assert "not in the export" in rows[("0" * 32, "a", "b")]["reason"]
    text = ok(run("fleet", "graph", export_dir, "--pairs", pairs)).stdout
    assert path.name in text and " -> ".join(expected.nodes) in text and "no causal path" in text


def test_graph_input_errors(run: Run, export_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert_error(run("fleet", "graph", export_dir, "--pairs", bad), "header", "store (or store_id), src, dst")
    bad.write_text("store_id,src,dst\n")
    assert_error(run("fleet", "graph", export_dir, "--pairs", bad), "at least one store,src,dst row")
    assert run("fleet", "graph", export_dir, "--pairs", tmp_path / "missing.csv").exit_code == 2
    assert run("fleet", "graph", export_dir, "--top-k", 0).exit_code == 2
    assert_error(run("fleet", "graph", tmp_path), "fleet export", "not found")


@pytest.mark.slow
def test_spark_submit_runs_the_documented_driver(export_dir: Path, tmp_path: Path) -> None:
    """``spark-submit --master local[1] fleet_job.py fleet graph DIR``: the driver of the docs, its master kept."""
    bin_dir = Path(sys.executable).parent
    submit = bin_dir / "spark-submit"
    if not submit.is_file():
        pytest.fail(f"pyspark's spark-submit is missing from {bin_dir} (pip install -e '.[spark]')")
    job = tmp_path / "fleet_job.py"
    job.write_text("from omega_graph.cli import main\nmain()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYSPARK_PYTHON=sys.executable)
    env.pop("OMEGA_GRAPH_SPARK_MASTER", None)
    done = subprocess.run([str(submit), "--master", "local[1]", str(job), "fleet", "graph", str(export_dir),
                           "--top-k", "2", "--json"], capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)
    assert got["master"] == "local[1]" and len(got["answers"]) == STORES
    assert all(len(a["top_influence"]) == 2 for a in got["answers"])


# ----- report and help ------------------------------------------------------------------------------------
def test_report_command(run: Run, export_dir: Path, tmp_path: Path) -> None:
    text = ok(run("fleet", "report", export_dir, "--out", tmp_path / "r")).stdout
    assert f"report.html: {tmp_path / 'r' / 'report.html'}" in text and "figures:     5 PNG files" in text
    md = (tmp_path / "r" / "report.md").read_text()
    assert (
        f"- **Stores**: {STORES}" in md and "## 5. Graph answers per store" in md and "Not computed" not in md
    )
    quiet = ok(run("fleet", "report", export_dir, "--out", tmp_path / "q", "-q", "--graph-max-stores", 0))
    assert quiet.stdout.strip() == str(tmp_path / "q" / "report.html")
    assert (
        "Not computed: the fleet has 8 stores, more than the 0" in (tmp_path / "q" / "report.md").read_text()
    )
    assert_error(run("fleet", "report", tmp_path / "nothing"), "fleet export", "not found")
    ok(run("fleet", "report", export_dir, "--out", tmp_path / "g", "-q", "--group-by", r"-(v\d+)\.db$"))
    grouped = (tmp_path / "g" / "report.md").read_text()
    assert "| measure | group | group median |" in grouped and "groups: v1 (" in grouped
    assert_error(run("fleet", "report", export_dir, "--group-by", "(v"), "group_by", "regular expression")


def test_help_names_the_commands_and_the_cluster_forms(run: Run) -> None:
    text = ok(run("fleet", "--help")).stdout
    for name in ("generate", "export", "stats", "graph", "report"):
        assert f"  {name} " in text
    graph = ok(run("fleet", "graph", "--help")).stdout
    assert "spark-submit --master spark://host:7077 fleet_job.py fleet graph DIR" in graph
    assert "--master spark://host:7077" in graph and "from omega_graph.cli import main; main()" in graph
