"""What the command line prints: aligned tables for people, JSON for programs.

Tables go to standard output, numbers right-aligned and shown with up to six significant digits;
JSON keeps full precision (it must match what the library returns) and is always valid JSON
(NaN and infinities become ``null``).

Examples
--------
>>> print(format_table(["memory_id", "depth", "strength"], [["asia:lung", 1, 0.09], ["asia:bronc", 1, 0.3]]))
memory_id   depth  strength
----------  -----  --------
asia:lung       1      0.09
asia:bronc      1       0.3
>>> to_json({"strength": float("nan"), "weights": [0.5]})
'{\\n  "strength": null,\\n  "weights": [\\n    0.5\\n  ]\\n}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import click

__all__ = ["echo_json", "echo_table", "format_number", "format_table", "jsonable", "to_json"]


def format_number(value: object) -> str:
    """A cell as text: floats with six significant digits, None as an empty cell.

    >>> format_number(0.123456789), format_number(3), format_number(None), format_number(1e-9)
    ('0.123457', '3', '', '1e-09')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format(value, ".6g")
    if hasattr(value, "item"):  # a numpy scalar
        return format_number(value.item())
    return str(value)


def _numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return getattr(getattr(value, "dtype", None), "kind", "") in ("i", "u", "f")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows as an aligned text table with a header and a rule; numeric columns right-aligned.

    >>> print(format_table(["entity", "count"], [["memories", 114], ["causal edges", 166]]))
    entity        count
    ------------  -----
    memories        114
    causal edges    166
    """
    rows = [list(r) for r in rows]
    numeric = [bool(rows) and all(_numeric(r[i]) or r[i] is None for r in rows) for i in range(len(headers))]
    cells = [[format_number(v) for v in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line([h.rjust(w) if num else h for h, w, num in zip(headers, widths, numeric, strict=True)])]
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print :func:`format_table` to standard output."""
    click.echo(format_table(headers, rows))


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, tuples and non-finite floats turned into plain JSON values.

    >>> import numpy as np
    >>> jsonable({"a": (np.int64(2), np.float64(0.5)), "b": float("inf")})
    {'a': [2, 0.5], 'b': None}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def to_json(value: Any) -> str:
    """Indented, strictly valid JSON text of ``value`` (see :func:`jsonable`)."""
    return json.dumps(jsonable(value), indent=2, allow_nan=False, ensure_ascii=False)


def echo_json(value: Any) -> None:
    """Print :func:`to_json` to standard output."""
    click.echo(to_json(value))
