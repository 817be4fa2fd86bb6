"""The statistics report of a fleet export: ``report.html``, ``report.md`` and the figures as PNG.

``write_fleet_report(out, report_dir)`` reads the Parquet files a fleet export's manifest lists
(``omega-graph fleet export``), with DuckDB on this machine (no Spark, no store file opened), and
writes the same three kinds of files as :func:`omega_graph.report.write_report`, through the same
report model and renderers. Sections, in order (ids in :data:`FLEET_SECTIONS`):

- the fleet at a glance: stores, record totals (and per store: min, median, max), when the stores
  were exported, the files the last export skipped and why;
- distributions across stores: memories, causal edges, mean importance and mean weight per store
  (box plot over histogram, and a quantile table);
- outlier stores: the modified z-score rule of Iglewicz and Hoaglin on a few per-store measures
  (see :data:`~._fleet_sections.OUTLIER_RULE`);
- stores: one row per store, its file as a ``file://`` link, its counts and measures;
- graph answers per store: DAG or not, strongly connected components, the most influential memory,
  computed by the plain :func:`omega_graph.fleet.store_answers` loop for fleets of up to
  ``graph_max_stores`` stores (beyond that, ``omega-graph fleet graph`` runs them on Spark);
- tiers and edge types over the fleet; activity over the fleet.

The numbers are :func:`omega_graph.fleet.statistics` on DuckDB (per store and over the fleet), plus
two per-store means read from the same Parquet files.

Examples
--------
>>> import tempfile
>>> from omega_graph.fleet._layout import Manifest, write_manifest
>>> out, report_dir = tempfile.mkdtemp(), tempfile.mkdtemp()
>>> write_manifest(out, Manifest())
>>> files = write_fleet_report(out, report_dir)
>>> files.html.name, files.figures
('report.html', [])
>>> "No data: the export holds no stores." in files.markdown.read_text()
True
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ._model import FigureBlock, Report

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..fleet import Manifest
    from . import ReportFiles

__all__ = [
    "FLEET_SECTIONS",
    "FleetData",
    "FleetReportOptions",
    "Links",
    "build_fleet_report",
    "write_fleet_report",
]

#: ``(id, title)`` of every section, in report order.
FLEET_SECTIONS: tuple[tuple[str, str], ...] = (
    ("fleet", "The fleet at a glance"),
    ("distributions", "Distributions across stores"),
    ("outliers", "Outlier stores"),
    ("stores", "Stores"),
    ("graph-answers", "Graph answers per store"),
    ("tiers-edge-types", "Tiers and edge types over the fleet"),
    ("activity", "Activity over the fleet"),
)

Progress = Callable[[str, int, int], Any]

#: Per-store means the statistics do not give, from the export's Parquet files (views ``memories``,
#: ``causal_edges`` with the ``store`` partition column).
DUCK_STORE_MEANS = """
SELECT s.store, m.mean_importance, e.mean_weight
FROM fleet_stores s
LEFT JOIN (SELECT store, avg(importance) AS mean_importance FROM memories GROUP BY store) m USING (store)
LEFT JOIN (SELECT store, avg(weight) AS mean_weight FROM causal_edges GROUP BY store) e USING (store)
ORDER BY s.store
"""


@dataclass(frozen=True, slots=True)
class FleetReportOptions:
    r"""How much the fleet report shows; every list is capped.

    Attributes
    ----------
    graph_max_stores : int
        Graph answers per store (plain Python, one store after another) only for fleets of at most
        this many stores; 0 never (about 25 ms per store of 1k-10k edges here).
    store_rows : int
        Rows of the per-store table (stores in path order).
    outliers : int
        Rows of the outlier table (largest robust z-scores first).
    skipped_rows : int
        Skipped files listed.
    top_k : int
        Memory ids shown per store in the graph answers.
    histogram_bins : int
        Bins of each distribution's histogram.
    group_by : str or None
        A regular expression searched in each store's path: stores are scored for outliers against
        the stores of their own group (the first capture group's text, or the whole match; stores
        it does not match form the group "(no match)"). None: one group, the fleet. Two agent
        versions with different weight distributions make a bimodal fleet, in which the fleet-wide
        rule flags a whole version; ``r"-(v\d+)\.db$"`` scores ``agent-0007-v2.db`` among the v2 stores.
    """

    graph_max_stores: int = 200
    store_rows: int = 5_000
    outliers: int = 25
    skipped_rows: int = 100
    top_k: int = 3
    histogram_bins: int = 30
    group_by: str | None = None

    def __post_init__(self) -> None:
        if self.group_by is not None:
            if not isinstance(self.group_by, str):
                raise ValidationError(
                    "FleetReportOptions", "group_by", self.group_by, "None or a regular expression"
                )
            try:
                re.compile(self.group_by)
            except re.error as err:
                raise ValidationError(
                    "FleetReportOptions", "group_by", self.group_by, f"a valid regular expression ({err})"
                ) from err
        for f in fields(self):
            if f.name == "group_by":
                continue
            value = getattr(self, f.name)
            low = 0 if f.name == "graph_max_stores" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValidationError("FleetReportOptions", f.name, value, f"an integer >= {low}")


class Links:
    """Cells that are links: a marker in the cell text, made an anchor (HTML) or a link (Markdown)
    once the report is rendered (the report model's cells are plain text).

    >>> links = Links()
    >>> cell = links.cell("a.db", "file:///x/a.db")
    >>> links.html(f"<td>{cell}</td>")
    '<td><a href="file:///x/a.db" style="white-space: nowrap">a.db</a></td>'
    >>> links.markdown(f"| {cell} |")
    '| [a.db](file:///x/a.db) |'
    """

    _MARK = re.compile("\ue000(\\d+)\ue001")

    def __init__(self) -> None:
        self.targets: list[tuple[str, str]] = []

    def cell(self, text: str, href: str) -> str:
        self.targets.append((text, href))
        return f"\ue000{len(self.targets) - 1}\ue001"

    def html(self, document: str) -> str:
        def anchor(m: re.Match[str]) -> str:
            text, href = self.targets[int(m.group(1))]
            return f'<a href="{html.escape(href)}" style="white-space: nowrap">{html.escape(text)}</a>'

        return self._MARK.sub(anchor, document)

    def markdown(self, document: str) -> str:
        def link(m: re.Match[str]) -> str:
            text, href = self.targets[int(m.group(1))]
            text = re.sub(r"([\\|\[\]])", r"\\\1", text)
            return f"[{text}]({href.replace('|', '%7C').replace(')', '%29')})"

        return self._MARK.sub(link, document)


@dataclass
class FleetData:
    """What every fleet section reads: the export, its statistics, one row per store, the answers.

    ``stores`` columns: store, path, file, the overview's seven counts (memories, causal_edges, ...),
    mean_importance, mean_weight (NaN without memories / edges), edges_per_memory, first_activity,
    last_activity (period starts of ``activity``), exported_at, schema_version; in path order.
    ``answers`` (or None when not computed): store, is_dag, cycle, scc_count, top_influence, reason.
    """

    out: str
    manifest: Manifest
    per_store: dict[str, pd.DataFrame]
    fleet: dict[str, pd.DataFrame]
    stores: pd.DataFrame
    answers: pd.DataFrame | None
    options: FleetReportOptions
    links: Links

    @cached_property
    def paths(self) -> dict[str, str]:
        """Store id -> the store's file, as the manifest lists it."""
        return {s.store_id: s.path for s in self.manifest.stores}

    def file_link(self, store: str) -> str:
        """The store's file name as a ``file://`` link cell."""
        path = self.paths.get(store)
        return self.links.cell(os.path.basename(path), Path(path).absolute().as_uri()) if path else "—"

    def figure(self, name: str, caption: str, fig: Figure) -> FigureBlock:
        from ..plots import png_bytes

        width, height = (float(x) for x in fig.get_size_inches())
        return FigureBlock(name, caption, png_bytes(fig), width, height)


def _store_means(out: str, manifest: Manifest) -> pd.DataFrame:
    import duckdb

    from ..duck import literal
    from ..fleet._layout import table_files

    con = duckdb.connect()
    try:
        for table in ("memories", "causal_edges"):
            listed = ", ".join(literal(f) for f in table_files(out, table, manifest))
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true, "
                        "hive_types = {'store': 'VARCHAR'})")  # fmt: skip
        ids = [s.store_id for s in manifest.stores]
        con.execute("CREATE TABLE fleet_stores AS SELECT unnest(CAST($1 AS VARCHAR[])) AS store", [ids])
        return con.execute(DUCK_STORE_MEANS).df()
    finally:
        con.close()


def _store_table(out: str, manifest: Manifest, per_store: dict[str, pd.DataFrame]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    base = pd.DataFrame(
        {
            "store": [s.store_id for s in manifest.stores],
            "path": [s.path for s in manifest.stores],
            "file": [os.path.basename(s.path) for s in manifest.stores],
            "exported_at": [s.exported_at for s in manifest.stores],
            "schema_version": [s.schema_version for s in manifest.stores],
        }
    )
    overview = per_store["overview"]
    counts = overview.pivot(index="store", columns="entity", values="count")
    counts = counts[list(dict.fromkeys(overview["entity"]))].reset_index()
    counts.columns.name = None
    activity = per_store["activity"].groupby("store")["period"].agg(first_activity="min", last_activity="max")
    frame = base.merge(counts, on="store", how="left").merge(
        _store_means(out, manifest), on="store", how="left"
    )
    frame = frame.merge(activity.reset_index(), on="store", how="left")
    memories = frame["memories"].astype("float64")
    frame["edges_per_memory"] = np.where(
        memories > 0, frame["causal_edges"] / memories.where(memories > 0), np.nan
    )
    return frame.sort_values(["path", "store"], kind="stable").reset_index(drop=True)


def _answers(out: str, manifest: Manifest, top_k: int) -> pd.DataFrame:
    """:func:`omega_graph.fleet.store_answers` on each store's exported frames, in store id order."""
    import duckdb
    import pandas as pd

    from ..duck import ident, literal
    from ..fleet import store_answers
    from ..graph._frames import EDGE_COLUMNS, MEMORY_COLUMNS

    wanted = {"memories": MEMORY_COLUMNS, "causal_edges": EDGE_COLUMNS}
    frames = []
    con = duckdb.connect()
    try:
        for entry in manifest.stores:
            memories, edges = (
                con.execute(f"SELECT {', '.join(map(ident, columns))} FROM "
                            f"read_parquet({literal(os.path.join(out, entry.files[t]))})").df()
                for t, columns in wanted.items()
            )  # fmt: skip
            frames.append(store_answers(memories, edges, top_k=top_k).assign(store=entry.store_id))
    finally:
        con.close()
    return pd.concat(frames, ignore_index=True)


def load_fleet(
    out: str | os.PathLike[str], options: FleetReportOptions, progress: Progress | None = None, total: int = 3
) -> FleetData:
    """Read everything the sections show from the export ``out`` (DuckDB over its Parquet files)."""
    from ..fleet import read_manifest, statistics

    out = os.path.abspath(os.fspath(out))
    manifest = read_manifest(out, required=True)
    if progress is not None:
        progress("statistics", 0, total)
    per_store = statistics(None, out)
    fleet = statistics(None, out, per_store=False)
    stores = _store_table(out, manifest, per_store) if manifest.stores else None
    answers = None
    if manifest.stores and len(manifest.stores) <= options.graph_max_stores:
        if progress is not None:
            progress("graph answers", 1, total)
        answers = _answers(out, manifest, options.top_k)
    if stores is None:
        import pandas as pd

        stores = pd.DataFrame(columns=["store", "path", "file"])
    return FleetData(out, manifest, per_store, fleet, stores, answers, options, Links())


def build_fleet_report(
    out: str | os.PathLike[str],
    *,
    options: FleetReportOptions | None = None,
    progress: Progress | None = None,
    total: int = 3,
) -> tuple[Report, Links]:
    """Compute every section of the fleet report (figures rendered to PNG), without writing files.

    Returns the :class:`~._model.Report` and the :class:`Links` its link cells refer to.
    """
    from . import _fleet_sections as sections

    data = load_fleet(out, options or FleetReportOptions(), progress, total)
    if progress is not None:
        progress("sections", 2, total)
    built = [build(data) for build in sections.BUILDERS]
    assert [(s.id, s.title) for s in built] == list(FLEET_SECTIONS)
    name = os.path.basename(data.out.rstrip(os.sep)) or data.out
    source = f"`{data.out}` · fleet export of {len(data.manifest.stores):,} stores"
    return Report(f"omega-graph fleet report: {name}", source, datetime.now(UTC), built), data.links


def write_fleet_report(
    out: str | os.PathLike[str],
    report_dir: str | os.PathLike[str],
    *,
    options: FleetReportOptions | None = None,
    progress: Progress | None = None,
) -> ReportFiles:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` for the fleet export ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        A directory written by ``omega-graph fleet export`` (:func:`omega_graph.fleet.export`).
    report_dir : str or os.PathLike
        Created if missing (with parents). Files of an earlier report there are replaced.
    options : FleetReportOptions, optional
        How much to show, and up to how many stores the graph answers are computed.
    progress : callable, optional
        ``progress(step: str, done: int, total: int)``, before each step and once at the end.

    Returns
    -------
    ReportFiles
        Paths of the HTML file, the Markdown file and every figure written.

    Raises
    ------
    NotFoundError
        ``out`` holds no fleet manifest.
    ValidationError
        ``report_dir`` exists and is not a directory.
    """
    from . import ReportFiles, _version, _write_atomic
    from ._html import render_html
    from ._markdown import render_markdown

    target = Path(report_dir)
    if target.exists() and not target.is_dir():
        raise ValidationError(
            "fleet report", "report_dir", os.fspath(report_dir), "a directory (or a path to create one at)"
        )
    total = 4
    report, links = build_fleet_report(out, options=options, progress=progress, total=total)
    if progress is not None:
        progress("writing files", 3, total)
    figure_dir = target / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    figures = []
    for fig in report.figures:
        path = figure_dir / f"{fig.name}.png"
        _write_atomic(path, fig.png)
        figures.append(path)
    version = _version()
    html_path, md_path = target / "report.html", target / "report.md"
    _write_atomic(html_path, links.html(render_html(report, version=version)).encode("utf-8"))
    markdown = render_markdown(report, figure_dir="figures", version=version)
    _write_atomic(md_path, links.markdown(markdown).encode("utf-8"))
    if progress is not None:
        progress("done", total, total)
    return ReportFiles(html_path, md_path, figures)
