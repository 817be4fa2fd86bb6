"""The ``omega-graph`` command line (also ``python -m omega_graph``): a thin click layer over the library.

Every command takes the database path first. Query commands (``stats``, ``path``, ``top-paths``,
``causes``, ``effects``, ``influence``, ``cycles``, ``adjust``, ``instruments``, ``history``) print
aligned tables, or JSON with ``--json``, and never create a database: a missing path is an error that
says how to make one. The graph commands share the snapshot options (``--min-weight``,
``--edge-type``, ``--as-of``, ``--valid-at``, ``--known-at``, ``--include-invalidated``);
``invalidate`` and ``reinstate`` record a change of belief in an existing store.

Errors are turned into one line on stderr at one place (:meth:`OmegaGroup.invoke`): exit status 1
for a problem with the data or the files, 2 for a usage error (as click does), never a traceback
(set ``OMEGA_GRAPH_DEBUG=1`` to see one for an unexpected internal error).

Examples
--------
>>> from click.testing import CliRunner
>>> result = CliRunner().invoke(main, ["--version"])
>>> result.exit_code, result.output.startswith("omega-graph, version ")
(0, True)
>>> result = CliRunner().invoke(main, ["stats", "no-such.db"])
>>> result.exit_code
1
>>> print(result.stderr.strip())
Error: database 'no-such.db' not found; create one with `omega-graph init no-such.db` or `omega-graph import-edges no-such.db EDGES.csv`
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

import click

from .. import __version__
from ..errors import NoPathError, OmegaGraphError

__all__ = ["OmegaGroup", "main"]

_EPILOG = """\b
Exit status: 0 on success, 1 when the data or a file is the problem (the message on stderr says
what and what to do), 2 for a usage error.
\b
Examples:
  omega-graph demo
  omega-graph import-edges omega.db data/asia.csv
  omega-graph path omega.db smoke dysp --json
  omega-graph report omega.db --out report/
"""


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _message(err: BaseException) -> str:
    msg = _one_line(str(err)) or type(err).__name__
    if isinstance(err, NoPathError) and ";" not in msg:
        msg += f"; see what {err.source!r} reaches with `omega-graph effects DB {err.source}`"
    return msg


class OmegaGroup(click.Group):
    """A click group that lists commands in the order they were added and reports errors in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OmegaGraphError as err:
            raise click.ClickException(_message(err)) from None
        except sqlite3.Error as err:
            raise click.ClickException(
                f"database error: {_one_line(str(err))}; check that the file is an intact omega store"
            ) from None
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, without a second error at interpreter exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except OSError as err:
            where = f" ({err.filename})" if err.filename else ""
            raise click.ClickException(
                f"{err.strerror or _one_line(str(err))}{where}; check the path and its permissions"
            ) from None
        except Exception as err:
            if os.environ.get("OMEGA_GRAPH_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error: {type(err).__name__}: {_one_line(str(err))}; please report it "
                "(run again with OMEGA_GRAPH_DEBUG=1 for the traceback)"
            ) from None


@click.group(
    cls=OmegaGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=_EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name="omega-graph")
def main() -> None:
    """Agent-memory data in one SQLite file: causal paths and influence, statistics, reports.

    DB is an omega store: a file written by omega-graph or by the original omega-persistence crate
    (opened and migrated in place). Query commands never create a database.
    """


from . import (  # noqa: E402 - registers commands
    _commands_beliefs,
    _commands_data,
    _commands_fleet,
    _commands_identify,
    _commands_query,
    _commands_report,
)

_ORDER = (
    "init",
    "stats",
    "path",
    "top-paths",
    "causes",
    "effects",
    "influence",
    "cycles",
    "adjust",
    "instruments",
    "invalidate",
    "reinstate",
    "history",
    "import-edges",
    "export",
    "report",
    "backup",
    "restore",
    "generate",
    "demo",
    "cache",
    "fleet",
)
_COMMANDS = {
    c.name: c
    for m in (
        _commands_beliefs,
        _commands_data,
        _commands_fleet,
        _commands_identify,
        _commands_query,
        _commands_report,
    )
    for c in m.COMMANDS
}
for _name in sorted(_COMMANDS, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER)):
    main.add_command(_COMMANDS[_name])
