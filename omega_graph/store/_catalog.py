"""Skills, architectures and intelligences."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

from ..errors import ConflictError, NotFoundError, PatternWarning, ValidationError, warn
from ..models import StoredArchitecture, StoredIntelligence, StoredSkill
from ..validation import INT32_MAX, architecture_row, check_timestamp, intelligence_row, skill_row
from ._base import StoreBase, db_errors
from ._memories import stream

_SKILL_COLS = "id, name, description, trigger_pattern, success_count, last_used, created_at"
_UPSERT_SKILL = f"""
INSERT INTO skills ({_SKILL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description,
    trigger_pattern = excluded.trigger_pattern, success_count = excluded.success_count,
    last_used = excluded.last_used, created_at = excluded.created_at
"""
_SKILLS_BY_SUCCESS = f"SELECT {_SKILL_COLS} FROM skills ORDER BY success_count DESC, rowid"

_ARCH_COLS = "id, name, paradigm, substrate, fitness_json, lineage_json, created_at"
_UPSERT_ARCH = f"""
INSERT INTO architectures ({_ARCH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET name = excluded.name, paradigm = excluded.paradigm,
    substrate = excluded.substrate, fitness_json = excluded.fitness_json,
    lineage_json = excluded.lineage_json, created_at = excluded.created_at
"""
_INTEL_COLS = (
    "id, name, arch_id, maturity, capabilities_json, memories_json, state_json, created_at, updated_at"
)
_UPSERT_INTEL = f"""
INSERT INTO intelligences ({_INTEL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET name = excluded.name, arch_id = excluded.arch_id,
    maturity = excluded.maturity, capabilities_json = excluded.capabilities_json,
    memories_json = excluded.memories_json, state_json = excluded.state_json,
    created_at = excluded.created_at, updated_at = excluded.updated_at
"""

_compiled: dict[str, re.Pattern[str] | re.error] = {}


def _compile(pattern: str) -> re.Pattern[str] | re.error:
    if pattern not in _compiled:
        if len(_compiled) > 4096:
            _compiled.clear()
        try:
            _compiled[pattern] = re.compile(pattern)
        except re.error as err:
            _compiled[pattern] = err
    return _compiled[pattern]


class CatalogOps(StoreBase):
    """Skills, architectures, intelligences."""

    # ----- skills --------------------------------------------------------------------------------
    @db_errors
    def store_skill(self, skill: StoredSkill) -> None:
        """Insert or update a skill; a name held by another skill id raises :class:`ConflictError`."""
        row = skill_row(skill)
        try:
            self._conn.execute(_UPSERT_SKILL, row)
        except sqlite3.IntegrityError as err:
            if "skills.name" not in str(err):
                raise
            other = self._conn.execute("SELECT id FROM skills WHERE name = ?", (row[1],)).fetchone()
            raise ConflictError(
                f"skill name {row[1]!r} already belongs to skill {other[0] if other else '?'!r}; "
                f"choose another name for skill {row[0]!r} or update that skill instead"
            ) from err

    @db_errors
    def get_skill(self, id: str) -> StoredSkill:
        """The skill with this id, or :class:`NotFoundError`."""
        row = self._conn.execute(f"SELECT {_SKILL_COLS} FROM skills WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFoundError("skill", id)
        return StoredSkill(*row)

    @db_errors
    def get_skills_by_pattern(self, text: str) -> list[StoredSkill]:
        """Skills whose ``trigger_pattern`` contains ``text`` literally, ignoring case.

        Unlike the original crate, ``%`` and ``_`` are plain characters. Most successful first.

        >>> from omega_graph import OmegaStore, StoredSkill
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_skill(StoredSkill("s1", "review", "", "Review.*Code", 3, None, 0))
        >>> store.store_skill(StoredSkill("s2", "percent", "", "100%_sure", 1, None, 0))
        >>> [s.id for s in store.get_skills_by_pattern("review")], [s.id for s in store.get_skills_by_pattern("%_")]
        (['s1'], ['s2'])
        """
        if type(text) is not str:
            raise ValidationError("get_skills_by_pattern", "text", text, "text (str)")
        needle = text.casefold()
        return [
            StoredSkill(*r) for r in self._conn.execute(_SKILLS_BY_SUCCESS) if needle in str(r[3]).casefold()
        ]

    @db_errors
    def match_skills(self, text: str) -> list[StoredSkill]:
        """Skills whose ``trigger_pattern`` regex is found in ``text`` (``re.search``), most successful first.

        A stored pattern that is not a valid regular expression is skipped with a
        :class:`~omega_graph.errors.PatternWarning` naming the skill.

        >>> from omega_graph import OmegaStore, StoredSkill
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_skill(StoredSkill("s1", "review", "", "review.*code|code.*review", 3, None, 0))
        >>> [s.name for s in store.match_skills("please review my code")]
        ['review']
        """
        if type(text) is not str:
            raise ValidationError("match_skills", "text", text, "text (str)")
        found = []
        for row in self._conn.execute(_SKILLS_BY_SUCCESS).fetchall():
            compiled = _compile(str(row[3]))
            if isinstance(compiled, re.error):
                warn(
                    PatternWarning(
                        f"skill {row[0]!r} has an invalid trigger_pattern {row[3]!r} ({compiled}); "
                        "it was skipped; store the skill again with a valid regular expression"
                    )
                )
            elif compiled.search(text):
                found.append(StoredSkill(*row))
        return found

    @db_errors
    def increment_skill_success(self, id: str, timestamp: int) -> None:
        """Add one success and set ``last_used``; :class:`NotFoundError` if the skill does not exist.

        At the original crate's limit (``success_count`` is a 32-bit integer there, at most
        2,147,483,647) a :class:`ValidationError` is raised and the row is left unchanged: one more
        would make the crate fail to read the skill.
        """
        check_timestamp("skill", "last_used", timestamp)
        sql = (
            "UPDATE skills SET success_count = success_count + 1, last_used = ? "
            "WHERE id = ? AND typeof(success_count) = 'integer' AND success_count < ?"
        )
        if self._conn.execute(sql, (timestamp, id, INT32_MAX)).rowcount == 0:
            row = self._conn.execute("SELECT success_count FROM skills WHERE id = ?", (id,)).fetchone()
            if row is None:
                raise NotFoundError("skill", id)
            raise ValidationError(
                "skill", "success_count", row[0],
                f"an int below {INT32_MAX:,} to add one (the original crate reads success_count as a "
                "32-bit integer; the skill is unchanged)",
            )  # fmt: skip

    @db_errors
    def delete_skill(self, id: str) -> None:
        """Delete a skill by id."""
        if self._conn.execute("DELETE FROM skills WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("skill", id)

    def iter_skills(self) -> Iterator[StoredSkill]:
        """Stream every skill in insertion order."""
        return stream(self._conn.execute(f"SELECT {_SKILL_COLS} FROM skills ORDER BY rowid"), StoredSkill)

    # ----- architectures -------------------------------------------------------------------------
    @db_errors
    def store_architecture(self, arch: StoredArchitecture) -> None:
        """Insert or update an architecture in place (its intelligences are kept)."""
        self._conn.execute(_UPSERT_ARCH, architecture_row(arch))

    @db_errors
    def get_architecture(self, id: str) -> StoredArchitecture:
        """The architecture with this id, or :class:`NotFoundError`."""
        sql = f"SELECT {_ARCH_COLS} FROM architectures WHERE id = ?"
        row = self._conn.execute(sql, (id,)).fetchone()
        if row is None:
            raise NotFoundError("architecture", id)
        return StoredArchitecture(*row)

    @db_errors
    def get_architectures_by_paradigm(self, paradigm: str) -> list[StoredArchitecture]:
        """Architectures of one paradigm, newest first (ties in insertion order)."""
        sql = f"SELECT {_ARCH_COLS} FROM architectures WHERE paradigm = ? ORDER BY created_at DESC, rowid"
        return [StoredArchitecture(*r) for r in self._conn.execute(sql, (paradigm,))]

    @db_errors
    def delete_architecture(self, id: str) -> None:
        """Delete an architecture; refused with :class:`ConflictError` while intelligences use it."""
        used = self._conn.execute("SELECT count(*) FROM intelligences WHERE arch_id = ?", (id,)).fetchone()[0]
        if used:
            raise ConflictError(
                f"architecture {id!r} is used by {used} intelligence(s); delete or move them first"
            )
        if self._conn.execute("DELETE FROM architectures WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("architecture", id)

    def iter_architectures(self) -> Iterator[StoredArchitecture]:
        """Stream every architecture in insertion order."""
        cursor = self._conn.execute(f"SELECT {_ARCH_COLS} FROM architectures ORDER BY rowid")
        return stream(cursor, StoredArchitecture)

    # ----- intelligences -------------------------------------------------------------------------
    @db_errors
    def store_intelligence(self, intel: StoredIntelligence) -> None:
        """Insert or update an intelligence; its architecture must exist (:class:`NotFoundError`)."""
        row = intelligence_row(intel)
        try:
            self._conn.execute(_UPSERT_INTEL, row)
        except sqlite3.IntegrityError as err:
            if "FOREIGN KEY" in str(err):
                raise NotFoundError("architecture", row[2], "store the architecture first") from err
            raise

    @db_errors
    def get_intelligence(self, id: str) -> StoredIntelligence:
        """The intelligence with this id, or :class:`NotFoundError`."""
        sql = f"SELECT {_INTEL_COLS} FROM intelligences WHERE id = ?"
        row = self._conn.execute(sql, (id,)).fetchone()
        if row is None:
            raise NotFoundError("intelligence", id)
        return StoredIntelligence(*row)

    @db_errors
    def get_intelligences_by_arch(self, arch_id: str) -> list[StoredIntelligence]:
        """Intelligences built on one architecture, most mature first (ties in insertion order)."""
        sql = f"SELECT {_INTEL_COLS} FROM intelligences WHERE arch_id = ? ORDER BY maturity DESC, rowid"
        return [StoredIntelligence(*r) for r in self._conn.execute(sql, (arch_id,))]

    @db_errors
    def delete_intelligence(self, id: str) -> None:
        """Delete an intelligence by id."""
        if self._conn.execute("DELETE FROM intelligences WHERE id = ?", (id,)).rowcount == 0:
            raise NotFoundError("intelligence", id)

    def iter_intelligences(self) -> Iterator[StoredIntelligence]:
        """Stream every intelligence in insertion order."""
        cursor = self._conn.execute(f"SELECT {_INTEL_COLS} FROM intelligences ORDER BY rowid")
        return stream(cursor, StoredIntelligence)
