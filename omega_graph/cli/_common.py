"""Pieces every command shares: opening a store, graph filters, progress bars, timestamps, id hints."""

from __future__ import annotations

import dataclasses
import difflib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    "GraphFilter",
    "Timestamp",
    "check_edge",
    "check_memory",
    "graph_filter_options",
    "iso_utc",
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


def iso_utc(seconds: int) -> str:
    """Unix seconds as an ISO 8601 UTC time (``Z``); ``-`` for a time outside years 1 to 9999.

    >>> iso_utc(1764000000), iso_utc(0), iso_utc(-50_000_000_000), iso_utc(10**12)
    ('2025-11-24T16:00:00Z', '1970-01-01T00:00:00Z', '0385-07-25T07:06:40Z', '-')
    """
    try:
        return datetime.fromtimestamp(int(seconds), UTC).replace(tzinfo=None).isoformat() + "Z"
    except (OverflowError, OSError, ValueError):
        return "-"


@dataclass(frozen=True)
class GraphFilter:
    """Which edges a command's causal graph snapshot holds: the graph filter options, as one value.

    The fields are the keywords of :meth:`OmegaStore.causal_graph <omega_graph.OmegaStore.causal_graph>`
    (``edge_types`` a tuple, empty for all types). They compose by intersection: ``as_of`` and
    ``known_at`` bound ``created_at``; ``known_at`` also leaves out the edges invalidated at that
    time, and by default (neither ``known_at`` nor ``include_invalidated``) the edges invalidated
    now are left out; ``valid_at`` keeps the edges whose validity window contains it. Weights are
    always the current ones.

    Examples
    --------
    >>> f = GraphFilter(min_weight=0.2, known_at=1764000000)
    >>> f.given()
    ['--min-weight', '--known-at']
    >>> f.causal_graph_kwargs()["edge_types"] is None, GraphFilter().given()
    (True, [])
    """

    min_weight: float = 0.0
    edge_types: tuple[str, ...] = ()
    as_of: int | None = None
    valid_at: int | None = None
    known_at: int | None = None
    include_invalidated: bool = False

    def given(self) -> list[str]:
        """The command-line options whose values differ from the defaults, in field order."""
        default = GraphFilter()
        return [
            _FILTER_OPTIONS[f.name]
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]

    def causal_graph_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``store.causal_graph`` (``edge_types=None`` for all types)."""
        kwargs = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        kwargs["edge_types"] = list(self.edge_types) or None
        return kwargs


#: The parameter through which graph_filter_options hands the command its GraphFilter.
GRAPH_FILTER_PARAM = "graph_filter"
#: The command-line option of each GraphFilter field.
_FILTER_OPTIONS = {
    "min_weight": "--min-weight",
    "edge_types": "--edge-type",
    "as_of": "--as-of",
    "valid_at": "--valid-at",
    "known_at": "--known-at",
    "include_invalidated": "--include-invalidated",
}


def _collect_filter(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Click callback: fold one graph filter option into ``ctx.params["graph_filter"]``."""
    if param.name is None:  # pragma: no cover - every filter option is named
        return value
    if param.name == "edge_types":
        value = tuple(value or ())
    current = ctx.params.get(GRAPH_FILTER_PARAM, GraphFilter())
    ctx.params[GRAPH_FILTER_PARAM] = dataclasses.replace(current, **{param.name: value})
    return value


def graph_filter_options(func: F) -> F:
    """The graph filter options, handed to the command as one parameter ``graph_filter: GraphFilter``.

    ``--min-weight``, ``--edge-type`` (repeatable), ``--as-of``, ``--valid-at``, ``--known-at``,
    ``--include-invalidated``; each option's callback folds its value into the :class:`GraphFilter`,
    so a command lists one parameter, whatever the number of filters. Pass it to :func:`open_graph`.
    """
    common: dict[str, Any] = {"expose_value": False, "callback": _collect_filter}
    func = click.option(
        "--include-invalidated",
        is_flag=True,
        help="Keep the invalidated edges too (by default an edge invalidated now, or with --known-at "
        "invalidated at that time, is left out).",
        **common,
    )(func)
    func = click.option(
        "--known-at",
        type=TIMESTAMP,
        default=None,
        help="What the store believed at this time: edges created by then and not invalidated at "
        "then (weights are the current ones).",
        **common,
    )(func)
    func = click.option(
        "--valid-at",
        type=TIMESTAMP,
        default=None,
        help="Only edges whose validity window contains this time (edges without a window always count).",
        **common,
    )(func)
    func = click.option(
        "--as-of",
        type=TIMESTAMP,
        default=None,
        help="Only edges created at or before this time (Unix seconds or ISO date/time, UTC).",
        **common,
    )(func)
    func = click.option(
        "--edge-type",
        "edge_types",
        multiple=True,
        metavar="TYPE",
        help="Only edges of this type (repeat for several; default: all types).",
        **common,
    )(func)
    return click.option(
        "--min-weight",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help="Only edges of at least this weight (0 keeps weight-0 edges, which never add strength).",
        **common,
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


def open_graph(store: OmegaStore, graph_filter: GraphFilter | None = None) -> CausalGraph:
    """The store's causal graph snapshot with the command-line filters applied (see :class:`GraphFilter`)."""
    return store.causal_graph(**(graph_filter or GraphFilter()).causal_graph_kwargs())


#: The tables whose ids the "did you mean" hints search, with the entity name of their errors.
_ID_TABLES = {"memories": "memory", "causal_edges": "causal edge"}
_SAME_ID_NOCASE_SQL = "SELECT id FROM {table} WHERE id = ? COLLATE NOCASE ORDER BY id LIMIT 3"
_IDS_BEFORE_SQL = "SELECT id FROM {table} WHERE id < ? ORDER BY id DESC LIMIT 25"
_IDS_AFTER_SQL = "SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT 25"


def _near_ids(store: OmegaStore, table: str, wanted: str, limit: int = 3) -> list[str]:
    """Stored ids of ``table`` close to ``wanted``: the same id in another case, or close in spelling."""
    conn = store.connection
    found = [r[0] for r in conn.execute(_SAME_ID_NOCASE_SQL.format(table=table), (wanted,))]
    window = [
        r[0]
        for sql in (_IDS_BEFORE_SQL, _IDS_AFTER_SQL)
        for r in conn.execute(sql.format(table=table), (wanted,))
    ]
    for hit in difflib.get_close_matches(wanted, window, n=limit, cutoff=0.8):
        if hit not in found:
            found.append(hit)
    return found[:limit]


def _check_id(store: OmegaStore, table: str, wanted: str, hint: str) -> None:
    if table not in _ID_TABLES:  # pragma: no cover - internal misuse
        raise ValueError(f"no id hints for table {table!r}")
    row = store.connection.execute(f"SELECT 1 FROM {table} WHERE id = ?", (wanted,)).fetchone()
    if row is not None:
        return
    near = _near_ids(store, table, wanted)
    if near:
        hint += " (did you mean " + " or ".join(repr(n) for n in near) + "?)"
    raise NotFoundError(_ID_TABLES[table], wanted, hint)


def check_memory(store: OmegaStore, memory_id: str) -> None:
    """Raise :class:`NotFoundError` naming ``memory_id`` (and close matches) unless it is stored."""
    _check_id(store, "memories", memory_id, "check the id")


def check_edge(store: OmegaStore, edge_id: str, option: str = "EDGE") -> None:
    """Raise :class:`NotFoundError` naming ``edge_id`` (and close matches) unless it is a stored edge."""
    _check_id(store, "causal_edges", edge_id, f"{option} names no stored causal edge; check the id")
