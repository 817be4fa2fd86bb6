"""Where a fleet export lives on disk, and its manifest: the one contract between its writer and readers.

Layout of an export directory ``OUT``::

    OUT/manifest.json
    OUT/<table>/store=<store_id>/part-<token>.parquet      (one file per table and store)

- ``<table>`` is each of the crate's seven tables (:data:`TABLES`), with the columns and types DuckDB
  reads from the store (TEXT → VARCHAR, INTEGER → BIGINT, REAL → DOUBLE, BLOB → BLOB; a value of
  the wrong SQLite type is written as NULL). The ``store`` column is not inside the files: it is the
  Hive partition, read from the path. Readers must read it as a string (DuckDB
  ``hive_types={'store': 'VARCHAR'}``, Spark ``partitionColumnTypeInference.enabled=false``).
- ``<store_id>`` is the store's identity (``OmegaStore.identity``, a random id kept in the store),
  so it survives renames and moves; a restored store forks a new history and gets a new id.
- ``<token>`` names one export of that store. The manifest is the commit point: a reader takes
  exactly the files the manifest lists (:func:`table_files`), so a file that is being written, or
  left behind by an interrupted export, is never read.

The manifest (JSON, written atomically: a temporary file renamed over the old one)::

    {"format": "omega-graph fleet", "version": 1, "tables": [...],
     "stores": [{"store_id", "path", "schema_version", "counts": {table: rows},
                 "exported_at" (Unix seconds), "compared": {...what decided "changed"...},
                 "files": {table: path relative to OUT}}, ...]   (sorted by store_id)
     "skipped": [{"path", "reason"}, ...]}                         (the last export's)

Examples
--------
>>> import tempfile
>>> out = tempfile.mkdtemp()
>>> read_manifest(out).stores
()
>>> partition_dir(out, "memories", "ab12").endswith("memories/store=ab12")
True
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DatabaseError, NotFoundError
from ..schema import CRATE_TABLES

__all__ = [
    "FORMAT",
    "MANIFEST",
    "TABLES",
    "VERSION",
    "Manifest",
    "StoreEntry",
    "partition_dir",
    "read_manifest",
    "table_files",
    "write_manifest",
]

#: The seven crate tables, in the crate's order: one dataset each.
TABLES: tuple[str, ...] = tuple(CRATE_TABLES)
MANIFEST = "manifest.json"
FORMAT = "omega-graph fleet"
VERSION = 1


@dataclass(frozen=True)
class StoreEntry:
    """One exported store, as the manifest lists it."""

    store_id: str
    path: str
    schema_version: int
    counts: Mapping[str, int]
    exported_at: int
    compared: Mapping[str, Any]
    files: Mapping[str, str]  # table -> path relative to the export directory

    def as_json(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "path": self.path,
            "schema_version": self.schema_version,
            "counts": dict(self.counts),
            "exported_at": self.exported_at,
            "compared": dict(self.compared),
            "files": dict(self.files),
        }


@dataclass(frozen=True)
class Manifest:
    """The stores an export directory holds (sorted by ``store_id``) and the last export's skips."""

    stores: tuple[StoreEntry, ...] = ()
    skipped: tuple[Mapping[str, str], ...] = field(default_factory=tuple)

    def by_id(self) -> dict[str, StoreEntry]:
        return {s.store_id: s for s in self.stores}

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "tables": list(TABLES),
            "stores": [s.as_json() for s in sorted(self.stores, key=lambda s: s.store_id)],
            "skipped": [dict(s) for s in self.skipped],
        }


def partition_dir(out: str | os.PathLike[str], table: str, store_id: str) -> str:
    """``OUT/<table>/store=<store_id>``."""
    return os.path.join(os.fspath(out), table, f"store={store_id}")


def read_manifest(out: str | os.PathLike[str], *, required: bool = False) -> Manifest:
    """The manifest of export directory ``out``; an empty one if there is none yet (unless ``required``)."""
    path = os.path.join(os.fspath(out), MANIFEST)
    if not os.path.exists(path):
        if required:
            raise NotFoundError(
                "fleet export", os.fspath(out), "give a directory written by `omega-graph fleet export`"
            )
        return Manifest()
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if raw.get("format") != FORMAT or raw.get("version") != VERSION:
            raise ValueError(f"format {raw.get('format')!r} version {raw.get('version')!r}")
        stores = tuple(
            StoreEntry(
                store_id=str(s["store_id"]),
                path=str(s["path"]),
                schema_version=int(s["schema_version"]),
                counts={str(k): int(v) for k, v in s["counts"].items()},
                exported_at=int(s["exported_at"]),
                compared=dict(s["compared"]),
                files={str(k): str(v) for k, v in s["files"].items()},
            )
            for s in raw["stores"]
        )
        skipped = tuple({str(k): str(v) for k, v in s.items()} for s in raw.get("skipped", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise DatabaseError(
            f"{path!r} is not a fleet manifest this version reads ({err}); export the fleet again "
            "into an empty directory"
        ) from err
    return Manifest(tuple(sorted(stores, key=lambda s: s.store_id)), skipped)


def write_manifest(out: str | os.PathLike[str], manifest: Manifest) -> None:
    """Write ``OUT/manifest.json`` atomically (a temporary file in ``OUT``, flushed, then renamed)."""
    out = os.fspath(out)
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest.as_json(), f, indent=1, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(out, MANIFEST))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def table_files(
    out: str | os.PathLike[str], table: str, manifest: Manifest, stores: Sequence[str] | None = None
) -> list[str]:
    """Absolute paths of ``table``'s files for the manifest's stores (or the given ``stores``), by store id."""
    if table not in TABLES:
        raise NotFoundError("table", table, f"one of {', '.join(TABLES)}")
    keep = set(stores) if stores is not None else None
    root = os.path.abspath(os.fspath(out))
    return [os.path.join(root, s.files[table]) for s in manifest.stores if keep is None or s.store_id in keep]
