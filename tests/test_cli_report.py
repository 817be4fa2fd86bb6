"""``report`` and ``demo``, and the two entry points run as real processes
(``python -m omega_graph`` and the installed ``omega-graph`` script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_cli import assert_error, ok, path_dict

from omega_graph import OmegaStore
from omega_graph.cli import main
from omega_graph.sample import build_sample_store


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    build_sample_store(path).close()
    return path


def script() -> Path:
    """The installed ``omega-graph`` console script beside this interpreter."""
    candidate = Path(sys.executable).parent / "omega-graph"
    if not candidate.is_file():
        msg = f"the omega-graph script is not installed beside {sys.executable} (pip install -e .)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return candidate


def run_process(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "100"}
    env.pop("OMEGA_GRAPH_DEBUG", None)
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env, check=False
    )


# ----- report ------------------------------------------------------------------------------------
def test_report(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "rep"
    lines = ok(run("report", sample_db, "--out", out_dir)).stdout.splitlines()
    html = out_dir / "report.html"
    assert lines[-1] == f"report.html: {html}"
    assert f"report.md:   {out_dir / 'report.md'}" in lines
    assert html.is_file() and (out_dir / "report.md").is_file()
    pngs = sorted((out_dir / "figures").glob("*.png"))
    assert pngs and f"figures:     {len(pngs)} PNG files in {out_dir / 'figures'}" in lines
    text = html.read_text(encoding="utf-8")
    assert "<html" in text and "data:image/png;base64," in text


def test_report_default_directory_quiet_and_progress(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(sample_db), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == os.path.join("sample-report", "report.html")
    assert result.stderr == ""
    assert (tmp_path / "sample-report" / "report.html").is_file()
    result = runner.invoke(main, ["report", str(sample_db), "--out", "again", "--progress"])
    assert result.exit_code == 0, result.output
    steps = result.stderr.splitlines()
    assert steps[0].startswith("writing report: 0/") and steps[-1].endswith("(100%) done")
    assert (tmp_path / "again" / "report.html").is_file()


def test_report_errors(run: Callable[..., Result], sample_db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_error(run("report", sample_db, "--out", blocker), "is a file", code=2)
    assert_error(
        run("report", tmp_path / "none.db", "--out", tmp_path / "r"), "not found", "omega-graph init"
    )
    assert not (tmp_path / "r").exists()


# ----- demo --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_through_the_installed_script(tmp_path: Path) -> None:
    out_dir = tmp_path / "omega-demo"
    done = run_process(script(), "demo", "--out", out_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar into a pipe
    lines = done.stdout.splitlines()
    html = out_dir / "report" / "report.html"
    fleet_html = out_dir / "fleet" / "report" / "report.html"
    assert lines[-2:] == [f"Open {html.absolute()}", f"and the fleet's {fleet_html.absolute()}"]
    assert html.is_file() and "data:image/png;base64," in html.read_text(encoding="utf-8")
    assert fleet_html.is_file() and "data:image/png;base64," in fleet_html.read_text(encoding="utf-8")
    fleet_files = sorted((out_dir / "fleet" / "stores").glob("*.db"))
    v2 = [f for f in fleet_files if f.name.endswith("-v2.db")]
    assert len(fleet_files) == 40 and 0 < len(v2) < 40
    manifest = json.loads((out_dir / "fleet" / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(e["path"] for e in manifest["stores"]) == [str(f) for f in fleet_files]
    versions = {row.split()[0]: int(row.split()[1]) for row in lines if row.startswith(("v1 ", "v2 "))}
    assert versions == {"v1": len(fleet_files) - len(v2), "v2": len(v2)}
    db = out_dir / "omega-sample.db"
    with OmegaStore(db) as store:
        graph = store.causal_graph()
        stats = store.get_statistics()
        smoking = graph.strongest_path("asia:smoke", "asia:dysp")
        top = graph.influence(reverse=True).sort_values("rank")["memory_id"].head(5).tolist()
        cycle = graph.find_cycles(limit=1)[0]
        causes = graph.causes("alarm:BP")["memory_id"].head(8).tolist()
    text = done.stdout
    for heading in ["What is in the store", "How does smoking lead to shortness of breath",
                    "Its strongest causes", "drive the others most", "Is the causal graph a DAG?",
                    "The statistics report"]:  # fmt: skip
        assert heading in text
    assert f"memories              {stats.memory_count}" in text
    assert f"strength {smoking.strength:.6g}" in text
    assert all(edge in text for edge in smoking.edge_ids)
    assert all(m in text for m in top + causes)
    assert "no, it has the cycle " + " -> ".join([*cycle, cycle[0]]) in text

    # a second run rebuilds the same store in place
    again = CliRunner().invoke(main, ["demo", "--out", str(out_dir), "--quiet"])
    assert again.exit_code == 0, again.output
    with OmegaStore(db) as store:
        assert store.get_statistics() == stats


# ----- entry points as processes -----------------------------------------------------------------
def test_python_dash_m(sample_db: Path) -> None:
    from omega_graph import __version__

    version = run_process(sys.executable, "-m", "omega_graph", "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"omega-graph, version {__version__}")
    stats = run_process(sys.executable, "-m", "omega_graph", "stats", sample_db, "--json")
    assert stats.returncode == 0, stats.stderr
    with OmegaStore(sample_db) as store:
        assert json.loads(stats.stdout) == asdict(store.get_statistics())


def test_installed_script_answers_a_path(sample_db: Path) -> None:
    done = run_process(script(), "path", sample_db, "alarm:KINKEDTUBE", "alarm:HR", "--json")
    assert done.returncode == 0, done.stderr
    with OmegaStore(sample_db) as store:
        expected = store.causal_graph().strongest_path("alarm:KINKEDTUBE", "alarm:HR")
    assert json.loads(done.stdout) == path_dict(expected)


@pytest.mark.parametrize("how", ["module", "script"])
@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["stats", "{tmp}/missing.db"], 1, "not found; create one with `omega-graph init"),
        (["causes", "{db}", "asia:nobody"], 1, "memory 'asia:nobody' not found"),
        (["path", "{db}", "asia:dysp", "asia:smoke"], 1, "no causal path"),
        (["import-edges", "{tmp}/n.db", "{tmp}/bad.csv"], 1, "bad.csv, line 3:"),
        (["stats", "{tmp}/bad.csv"], 1, "is not a SQLite database"),
        (["path", "{db}"], 2, "Missing argument"),
    ],
)
def test_errors_in_a_real_process(
    sample_db: Path, tmp_path: Path, how: str, args: list[str], code: int, phrase: str
) -> None:
    (tmp_path / "bad.csv").write_text("source,target,weight\na,b,0.5\nb,c,oops\n")
    prefix = [sys.executable, "-m", "omega_graph"] if how == "module" else [script()]
    done = run_process(*prefix, *[a.format(tmp=tmp_path, db=sample_db) for a in args])
    assert done.returncode == code
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and phrase in lines[-1]
    if code == 1:
        assert len(lines) == 1 and done.stdout == ""
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "n.db").exists()
