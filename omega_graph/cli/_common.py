"""Pieces every command shares: opening a store, graph filters, progress bars, timestamps, id hints."""

from __future__ import annotations

import difflib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import schema
from ..errors import DatabaseError, NotFoundError, SchemaError

if TYPE_CHECKING:
    from ..graph import CausalGraph
    from ..store import OmegaStore

__all__ = [
    "DB_ARGUMENT",
    "TIMESTAMP",
    "Timestamp",
    "check_memory",
    "graph_filter_options",
    "json_option",
    "open_graph",
    "open_store",
    "progress_bar",
    "progress_options",
    "require_store_file",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The database path argument every command takes first.
DB_ARGUMENT = click.argument("db", type=click.Path(dir_okay=True, path_type=Path), metavar="DB")


class Timestamp(click.ParamType):
    """Unix seconds, or an ISO 8601 date/time (UTC unless it carries an offset).

    >>> TIMESTAMP.convert("1764000000", None, None), TIMESTAMP.convert("2025-11-24T16:00:00", None, None)
    (1764000000, 1764000000)
    >>> TIMESTAMP.convert("2025-11-24", None, None)
    1763942400
    """

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f"{text!r} is not a timestamp: give Unix seconds (1764000000) or an ISO date/time "
                "(2025-11-24 or 2025-11-24T16:00:00, UTC unless an offset is given)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())


TIMESTAMP = Timestamp()


def json_option(func: F) -> F:
    """``--json``: machine-readable output instead of a table."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(func)


def graph_filter_options(func: F) -> F:
    """``--min-weight``, ``--edge-type`` (repeatable), ``--as-of``: which edges the snapshot holds."""
    func = click.option(
        "--as-of",
        type=TIMESTAMP,
        default=None,
        help="Only edges created at or before this time (Unix seconds or ISO date/time, UTC).",
    )(func)
    func = click.option(
        "--edge-type",
        "edge_types",
        multiple=True,
        metavar="TYPE",
        help="Only edges of this type (repeat for several; default: all types).",
    )(func)
    return click.option(
        "--min-weight",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help="Only edges of at least this weight (0 keeps weight-0 edges, which never add strength).",
    )(func)


def progress_options(func: F) -> F:
    """``-q/--quiet`` and ``--progress``: progress bars on stderr only on a terminal, unless told."""
    func = click.option(
        "--progress",
        "force_progress",
        is_flag=True,
        help="Show the progress bar even when stderr is not a terminal.",
    )(func)
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress bar and no summary; only results and errors."
    )(func)


def progress_enabled(quiet: bool, force: bool) -> bool:
    """Whether to draw a progress bar: never with --quiet, always with --progress, else on a TTY."""
    if quiet:
        return False
    return force or sys.stderr.isatty()


def _show(step: str | None) -> str | None:
    return step


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """Yield a ``progress(done, total, step=None)`` callback reporting on stderr (no-op when disabled).

    On a terminal: a click progress bar, created at the first call when the total is known. When
    stderr is not a terminal (``--progress`` into a log): one plain line per tenth of the work.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), progress_bar("copying", True) as progress:
    ...     for done in range(0, 101, 25):
    ...         progress(done, 100)
    >>> print(err.getvalue().strip())
    copying: 0/100 (0%)
    copying: 25/100 (25%)
    copying: 50/100 (50%)
    copying: 75/100 (75%)
    copying: 100/100 (100%)
    """
    state: dict[str, Any] = {"tenth": -1}
    terminal = sys.stderr.isatty()

    def update(done: int, total: int, step: str | None = None) -> None:
        if not enabled:
            return
        done, total = int(done), max(int(total), 1)
        if not terminal:
            tenth = min(10 * done // total, 10)
            if tenth > state["tenth"]:
                state["tenth"] = tenth
                what = f" {step}" if step else ""
                click.echo(f"{label}: {done}/{total} ({100 * done // total}%){what}", err=True)
            return
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(
                length=total, label=label, file=sys.stderr, show_pos=True, width=30, item_show_func=_show
            )
            bar.__enter__()
            state["bar"] = bar
        elif total != bar.length:
            bar.length = total
        bar.update(max(done - bar.pos, 0), step)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def require_store_file(db: Path) -> None:
    """Raise unless ``db`` is an existing omega store (or a file of the original crate); read only.

    Query commands call this first so that a mistyped path never creates a new empty database.
    """
    shown = os.fspath(db)
    if not db.exists():
        raise NotFoundError(
            "database",
            shown,
            f"create one with `omega-graph init {shown}` or `omega-graph import-edges {shown} EDGES.csv`",
        )
    if db.is_dir():
        raise DatabaseError(f"{shown!r} is a directory; give the path of a database file")
    try:
        conn = sqlite3.connect(f"file:{db.absolute()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise DatabaseError(f"cannot open {shown!r} ({err}); check the path and its permissions") from err
    try:
        tables = set(schema.table_names(conn))
    except sqlite3.Error as err:
        raise DatabaseError(
            f"{shown!r} is not a SQLite database ({err}); give the path of an omega store"
        ) from err
    finally:
        conn.close()
    if not tables & set(schema.CRATE_TABLES):
        what = f"it holds {', '.join(sorted(tables)[:5])}" if tables else "it holds no tables"
        raise SchemaError(
            f"{shown!r} is not an omega store ({what}); give the path of a store, "
            f"or create one with `omega-graph init DB`"
        )


def open_store(db: Path) -> OmegaStore:
    """Open an existing store (see :func:`require_store_file`); a crate file is migrated in place."""
    from ..store import OmegaStore

    require_store_file(db)
    return OmegaStore(db)


def open_graph(
    store: OmegaStore, min_weight: float = 0.0, edge_types: tuple[str, ...] = (), as_of: int | None = None
) -> CausalGraph:
    """The store's causal graph snapshot with the command-line filters applied."""
    return store.causal_graph(min_weight=min_weight, edge_types=list(edge_types) or None, as_of=as_of)


_SAME_ID_NOCASE_SQL = "SELECT id FROM memories WHERE id = ? COLLATE NOCASE ORDER BY id LIMIT 3"
_IDS_BEFORE_SQL = "SELECT id FROM memories WHERE id < ? ORDER BY id DESC LIMIT 25"
_IDS_AFTER_SQL = "SELECT id FROM memories WHERE id > ? ORDER BY id LIMIT 25"


def _near_ids(store: OmegaStore, memory_id: str, limit: int = 3) -> list[str]:
    """Stored memory ids close to ``memory_id``: same id in another case, or close in spelling."""
    conn = store.connection
    found = [r[0] for r in conn.execute(_SAME_ID_NOCASE_SQL, (memory_id,))]
    window = [r[0] for sql in (_IDS_BEFORE_SQL, _IDS_AFTER_SQL) for r in conn.execute(sql, (memory_id,))]
    for hit in difflib.get_close_matches(memory_id, window, n=limit, cutoff=0.8):
        if hit not in found:
            found.append(hit)
    return found[:limit]


def check_memory(store: OmegaStore, memory_id: str) -> None:
    """Raise :class:`NotFoundError` naming ``memory_id`` (and close matches) unless it is stored."""
    row = store.connection.execute("SELECT 1 FROM memories WHERE id = ?", (memory_id,)).fetchone()
    if row is not None:
        return
    near = _near_ids(store, memory_id)
    hint = "check the id"
    if near:
        hint += " (did you mean " + " or ".join(repr(n) for n in near) + "?)"
    raise NotFoundError("memory", memory_id, hint)
