"""Belief commands: ``invalidate``, ``reinstate`` (write) and ``history`` (read) of one causal edge.

An invalidation withdraws the store's belief in an edge at a time without deleting anything; a
reinstatement believes it again; both stay on record, and ``history`` tells the whole story (see
:mod:`omega_graph.store._beliefs`). The graph query commands then see the edges the store believes
now, or at any moment with ``--known-at``.

Times are Unix seconds or ISO 8601 date/times (UTC unless they carry an offset), as for ``--as-of``;
the default is now. Every error leaves the file as it was.

Examples
--------
>>> import pathlib, tempfile
>>> from click.testing import CliRunner
>>> from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
>>> from omega_graph.cli import main
>>> db = pathlib.Path(tempfile.mkdtemp()) / "beliefs.db"
>>> with OmegaStore(db) as store:
...     _ = store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
...     store.store_causal_edge(StoredCausalEdge("e1", "a", "b", 0.8, "causes", 1764000000))
>>> run = CliRunner().invoke
>>> print(run(main, ["invalidate", str(db), "e1", "--at", "2025-11-25", "--reason", "refuted"]).output.strip())
invalidated causal edge 'e1' at 2025-11-25T00:00:00Z (1764028800): refuted
>>> print(run(main, ["history", str(db), "e1"]).output.strip())
history of causal edge 'e1' (a -> b, weight 0.8), invalidated since 2025-11-25T00:00:00Z: 2 events
at (UTC)                 seconds  event        detail
--------------------  ----------  -----------  ----------
2025-11-24T16:00:00Z  1764000000  created      weight 0.8
2025-11-25T00:00:00Z  1764028800  invalidated  refuted
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import DB_ARGUMENT, TIMESTAMP, check_edge, iso_utc, json_option, open_store
from ._output import echo_json, echo_table

if TYPE_CHECKING:
    import pandas as pd

    from ..store import OmegaStore

__all__ = ["COMMANDS", "HISTORY_HEADERS", "belief_line", "history_rows"]

#: The columns of the ``history`` table (the JSON records keep the DataFrame's at, event, detail).
HISTORY_HEADERS = ["at (UTC)", "seconds", "event", "detail"]

_EDGE_SQL = "SELECT from_memory, to_memory, weight FROM causal_edges WHERE id = ?"

_AT_HELP = "When (Unix seconds or ISO date/time, UTC unless an offset is given) [default: now]."
_EDGE_ARGUMENT = click.argument("edge", metavar="EDGE")


def belief_line(
    event: str, edge_id: str, at: int, reason: str | None = None, superseded_by: str | None = None
) -> str:
    """The one-line confirmation of an invalidation or reinstatement.

    >>> belief_line("invalidated", "e1", 1764000000, "redeployed", "e2")
    "invalidated causal edge 'e1' at 2025-11-24T16:00:00Z (1764000000): redeployed; superseded by 'e2'"
    >>> belief_line("reinstated", "e1", 0)
    "reinstated causal edge 'e1' at 1970-01-01T00:00:00Z (0)"
    """
    parts = [p for p in (reason, f"superseded by {superseded_by!r}" if superseded_by else None) if p]
    why = f": {'; '.join(parts)}" if parts else ""
    return f"{event} causal edge {edge_id!r} at {iso_utc(at)} ({at}){why}"


def history_rows(frame: pd.DataFrame) -> list[list[object]]:
    """``[ISO UTC time, seconds, event, detail]`` rows of an ``edge_history`` DataFrame.

    >>> import pandas as pd
    >>> history_rows(pd.DataFrame({"at": [0], "event": ["created"], "detail": ["weight 0.5"]}))
    [['1970-01-01T00:00:00Z', 0, 'created', 'weight 0.5']]
    """
    return [
        [iso_utc(int(at)), int(at), str(event), str(detail)]
        for at, event, detail in frame[["at", "event", "detail"]].itertuples(index=False, name=None)
    ]


def _now(at: int | None) -> int:
    return int(time.time()) if at is None else at


# ----- invalidate / reinstate --------------------------------------------------------------------
@click.command("invalidate")
@DB_ARGUMENT
@_EDGE_ARGUMENT
@click.option("--at", type=TIMESTAMP, default=None, help=_AT_HELP)
@click.option("--reason", default=None, metavar="TEXT", help="Why the belief is withdrawn (kept on record).")
@click.option("--superseded-by", default=None, metavar="EDGE", help="The stored edge that replaces this one.")
@json_option
def invalidate_command(
    db: Path, edge: str, at: int | None, reason: str | None, superseded_by: str | None, as_json: bool
) -> None:
    """Withdraw the store's belief in the causal edge EDGE (an edge id) without deleting it.

    From --at on, graph queries leave the edge out (unless --include-invalidated; --known-at
    before --at still sees it); `omega-graph reinstate` undoes it, and `omega-graph history` shows
    both. Invalidating an invalidated edge is an error, and so is a time before the edge's last
    invalidation or reinstatement. With --json: an object with edge_id, at (Unix seconds), reason
    and superseded_by.
    """
    with open_store(db) as store:
        check_edge(store, edge)
        if superseded_by is not None and superseded_by != edge:
            check_edge(store, superseded_by, "--superseded-by")
        when = _now(at)
        store.invalidate_causal_edge(edge, at=when, reason=reason, superseded_by=superseded_by)
    if as_json:
        echo_json({"edge_id": edge, "at": when, "reason": reason, "superseded_by": superseded_by})
    else:
        click.echo(belief_line("invalidated", edge, when, reason, superseded_by))


@click.command("reinstate")
@DB_ARGUMENT
@_EDGE_ARGUMENT
@click.option("--at", type=TIMESTAMP, default=None, help=_AT_HELP)
@click.option(
    "--reason", default=None, metavar="TEXT", help="Why the edge is believed again (kept on record)."
)
@json_option
def reinstate_command(db: Path, edge: str, at: int | None, reason: str | None, as_json: bool) -> None:
    """Believe the invalidated causal edge EDGE again from --at on; both events stay on record.

    Reinstating an edge that is not invalidated is an error, and so is a time before its
    invalidation. With --json: an object with edge_id, at (Unix seconds) and reason.
    """
    with open_store(db) as store:
        check_edge(store, edge)
        when = _now(at)
        store.reinstate_causal_edge(edge, at=when, reason=reason)
    if as_json:
        echo_json({"edge_id": edge, "at": when, "reason": reason})
    else:
        click.echo(belief_line("reinstated", edge, when, reason))


# ----- history -----------------------------------------------------------------------------------
def _history_title(store: OmegaStore, edge: str, frame: pd.DataFrame) -> str:
    source, target, weight = store.connection.execute(_EDGE_SQL, (edge,)).fetchone()
    beliefs = frame[frame["event"].isin(["invalidated", "reinstated"])]
    state = "believed"
    if len(beliefs) and beliefs["event"].iloc[-1] == "invalidated":
        state = f"invalidated since {iso_utc(int(beliefs['at'].iloc[-1]))}"
    count = len(frame)
    return (
        f"history of causal edge {edge!r} ({source} -> {target}, weight {float(weight):.6g}), "
        f"{state}: {count} event{'s' * (count != 1)}"
    )


@click.command("history")
@DB_ARGUMENT
@_EDGE_ARGUMENT
@json_option
def history_command(db: Path, edge: str, as_json: bool) -> None:
    """The story of the causal edge EDGE, in time order.

    Events: created, weight_changed (updates in place), validity_set, invalidated, reinstated,
    evidence_added; an event without a time of its own takes the time it was recorded. Columns: at (UTC), seconds (Unix), event, detail. With --json: a list of objects with at
    (Unix seconds), event and detail.
    """
    with open_store(db) as store:
        check_edge(store, edge)
        frame = store.edge_history(edge)
        title = _history_title(store, edge, frame)
    if as_json:
        records: list[dict[str, Any]] = [
            {"at": int(at), "event": str(event), "detail": str(detail)}
            for at, event, detail in frame[["at", "event", "detail"]].itertuples(index=False, name=None)
        ]
        echo_json(records)
        return
    click.echo(title)
    echo_table(HISTORY_HEADERS, history_rows(frame))


COMMANDS = [invalidate_command, reinstate_command, history_command]
