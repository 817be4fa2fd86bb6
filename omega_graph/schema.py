"""The whole schema in one place: the original crate's tables and omega-graph's numbered migrations.

The crate's tables, columns and types are kept exactly (files stay readable and writable by it).
omega-graph adds only side tables, indexes and triggers written in plain SQL, so the crate's own
statements keep working on a migrated file. The applied version is ``PRAGMA user_version``.

Migrations
----------
1. ``crate_tables``: the original crate's seven tables and indexes (``CREATE ... IF NOT EXISTS``, so a
   file the crate wrote is adopted in place).
2. ``memory_search_and_edge_log``: an FTS5 index over memory content, brought up to date from a
   trigger-fed list of changed rows (robust to the crate's ``INSERT OR REPLACE``, whose implicit
   delete fires no trigger), and a log of updated or deleted causal edges that lets a graph snapshot
   catch up without a full reload.
3. ``memory_log``: a log of memories whose id, tier or importance changed or that were deleted, so a
   snapshot's refresh also follows node attributes changed in place.
4. ``store_identity``: one row naming this store's history (a random id), so a derived cache made
   from one file is never applied to another: a new store gets one, ``OmegaStore.restore`` gives the
   restored file a new one (its history forks from the backup's).
5. ``edge_beliefs``: what the store believes about each causal edge over time, in side tables keyed
   by the edge id: belief events (validity windows set, invalidations, reinstatements), evidence
   (supporting memories, reflexion episodes, notes) and a log of weight changes. The crate's
   ``INSERT OR REPLACE`` of an edge keeps them (its implicit delete fires no trigger); a real delete
   of the edge (a cascade from its memory included) removes them; evidence goes with its memory or
   episode.

Examples
--------
>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> migrate(conn)
(0, 5)
>>> migrate(conn)
(5, 5)
>>> sorted(CRATE_TABLES) == sorted(t for t in table_names(conn) if not t.startswith("omega_"))
True
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .errors import SchemaError

__all__ = [
    "BELIEF_TABLES",
    "CRATE_TABLES",
    "IDENTITY_SQL",
    "LOG_TRIGGERS",
    "MIGRATIONS",
    "NEW_IDENTITY_SQL",
    "SCHEMA_VERSION",
    "Migration",
    "check_usable",
    "migrate",
    "table_names",
    "user_version",
]

#: The original crate's tables and their columns, in order.
CRATE_TABLES: dict[str, tuple[str, ...]] = {
    "memories": ("id", "content", "tier", "importance", "embedding_blob", "created_at", "last_accessed"),
    "vectors": ("id", "memory_id", "dimensions", "data_blob"),
    "reflexion_episodes": ("id", "memory_id", "trigger", "context", "action", "outcome", "created_at"),
    "skills": ("id", "name", "description", "trigger_pattern", "success_count", "last_used", "created_at"),
    "causal_edges": ("id", "from_memory", "to_memory", "weight", "edge_type", "created_at"),
    "architectures": ("id", "name", "paradigm", "substrate", "fitness_json", "lineage_json", "created_at"),
    "intelligences": (
        "id", "name", "arch_id", "maturity", "capabilities_json", "memories_json", "state_json",
        "created_at", "updated_at",
    ),
}  # fmt: skip

_CRATE_DDL = """
CREATE TABLE IF NOT EXISTS memories (
    id TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    tier INTEGER NOT NULL,
    importance REAL NOT NULL,
    embedding_blob BLOB,
    created_at INTEGER NOT NULL,
    last_accessed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_memories_tier ON memories(tier);
CREATE INDEX IF NOT EXISTS idx_memories_importance ON memories(importance DESC);
CREATE TABLE IF NOT EXISTS vectors (
    id TEXT PRIMARY KEY,
    memory_id TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    data_blob BLOB NOT NULL,
    FOREIGN KEY(memory_id) REFERENCES memories(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_vectors_memory ON vectors(memory_id);
CREATE TABLE IF NOT EXISTS reflexion_episodes (
    id TEXT PRIMARY KEY,
    memory_id TEXT NOT NULL,
    trigger TEXT NOT NULL,
    context TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    FOREIGN KEY(memory_id) REFERENCES memories(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_reflexion_memory ON reflexion_episodes(memory_id);
CREATE TABLE IF NOT EXISTS skills (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    trigger_pattern TEXT NOT NULL,
    success_count INTEGER NOT NULL DEFAULT 0,
    last_used INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_skills_pattern ON skills(trigger_pattern);
CREATE INDEX IF NOT EXISTS idx_skills_success ON skills(success_count DESC);
CREATE TABLE IF NOT EXISTS causal_edges (
    id TEXT PRIMARY KEY,
    from_memory TEXT NOT NULL,
    to_memory TEXT NOT NULL,
    weight REAL NOT NULL,
    edge_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    FOREIGN KEY(from_memory) REFERENCES memories(id) ON DELETE CASCADE,
    FOREIGN KEY(to_memory) REFERENCES memories(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_causal_from ON causal_edges(from_memory);
CREATE INDEX IF NOT EXISTS idx_causal_to ON causal_edges(to_memory);
CREATE TABLE IF NOT EXISTS architectures (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    paradigm TEXT NOT NULL,
    substrate TEXT NOT NULL,
    fitness_json TEXT NOT NULL,
    lineage_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_architectures_paradigm ON architectures(paradigm);
CREATE TABLE IF NOT EXISTS intelligences (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    arch_id TEXT NOT NULL,
    maturity REAL NOT NULL,
    capabilities_json TEXT NOT NULL,
    memories_json TEXT NOT NULL,
    state_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY(arch_id) REFERENCES architectures(id) ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS idx_intelligences_arch ON intelligences(arch_id);
CREATE INDEX IF NOT EXISTS idx_intelligences_maturity ON intelligences(maturity DESC);
"""

# Full-text search: an FTS5 index keyed by the memory's rowid. Triggers do not feed it directly:
# FTS5 flushes its pending index data at every statement inside a transaction, which made each
# indexed insert cost ~40 µs. Instead, cheap triggers note the rowid of every inserted, updated or
# deleted memory in `omega_memory_fts_dirty`, and the store brings the index up to date in one bulk
# statement before a search. The crate's INSERT OR REPLACE deletes the old row without firing a
# delete trigger; its old index entry then points at a rowid that no longer holds that text, so
# searches join back to `memories` and compare the content.
#
# Causal edges: inserts are found by rowid (a new row always gets a rowid above the snapshot's
# maximum, REPLACE included, because SQLite picks it before deleting the conflicting row); updates
# and deletes (cascades from a deleted memory included) are logged with the edge's rowid, so a
# refresh also rescans rowids freed at the tail that a later insert may reuse.
_OMEGA_V2_DDL = """
CREATE VIRTUAL TABLE IF NOT EXISTS omega_memory_fts USING fts5(content, tokenize='porter unicode61');
CREATE TABLE IF NOT EXISTS omega_memory_fts_dirty (memory_rowid INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS omega_memory_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO omega_memory_fts_dirty(memory_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS omega_memory_fts_update AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO omega_memory_fts_dirty(memory_rowid) VALUES (old.rowid);
    INSERT INTO omega_memory_fts_dirty(memory_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS omega_memory_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO omega_memory_fts_dirty(memory_rowid) VALUES (old.rowid);
END;
INSERT INTO omega_memory_fts_dirty(memory_rowid) SELECT rowid FROM memories;

CREATE TABLE IF NOT EXISTS omega_edge_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    edge_id TEXT NOT NULL,
    edge_rowid INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('update', 'delete'))
);
-- SQLite creates this row lazily the first time a statement that may log is prepared (even one
-- that changes nothing); creating it here keeps the file unchanged by such no-op statements.
INSERT INTO sqlite_sequence(name, seq)
    SELECT 'omega_edge_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'omega_edge_log');
CREATE TRIGGER IF NOT EXISTS omega_edge_log_update AFTER UPDATE ON causal_edges BEGIN
    INSERT INTO omega_edge_log(edge_id, edge_rowid, op) VALUES (old.id, old.rowid, 'delete');
    INSERT INTO omega_edge_log(edge_id, edge_rowid, op) VALUES (new.id, new.rowid, 'update');
END;
CREATE TRIGGER IF NOT EXISTS omega_edge_log_delete AFTER DELETE ON causal_edges BEGIN
    INSERT INTO omega_edge_log(edge_id, edge_rowid, op) VALUES (old.id, old.rowid, 'delete');
END;
"""

# Version 3: a log of memories whose id, tier or importance changed, or that were deleted, so a graph
# snapshot's refresh updates node attributes in place instead of re-reading every memory. Only those
# columns: content and last_accessed change often and no snapshot holds them. A change of id or
# rowid logs the old rowid as deleted (a refresh then re-reads the memory list).
_OMEGA_V3_DDL = """
CREATE TABLE IF NOT EXISTS omega_memory_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_rowid INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('update', 'delete'))
);
INSERT INTO sqlite_sequence(name, seq)
    SELECT 'omega_memory_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'omega_memory_log');
CREATE TRIGGER IF NOT EXISTS omega_memory_log_update AFTER UPDATE OF id, tier, importance ON memories BEGIN
    INSERT INTO omega_memory_log(memory_rowid, op)
        SELECT old.rowid, 'delete' WHERE old.id IS NOT new.id OR old.rowid IS NOT new.rowid;
    INSERT INTO omega_memory_log(memory_rowid, op) VALUES (new.rowid, 'update');
END;
CREATE TRIGGER IF NOT EXISTS omega_memory_log_delete AFTER DELETE ON memories BEGIN
    INSERT INTO omega_memory_log(memory_rowid, op) VALUES (old.rowid, 'delete');
END;
"""


# Version 4: the store's identity. Derived caches (the persisted graph snapshot) are keyed by it and
# by the log positions; a file with another identity, or whose identity changed, is never caught up
# from a cache of the old one. Plain SQL: randomblob() is built into SQLite.
_OMEGA_V4_DDL = """
CREATE TABLE IF NOT EXISTS omega_store_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    identity TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO omega_store_identity(id, identity, created_at)
    SELECT 1, lower(hex(randomblob(16))), CAST(strftime('%s', 'now') AS INTEGER)
    WHERE NOT EXISTS (SELECT 1 FROM omega_store_identity);
"""

# Version 5: beliefs about edges over time (see the module docstring). Keyed by the edge's id, not its
# rowid, and without foreign keys: the crate's INSERT OR REPLACE deletes and re-inserts the row (a
# cascade would fire, a trigger does not), and the beliefs must survive it. Times are Unix seconds.
# ``at`` is when the event holds (an invalidation's date), ``recorded_at`` when it was written.
_OMEGA_V5_DDL = """
CREATE TABLE IF NOT EXISTS omega_edge_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    edge_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('validity_set', 'invalidated', 'reinstated')),
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    reason TEXT,
    superseded_by TEXT,
    valid_from INTEGER,
    valid_to INTEGER
);
CREATE INDEX IF NOT EXISTS omega_edge_events_edge ON omega_edge_events(edge_id, seq);
CREATE TABLE IF NOT EXISTS omega_edge_evidence (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    edge_id TEXT NOT NULL,
    memory_id TEXT,
    reflexion_id TEXT,
    note TEXT,
    added_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS omega_edge_evidence_edge ON omega_edge_evidence(edge_id);
CREATE INDEX IF NOT EXISTS omega_edge_evidence_memory ON omega_edge_evidence(memory_id);
CREATE INDEX IF NOT EXISTS omega_edge_evidence_reflexion ON omega_edge_evidence(reflexion_id);
CREATE TABLE IF NOT EXISTS omega_edge_weight_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    edge_id TEXT NOT NULL,
    old_weight REAL,
    new_weight REAL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS omega_edge_weight_log_edge ON omega_edge_weight_log(edge_id);
INSERT INTO sqlite_sequence(name, seq)
    SELECT t.name, 0 FROM (SELECT 'omega_edge_events' AS name UNION ALL SELECT 'omega_edge_evidence'
                          UNION ALL SELECT 'omega_edge_weight_log') AS t
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = t.name);
CREATE TRIGGER IF NOT EXISTS omega_edge_weight_change AFTER UPDATE OF weight ON causal_edges
    WHEN old.weight IS NOT new.weight BEGIN
    INSERT INTO omega_edge_weight_log(edge_id, old_weight, new_weight, at)
        VALUES (new.id, old.weight, new.weight, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER IF NOT EXISTS omega_edge_beliefs_delete AFTER DELETE ON causal_edges BEGIN
    DELETE FROM omega_edge_events WHERE edge_id = old.id;
    DELETE FROM omega_edge_evidence WHERE edge_id = old.id;
    DELETE FROM omega_edge_weight_log WHERE edge_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS omega_edge_beliefs_rekey AFTER UPDATE OF id ON causal_edges
    WHEN old.id IS NOT new.id BEGIN
    UPDATE omega_edge_events SET edge_id = new.id WHERE edge_id = old.id;
    UPDATE omega_edge_evidence SET edge_id = new.id WHERE edge_id = old.id;
    UPDATE omega_edge_weight_log SET edge_id = new.id WHERE edge_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS omega_edge_evidence_memory_delete AFTER DELETE ON memories BEGIN
    DELETE FROM omega_edge_evidence WHERE memory_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS omega_edge_evidence_reflexion_delete AFTER DELETE ON reflexion_episodes BEGIN
    DELETE FROM omega_edge_evidence WHERE reflexion_id = old.id;
END;
"""

#: The side tables of migration 5 (beliefs about edges), which statistics read besides the crate's.
BELIEF_TABLES = ("omega_edge_events", "omega_edge_evidence", "omega_edge_weight_log")
#: The store's identity (one row; see omega_store_identity).
IDENTITY_SQL = "SELECT identity FROM omega_store_identity WHERE id = 1"
#: The triggers that feed the change logs: without them, writes bypass the logs.
LOG_TRIGGERS = ("omega_edge_log_update", "omega_edge_log_delete", "omega_memory_log_update",
                "omega_memory_log_delete")  # fmt: skip
#: Gives the store a new identity (after a restore, its history is no longer the one caches saw).
NEW_IDENTITY_SQL = (
    "UPDATE omega_store_identity SET identity = lower(hex(randomblob(16))), "
    "created_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = 1"
)


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` is the ``user_version`` after it is applied."""

    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "crate_tables", _CRATE_DDL),
    Migration(2, "memory_search_and_edge_log", _OMEGA_V2_DDL),
    Migration(3, "memory_log", _OMEGA_V3_DDL),
    Migration(4, "store_identity", _OMEGA_V4_DDL),
    Migration(5, "edge_beliefs", _OMEGA_V5_DDL),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def table_names(conn: sqlite3.Connection) -> list[str]:
    """Names of the ordinary and virtual tables in the main database."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'omega_memory_fts_%' ORDER BY name"
    )
    return [r[0] for r in rows]


def _check_adoptable(conn: sqlite3.Connection, version: int) -> None:
    """Refuse a file that holds tables but is not an omega store (or a crate table is reshaped).

    A file at an older omega-graph version (``version`` >= 1) holds every crate table; another
    application's database with a ``user_version`` of its own does not, and is left alone.
    """
    tables = set(table_names(conn))
    if (tables and not tables & CRATE_TABLES.keys()) or (version > 0 and not CRATE_TABLES.keys() <= tables):
        shown = ", ".join(sorted(tables)[:5])
        raise SchemaError(
            f"this SQLite file is not an omega store (it holds {shown}); open an omega store or a new path"
        )
    for table in tables & CRATE_TABLES.keys():
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        missing = [c for c in CRATE_TABLES[table] if c not in have]
        if missing:
            raise SchemaError(
                f"table {table!r} lacks column(s) {', '.join(missing)}; "
                "this file was not written by omega-persistence or omega-graph"
            )


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the file."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_usable(conn: sqlite3.Connection) -> int:
    """Raise :class:`SchemaError` unless migrate() could run on this file; return its version.

    Reads only, so a refused file is left byte for byte as it was.
    """
    version = user_version(conn)
    _refuse_newer(version)
    if version < SCHEMA_VERSION:
        _check_adoptable(conn, version)
    return version


def migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION` in one transaction; return (before, after).

    A re-run is a no-op. A file from a newer omega-graph raises :class:`SchemaError` untouched.
    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    before = user_version(conn)
    if before == SCHEMA_VERSION:
        return before, before
    _refuse_newer(before)
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = user_version(conn)  # another process may have migrated meanwhile
        _refuse_newer(before)
        _check_adoptable(conn, before)
        for step in MIGRATIONS:
            if step.version > before:
                for statement in _statements(step.sql):
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return before, SCHEMA_VERSION


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"the file has schema version {version}, newer than this omega-graph understands "
            f"({SCHEMA_VERSION}); upgrade omega-graph to open it (nothing was changed)"
        )


def _statements(script: str) -> list[str]:
    """Split a DDL script into complete statements (triggers hold inner semicolons)."""
    out: list[str] = []
    buf = ""
    for line in script.strip().splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
