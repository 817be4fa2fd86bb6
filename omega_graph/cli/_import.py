"""``import-edges``: a ``source,target[,weight]`` CSV file into a store, memories created as needed.

The import is all or nothing: it runs in one transaction (a new database file is built beside its
final path and moved into place at the end), so a malformed row leaves the store as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..edge_csv import EdgeRow, iter_edge_csv
from ..models import StoredCausalEdge, StoredMemory

if TYPE_CHECKING:
    from ..store import OmegaStore

__all__ = ["BATCH", "DEFAULT_IMPORTANCE", "DEFAULT_TIER", "ImportSummary", "count_data_lines", "import_edges"]

#: Rows per bulk write.
BATCH = 20_000
#: Tier and importance of the memories an import creates (unless told otherwise).
DEFAULT_TIER = 1
DEFAULT_IMPORTANCE = 0.5
_SQL_CHUNK = 500  # ids per IN (...) lookup


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: edges written (and how many replaced an edge of the same id), memories."""

    edges: int
    edges_replaced: int
    memories_created: int
    memories_existing: int


def count_data_lines(path: str | os.PathLike[str]) -> int:
    """Lines after the header (an upper bound on the rows, for a progress bar's total).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("source,target\\na,b\\nb,c\\n")
    >>> count_data_lines(p)
    2
    """
    with open(path, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size:
            handle.seek(size - 1)
            lines += handle.read(1) != b"\n"  # a last line without a newline
    return max(lines - 1, 0)


def _existing(store: OmegaStore, table: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    conn = store.connection
    for lo in range(0, len(ids), _SQL_CHUNK):
        chunk = ids[lo : lo + _SQL_CHUNK]
        marks = ", ".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk))
    return found


def _check_weight_column(path: str, first: EdgeRow, weight: float | None) -> None:
    if first.weight is None and weight is None:
        raise click.ClickException(
            f"{path} has no weight column (header source,target); pass --weight W "
            "(a strength in [0, 1]) to give every edge that weight, or add a weight column"
        )
    if first.weight is not None and weight is not None:
        raise click.ClickException(
            f"{path} has a weight column; --weight is only for files without one: drop --weight"
        )


def import_edges(
    store: OmegaStore,
    csv_path: str | os.PathLike[str],
    *,
    edge_type: str = "causes",
    weight: float | None = None,
    id_prefix: str | None = None,
    memory_prefix: str = "",
    tier: int = DEFAULT_TIER,
    importance: float = DEFAULT_IMPORTANCE,
    timestamp: int,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ImportSummary:
    """Import every row of ``csv_path`` into ``store`` in one transaction; return what was done.

    Edge ``i`` (data rows counted from 0) gets the id ``f"{id_prefix}{i:06d}"``, default prefix
    ``"<file stem>:edge-"``; re-importing a file updates its edges in place. An endpoint ``node``
    becomes the memory ``memory_prefix + node``; a memory that does not exist yet is created with
    content ``node``, the given tier and importance, no embedding, and ``created_at`` =
    ``last_accessed`` = ``timestamp``. Existing memories are left unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from omega_graph import OmegaStore
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rain.csv"
    >>> _ = p.write_text("source,target,weight\\nrain,wet,0.9\\nwet,slip,0.4\\n")
    >>> with OmegaStore.new_in_memory() as store:
    ...     import_edges(store, p, timestamp=1764000000)
    ...     [e.id for e in store.get_causal_edges_from("wet")]
    ImportSummary(edges=2, edges_replaced=0, memories_created=3, memories_existing=0)
    ['rain:edge-000001']
    """
    name = os.fspath(csv_path)
    prefix = f"{Path(name).stem}:edge-" if id_prefix is None else id_prefix
    rows: Iterable[EdgeRow] = iter_edge_csv(csv_path)
    known: set[str] = set()
    edges = replaced = created = existing = 0
    if progress is not None:
        progress(0, total)
    with store.transaction():
        first = True
        while batch := list(islice(rows, BATCH)):
            if first:
                _check_weight_column(name, batch[0], weight)
                first = False
            order: dict[str, str] = {}  # memory id -> node name, in order of first appearance
            for row in batch:
                for node in (row.source, row.target):
                    mid = memory_prefix + node
                    if mid not in known and mid not in order:
                        order[mid] = node
            found = _existing(store, "memories", list(order))
            new = [
                StoredMemory(mid, node, tier, importance, None, timestamp, timestamp)
                for mid, node in order.items()
                if mid not in found
            ]
            if new:
                store.store_memories(new)
            created += len(new)
            existing += len(found)
            known.update(order)
            records = [
                StoredCausalEdge(
                    f"{prefix}{edges + j:06d}",
                    memory_prefix + row.source,
                    memory_prefix + row.target,
                    row.weight if row.weight is not None else float(weight),  # type: ignore[arg-type]
                    edge_type,
                    timestamp,
                )
                for j, row in enumerate(batch)
            ]
            replaced += len(_existing(store, "causal_edges", [e.id for e in records]))
            edges += store.store_causal_edges(records)
            if progress is not None:
                progress(edges, max(total, edges))
    return ImportSummary(edges, replaced, created, existing)
