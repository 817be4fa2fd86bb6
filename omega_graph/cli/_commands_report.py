"""``report`` (the statistics report of a store) and ``demo`` (the sample store, a few answers, a report)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..errors import OmegaGraphError
from ._commands_query import print_path, statistics_rows
from ._common import DB_ARGUMENT, open_store, progress_bar, progress_enabled, progress_options
from ._output import echo_table

__all__ = ["COMMANDS", "DEMO_DB", "DEMO_QUESTIONS"]

#: File name of the sample store inside the demo directory.
DEMO_DB = "omega-sample.db"
#: The demo's path questions: (source, target, what it asks), on the bundled networks.
DEMO_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("asia:smoke", "asia:dysp", "How does smoking lead to shortness of breath (Asia chest clinic)?"),
    ("alarm:KINKEDTUBE", "alarm:HR", "How does a kinked ventilator tube reach the heart rate (ALARM)?"),
)
#: The memory whose causes the demo lists: blood pressure in the ALARM monitoring network.
DEMO_CAUSES_OF = "alarm:BP"


def _write_report(store: Any, out_dir: Path, enabled: bool) -> Any:
    from ..report import write_report

    with progress_bar("writing report", enabled) as progress:
        return write_report(store, out_dir, progress=lambda step, done, total: progress(done, total, step))


def _echo_written(result: Any) -> None:
    figures = list(getattr(result, "figures", []) or [])
    click.echo(f"report.md:   {os.fspath(result.markdown)}")
    if figures:
        click.echo(f"figures:     {len(figures)} PNG files in {os.fspath(Path(figures[0]).parent)}")
    click.echo(f"report.html: {os.fspath(result.html)}")


@click.command("report")
@DB_ARGUMENT
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write into (created if missing) [default: <DB stem>-report].",
)
@progress_options
def report_command(db: Path, out_dir: Path | None, quiet: bool, force_progress: bool) -> None:
    """Write the statistics report of DB: report.html (self-contained), report.md and PNG figures.

    Sections: overview counts, memories by tier and importance, causal graph structure, strongest
    chains and most influential memories, skills, architectures and lineage, intelligences,
    reflexion outcomes, activity over time. Ends by printing the path of report.html.
    """
    out_dir = out_dir if out_dir is not None else Path(f"{db.stem}-report")
    with open_store(db) as store:
        result = _write_report(store, out_dir, progress_enabled(quiet, force_progress))
    if quiet:
        click.echo(os.fspath(result.html))
    else:
        _echo_written(result)


def _section(title: str) -> None:
    click.echo("")
    click.secho(title, bold=True)


def _demo_answers(store: Any) -> None:
    graph = store.causal_graph()
    _section("What is in the store")
    echo_table(["entity", "count"], statistics_rows(store.get_statistics()))

    for src, dst, question in DEMO_QUESTIONS:
        _section(question)
        try:
            print_path(graph.strongest_path(src, dst), "Strongest")
        except OmegaGraphError as err:
            click.echo(f"(no answer: {err})")

    _section(f"What drives {DEMO_CAUSES_OF} (blood pressure, ALARM)? Its strongest causes:")
    causes = graph.causes(DEMO_CAUSES_OF).head(8)
    echo_table(list(causes.columns), causes.itertuples(index=False, name=None))

    _section("Which memories drive the others most (weighted PageRank on the reversed graph)?")
    top = graph.influence(reverse=True).sort_values(["rank", "memory_id"], kind="stable").head(5)
    echo_table(
        ["rank", "memory_id", "score"], top[["rank", "memory_id", "score"]].itertuples(index=False, name=None)
    )

    _section("Is the causal graph a DAG?")
    if graph.is_dag():
        click.echo("yes: no cycles")
    else:
        for cycle in graph.find_cycles(limit=3):
            cycle = list(cycle)
            click.echo("no, it has the cycle " + " -> ".join([*cycle, cycle[0]]))


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("omega-demo"),
    show_default=True,
    help="Directory for the sample store and the report (created if missing; rebuilt if present).",
)
@progress_options
def demo_command(out_dir: Path, quiet: bool, force_progress: bool) -> None:
    """Build the sample store from six published causal networks, ask it a few causal questions,
    write its HTML report, and print the path of report.html to open.

    The store is OUT/omega-sample.db (rebuilt on every run, deterministically); the report goes to
    OUT/report/. Query it further with the other commands, e.g.
    `omega-graph effects omega-demo/omega-sample.db asia:smoke`.
    """
    from ..sample import build_sample_store

    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / DEMO_DB
    with build_sample_store(db, overwrite=True) as store:
        click.echo(f"Built the sample store {os.fspath(db)} from the bundled networks (data/README.md).")
        _demo_answers(store)
        _section("The statistics report")
        result = _write_report(store, out_dir / "report", progress_enabled(quiet, force_progress))
        _echo_written(result)
    fleet_report = _demo_fleet(out_dir / "fleet", progress_enabled(quiet, force_progress))
    click.echo("")
    click.echo(f"Open {Path(result.html).absolute()}")
    click.echo(f"and the fleet's {Path(fleet_report.html).absolute()}")


def _demo_fleet(out_dir: Path, enabled: bool) -> Any:
    """Generate a small fleet, export it, print its statistics per agent version, write its report."""
    import warnings

    import pandas as pd

    from .. import fleet
    from ..report import FleetReportOptions, write_fleet_report
    from ..report._fleet_sections import store_groups

    stores, export = out_dir / "stores", out_dir / "export"
    _section(f"A fleet of {DEMO_FLEET} agent stores (omega-graph fleet --help)")
    with progress_bar("generating the fleet", enabled) as progress:
        paths = fleet.generate(
            stores, DEMO_FLEET, seed=1, edges=DEMO_FLEET_EDGES, overwrite=True, progress=progress
        )
    with progress_bar("exporting to Parquet", enabled) as progress:
        result = fleet.export([stores], export, progress=progress)
    click.echo(
        f"{len(paths)} stores in {os.fspath(stores)}, exported to {os.fspath(export)} "
        f"({len(result.exported)} written, {len(result.unchanged)} unchanged since the last run)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overview = fleet.statistics(None, export)["overview"]
    counts = overview.pivot(index="store", columns="entity", values="count")
    entries = result.manifest.stores
    paths = pd.Series([e.path for e in entries], index=[e.store_id for e in entries])
    version = store_groups(paths, DEMO_FLEET_VERSIONS)  # the report's outlier groups
    by_version = counts.groupby(counts.index.map(version))[["memories", "causal_edges"]].agg(
        ["count", "median"]
    )
    rows = [
        [v, int(r[("memories", "count")]), int(r[("memories", "median")]), int(r[("causal_edges", "median")])]
        for v, r in by_version.iterrows()
    ]
    echo_table(["agent version", "stores", "median memories", "median edges"], rows)
    with progress_bar("writing the fleet report", enabled) as progress:
        files = write_fleet_report(
            export,
            out_dir / "report",
            options=FleetReportOptions(group_by=DEMO_FLEET_VERSIONS),
            progress=lambda step, done, total: progress(done, total, step),
        )
    click.echo(f"fleet report.html: {os.fspath(files.html)} (outliers scored per agent version)")
    return files


#: The demo's fleet: stores and the range of causal edges per store (small, so it runs in seconds).
DEMO_FLEET = 40
#: The agent version in a generated store's file name (``agent-0007-v2.db``).
DEMO_FLEET_VERSIONS = r"-(v\d+)\.db$"
DEMO_FLEET_EDGES = (200, 2_000)

COMMANDS = [report_command, demo_command]
