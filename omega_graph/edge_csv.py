"""The edge-list format of the bundled networks and of ``omega-graph import-edges``.

A UTF-8 CSV file with the header ``source,target`` or ``source,target,weight`` and one directed edge
per row; ``weight`` is a link strength in [0, 1]. Node files list one node name per line (an edge list
cannot show isolated nodes). Malformed rows raise :class:`EdgeCSVError`, a
:class:`~omega_graph.errors.ValidationError` that names the file and the line.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.csv"
>>> _ = p.write_text("source,target,weight\\nrain,wet,0.9\\nwet,slip,\\n")
>>> read_edge_csv(p)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
omega_graph.edge_csv.EdgeCSVError: .../edges.csv, line 3: weight = '' is invalid: expected a number in [0, 1]; fix or remove that row
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import NotFoundError, ValidationError

__all__ = ["EdgeCSVError", "EdgeRow", "iter_edge_csv", "read_edge_csv", "read_node_file"]


@dataclass(frozen=True, slots=True)
class EdgeRow:
    """One data row of an edge CSV: its 1-based line number, endpoints and weight (None if no column)."""

    line: int
    source: str
    target: str
    weight: float | None


class EdgeCSVError(ValidationError):
    """A malformed edge-CSV row; ``path`` and ``line`` say where, the message says what to fix."""

    def __init__(self, path: str, line: int, field: str, value: object, expected: str) -> None:
        super().__init__("edge_csv", field, value, expected)
        self.path = path
        self.line = line
        self.args = (
            f"{path}, line {line}: {field} = {value!r} is invalid: expected {expected}; "
            "fix or remove that row",
        )


_HEADERS = (["source", "target"], ["source", "target", "weight"])


def iter_edge_csv(path: str | os.PathLike[str]) -> Iterator[EdgeRow]:
    """Stream the rows of a ``source,target[,weight]`` CSV file, checking each one.

    The header is required (``source,target`` or ``source,target,weight``, any case). Ids and weights
    are stripped of surrounding spaces; blank lines are skipped. Self-loops and repeated pairs are not
    rejected here (the store keeps parallel edges).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (UTF-8, an optional byte-order mark is ignored).

    Yields
    ------
    EdgeRow
        ``line`` (1-based, the header is line 1), ``source``, ``target``, ``weight`` (a float in
        [0, 1], or None when the file has no weight column).

    Raises
    ------
    EdgeCSVError
        (a :class:`ValidationError`) naming the file and line of the first bad row: wrong header, a
        missing or extra column, an empty id, a weight that is not a number or not in [0, 1].
        Rows before it have already been yielded.
    NotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.csv"
    >>> _ = p.write_text("source,target,weight\\nrain,wet,0.9\\nwet,slip,x\\n")
    >>> rows = iter_edge_csv(p)
    >>> next(rows)
    EdgeRow(line=2, source='rain', target='wet', weight=0.9)
    >>> next(rows)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    omega_graph.edge_csv.EdgeCSVError: .../edges.csv, line 3: weight = 'x' is invalid: expected a number in [0, 1]; fix or remove that row
    """
    name = os.fspath(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # closed below
    except FileNotFoundError as err:
        raise NotFoundError("edge CSV file", name, "check the path") from err
    except IsADirectoryError as err:
        raise ValidationError("edge_csv", "path", name, "a CSV file, not a directory") from err
    with handle:
        reader = csv.reader(handle)
        line = 1
        try:
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header] not in _HEADERS:
                shown = ",".join(header) if header is not None else ""
                raise EdgeCSVError(name, 1, "header", shown, "'source,target' or 'source,target,weight'")
            width = len(header)
            line = reader.line_num + 1
            for row in reader:
                start, line = line, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                yield _edge_row(name, start, row, width)
        except csv.Error as err:
            raise EdgeCSVError(name, line, "row", str(err), "well-formed CSV") from err
        except UnicodeDecodeError as err:
            raise EdgeCSVError(name, line, "encoding", err.reason, "UTF-8 text") from err


def _edge_row(name: str, line: int, row: list[str], width: int) -> EdgeRow:
    if len(row) != width:
        cols = "source,target" + (",weight" if width == 3 else "")
        raise EdgeCSVError(name, line, "row", ",".join(row), f"{width} columns ({cols}), found {len(row)}")
    source, target = row[0].strip(), row[1].strip()
    if not source:
        raise EdgeCSVError(name, line, "source", row[0], "a non-empty memory id")
    if not target:
        raise EdgeCSVError(name, line, "target", row[1], "a non-empty memory id")
    if width == 2:
        return EdgeRow(line, source, target, None)
    text = row[2].strip()
    try:
        weight = float(text)
    except ValueError:
        raise EdgeCSVError(name, line, "weight", text, "a number in [0, 1]") from None
    if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
        raise EdgeCSVError(name, line, "weight", text, "a number in [0, 1]")
    return EdgeRow(line, source, target, weight)


def read_edge_csv(path: str | os.PathLike[str]) -> list[EdgeRow]:
    """All rows of an edge CSV file (see :func:`iter_edge_csv`), checked before anything is returned.

    Examples
    --------
    >>> from omega_graph.sample import default_data_dir
    >>> [(r.source, r.target, r.weight) for r in read_edge_csv(default_data_dir() / "asia.csv")][:2]
    [('asia', 'tub', 0.04), ('bronc', 'dysp', 0.45)]
    """
    return list(iter_edge_csv(path))


def read_node_file(path: str | os.PathLike[str]) -> list[str]:
    """The node names of ``nodes/<network>.txt``, one per non-blank line, in file order.

    Examples
    --------
    >>> from omega_graph.sample import default_data_dir
    >>> read_node_file(default_data_dir() / "nodes" / "asia.txt")[:3]
    ['asia', 'tub', 'smoke']
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise NotFoundError("node file", os.fspath(path), "check the path") from err
    return [s for s in (line.strip() for line in text.splitlines()) if s]
