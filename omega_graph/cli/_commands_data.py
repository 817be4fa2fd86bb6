"""Commands that create, fill, copy or export a store: ``init``, ``import-edges``, ``export``,
``backup``, ``restore``, ``generate``."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from pathlib import Path

import click
from click.core import ParameterSource

from .. import schema
from ..errors import ConflictError, DatabaseError, NotFoundError, ValidationError
from ._commands_query import statistics_rows
from ._common import (
    DB_ARGUMENT,
    TIMESTAMP,
    GraphFilter,
    graph_filter_options,
    open_graph,
    open_store,
    progress_bar,
    progress_enabled,
    progress_options,
    require_store_file,
)
from ._import import DEFAULT_IMPORTANCE, DEFAULT_TIER, count_data_lines, import_edges
from ._output import echo_table, jsonable

__all__ = ["COMMANDS", "EXPORT_FORMATS", "export_csv"]

#: ``--format`` values of ``export``; graphml and json are files, parquet and csv directories.
EXPORT_FORMATS = ("graphml", "json", "parquet", "csv")


def _summary(stats: object) -> str:
    return ", ".join(f"{count} {label}" for label, count in statistics_rows(stats))  # type: ignore[arg-type]


def _refuse_existing(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise ConflictError(
            f"{os.fspath(path)!r} already exists; pass --force to replace it or choose another path"
        )


# ----- init --------------------------------------------------------------------------------------
@click.command("init")
@DB_ARGUMENT
def init_command(db: Path) -> None:
    """Create an empty omega store at DB, or bring an existing store's schema up to date.

    A file written by the original omega-persistence crate is migrated in place, keeping every
    record. A SQLite file holding other tables is refused.
    """
    from ..store import OmegaStore

    shown = os.fspath(db)
    if db.is_dir():
        raise DatabaseError(f"{shown!r} is a directory; give the path of a database file")
    if not db.exists():
        if not db.absolute().parent.is_dir():
            raise DatabaseError(f"the directory of {shown!r} does not exist; create it first")
        OmegaStore(db).close()
        click.echo(f"created an empty omega store at {shown} (schema version {schema.SCHEMA_VERSION})")
        return
    try:
        conn = sqlite3.connect(f"file:{db.absolute()}?mode=ro", uri=True)
        try:
            before = schema.check_usable(conn)
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise DatabaseError(f"{shown!r} is not a SQLite database ({err}); choose a new path") from err
    with OmegaStore(db) as store:
        stats = store.get_statistics()
    if before == schema.SCHEMA_VERSION:
        click.echo(f"{shown} is already an omega store (schema version {before}): {_summary(stats)}")
    else:
        click.echo(
            f"migrated {shown} from schema version {before} to {schema.SCHEMA_VERSION}, "
            f"keeping every record: {_summary(stats)}"
        )


# ----- import-edges ------------------------------------------------------------------------------
@click.command("import-edges")
@DB_ARGUMENT
@click.argument("csv_file", metavar="CSV", type=click.Path(path_type=Path))
@click.option("--edge-type", default="causes", show_default=True, help="edge_type of every imported edge.")
@click.option(
    "--weight",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Weight of every edge of a file WITHOUT a weight column (required for such a file).",
)
@click.option(
    "--id-prefix",
    default=None,
    help="Edge ids are <prefix><row> (data rows from 0, 6 digits) [default: '<CSV stem>:edge-'].",
)
@click.option("--memory-prefix", default="", help="Memory id = prefix + node name [default: none].")
@click.option(
    "--tier",
    type=click.IntRange(1, 12),
    default=DEFAULT_TIER,
    show_default=True,
    help="Tier of created memories.",
)
@click.option(
    "--importance",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_IMPORTANCE,
    show_default=True,
    help="Importance of created memories.",
)
@click.option(
    "--timestamp",
    type=TIMESTAMP,
    default=None,
    help="created_at of created memories and edges (Unix seconds or ISO date/time) [default: now].",
)
@progress_options
def import_edges_command(
    db: Path,
    csv_file: Path,
    edge_type: str,
    weight: float | None,
    id_prefix: str | None,
    memory_prefix: str,
    tier: int,
    importance: float,
    timestamp: int | None,
    quiet: bool,
    force_progress: bool,
) -> None:
    """Import the edges of a source,target[,weight] CSV file into DB (created if missing).

    \b
    The file: a header 'source,target' or 'source,target,weight', one directed edge per row,
    weight a strength in [0, 1] (the format of the bundled networks in data/).
    \b
    Defaults for what the file does not say:
      - a node that is not a memory yet becomes one: id = --memory-prefix + node, content = the
        node name, tier 1, importance 0.5, no embedding, created_at = last_accessed = --timestamp;
        existing memories are left unchanged;
      - edge ids are '<CSV stem>:edge-000000', '...-000001', ... by data row, so importing the same
        file again updates those edges instead of duplicating them;
      - edge_type 'causes' (--edge-type), created_at = --timestamp (default: now);
      - a file without a weight column needs --weight.
    \b
    All or nothing: a malformed row stops the import with its line number and leaves DB unchanged.
    """
    from ..sample import atomic_build
    from ..store import OmegaStore

    if not csv_file.exists():
        raise click.ClickException(f"edge CSV file {os.fspath(csv_file)!r} not found; check the path")
    when = int(time.time()) if timestamp is None else timestamp
    show = progress_enabled(quiet, force_progress)
    total = count_data_lines(csv_file) if show else 0
    options = dict(
        edge_type=edge_type, weight=weight, id_prefix=id_prefix, memory_prefix=memory_prefix,
        tier=tier, importance=importance, timestamp=when, total=total,
    )  # fmt: skip
    with progress_bar(f"importing {csv_file.name}", show) as progress:
        if db.exists():
            with open_store(db) as store:
                summary = import_edges(store, csv_file, progress=progress, **options)  # type: ignore[arg-type]
                stats = store.get_statistics()
        else:
            with atomic_build(db) as tmp:
                with OmegaStore(tmp) as store:
                    summary = import_edges(store, csv_file, progress=progress, **options)  # type: ignore[arg-type]
                    stats = store.get_statistics()
    if not quiet:
        replaced = (
            f" ({summary.edges_replaced} replaced edges of the same id)" if summary.edges_replaced else ""
        )
        click.echo(
            f"imported {summary.edges} edges{replaced} from {csv_file.name} into {os.fspath(db)}; "
            f"created {summary.memories_created} memories, {summary.memories_existing} existed already; "
            f"the store now holds {stats.memory_count} memories and {stats.causal_edge_count} causal edges"
        )


# ----- export ------------------------------------------------------------------------------------
def export_csv(conn: sqlite3.Connection, directory: Path, force: bool = False) -> list[tuple[str, int, Path]]:
    """Write each of the crate's seven tables to ``<table>.csv`` in ``directory``.

    Rows in insertion (rowid) order, a header of column names, BLOB columns as hexadecimal text,
    NULL as an empty field. Each file is written beside its final name and moved into place.
    Returns ``(table, rows, path)`` per table, in the crate's table order.
    """
    directory.mkdir(parents=True, exist_ok=True)
    targets = [directory / f"{table}.csv" for table in schema.CRATE_TABLES]
    for target in targets:
        _refuse_existing(target, force)
    written = []
    for table, target in zip(schema.CRATE_TABLES, targets, strict=True):
        rows = 0
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([d[0] for d in cursor.description])
            for row in cursor:
                writer.writerow(["" if v is None else v.hex() if isinstance(v, bytes) else v for v in row])
                rows += 1
        os.replace(tmp, target)
        written.append((table, rows, target))
    return written


def _write_graph(graph: object, out: Path, fmt: str) -> tuple[int, int]:
    import networkx as nx

    nxg = graph.to_networkx()  # type: ignore[attr-defined]
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if fmt == "graphml":
            nx.write_graphml(nxg, tmp)
        else:
            data = nx.node_link_data(nxg, edges="edges")
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(jsonable(data), handle, allow_nan=False, ensure_ascii=False)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return nxg.number_of_nodes(), nxg.number_of_edges()


@click.command("export")
@DB_ARGUMENT
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="graphml/json: the causal graph as one file; parquet/csv: every table into the directory OUT "
    "[default: from OUT's suffix .graphml or .json].",
)
@click.option("--force", is_flag=True, help="Replace existing output files.")
@graph_filter_options
def export_command(
    db: Path,
    out: Path,
    fmt: str | None,
    force: bool,
    graph_filter: GraphFilter,
) -> None:
    """Export DB to OUT.

    \b
    graphml  the causal graph (networkx MultiDiGraph: node = memory id with tier and importance,
             edge key = edge id with weight, edge_type, created_at) as GraphML
    json     the same graph as networkx node-link JSON (keys nodes and edges)
    parquet  every table to OUT/<table>.parquet, through DuckDB
    csv      every table to OUT/<table>.csv (BLOBs as hex, NULL as an empty field)
    \b
    The graph filters (--min-weight, --edge-type, --as-of, --valid-at, --known-at,
    --include-invalidated) apply to graphml and json; as in every graph query, edges invalidated
    now are left out unless --include-invalidated (or --known-at) says otherwise.
    """
    if fmt is None:
        fmt = {".graphml": "graphml", ".json": "json"}.get(out.suffix.lower())
        if fmt is None:
            raise click.UsageError(
                f"cannot tell the format from {os.fspath(out)!r}; pass --format " + "|".join(EXPORT_FORMATS)
            )
    given = graph_filter.given()
    if given and fmt in ("parquet", "csv"):
        raise click.UsageError(
            f"{', '.join(given)}: the graph filters apply to graphml and json, not {fmt} "
            "(which exports every table whole); drop them or choose --format graphml|json"
        )
    shown = os.fspath(out)
    with open_store(db) as store:
        if fmt in ("graphml", "json"):
            if out.is_dir():
                raise ValidationError(
                    "export", "OUT", shown, f"a file path for --format {fmt}, not a directory"
                )
            if not out.absolute().parent.is_dir():
                raise DatabaseError(f"the directory of {shown!r} does not exist; create it first")
            _refuse_existing(out, force)
            nodes, edges = _write_graph(open_graph(store, graph_filter), out, fmt)
            click.echo(
                f"wrote the causal graph of {os.fspath(db)} ({nodes} memories, {edges} edges) to {shown}"
            )
            return
        else:
            if out.exists() and not out.is_dir():
                raise ValidationError("export", "OUT", shown, f"a directory for --format {fmt}, not a file")
            if fmt == "csv":
                written = export_csv(store.connection, out, force)
            else:
                written = _export_parquet(store, out, force)
    click.echo(f"wrote every table of {os.fspath(db)} as {fmt} to {shown}")
    echo_table(["table", "rows", "file"], [[t, n, os.fspath(p)] for t, n, p in written])


def _export_parquet(store: object, out: Path, force: bool) -> list[tuple[str, int, Path]]:
    for table in schema.CRATE_TABLES:
        _refuse_existing(out / f"{table}.parquet", force)
    with store.analytics() as analytics:  # type: ignore[attr-defined]
        result = analytics.export_parquet(out)
    return [
        (str(t), int(n), Path(p)) for t, n, p in result[["table", "rows", "path"]].itertuples(index=False)
    ]


# ----- backup / restore --------------------------------------------------------------------------
@click.command("backup")
@DB_ARGUMENT
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing file at DEST.")
def backup_command(db: Path, dest: Path, force: bool) -> None:
    """Copy DB to DEST as one consistent snapshot (safe while other processes write).

    DEST may be a directory: the copy then takes DB's file name.
    """
    if dest.is_dir():
        dest = dest / db.name
    _refuse_existing(dest, force)
    with open_store(db) as store:
        store.backup(dest)
        stats = store.get_statistics()
    click.echo(f"backed up {os.fspath(db)} to {os.fspath(dest)}: {_summary(stats)}")


@click.command("restore")
@DB_ARGUMENT
@click.argument("backup", type=click.Path(path_type=Path))
def restore_command(db: Path, backup: Path) -> None:
    """Replace DB with the store in BACKUP (made by `backup`; DB is created if missing).

    BACKUP is checked first (an intact SQLite file holding an omega store); if it is not one,
    DB is left untouched.
    """
    from ..store import OmegaStore

    if db.is_dir():
        raise DatabaseError(f"{os.fspath(db)!r} is a directory; give the path of a database file")
    if not backup.exists():
        raise NotFoundError(
            "backup file", os.fspath(backup), "check the path (make one with `omega-graph backup DB DEST`)"
        )
    require_store_file(backup)
    OmegaStore.restore(backup, db)
    with open_store(db) as store:
        stats = store.get_statistics()
    click.echo(f"restored {os.fspath(db)} from {os.fspath(backup)}: {_summary(stats)}")


# ----- generate ----------------------------------------------------------------------------------
@click.command("generate")
@DB_ARGUMENT
@click.option("--memories", type=click.IntRange(min=0), default=10_000, show_default=True)
@click.option("--edges", type=click.IntRange(min=0), default=30_000, show_default=True)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same store."
)
@click.option("--vectors", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--reflexions", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--back-edge-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.05,
    show_default=True,
    help="Share of edges pointing backward in time (type 'feedback', closing cycles; 0 gives a DAG).",
)
@click.option(
    "--dag",
    is_flag=True,
    help="Make the causal graph a DAG: no backward edges (--back-edge-fraction 0).",
)
@click.option(
    "--zero-weight-fraction", type=click.FloatRange(0.0, 1.0), default=0.02, show_default=True,
    help="Share of weight-0 edges.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing file at DB.")
@progress_options
def generate_command(
    db: Path,
    memories: int,
    edges: int,
    seed: int,
    vectors: int,
    reflexions: int,
    back_edge_fraction: float,
    dag: bool,
    zero_weight_fraction: float,
    force: bool,
    quiet: bool,
    force_progress: bool,
) -> None:
    """Create a synthetic store shaped like a real causal memory graph (see omega_graph.generate).

    Heavy-tailed out-degrees, mostly forward-in-time edges, Beta-distributed weights; deterministic
    for a seed. The store is built beside DB and moved into place when complete. With --dag every
    edge points forward in time, so the causal graph is acyclic.
    """
    from ..generate import generate_store

    if dag:
        source = click.get_current_context().get_parameter_source("back_edge_fraction")
        explicit = source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
        if explicit and back_edge_fraction != 0.0:
            raise click.UsageError(
                f"--dag means --back-edge-fraction 0, not {back_edge_fraction:g}; drop one of the two options"
            )
        back_edge_fraction = 0.0

    with progress_bar("generating", progress_enabled(quiet, force_progress)) as progress:
        store = generate_store(
            db, memories, edges, seed, progress,
            back_edge_fraction=back_edge_fraction, zero_weight_fraction=zero_weight_fraction,
            vectors=vectors, reflexions=reflexions, overwrite=force,
        )  # fmt: skip
    with store:
        stats = store.get_statistics()
    if not quiet:
        click.echo(f"generated {os.fspath(db)} (seed {seed}): {_summary(stats)}")


@click.group("cache")
def cache_group() -> None:
    """The persisted graph snapshots (a derived, disposable cache; the store file stays the truth).

    A large store's graph snapshot is kept in the user's cache folder (OMEGA_GRAPH_CACHE_DIR
    overrides it) so that a new process reopens it and catches up instead of reading everything.
    """


@cache_group.command("clear")
@click.argument("db", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[DB]")
@click.option("--all", "everything", is_flag=True, help="Remove the cached snapshots of every store.")
def cache_clear_command(db: Path | None, everything: bool) -> None:
    """Remove the cached graph snapshot of DB (which need not exist any more), or of all stores.

    \b
    Examples:
      omega-graph cache clear omega.db
      omega-graph cache clear --all
    """
    from ..graph import _cache

    if (db is None) == (not everything):
        raise click.UsageError("give DB or --all (not both)")
    removed = _cache.clear(None if everything or db is None else os.fspath(db))
    click.echo(f"removed {removed} cached graph snapshot(s) from {_cache.folder()}")


COMMANDS = [
    cache_group,
    init_command,
    import_edges_command,
    export_command,
    backup_command,
    restore_command,
    generate_command,
]
