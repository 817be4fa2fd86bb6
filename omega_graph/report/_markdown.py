"""``report.md``: the same report as Markdown (GitHub-flavoured tables), figures linked as PNG files.

Examples
--------
>>> from datetime import datetime, UTC
>>> from omega_graph.report._model import Report, Section, Table
>>> md = render_markdown(Report("t", "x.db", datetime(2025, 1, 1, tzinfo=UTC),
...                             [Section("skills", "Skills").add(Table(["a|b"], [["1"]], [True]))]))
>>> "| a\\\\|b |" in md, '<a id="skills"></a>' in md
(True, True)
"""

from __future__ import annotations

from ._model import Facts, FigureBlock, Paragraph, Report, Table

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(block: Table) -> list[str]:
    lines = []
    if block.caption:
        lines += [f"**{block.caption}**", ""]
    lines.append("| " + " | ".join(_cell(c) for c in block.columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in block.numeric) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in block.rows]
    if block.note:
        lines += ["", f"_{block.note}_"]
    return [*lines, ""]


def render_markdown(report: Report, *, figure_dir: str = "figures", version: str = "") -> str:
    """The whole report as Markdown; figures are referenced as ``<figure_dir>/<name>.png``."""
    when = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {report.title}", "", f"{report.source} · generated {when}"
             + (f" · omega-graph {version}" if version else ""), "", "## Contents", ""]  # fmt: skip
    lines += [f"{i}. [{s.title}](#{s.id})" for i, s in enumerate(report.sections, 1)]
    lines.append("")
    for i, sec in enumerate(report.sections, 1):
        lines += [f'<a id="{sec.id}"></a>', "", f"## {i}. {sec.title}", ""]
        if sec.empty:
            lines += [f"_{sec.empty}_", ""]
            continue
        for block in sec.blocks:
            if isinstance(block, Paragraph):
                lines += [block.text, ""]
            elif isinstance(block, Facts):
                lines += [f"- **{label}**: {value}" for label, value in block.items] + [""]
            elif isinstance(block, Table):
                lines += _table(block)
            elif isinstance(block, FigureBlock):
                lines += [f"![{block.caption}]({figure_dir}/{block.name}.png)", "", f"_{block.caption}_", ""]
    return "\n".join(lines).rstrip() + "\n"
