"""Query commands: ``stats``, ``path``, ``top-paths``, ``causes``, ``effects``, ``influence``, ``cycles``.

Each opens an existing store (never creates one), asks the store or its causal graph, and prints a
table, or JSON with ``--json``.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import NoPathError
from ._common import (
    DB_ARGUMENT,
    GraphFilter,
    check_memory,
    graph_filter_options,
    json_option,
    open_graph,
    open_store,
)
from ._output import echo_json, echo_table

if TYPE_CHECKING:
    import pandas as pd

    from ..models import DatabaseStatistics

__all__ = ["COMMANDS", "STAT_LABELS", "path_payload", "statistics_rows"]

#: Table labels of the DatabaseStatistics fields, in field order.
STAT_LABELS: dict[str, str] = {
    "memory_count": "memories",
    "skill_count": "skills",
    "architecture_count": "architectures",
    "intelligence_count": "intelligences",
    "causal_edge_count": "causal edges",
    "vector_count": "vectors",
    "reflexion_count": "reflexion episodes",
}


def statistics_rows(stats: DatabaseStatistics) -> list[list[object]]:
    """``[label, count]`` rows of the seven counts, in the record's field order.

    >>> from omega_graph.models import DatabaseStatistics
    >>> statistics_rows(DatabaseStatistics(3, 0, 0, 0, 2, 0, 0))[:2]
    [['memories', 3], ['skills', 0]]
    """
    return [[STAT_LABELS.get(f.name, f.name), getattr(stats, f.name)] for f in fields(stats)]


def path_payload(path: Any) -> dict[str, Any]:
    """The JSON object of a CausalPath: ``nodes``, ``edge_ids``, ``weights``, ``strength``."""
    return {
        "nodes": list(path.nodes),
        "edge_ids": list(path.edge_ids),
        "weights": [float(w) for w in path.weights],
        "strength": float(path.strength),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


# ----- stats -------------------------------------------------------------------------------------
@click.command("stats")
@DB_ARGUMENT
@json_option
def stats_command(db: Path, as_json: bool) -> None:
    """The seven record counts of the store (one consistent snapshot).

    With --json: an object keyed by the DatabaseStatistics field names (memory_count, ...).
    """
    with open_store(db) as store:
        stats = store.get_statistics()
    if as_json:
        echo_json({f.name: getattr(stats, f.name) for f in fields(stats)})
    else:
        echo_table(["entity", "count"], statistics_rows(stats))


# ----- path / top-paths --------------------------------------------------------------------------
def _path_rows(path: Any) -> list[list[object]]:
    rows: list[list[object]] = []
    strength = 1.0
    nodes = list(path.nodes)
    for i, (edge_id, weight) in enumerate(zip(path.edge_ids, path.weights, strict=True)):
        strength *= float(weight)
        rows.append([i + 1, nodes[i], nodes[i + 1], edge_id, float(weight), strength])
    return rows


def print_path(path: Any, kind: str) -> None:
    """Print a CausalPath as a titled step table."""
    edges = len(path.edge_ids)
    click.echo(
        f"{kind} path from {path.nodes[0]!r} to {path.nodes[-1]!r}: "
        f"{edges} edge{'s' * (edges != 1)}, strength {float(path.strength):.6g}"
    )
    if edges:
        echo_table(["step", "from", "to", "edge_id", "weight", "strength"], _path_rows(path))


def _no_path_hint(db: Path, src: str, shortest: bool, time_respecting: bool) -> str:
    if time_respecting:
        return "drop --time-respecting to allow paths whose edges were recorded out of order"
    reach = f"see what {src!r} reaches with `omega-graph effects {db} {src}`"
    return reach if shortest else reach + ", or use --shortest (it also follows weight-0 edges)"


@click.command("path")
@DB_ARGUMENT
@click.argument("src")
@click.argument("dst")
@click.option(
    "--shortest",
    is_flag=True,
    help="Fewest edges (weight-0 edges count; ties go to the strongest) instead of the strongest path.",
)
@click.option(
    "--time-respecting",
    is_flag=True,
    help="Strongest path whose edges' created_at never decrease along the path.",
)
@graph_filter_options
@json_option
def path_command(
    db: Path,
    src: str,
    dst: str,
    shortest: bool,
    time_respecting: bool,
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """The strongest causal path from SRC to DST (memory ids).

    A path's strength is the product of its edge weights; the strongest path maximises it and never
    uses a weight-0 edge. With --json: an object with nodes, edge_ids, weights and strength.
    """
    if shortest and time_respecting:
        raise click.UsageError("--time-respecting applies to the strongest path; drop --shortest")
    with open_store(db) as store:
        check_memory(store, src)
        check_memory(store, dst)
        graph = open_graph(store, graph_filter)
        try:
            if shortest:
                path, kind = graph.shortest_path(src, dst), "shortest"
            elif time_respecting:
                path, kind = graph.strongest_path(src, dst, time_respecting=True), "time-respecting strongest"
            else:
                path, kind = graph.strongest_path(src, dst), "strongest"
        except NoPathError as err:
            raise click.ClickException(
                f"{err}; {_no_path_hint(db, src, shortest, time_respecting)}"
            ) from None
    if as_json:
        echo_json(path_payload(path))
    else:
        print_path(path, kind.capitalize())


@click.command("top-paths")
@DB_ARGUMENT
@click.argument("src")
@click.argument("dst")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="How many paths.")
@click.option(
    "--max-length", type=click.IntRange(min=1), default=None, help="Only paths of at most this many edges."
)
@graph_filter_options
@json_option
def top_paths_command(
    db: Path,
    src: str,
    dst: str,
    k: int,
    max_length: int | None,
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """The K strongest simple causal paths from SRC to DST, best first.

    With --json: a list of objects with nodes, edge_ids, weights and strength.
    """
    with open_store(db) as store:
        check_memory(store, src)
        check_memory(store, dst)
        graph = open_graph(store, graph_filter)
        try:
            paths = list(graph.top_paths(src, dst, k=k, max_length=max_length))
            if not paths:
                raise NoPathError(src, dst)
        except NoPathError as err:
            raise click.ClickException(f"{err}; {_no_path_hint(db, src, True, False)}") from None
    if as_json:
        echo_json([path_payload(p) for p in paths])
        return
    rows = [
        [rank, float(p.strength), len(p.edge_ids), " -> ".join(p.nodes)] for rank, p in enumerate(paths, 1)
    ]
    echo_table(["rank", "strength", "edges", "path"], rows)


# ----- causes / effects --------------------------------------------------------------------------
def _lineage_command(direction: str) -> click.Command:
    noun = "causes (ancestors)" if direction == "causes" else "effects (descendants)"

    @click.command(direction)
    @DB_ARGUMENT
    @click.argument("memory_id", metavar="ID")
    @click.option(
        "--max-depth",
        type=click.IntRange(min=0),
        default=None,
        help="Only memories at most this many edges away.",
    )
    @click.option(
        "--min-strength",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help="Only memories whose best path has at least this strength.",
    )
    @click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=20,
        show_default=True,
        help="Print at most this many rows, strongest first (0: all).",
    )
    @graph_filter_options
    @json_option
    def command(
        db: Path,
        memory_id: str,
        max_depth: int | None,
        min_strength: float,
        limit: int,
        graph_filter: GraphFilter,
        as_json: bool,
    ) -> None:
        with open_store(db) as store:
            check_memory(store, memory_id)
            graph = open_graph(store, graph_filter)
            query = graph.causes if direction == "causes" else graph.effects
            frame = query(memory_id, max_depth=max_depth, min_strength=min_strength)
        total = len(frame)
        shown = frame if limit == 0 else frame.head(limit)
        if as_json:
            echo_json(_records(shown))
            return
        if total == 0:
            click.echo(f"{memory_id!r} has no {direction} (with these filters)")
            return
        more = f", showing the strongest {len(shown)}; --limit 0 shows all" if len(shown) < total else ""
        click.echo(f"{direction} of {memory_id!r}: {total} memor{'ies' if total != 1 else 'y'}{more}")
        echo_table(list(shown.columns), shown.itertuples(index=False, name=None))

    command.help = (
        f"Every memory among the {noun} of ID, strongest first.\n\n"
        "Columns: memory_id, depth (fewest edges), strength (best path strength, the product of its "
        "weights; may be 0). Sorted by strength descending, then depth, then id. With --json: a list "
        "of row objects (after --limit)."
    )
    return command


causes_command = _lineage_command("causes")
effects_command = _lineage_command("effects")


# ----- influence / cycles ------------------------------------------------------------------------
@click.command("influence")
@DB_ARGUMENT
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="How many memories (0: all)."
)
@click.option("--reverse", is_flag=True, help="Rank what drives the others (PageRank on the reversed graph).")
@click.option(
    "--alpha",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=0.85,
    show_default=True,
    help="PageRank damping factor.",
)
@click.option(
    "--tol",
    type=click.FloatRange(0.0, min_open=True),
    default=1e-10,
    show_default=True,
    help="L1 error bound: the scores are within this distance of the exact ones.",
)
@click.option(
    "--personalize",
    "personalize",
    multiple=True,
    metavar="ID",
    help="Restart the walk at these memories only (repeat for several; default: all memories).",
)
@graph_filter_options
@json_option
def influence_command(
    db: Path,
    top: int,
    reverse: bool,
    alpha: float,
    tol: float,
    personalize: tuple[str, ...],
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """Influence ranking: weighted PageRank over the causal edges.

    Influence flows along causal edges, so a high score marks a memory where influence
    accumulates (many strong causal chains end there); --reverse ranks on the reversed graph,
    answering "which memories drive the others most". Same definition as
    networkx.pagerank(G, alpha, weight="weight"), run to convergence: the scores are within --tol
    of the exact ones (L1 distance). Columns: rank, memory_id, score. With --json: a list of row
    objects (memory_id, score, rank).
    """
    with open_store(db) as store:
        for memory_id in personalize:
            check_memory(store, memory_id)
        graph = open_graph(store, graph_filter)
        personalization = {m: 1.0 for m in personalize} or None
        frame = graph.influence(personalization=personalization, reverse=reverse, alpha=alpha, tol=tol)
    frame = frame.sort_values(["rank", "memory_id"], kind="stable")
    shown = frame if top == 0 else frame.head(top)
    if as_json:
        echo_json(_records(shown))
        return
    if frame.empty:
        click.echo("no memories to rank: the causal graph is empty")
        return
    title = "memories driving the others most" if reverse else "memories where causal influence accumulates"
    click.echo(f"{title} (PageRank, alpha {alpha:g}): top {len(shown)} of {len(frame)}")
    echo_table(
        ["rank", "memory_id", "score"],
        shown[["rank", "memory_id", "score"]].itertuples(index=False, name=None),
    )


@click.command("cycles")
@DB_ARGUMENT
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Report at most this many cycles.",
)
@graph_filter_options
@json_option
def cycles_command(
    db: Path,
    limit: int,
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """Whether the causal graph is a DAG, and if not, some of its cycles.

    Each cycle lists memory ids v0 .. vk with edges v0 -> v1 -> ... -> vk -> v0. With --json: an
    object with is_dag, cycles (lists of ids) and truncated (more cycles exist than were listed).
    """
    with open_store(db) as store:
        graph = open_graph(store, graph_filter)
        is_dag = bool(graph.is_dag())
        found = [] if is_dag else [list(c) for c in graph.find_cycles(limit=limit + 1)]
    cycles, truncated = found[:limit], len(found) > limit
    if as_json:
        echo_json({"is_dag": is_dag, "cycles": cycles, "truncated": truncated})
        return
    if is_dag:
        click.echo("the causal graph is a DAG: no cycles")
        return
    more = (
        f"the first {len(cycles)} cycles (--limit N shows more)"
        if truncated
        else (f"{len(cycles)} cycle{'s' * (len(cycles) != 1)}")
    )
    click.echo(f"the causal graph is not a DAG; {more}:")
    rows = [[i, len(c), " -> ".join([*c, c[0]])] for i, c in enumerate(cycles, 1)]
    echo_table(["cycle", "memories", "path"], rows)


COMMANDS = [
    stats_command,
    path_command,
    top_paths_command,
    causes_command,
    effects_command,
    influence_command,
    cycles_command,
]
