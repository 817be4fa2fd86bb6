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

Besides those, only the writer's own entries: ``OUT/.lock`` (held while an export runs),
``OUT/.staging/`` (files not committed yet) and ``OUT/.manifest-*.tmp`` (a manifest being written).

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

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConflictError, DatabaseError, NotFoundError, ValidationError
from ..schema import CRATE_TABLES

__all__ = [
    "FORMAT",
    "LOCK",
    "MANIFEST",
    "STAGING",
    "TABLES",
    "VERSION",
    "Manifest",
    "StoreEntry",
    "files_present",
    "locked",
    "manifest_text",
    "partition_dir",
    "prepare",
    "read_manifest",
    "remove_files",
    "table_files",
    "write_manifest",
]

#: The seven crate tables, in the crate's order: one dataset each.
TABLES: tuple[str, ...] = tuple(CRATE_TABLES)
MANIFEST = "manifest.json"
FORMAT = "omega-graph fleet"
VERSION = 1
#: The writer's hidden folder inside OUT: a store's files before they are committed.
STAGING = ".staging"
#: The writer's lock file inside OUT (one export at a time).
LOCK = ".lock"


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


def manifest_text(manifest: Manifest) -> str:
    """The manifest as JSON text, one store (and one skipped file) per line.

    Each line goes through the C encoder (``json.dumps`` without ``indent``): a 1,000-store
    manifest takes milliseconds, not the pure-Python pretty printer's tenths of a second.

    >>> print(manifest_text(Manifest()))
    {"format": "omega-graph fleet", "version": 1,
     "tables": ["memories", "vectors", "reflexion_episodes", "skills", "causal_edges", "architectures", "intelligences"],
     "stores": [
     ],
     "skipped": [
     ]}
    <BLANKLINE>
    """
    data = manifest.as_json()
    head = ", ".join(f"{json.dumps(k)}: {json.dumps(data[k])}" for k in ("format", "version"))
    lines = [f"{{{head},", f' "tables": {json.dumps(data["tables"])},']
    for key, end in (("stores", " ],"), ("skipped", " ]}")):
        lines.append(f" {json.dumps(key)}: [")
        if data[key]:
            lines.append(",\n".join(f"  {json.dumps(item)}" for item in data[key]))
        lines.append(end)
    return "\n".join(lines) + "\n"


def write_manifest(out: str | os.PathLike[str], manifest: Manifest) -> None:
    """Write ``OUT/manifest.json`` atomically (a temporary file in ``OUT``, flushed, then renamed)."""
    out = os.fspath(out)
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(manifest_text(manifest))
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


# ----- the writer's side: keeping the directory to what the manifest lists -------------------------------
def _ours(name: str) -> bool:
    return (
        name in TABLES
        or name in (MANIFEST, STAGING, LOCK)
        or (name.startswith(".manifest-") and name.endswith(".tmp"))
    )


@contextlib.contextmanager
def locked(out: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``OUT/.lock`` (an advisory lock) for a write: a second writer fails at once."""
    out = os.fspath(out)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer per directory is then the caller's rule
        yield
        return
    with open(os.path.join(out, LOCK), "a") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            raise ConflictError(
                f"another export is writing to {out!r}; wait for it to finish, or export elsewhere"
            ) from err
        yield


def prepare(out: str | os.PathLike[str]) -> Manifest:
    """Check that ``out`` is an export directory (or holds nothing else), remove every file its
    manifest does not list (an interrupted write's staging folder and part files), return the manifest.

    Raises
    ------
    ValidationError
        ``out`` has no manifest and holds something other than an export's entries.
    """
    out = os.fspath(out)
    has_manifest = os.path.isfile(os.path.join(out, MANIFEST))
    foreign = sorted(n for n in os.listdir(out) if not _ours(n))
    if foreign and not has_manifest:
        raise ValidationError(
            "fleet export",
            "out",
            out,
            f"a new or empty directory, or an earlier export (it holds {foreign[:3]})",
        )
    manifest = read_manifest(out)
    listed = {os.path.normpath(os.path.join(out, rel)) for s in manifest.stores for rel in s.files.values()}
    shutil.rmtree(os.path.join(out, STAGING), ignore_errors=True)
    for name in os.listdir(out):
        if name.startswith(".manifest-") and name.endswith(".tmp"):
            os.remove(os.path.join(out, name))
    for table in TABLES:
        root = os.path.join(out, table)
        if not os.path.isdir(root):
            continue
        for top, _dirs, files in os.walk(root, topdown=False):
            for name in files:
                path = os.path.normpath(os.path.join(top, name))
                if path not in listed:
                    os.remove(path)
            if top != root and not os.listdir(top):
                os.rmdir(top)
    return manifest


def remove_files(out: str | os.PathLike[str], files: Iterable[str]) -> None:
    """Delete ``files`` (relative to ``out``, or absolute) and their partition folders once empty."""
    for rel in files:
        path = os.path.join(os.fspath(out), rel)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))


def files_present(out: str | os.PathLike[str], entry: StoreEntry) -> bool:
    """True when ``entry`` lists a file for each table and every one exists."""
    return set(entry.files) == set(TABLES) and all(
        os.path.isfile(os.path.join(os.fspath(out), rel)) for rel in entry.files.values()
    )
