"""Identification commands: ``adjust`` (back-door adjustment sets) and ``instruments``.

Each opens an existing store (never creates one), asks its causal graph, and prints a table, or
JSON with ``--json``. Both questions are defined on DAGs; only the ancestors of X and Y have to be
acyclic (a cycle there is an error naming it, a cycle elsewhere does not matter).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..graph.adjustment import adjustment_sets_and_more
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
    from ..graph import CausalGraph

__all__ = ["COMMANDS", "EMPTY_SET", "adjustment_payload", "no_set_reason"]

#: How the table shows the empty adjustment set.
EMPTY_SET = "(none needed: the empty set is valid)"

_CRITERION = "Pearl's back-door criterion"


def no_set_reason(graph: CausalGraph, x: str, y: str) -> str:
    """Why no set satisfies the back-door criterion for ``x`` -> ``y`` (called when none does).

    The contract of :meth:`~omega_graph.graph.CausalGraph.adjustment_sets`: that happens exactly when
    ``y`` is a parent of ``x``; the edge ``y -> x`` is then a back-door path with no node to block.
    """
    parents = graph.causes(x, max_depth=1)
    if y in set(parents["memory_id"]):
        return (
            f"no valid adjustment set: {y!r} causes {x!r} directly ({y} -> {x}), "
            "a back-door path no set can block"
        )
    return f"no valid adjustment set for the effect of {x!r} on {y!r}"


def adjustment_payload(
    x: str, y: str, sets: Sequence[frozenset[str]], truncated: bool, reason: str | None
) -> dict[str, Any]:
    """The JSON object of ``adjust``: x, y, criterion, sets, minimal, truncated, reason.

    Each set is a sorted list of memory ids; ``minimal`` is the first set (the one
    ``minimal_adjustment_set`` returns), or None when there is none.

    >>> adjustment_payload("x", "y", [frozenset({"c"}), frozenset({"b", "a"})], False, None)["sets"]
    [['c'], ['a', 'b']]
    >>> adjustment_payload("x", "y", [], False, "y causes x")["minimal"] is None
    True
    """
    lists = [sorted(s) for s in sets]
    return {
        "x": x,
        "y": y,
        "criterion": "back-door",
        "sets": lists,
        "minimal": lists[0] if lists else None,
        "truncated": truncated,
        "reason": reason,
    }


def _x_reaches_y(graph: CausalGraph, x: str, y: str) -> bool:
    import networkx as nx

    return bool(nx.has_path(graph, x, y))


# ----- adjust ------------------------------------------------------------------------------------
@click.command("adjust")
@DB_ARGUMENT
@click.argument("x")
@click.argument("y")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="List at most this many minimal sets (the output says when more exist).",
)
@graph_filter_options
@json_option
def adjust_command(
    db: Path,
    x: str,
    y: str,
    limit: int,
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """The minimal adjustment sets for the causal effect of X on Y (memory ids).

    A set Z is valid by Pearl's back-door criterion when no member of Z is a descendant of X and Z
    d-separates X and Y once X's outgoing edges are removed; adjusting for a valid Z identifies the
    effect. Listed: every minimal valid set (no member can be dropped), smallest first, then by
    sorted members; the first row is the smallest (lexicographically first) one. When Y is a parent
    of X no set is valid: the command says so and exits 0. Only the ancestors of X and Y must be
    acyclic. With --json: an object with x, y, criterion ("back-door"), sets (lists of ids),
    minimal (the first set, or null), truncated (more sets exist than --limit) and reason (why
    there is no set, or null).
    """
    with open_store(db) as store:
        check_memory(store, x)
        check_memory(store, y)
        graph = open_graph(store, graph_filter)
        sets, truncated = adjustment_sets_and_more(graph, x, y, limit)
        reason = None if sets else no_set_reason(graph, x, y)
        zero_effect = not _x_reaches_y(graph, x, y)
    if as_json:
        echo_json(adjustment_payload(x, y, sets, truncated, reason))
        return
    if reason is not None:
        click.echo(reason)
        return
    count = f"{len(sets)} minimal set{'s' * (len(sets) != 1)}"
    if truncated:
        count = f"more than {len(sets)} minimal sets exist, showing {len(sets)}; raise --limit to see more"
    click.echo(f"adjustment sets for the effect of {x!r} on {y!r} ({_CRITERION}): {count}")
    if zero_effect:
        click.echo(
            f"note: {x!r} is not an ancestor of {y!r}, so its causal effect on {y!r} is zero; "
            "any valid set identifies that zero effect"
        )
    rows = [[len(s), ", ".join(sorted(s)) if s else EMPTY_SET] for s in sets]
    echo_table(["size", "members"], rows)


# ----- instruments -------------------------------------------------------------------------------
@click.command("instruments")
@DB_ARGUMENT
@click.argument("x")
@click.argument("y")
@graph_filter_options
@json_option
def instruments_command(
    db: Path,
    x: str,
    y: str,
    graph_filter: GraphFilter,
    as_json: bool,
) -> None:
    """The instrumental variables for the causal effect of X on Y (memory ids), sorted.

    A memory Z (neither X nor Y) is an instrument when it is not a descendant of X, it is
    d-connected to X, and it is d-separated from Y once X's outgoing edges are removed (all given
    the empty set). Only the ancestors of X and Y must be acyclic. With --json: an object with x,
    y and instruments (a sorted list of ids).
    """
    with open_store(db) as store:
        check_memory(store, x)
        check_memory(store, y)
        graph = open_graph(store, graph_filter)
        found = graph.instruments(x, y)
    if as_json:
        echo_json({"x": x, "y": y, "instruments": found})
        return
    if not found:
        click.echo(f"no instrument for the effect of {x!r} on {y!r} (with these filters)")
        return
    click.echo(
        f"instruments for the effect of {x!r} on {y!r}: {len(found)} memor{'ies' if len(found) != 1 else 'y'}"
    )
    echo_table(["instrument"], [[m] for m in found])


COMMANDS = [adjust_command, instruments_command]
