"""The statistics report of an omega store: ``report.html``, ``report.md`` and the figures as PNG.

``write_report(store, out_dir)`` runs every section against one analytics session and one causal
graph snapshot, then writes

- ``report.html``: one self-contained file (inline CSS, figures embedded as base64 PNG, no script),
  with a table of contents and an ``id`` on every section;
- ``report.md``: the same content as Markdown, linking the figures;
- ``figures/<name>.png``: each figure.

Sections, in order (ids in :data:`SECTIONS`): overview counts; memories by tier and importance;
causal graph structure (degrees, edge types, cycles or DAG); strongest chains and most influential
memories; how the causal beliefs changed (edges invalidated and reinstated over time, the most
revised edges); skills; architectures and their lineage; intelligences; reflexion outcomes; activity
over time. A section without data says so. Every table is capped (top-N) and every figure drawn from
aggregates, so a store with millions of memories gives a report of the same size.

Examples
--------
>>> import tempfile
>>> from omega_graph import OmegaStore
>>> out = tempfile.mkdtemp()
>>> with OmegaStore.new_in_memory() as store:
...     files = write_report(store, out)
>>> files.html.name, files.markdown.name, files.figures
('report.html', 'report.md', [])
>>> "No data: the store holds no memories." in files.markdown.read_text()
True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from . import _graph_sections, _sections
from ._context import Context, ReportOptions
from ._fleet import FLEET_SECTIONS, FleetReportOptions, write_fleet_report
from ._html import render_html
from ._markdown import render_markdown
from ._model import Report, Section

if TYPE_CHECKING:
    from ..store import OmegaStore

__all__ = [
    "FLEET_SECTIONS",
    "SECTIONS",
    "FleetReportOptions",
    "Report",
    "ReportFiles",
    "ReportOptions",
    "Section",
    "build_report",
    "write_fleet_report",
    "write_report",
]

#: ``(id, title)`` of every section, in report order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("memories", "Memories by tier and importance"),
    ("graph-structure", "Causal graph structure"),
    ("chains-influence", "Strongest chains and most influential memories"),
    ("beliefs", "How the causal beliefs changed"),
    ("skills", "Skills"),
    ("architectures", "Architectures and their lineage"),
    ("intelligences", "Intelligences"),
    ("reflexions", "Reflexion outcomes"),
    ("activity", "Activity over time"),
)

_BUILDERS: tuple[tuple[str, Callable[[Context], Section]], ...] = (
    ("overview", _sections.overview),
    ("memories", _sections.memories),
    ("graph structure", _graph_sections.graph_structure),
    ("influence and chains", _graph_sections.chains_and_influence),
    ("beliefs", _sections.beliefs),
    ("skills", _sections.skills),
    ("architectures", _sections.architectures),
    ("intelligences", _sections.intelligences),
    ("reflexions", _sections.reflexions),
    ("activity", _sections.activity),
)

Progress = Callable[[str, int, int], Any]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """The files :func:`write_report` wrote."""

    html: Path
    markdown: Path
    figures: list[Path]


def _version() -> str:
    from .. import __version__

    return __version__


def build_report(
    store: OmegaStore,
    *,
    progress: Progress | None = None,
    options: ReportOptions | None = None,
    title: str | None = None,
) -> Report:
    """Compute every section of the report (figures rendered to PNG bytes), without writing files.

    Parameters
    ----------
    store : OmegaStore
    progress : callable, optional
        ``progress(step, done, total)`` is called before each step (``done`` steps finished).
    options : ReportOptions, optional
        How many rows, chains and lineages to show.
    title : str, optional
        Default: "omega-graph report: <file name>".

    Returns
    -------
    Report
    """
    return _build(store, progress, options, title, len(_BUILDERS))


def _build(
    store: OmegaStore, progress: Progress | None, options: ReportOptions | None, title: str | None, total: int
) -> Report:
    options = options or ReportOptions()
    source = f"`{store.path}`" if store.path else "in-memory store"
    title = title or f"omega-graph report: {Path(store.path).name if store.path else 'in-memory store'}"
    sections = []
    with store.analytics() as analytics:
        ctx = Context(store, analytics, options)
        for done, (step, build) in enumerate(_BUILDERS):
            if progress is not None:
                progress(step, done, total)
            sections.append(build(ctx))
    return Report(title, source, datetime.now(UTC), sections)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path`` and rename over it: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    store: OmegaStore,
    out_dir: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    options: ReportOptions | None = None,
) -> ReportFiles:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` for ``store`` into ``out_dir``.

    Parameters
    ----------
    store : OmegaStore
    out_dir : str or os.PathLike
        Created if missing (with parents). Files of an earlier report there are replaced.
    progress : callable, optional
        ``progress(step: str, done: int, total: int)``, called before each step and once at the end
        with ``done == total`` (step ``"done"``).
    options : ReportOptions, optional

    Returns
    -------
    ReportFiles
        Paths of the HTML file, the Markdown file and every figure written.

    Raises
    ------
    ValidationError
        If ``out_dir`` exists and is not a directory.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValidationError(
            "report", "out_dir", os.fspath(out_dir), "a directory (or a path to create one at)"
        )
    total = len(_BUILDERS) + 1
    report = _build(store, progress, options, None, total)
    if progress is not None:
        progress("writing files", total - 1, total)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    figures = []
    for fig in report.figures:
        path = figure_dir / f"{fig.name}.png"
        _write_atomic(path, fig.png)
        figures.append(path)
    version = _version()
    html_path, md_path = out / "report.html", out / "report.md"
    _write_atomic(html_path, render_html(report, version=version).encode("utf-8"))
    _write_atomic(md_path, render_markdown(report, figure_dir="figures", version=version).encode("utf-8"))
    if progress is not None:
        progress("done", total, total)
    return ReportFiles(html_path, md_path, figures)
