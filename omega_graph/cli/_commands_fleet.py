"""``fleet``: many stores at once (one per agent, user or run): generate, export, stats, graph, report.

The commands are a thin layer over :mod:`omega_graph.fleet` (and :func:`omega_graph.report.
write_fleet_report`). ``export`` writes every store to Hive-partitioned Parquet and exits 1 when any
store was skipped (each listed with its reason; the others are exported either way). ``stats`` runs
the fleet statistics on DuckDB (default) or Spark; ``graph`` runs the per-store graph answers on
Spark; ``--master`` picks the Spark master (and makes ``stats`` run on Spark).

On a cluster
------------
``fleet graph`` and ``fleet stats --engine spark`` are Spark drivers. Either give the master::

    omega-graph fleet graph /shared/fleet-export --master spark://host:7077 --json

(or ``python -m omega_graph fleet graph ...``; this process is the driver, in client mode; every
executor needs omega-graph installed at the same ``PYSPARK_PYTHON`` path, and the export directory
at the same local path, e.g. on NFS), or submit it with
``spark-submit``, which takes a Python file, not ``-m omega_graph``: a two-line driver file does::

    # fleet_job.py
    from omega_graph.cli import main
    main()

    spark-submit --master spark://host:7077 fleet_job.py fleet graph /shared/fleet-export --json

Without ``--master``, a command run by ``spark-submit`` uses the master spark-submit was given.

Examples
--------
>>> from click.testing import CliRunner
>>> result = CliRunner().invoke(fleet_group, ["stats", "--engine", "duckdb", "--master", "local[2]", "x"])
>>> result.exit_code, "--master runs on Spark" in result.output
(2, True)
"""

from __future__ import annotations

import csv
import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import schema
from ..errors import ValidationError
from ._common import json_option, progress_bar, progress_enabled, progress_options
from ._output import echo_json, echo_table

__all__ = ["COMMANDS", "FREQUENCIES", "fleet_group"]

#: Activity's periods (those of ``Analytics.activity``).
FREQUENCIES = ("hour", "day", "week", "month", "quarter", "year")

_EXPORT_DIR = click.argument("export_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR")
_MASTER = click.option(
    "--master",
    metavar="URL",
    default=None,
    help="Spark master: local[2], spark://host:7077, yarn, ... [default: $OMEGA_GRAPH_SPARK_MASTER, the "
    "master spark-submit was given, else local[2]].",
)


@click.group("fleet")
def fleet_group() -> None:
    """Fleets of stores: export them to Parquet, then statistics (DuckDB or Spark), per-store graph
    answers (Spark) and a report across the fleet.

    \b
    Examples:
      omega-graph fleet generate fleet/ --stores 1000 --seed 1
      omega-graph fleet export fleet/ --out fleet-export/
      omega-graph fleet stats fleet-export/ --out fleet-stats/
      omega-graph fleet graph fleet-export/ --master 'local[2]' --top-k 5
      omega-graph fleet report fleet-export/ --out fleet-report/
    """


def _as_step(progress: Callable[..., None]) -> Callable[[int, int, str | None], None]:
    """A library ``progress(done, total, path)`` drawn as the bar's ``(done, total, file name)``."""
    return lambda done, total, path: progress(done, total, os.path.basename(path) if path else None)


# ----- generate -----------------------------------------------------------------------------------
def _store_facts(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
    try:
        (identity,) = conn.execute(schema.IDENTITY_SQL).fetchone()
        memories, edges = conn.execute(
            "SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM causal_edges)"
        ).fetchone()
    finally:
        conn.close()
    return {"path": path, "store_id": identity, "memories": memories, "causal_edges": edges}


@fleet_group.command("generate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), metavar="DIR")
@click.option("--stores", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option(
    "--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Same seed, same fleet."
)
@click.option(
    "--edges",
    type=(click.IntRange(min=1), click.IntRange(min=1)),
    default=(1_000, 10_000),
    show_default=True,
    metavar="LO HI",
    help="Causal edges per store, log-uniform from LO to HI (one store in 16 is smaller).",
)
@click.option("--force", is_flag=True, help="Replace existing store files of the same names.")
@json_option
@progress_options
def generate_command(
    directory: Path,
    stores: int,
    seed: int,
    edges: tuple[int, int],
    force: bool,
    as_json: bool,
    quiet: bool,
    force_progress: bool,
) -> None:
    """Write a deterministic fleet of agent stores into DIR (files agent-<i>-v<version>.db).

    Store i depends only on (seed, i, edges): every third agent is version 2 (stronger beliefs),
    one store in 8 has cycles. See omega_graph.fleet.generate.
    """
    from ..fleet._generate import fleet_store, generate

    if edges[0] > edges[1]:
        raise click.BadParameter(f"LO {edges[0]} is above HI {edges[1]}; give LO <= HI", param_hint="--edges")
    with progress_bar("generating", progress_enabled(quiet, force_progress)) as progress:
        paths = generate(directory, stores, seed, edges=edges, overwrite=force, progress=_as_step(progress))
    rows = []
    for index, path in enumerate(paths):
        shape = fleet_store(seed, index, edges)
        rows.append({**_store_facts(path), "version": shape.version, "cyclic": shape.cyclic})
    if as_json:
        echo_json(
            {"directory": os.path.abspath(directory), "seed": seed, "edges": list(edges), "stores": rows}
        )
        return
    if quiet:
        return
    v2 = sum(r["version"] == 2 for r in rows)
    click.echo(
        f"generated {len(rows)} stores in {os.fspath(directory)} (seed {seed}, {edges[0]}-{edges[1]} edges "
        f"each): {sum(r['memories'] for r in rows):,} memories, {sum(r['causal_edges'] for r in rows):,} "
        f"causal edges; {len(rows) - v2} v1 and {v2} v2 agents, {sum(r['cyclic'] for r in rows)} with cycles"
    )
    click.echo(f"next: omega-graph fleet export {os.fspath(directory)} --out {os.fspath(directory)}-export")


# ----- export -------------------------------------------------------------------------------------
@fleet_group.command("export")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCES...")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="The export directory: new, empty, or an earlier export (only changed stores are written).",
)  # fmt: skip
@json_option
@progress_options
def export_command(
    sources: tuple[str, ...], out_dir: Path, as_json: bool, quiet: bool, force_progress: bool
) -> None:
    """Export every store SOURCES name (files, directories, globs) to Hive-partitioned Parquet.

    Layout: OUT/<table>/store=<store id>/part-*.parquet and OUT/manifest.json. A re-run writes only
    the stores that changed and drops those no longer found. Exit status 0 when every store was
    exported or unchanged, 1 when any file was skipped (each is listed with its reason; the others
    are exported either way).
    """
    from ..fleet import export

    with progress_bar("exporting", progress_enabled(quiet, force_progress)) as progress:
        result = export(sources, out_dir, progress=_as_step(progress))
    skipped = [{"path": p, "reason": r} for p, r in result.skipped]
    stores = result.manifest.stores
    if as_json:
        totals = {t: sum(s.counts.get(t, 0) for s in stores) for t in (stores[0].counts if stores else {})}
        echo_json({
            "out": result.out, "ok": result.ok, "exported": list(result.exported),
            "unchanged": list(result.unchanged), "removed": list(result.removed), "skipped": skipped,
            "stores": len(stores), "counts": totals,
        })  # fmt: skip
    else:
        if not quiet:
            click.echo(
                f"exported {len(result.exported)}, unchanged {len(result.unchanged)}, removed "
                f"{len(result.removed)}, skipped {len(skipped)}; {result.out} holds {len(stores)} stores"
            )
        if skipped:
            click.echo("" if quiet else "\nskipped (not exported):")
            echo_table(["path", "reason"], [[s["path"], s["reason"]] for s in skipped])
    if not result.ok:
        raise click.exceptions.Exit(1)


# ----- stats --------------------------------------------------------------------------------------
def _pandas(frame: Any) -> Any:
    return frame if hasattr(frame, "iloc") else frame.toPandas()  # Spark: collected to the driver


def _records(frame: Any) -> list[dict[str, Any]]:
    import pandas as pd

    df = frame.copy()
    for column in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[column]):
            df[column] = df[column].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """numpy arrays (Spark's array columns) as lists; missing values as None."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        return value.tolist()
    if isinstance(value, list | tuple):
        return list(value)
    try:
        import pandas as pd

        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _write_frame(frame: Any, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
        return
    import duckdb

    from ..duck import literal

    con = duckdb.connect()
    try:
        con.register("frame", frame)
        con.execute(f"COPY frame TO {literal(os.fspath(path))} (FORMAT parquet)")
    finally:
        con.close()


def _shapes(frames: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    """``{name: (rows, distinct stores or None)}`` of pandas frames, or of Spark frames in one job."""
    if all(hasattr(f, "iloc") for f in frames.values()):
        return {
            n: (len(f), int(f["store"].nunique()) if "store" in f.columns else None)
            for n, f in frames.items()
        }
    from pyspark.sql import functions as F

    parts = [
        f.agg(F.lit(n).alias("name"), F.count(F.lit(1)).alias("rows"),
              (F.countDistinct("store") if "store" in f.columns else F.lit(None)).cast("long").alias("stores"))
        for n, f in frames.items()
    ]  # fmt: skip
    rows = {
        r["name"]: (int(r["rows"]), r["stores"])
        for r in functools.reduce(lambda a, b: a.unionByName(b), parts).collect()
    }
    return {n: rows[n] for n in frames}


@fleet_group.command("stats")
@_EXPORT_DIR
@click.option(
    "--engine", type=click.Choice(["duckdb", "spark"]), default=None,
    help="DuckDB on this machine, or Spark SQL [default: duckdb; spark when --master is given].",
)  # fmt: skip
@_MASTER
@click.option("--freq", type=click.Choice(FREQUENCIES), default="day", show_default=True, help="Activity's period (UTC).")  # fmt: skip
@click.option(
    "--fleet", "over_fleet", is_flag=True, help="Over the whole fleet (the union of its rows), not per store."
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Also write each statistic to OUT/<statistic>.<format> (created if missing).",
)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@json_option
def stats_command(
    export_dir: Path,
    engine: str | None,
    master: str | None,
    freq: str,
    over_fleet: bool,
    out_dir: Path | None,
    fmt: str,
    as_json: bool,
) -> None:
    """The curated statistics of every store of the export DIR: overview, tier summary, edge type
    summary, degree table, activity; each with a store column (unless --fleet).

    Prints a short table per statistic (rows, stores, what it counts) and the fleet's record counts;
    --json prints every row (or, with --out, where each file went). On Spark the frames are
    collected to this process for --json and --out.
    """
    from ..fleet import read_manifest, session, statistics

    if master is not None and engine == "duckdb":
        raise click.UsageError("--master runs on Spark; drop --engine duckdb (or --master)")
    engine = engine or ("spark" if master is not None else "duckdb")
    manifest = read_manifest(export_dir, required=True)
    spark = session(master) if engine == "spark" else None
    frames = statistics(spark, export_dir, freq=freq, per_store=not over_fleet)
    local = {name: _pandas(f) for name, f in frames.items()} if (as_json or out_dir) else {}
    written: dict[str, str] = {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in local.items():
            _write_frame(frame, out_dir / f"{name}.{fmt}", fmt)
            written[name] = os.fspath((out_dir / f"{name}.{fmt}").absolute())
    shapes = _shapes(local or frames)
    if as_json:
        stats = {
            name: {"rows": rows, "stores": stores, "columns": list(frames[name].columns),
                   **({"file": written[name]} if written else {"data": _records(local[name])})}
            for name, (rows, stores) in shapes.items()
        }  # fmt: skip
        echo_json({"export": os.path.abspath(export_dir), "engine": engine, "stores": len(manifest.stores),
                   "per_store": not over_fleet, "freq": freq, "statistics": stats})  # fmt: skip
        return
    scope = "over the fleet" if over_fleet else "per store"
    click.echo(f"{len(manifest.stores)} stores in {os.fspath(export_dir)}; statistics {scope} on {engine}")
    what = {"overview": "records per entity", "tier_summary": "memories per tier",
            "edge_type_summary": "causal edges per type", "degree_table": "degrees of each memory",
            "activity": f"records created per {freq} (UTC)"}  # fmt: skip
    echo_table(["statistic", "rows", "stores", "what"], [[n, r, s, what[n]] for n, (r, s) in shapes.items()])
    overview = local.get("overview")
    overview = overview if overview is not None else _pandas(frames["overview"])
    click.echo("")
    if over_fleet:
        echo_table(["entity", "count"], overview[["entity", "count"]].itertuples(index=False, name=None))
    else:
        by = overview.groupby("entity", sort=False)["count"]
        table = by.agg(["sum", "min", "median", "max"]).reset_index()
        echo_table(["entity", "total", "min per store", "median", "max per store"],
                   table.itertuples(index=False, name=None))  # fmt: skip
    for name, path in written.items():
        click.echo(f"{name}: {path}")


# ----- graph --------------------------------------------------------------------------------------
def _read_pairs(path: Path) -> list[tuple[str, str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in reader.fieldnames or []]
        store = "store_id" if "store_id" in fields else "store"
        if not {store, "src", "dst"} <= set(fields):
            raise ValidationError(
                f"pairs file {os.fspath(path)!r}",
                "header",
                fields,
                "a CSV header with store (or store_id), src, dst",
            )
        reader.fieldnames = fields
        pairs = [(r[store], r["src"], r["dst"]) for r in reader]
    if not pairs:
        raise ValidationError(f"pairs file {os.fspath(path)!r}", "rows", [], "at least one store,src,dst row")
    return pairs


def _ids(value: Any, limit: int) -> str:
    ids = _plain(value)
    if not ids:
        return ""
    return ", ".join(map(str, ids[:limit])) + (", …" if len(ids) > limit else "")


def _cycle(value: Any) -> str:
    ids = _plain(value)
    return " -> ".join([*ids, ids[0]]) if ids else ""


@fleet_group.command("graph")
@_EXPORT_DIR
@_MASTER
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Memory ids per store in top_influence.",
)
@click.option(
    "--pairs", "pairs_csv", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="A CSV with columns store (or store_id), src, dst: answer their strongest paths instead.",
)  # fmt: skip
@json_option
def graph_command(
    export_dir: Path, master: str | None, top_k: int, pairs_csv: Path | None, as_json: bool
) -> None:
    """Per-store graph answers of the export DIR, on Spark: is it a DAG (else one cycle), the count
    of strongly connected components, the top-k influence; with --pairs, the strongest paths.

    \b
    On a cluster (DIR at the same path on every node, omega-graph installed on each):
      omega-graph fleet graph DIR --master spark://host:7077
      spark-submit --master spark://host:7077 fleet_job.py fleet graph DIR
    where fleet_job.py holds `from omega_graph.cli import main; main()` (spark-submit takes a
    Python file, not -m omega_graph).
    """
    from ..fleet import graph_answers, read_manifest, session, strongest_paths

    manifest = read_manifest(export_dir, required=True)
    pairs = _read_pairs(pairs_csv) if pairs_csv is not None else None
    spark = session(master)
    names = {s.store_id: os.path.basename(s.path) for s in manifest.stores}
    head = {"export": os.path.abspath(export_dir), "master": spark.sparkContext.master}
    if pairs is None:
        frame: Any = graph_answers(spark, export_dir, top_k=top_k).toPandas()
        frame = frame.sort_values("store", kind="stable")
        if as_json:
            echo_json({**head, "top_k": top_k, "answers": _records(frame)})
            return
        rows = [[names.get(r.store, r.store), r.store, r.is_dag, r.scc_count, _cycle(r.cycle),
                 _ids(r.top_influence, 3), _plain(r.reason)] for r in frame.itertuples(index=False)]  # fmt: skip
        echo_table(["file", "store", "dag", "sccs", "cycle", "top influence", "reason"], rows)
        return
    paths: Any = strongest_paths(spark, export_dir, pairs).toPandas()
    frame = paths.sort_values(["store", "src", "dst"], kind="stable")
    if as_json:
        echo_json({**head, "paths": _records(frame)})
        return
    rows = [[names.get(r.store, r.store), r.src, r.dst, _plain(r.strength), " -> ".join(_plain(r.nodes) or []),
             _plain(r.reason)]
            for r in frame.itertuples(index=False)]  # fmt: skip
    echo_table(["file", "src", "dst", "strength", "path", "reason"], rows)


# ----- report -------------------------------------------------------------------------------------
@fleet_group.command("report")
@_EXPORT_DIR
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Directory to write into (created if missing) [default: <DIR name>-report].",
)  # fmt: skip
@click.option(
    "--graph-max-stores", type=click.IntRange(min=0), default=200, show_default=True,
    help="Per-store graph answers (plain Python, no Spark) only for fleets of up to this many stores (0: never).",
)  # fmt: skip
@click.option(
    "--group-by", "group_by", default=None, metavar="REGEX",
    help="Score outliers within groups of stores: the first capture group of REGEX in each store's path "
         "(e.g. '-(v\\d+)\\.db$' for the agent version of a generated fleet) [default: the whole fleet].",
)  # fmt: skip
@progress_options
def report_command(
    export_dir: Path,
    out_dir: Path | None,
    graph_max_stores: int,
    group_by: str | None,
    quiet: bool,
    force_progress: bool,
) -> None:
    """Write the fleet's statistics report from the Parquet export DIR (DuckDB, no Spark needed):
    report.html (self-contained), report.md and PNG figures.

    Sections: the fleet at a glance, distributions across stores, outlier stores, one row per store
    (with a link to its file), graph answers per store, tiers and edge types, activity.
    """
    from ..report import _fleet

    options = _fleet.FleetReportOptions(graph_max_stores=graph_max_stores, group_by=group_by)
    out_dir = out_dir if out_dir is not None else Path(f"{Path(os.path.abspath(export_dir)).name}-report")
    with progress_bar("writing fleet report", progress_enabled(quiet, force_progress)) as progress:
        files = _fleet.write_fleet_report(
            export_dir,
            out_dir,
            options=options,
            progress=lambda step, done, total: progress(done, total, step),
        )
    if quiet:
        click.echo(os.fspath(files.html))
        return
    click.echo(f"report.md:   {os.fspath(files.markdown)}")
    if files.figures:
        click.echo(
            f"figures:     {len(files.figures)} PNG files in {os.fspath(Path(files.figures[0]).parent)}"
        )
    click.echo(f"report.html: {os.fspath(files.html)}")


COMMANDS = [fleet_group]
