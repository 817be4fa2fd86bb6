"""What a report is made of (sections of ordered blocks) and how values become table cells.

The section builders produce these plain objects; the HTML and Markdown writers only lay them out,
so both formats always say the same thing.

Examples
--------
>>> import pandas as pd
>>> t = frame_table(pd.DataFrame({"tier": [1, 2], "importance": [0.25, 1.0], "created_at": [0, 86400]}))
>>> t.columns, t.rows[1]
(['tier', 'importance', 'created at'], ['2', '1.000', '1970-01-02 00:00'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Block",
    "Facts",
    "FigureBlock",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "fmt_count",
    "fmt_float",
    "fmt_percent",
    "fmt_time",
    "frame_table",
]

#: Columns holding Unix-second timestamps (formatted as UTC date and time).
TIME_COLUMNS = frozenset({"created_at", "last_used", "first_at", "last_at", "last_updated", "updated_at",
                          "last_accessed", "first", "last"})  # fmt: skip
#: Columns holding a value in [0, 1] shown with 3 decimals.
UNIT_COLUMNS = frozenset({"importance", "weight", "mean_importance", "median_importance", "min_importance",
                          "max_importance", "mean_weight", "min_weight", "max_weight", "maturity",
                          "mean_maturity", "min_maturity", "max_maturity", "fitness", "mean_fitness",
                          "max_fitness", "strength", "out_weight", "in_weight"})  # fmt: skip
#: Columns holding a fraction shown as a percentage.
SHARE_COLUMNS = frozenset({"share"})


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Plain text; words in backticks are code."""

    text: str


@dataclass(frozen=True, slots=True)
class Facts:
    """Headline figures: (label, value) pairs shown as cards (HTML) or a list (Markdown)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A formatted table: header labels, rows of cell text, which columns are numeric."""

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    caption: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class FigureBlock:
    """A rendered figure: ``name`` is the PNG file's stem, ``width``/``height`` in inches."""

    name: str
    caption: str
    png: bytes
    width: float
    height: float


Block = Paragraph | Facts | Table | FigureBlock


@dataclass(slots=True)
class Section:
    """One section of the report; ``empty`` replaces the blocks when there is no data."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    empty: str | None = None

    def add(self, *blocks: Block | None) -> Section:
        """Append blocks (None is skipped) and return the section."""
        self.blocks.extend(b for b in blocks if b is not None)
        return self

    @property
    def figures(self) -> list[FigureBlock]:
        return [b for b in self.blocks if isinstance(b, FigureBlock)]


@dataclass(slots=True)
class Report:
    """A whole report: title, where the data came from, when, and the sections in order."""

    title: str
    source: str
    generated_at: datetime
    sections: list[Section]

    @property
    def figures(self) -> list[FigureBlock]:
        return [f for s in self.sections for f in s.figures]


# --------------------------------------------------------------------------------------------------
# Cell formatting


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_count(value: Any) -> str:
    """An integer with thousands separators; a dash for a missing value.

    >>> fmt_count(1234567), fmt_count(None)
    ('1,234,567', '—')
    """
    return "—" if _missing(value) else f"{int(value):,}"


def fmt_float(value: Any, digits: int = 3) -> str:
    """A float with ``digits`` decimals; small numbers in scientific notation.

    >>> fmt_float(0.5), fmt_float(0.00001234), fmt_float(float("nan"))
    ('0.500', '1.23e-05', '—')
    """
    if _missing(value):
        return "—"
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


def fmt_percent(value: Any) -> str:
    """A fraction as a percentage with one decimal.

    >>> fmt_percent(0.1234)
    '12.3 %'
    """
    return "—" if _missing(value) else f"{100 * float(value):.1f} %"


def fmt_time(value: Any) -> str:
    """Unix seconds (or a timestamp) as ``YYYY-MM-DD HH:MM`` in UTC.

    >>> fmt_time(1764000000)
    '2025-11-24 16:00'
    """
    if _missing(value):
        return "—"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    try:
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return str(value)


def _default_format(name: str, series: pd.Series) -> tuple[Callable[[Any], str], bool]:
    import pandas as pd

    if name in TIME_COLUMNS or pd.api.types.is_datetime64_any_dtype(series):
        return fmt_time, False
    if name in SHARE_COLUMNS:
        return fmt_percent, True
    if name in UNIT_COLUMNS:
        return fmt_float, True
    if pd.api.types.is_bool_dtype(series):
        return (lambda v: "—" if _missing(v) else ("yes" if v else "no")), False
    if pd.api.types.is_integer_dtype(series):
        return fmt_count, True
    if pd.api.types.is_float_dtype(series):
        return (lambda v: fmt_float(v, 4) if _missing(v) or abs(float(v)) < 1e6 else f"{float(v):.4g}"), True
    return (lambda v: "—" if _missing(v) else str(v)), False


def frame_table(
    df: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    numeric: Sequence[str] = (),
    caption: str = "",
    note: str = "",
) -> Table:
    """Format a DataFrame as a :class:`Table`.

    Column headers default to the column name with underscores as spaces; cells are formatted by
    column name (timestamps, [0, 1] values, shares) or dtype (counts, floats, booleans), unless
    ``formats`` says otherwise (``numeric`` then names the right-aligned ones).
    """
    headers = dict(headers or {})
    formats = dict(formats or {})
    cols = list(df.columns)
    fns: list[Callable[[Any], str]] = []
    num: list[bool] = []
    for c in cols:
        fn, is_num = _default_format(str(c), df[c])
        if c in formats:
            fn, is_num = formats[c], c in numeric
        fns.append(fn)
        num.append(is_num)
    rows = [[fn(v) for fn, v in zip(fns, row, strict=True)] for row in df.itertuples(index=False, name=None)]
    labels = [headers.get(c, str(c).replace("_", " ")) for c in cols]
    return Table(labels, rows, num, caption, note)
