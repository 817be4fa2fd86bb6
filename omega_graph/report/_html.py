"""``report.html``: one self-contained file (CSS inline, figures as base64 PNG, no script, no link out).

Laid out for a laptop screen: a sticky table of contents beside the sections on wide windows, above
them on narrow ones; figures scale down to the column, tables scroll sideways when they must.

Examples
--------
>>> from datetime import datetime, UTC
>>> from omega_graph.report._model import Report, Section, Paragraph
>>> html = render_html(Report("t", "x.db", datetime(2025, 1, 1, tzinfo=UTC),
...                           [Section("overview", "Overview").add(Paragraph("a `b` <c>"))]))
>>> '<section id="overview"' in html, "a <code>b</code> &lt;c&gt;" in html
(True, True)
"""

from __future__ import annotations

import base64
import html
import re

from ._model import Facts, FigureBlock, Paragraph, Report, Section, Table

__all__ = ["CSS", "render_html"]

CSS = """
:root { --fg: #1f2937; --muted: #6b7280; --accent: #3b6ea8; --line: #e5e7eb; --bg: #f5f6f8; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; color: var(--fg); background: var(--bg);
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background: #1f2a37; color: #fff; padding: 18px 28px; }
header.top h1 { margin: 0; font-size: 22px; font-weight: 600; }
header.top p { margin: 4px 0 0; color: #cbd5e1; font-size: 13px; overflow-wrap: anywhere; }
header.top code { background: rgba(255, 255, 255, .12); color: #f8fafc; }
.layout { display: grid; grid-template-columns: 220px minmax(0, 1fr); gap: 28px;
          max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
nav.toc { position: sticky; top: 16px; align-self: start; font-size: 14px; }
nav.toc h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0; }
nav.toc ol { padding-left: 22px; margin: 8px 0; }
nav.toc li { margin: 3px 0; }
nav.toc a { color: var(--fg); text-decoration: none; }
nav.toc a:hover { color: var(--accent); text-decoration: underline; }
main { min-width: 0; }
main section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 24px 8px;
               margin-bottom: 22px; scroll-margin-top: 12px; }
main h2 { font-size: 19px; margin: 0 0 12px; }
main h2 .num { color: var(--muted); font-weight: 400; margin-right: 6px; }
p { margin: 0 0 12px; max-width: 80ch; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(124px, 1fr)); gap: 10px; margin: 0 0 16px; }
.facts div { background: #f1f5f9; border-radius: 6px; padding: 8px 12px; }
.facts dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.facts dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums;
            overflow-wrap: anywhere; }
figure { margin: 14px 0 18px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.table-wrap { overflow-x: auto; margin: 14px 0 18px; }
table { border-collapse: collapse; font-size: 13.5px; }
caption { text-align: left; font-weight: 600; padding-bottom: 6px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; white-space: nowrap; }
td { overflow-wrap: break-word; min-width: 6ch; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
       background: #f1f5f9; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
.note { font-size: 12.5px; color: var(--muted); margin: 4px 0 0; }
.empty { color: var(--muted); font-style: italic; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 0 0 24px; }
@media (max-width: 980px) {
  .layout { grid-template-columns: 1fr; padding: 16px; }
  nav.toc { position: static; }
}
@media print { nav.toc { display: none; } .layout { grid-template-columns: 1fr; } }
"""

_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    """Escape text; `backticks` become <code>."""
    out, last = [], 0
    for m in _CODE.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<code>{html.escape(m.group(1))}</code>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _facts(block: Facts) -> str:
    items = "".join(
        f"<div><dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd></div>"
        for label, value in block.items
    )
    return f'<dl class="facts">{items}</dl>'


def _table(block: Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if block.numeric[i] else ""

    head = "".join(f'<th scope="col"{cls(i)}>{html.escape(c)}</th>' for i, c in enumerate(block.columns))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in block.rows
    )
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    note = f'<p class="note">{_inline(block.note)}</p>' if block.note else ""
    return (
        f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{note}</div>"
    )


def _figure(block: FigureBlock) -> str:
    data = base64.b64encode(block.png).decode("ascii")
    width, height = round(block.width * 96), round(block.height * 96)  # CSS px at the figure's size
    return (
        f'<figure id="fig-{html.escape(block.name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(block.caption)}" width="{width}" height="{height}">'
        f"<figcaption>{_inline(block.caption)}</figcaption></figure>"
    )


def _section(number: int, sec: Section) -> str:
    parts = [f'<section id="{html.escape(sec.id)}" aria-labelledby="{html.escape(sec.id)}-title">',
             f'<h2 id="{html.escape(sec.id)}-title"><span class="num">{number}.</span>{html.escape(sec.title)}</h2>']  # fmt: skip
    if sec.empty:
        parts.append(f'<p class="empty">{_inline(sec.empty)}</p>')
    for block in [] if sec.empty else sec.blocks:
        if isinstance(block, Paragraph):
            parts.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Facts):
            parts.append(_facts(block))
        elif isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, FigureBlock):
            parts.append(_figure(block))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(report: Report, *, version: str = "") -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    toc = "".join(
        f'<li><a href="#{html.escape(s.id)}">{html.escape(s.title)}</a></li>' for s in report.sections
    )
    when = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{_inline(report.source)} · generated {when}" + (
        f" · omega-graph {html.escape(version)}" if version else ""
    )
    body = "\n".join(_section(i, s) for i, s in enumerate(report.sections, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(report.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><h1>{html.escape(report.title)}</h1><p>{meta}</p></header>
<div class="layout">
<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>
<main>
{body}
</main>
</div>
<footer>Written by omega-graph. Figures are also saved as PNG files beside this report.</footer>
</body>
</html>
"""
