"""Shared fixtures: stores (in memory, on disk), copies of the original crate's files, record factories.

Everything here is real: real SQLite files under ``tmp_path``, the real store, no mocks.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from omega_graph.models import (
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
    pack_f32,
)
from omega_graph.store import OmegaStore

# Hypothesis: no per-example deadline (first examples pay for imports and file creation on a shared
# 2-core machine); `HYPOTHESIS_PROFILE=thorough` runs many more examples.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _graph_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The persisted graph snapshots of the test stores go to a folder of the run, not the user's."""
    before = os.environ.get("OMEGA_GRAPH_CACHE_DIR")
    os.environ["OMEGA_GRAPH_CACHE_DIR"] = str(tmp_path_factory.mktemp("graph-cache"))
    yield
    if before is None:
        os.environ.pop("OMEGA_GRAPH_CACHE_DIR", None)
    else:
        os.environ["OMEGA_GRAPH_CACHE_DIR"] = before


#: Where the original crate's files may live: an override, a copy in the repo, the shared folder.
COMPAT_CANDIDATES = [Path(p) for p in [os.environ.get("OMEGA_COMPAT_DIR", "")] if p] + [
    REPO / "tests" / "compat",
    REPO / "data" / "compat",
    REPO.parent / "shared" / "compat",
]
COMPAT_FILES = ("omega-rust-asia.db", "omega-rust-sachs_cdt_consensus.db")
DATA_CANDIDATES = [REPO / "data", REPO.parent / "shared" / "data"]

#: The crate's tables in a fixed order, with the column lists the crate writes.
CRATE_TABLES = (
    "memories",
    "vectors",
    "reflexion_episodes",
    "skills",
    "causal_edges",
    "architectures",
    "intelligences",
)


def compat_dir() -> Path:
    """The folder holding the original crate's files, or skip (fail under CI) if there is none."""
    for cand in COMPAT_CANDIDATES:
        if all((cand / f).is_file() for f in COMPAT_FILES):
            return cand
    msg = f"the original crate's files {COMPAT_FILES} were not found in {[str(c) for c in COMPAT_CANDIDATES]}"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg + "; set OMEGA_COMPAT_DIR")


def data_dir() -> Path:
    """The folder of real causal networks (``asia.csv``, ``nodes/asia.txt``...)."""
    for cand in DATA_CANDIDATES:
        if (cand / "asia.csv").is_file() and (cand / "nodes" / "asia.txt").is_file():
            return cand
    pytest.skip(f"no data folder with asia.csv among {[str(c) for c in DATA_CANDIDATES]}")


# ----- stores -----------------------------------------------------------------------------------------
@pytest.fixture
def run() -> Callable[..., Result]:
    """Run the ``omega-graph`` command line in this process: ``run("stats", db, "--json")``."""
    from omega_graph.cli import main

    runner = CliRunner()

    def invoke(*args: object) -> Result:
        return runner.invoke(main, [str(a) for a in args])

    return invoke


@pytest.fixture
def mem_store() -> Iterator[OmegaStore]:
    """An empty in-memory store, closed after the test."""
    store = OmegaStore.new_in_memory()
    yield store
    store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a new store file (not created)."""
    return tmp_path / "omega.db"


@pytest.fixture
def file_store(db_path: Path) -> Iterator[OmegaStore]:
    """An empty store on a real file under ``tmp_path``, closed after the test."""
    store = OmegaStore(db_path)
    yield store
    store.close()


@pytest.fixture(params=["memory", "file"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OmegaStore]:
    """Each test using it runs twice: on an in-memory store and on a file store."""
    store = OmegaStore.new_in_memory() if request.param == "memory" else OmegaStore(tmp_path / "any.db")
    yield store
    store.close()


@pytest.fixture
def compat_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Factory: copy one of the original crate's files into ``tmp_path`` (writable) and return the copy.

    ``compat_copy("omega-rust-asia.db")`` or the short form ``compat_copy("asia")``.
    """

    def copy(name: str) -> Path:
        if not name.endswith(".db"):
            name = f"omega-rust-{name}.db"
        src = compat_dir() / name
        dest = tmp_path / name
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o644)
        return dest

    return copy


# ----- records ----------------------------------------------------------------------------------------
@dataclass
class RecordFactory:
    """Valid records with fresh ids; any field can be overridden by keyword.

    Timestamps start at 1_764_000_000 and grow by one per record, so "newest first" orders are
    predictable unless a test overrides ``created_at``.
    """

    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _next(self) -> int:
        return next(self._seq)

    def memory(self, id: str | None = None, **kw: object) -> StoredMemory:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"mem-{n:05d}",
            "content": f"memory number {n}",
            "tier": n % 12 + 1,
            "importance": (n % 100) / 100,
            "embedding_blob": None,
            "created_at": 1_764_000_000 + n,
            "last_accessed": 1_764_000_000 + n,
        }
        values.update(kw)
        return StoredMemory(**values)  # type: ignore[arg-type]

    def skill(self, id: str | None = None, **kw: object) -> StoredSkill:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"skill-{n:05d}",
            "name": f"skill_{n}",
            "description": f"Skill number {n}",
            "trigger_pattern": f"do thing {n}",
            "success_count": 0,
            "last_used": None,
            "created_at": 1_764_000_000 + n,
        }
        values.update(kw)
        return StoredSkill(**values)  # type: ignore[arg-type]

    def architecture(self, id: str | None = None, **kw: object) -> StoredArchitecture:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"arch-{n:05d}",
            "name": f"Arch{n}",
            "paradigm": "neural",
            "substrate": "python",
            "fitness_json": '{"overall": 0.5}',
            "lineage_json": '{"generation": 0, "parent": null}',
            "created_at": 1_764_000_000 + n,
        }
        values.update(kw)
        return StoredArchitecture(**values)  # type: ignore[arg-type]

    def intelligence(self, arch_id: str, id: str | None = None, **kw: object) -> StoredIntelligence:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"intel-{n:05d}",
            "name": f"Agent{n}",
            "arch_id": arch_id,
            "maturity": 0.5,
            "capabilities_json": '["reasoning"]',
            "memories_json": "[]",
            "state_json": '{"status": "active"}',
            "created_at": 1_764_000_000 + n,
            "updated_at": 1_764_000_000 + n,
        }
        values.update(kw)
        return StoredIntelligence(**values)  # type: ignore[arg-type]

    def vector(
        self, memory_id: str, values: list[float] | None = None, id: str | None = None
    ) -> StoredVector:
        n = self._next()
        vals = values if values is not None else [float(n), 1.0, 0.5, -0.25]
        return StoredVector(id or f"vec-{n:05d}", memory_id, len(vals), pack_f32(vals))

    def reflexion(self, memory_id: str, id: str | None = None, **kw: object) -> StoredReflexionEpisode:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"refl-{n:05d}",
            "memory_id": memory_id,
            "trigger": f"anomaly {n}",
            "context": '{"source": "test"}',
            "action": "inspect",
            "outcome": "resolved",
            "created_at": 1_764_000_000 + n,
        }
        values.update(kw)
        return StoredReflexionEpisode(**values)  # type: ignore[arg-type]

    def edge(self, from_memory: str, to_memory: str, id: str | None = None, **kw: object) -> StoredCausalEdge:
        n = self._next()
        values: dict[str, object] = {
            "id": id or f"edge-{n:05d}",
            "from_memory": from_memory,
            "to_memory": to_memory,
            "weight": 0.5,
            "edge_type": "causes",
            "created_at": 1_764_100_000 + n,
        }
        values.update(kw)
        return StoredCausalEdge(**values)  # type: ignore[arg-type]


@pytest.fixture
def records() -> RecordFactory:
    """Factory of valid records: ``records.memory()``, ``records.edge("a", "b", weight=0.9)``..."""
    return RecordFactory()


@pytest.fixture
def populated(mem_store: OmegaStore, records: RecordFactory) -> OmegaStore:
    """An in-memory store holding one or more records of every kind (3 memories, 2 edges, ...)."""
    for mid in ("m-a", "m-b", "m-c"):
        mem_store.store_memory(records.memory(mid))
    mem_store.store_vector(records.vector("m-a", id="v-a"))
    mem_store.store_reflexion(records.reflexion("m-a", id="r-a"))
    mem_store.store_causal_edge(records.edge("m-a", "m-b", id="e-ab"))
    mem_store.store_causal_edge(records.edge("m-b", "m-c", id="e-bc"))
    mem_store.store_skill(records.skill("s-1"))
    mem_store.store_architecture(records.architecture("arch-1"))
    mem_store.store_intelligence(records.intelligence("arch-1", id="intel-1"))
    return mem_store


# ----- inspecting files with plain sqlite3 ------------------------------------------------------------
def db_dump(conn: sqlite3.Connection) -> list[str]:
    """Every schema object and row (FTS shadow tables included) as SQL text: equal dumps, equal content."""
    return list(conn.iterdump())


def file_dump(path: str | os.PathLike[str]) -> list[str]:
    """:func:`db_dump` of a file's committed state, read through a separate plain connection."""
    conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    try:
        return db_dump(conn) + [f"user_version={conn.execute('PRAGMA user_version').fetchone()[0]}"]
    finally:
        conn.close()


def table_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """The crate's tables, every row with its rowid, in rowid order."""
    return {t: conn.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall() for t in CRATE_TABLES}


@pytest.fixture(name="dump")
def dump_fixture() -> Callable[[sqlite3.Connection], list[str]]:
    """``dump(conn)``: the whole content of a connection's database as SQL text (see :func:`db_dump`)."""
    return db_dump


@pytest.fixture(name="file_dump")
def file_dump_fixture() -> Callable[[str | os.PathLike[str]], list[str]]:
    """``file_dump(path)``: the committed content of a file, read by a separate plain connection."""
    return file_dump


@pytest.fixture(name="crate_rows")
def crate_rows_fixture() -> Callable[[sqlite3.Connection], dict[str, list[tuple]]]:
    """``crate_rows(conn)``: every row (with rowid) of the crate's seven tables, in rowid order."""
    return table_rows


@pytest.fixture(name="compat_folder")
def compat_folder_fixture() -> Path:
    """The folder of files written by the original crate (skips, or fails under CI, if absent)."""
    return compat_dir()


@pytest.fixture(name="data_folder")
def data_folder_fixture() -> Path:
    """The folder of real causal networks (``asia.csv``, ``nodes/asia.txt``, ...)."""
    return data_dir()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One real Spark session in local mode (``local[2]``) for the whole run.

    Skips where PySpark or Java is missing, except under ``CI=true``, where that is a failure:
    ``make test`` installs both (the ``spark`` extra and Debian's Java runtime).
    """
    from omega_graph.errors import MissingDependencyError
    from omega_graph.fleet import session

    try:
        spark = session("local[2]", app_name="omega-graph tests")
    except MissingDependencyError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(err))
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A real headless Chromium (Debian's) driven by Playwright; skips where it cannot run, except
    under ``CI=true`` (see ``tests/test_report_browser.py``: ``unavailable``, ``chromium_path``)."""
    from test_report_browser import CHROMIUM_ARGS, chromium_path, unavailable

    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium at /usr/bin/chromium or on PATH")
    with sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        except Error as err:
            unavailable(f"Chromium at {executable} did not start: {str(err).splitlines()[0]}")
        yield launched
        launched.close()
