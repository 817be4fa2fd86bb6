"""Checks at the boundary: every record is validated before any SQL runs.

Each ``*_row`` function takes a record and returns the tuple of column values to write, or raises
:class:`~omega_graph.errors.ValidationError` naming the entity, the field, the value and what is
allowed. They are plain functions so the bulk paths can call them per row cheaply.

Examples
--------
>>> from omega_graph.models import StoredCausalEdge
>>> edge_row(StoredCausalEdge("e1", "a", "b", 0.5, "causes", 0))
('e1', 'a', 'b', 0.5, 'causes', 0)
>>> edge_row(StoredCausalEdge("e1", "a", "b", 1.5, "causes", 0))
Traceback (most recent call last):
...
omega_graph.errors.ValidationError: causal_edge.weight = 1.5 is invalid: expected a finite number in [0, 1]
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import ValidationError
from .models import (
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
)

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "INT64_MIN",
    "architecture_row",
    "check_count",
    "check_id",
    "check_timestamp",
    "check_tier",
    "edge_row",
    "intelligence_row",
    "memory_row",
    "reflexion_row",
    "skill_row",
    "vector_row",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: The original crate reads ``skills.success_count`` and ``vectors.dimensions`` as Rust ``i32``: a
#: larger value makes it fail on the whole row (and on every query that returns it).
INT32_MAX = 2**31 - 1
_isfinite = math.isfinite


def _record(entity: str, value: Any, cls: type) -> None:
    if type(value) is not cls:
        raise ValidationError(entity, "<record>", value, f"a {cls.__name__}")


def check_id(entity: str, field: str, value: Any) -> str:
    """A non-empty text id."""
    if type(value) is not str or not value:
        raise ValidationError(entity, field, value, "non-empty text")
    return value


def _text(entity: str, field: str, value: Any) -> str:
    if type(value) is not str:
        raise ValidationError(entity, field, value, "text (str)")
    return value


def check_timestamp(entity: str, field: str, value: Any) -> int:
    """An int (not bool) in the signed 64-bit range (Unix seconds)."""
    if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
        raise ValidationError(entity, field, value, "an int in the signed 64-bit range (Unix seconds)")
    return value


def check_count(entity: str, field: str, value: Any) -> int:
    """A non-negative int the original crate can read back (at most :data:`INT32_MAX`)."""
    if type(value) is not int or not 0 <= value <= INT32_MAX:
        raise ValidationError(
            entity, field, value,
            f"a non-negative int at most {INT32_MAX:,} (the original crate reads {field} as a 32-bit integer)",
        )  # fmt: skip
    return value


def check_tier(value: Any, entity: str = "memory") -> int:
    """An int (not bool) from 1 to 12."""
    if type(value) is not int or not 1 <= value <= 12:
        raise ValidationError(entity, "tier", value, "an int from 1 to 12")
    return value


def _unit(entity: str, field: str, value: Any) -> float:
    # int/float only (bool and numpy bools excluded); numpy floats are floats.
    if (isinstance(value, float) or type(value) is int) and _isfinite(value) and 0.0 <= value <= 1.0:
        return float(value)
    raise ValidationError(entity, field, value, "a finite number in [0, 1]")


def _json(entity: str, field: str, value: Any) -> str:
    _text(entity, field, value)
    try:
        json.loads(value)
    except ValueError as err:
        raise ValidationError(entity, field, value, f"valid JSON text ({err})") from err
    return value


def _blob(entity: str, field: str, value: Any) -> bytes:
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if type(value) is not bytes:
        raise ValidationError(entity, field, value, "bytes (little-endian f32)")
    return value


def memory_row(m: StoredMemory) -> tuple:
    """Validate a memory; return its column values."""
    if type(m) is not StoredMemory:
        _record("memory", m, StoredMemory)
    blob = m.embedding_blob
    if blob is not None:
        blob = _blob("memory", "embedding_blob", blob)
        if len(blob) % 4:
            raise ValidationError(
                "memory", "embedding_blob", f"<{len(blob)} bytes>", "a length that is a multiple of 4 (f32)"
            )
    return (
        check_id("memory", "id", m.id),
        _text("memory", "content", m.content),
        check_tier(m.tier),
        _unit("memory", "importance", m.importance),
        blob,
        check_timestamp("memory", "created_at", m.created_at),
        check_timestamp("memory", "last_accessed", m.last_accessed),
    )


def skill_row(s: StoredSkill) -> tuple:
    """Validate a skill; return its column values."""
    _record("skill", s, StoredSkill)
    return (
        check_id("skill", "id", s.id),
        check_id("skill", "name", s.name),
        _text("skill", "description", s.description),
        _text("skill", "trigger_pattern", s.trigger_pattern),
        check_count("skill", "success_count", s.success_count),
        None if s.last_used is None else check_timestamp("skill", "last_used", s.last_used),
        check_timestamp("skill", "created_at", s.created_at),
    )


def architecture_row(a: StoredArchitecture) -> tuple:
    """Validate an architecture; return its column values."""
    _record("architecture", a, StoredArchitecture)
    return (
        check_id("architecture", "id", a.id),
        _text("architecture", "name", a.name),
        _text("architecture", "paradigm", a.paradigm),
        _text("architecture", "substrate", a.substrate),
        _json("architecture", "fitness_json", a.fitness_json),
        _json("architecture", "lineage_json", a.lineage_json),
        check_timestamp("architecture", "created_at", a.created_at),
    )


def intelligence_row(i: StoredIntelligence) -> tuple:
    """Validate an intelligence; return its column values."""
    _record("intelligence", i, StoredIntelligence)
    return (
        check_id("intelligence", "id", i.id),
        _text("intelligence", "name", i.name),
        check_id("intelligence", "arch_id", i.arch_id),
        _unit("intelligence", "maturity", i.maturity),
        _json("intelligence", "capabilities_json", i.capabilities_json),
        _json("intelligence", "memories_json", i.memories_json),
        _json("intelligence", "state_json", i.state_json),
        check_timestamp("intelligence", "created_at", i.created_at),
        check_timestamp("intelligence", "updated_at", i.updated_at),
    )


def vector_row(v: StoredVector) -> tuple:
    """Validate a vector (blob length must be 4 × dimensions); return its column values."""
    _record("vector", v, StoredVector)
    dims = v.dimensions
    if type(dims) is not int or not 1 <= dims <= INT32_MAX:
        raise ValidationError(
            "vector", "dimensions", dims,
            f"a positive int at most {INT32_MAX:,} (the original crate reads it as a 32-bit integer)",
        )  # fmt: skip
    blob = _blob("vector", "data_blob", v.data_blob)
    if len(blob) != 4 * dims:
        raise ValidationError(
            "vector", "data_blob", f"<{len(blob)} bytes>", f"exactly 4 × dimensions = {4 * dims} bytes"
        )
    return (check_id("vector", "id", v.id), check_id("vector", "memory_id", v.memory_id), dims, blob)


def reflexion_row(r: StoredReflexionEpisode) -> tuple:
    """Validate a reflexion episode; return its column values."""
    _record("reflexion", r, StoredReflexionEpisode)
    return (
        check_id("reflexion", "id", r.id),
        check_id("reflexion", "memory_id", r.memory_id),
        _text("reflexion", "trigger", r.trigger),
        _text("reflexion", "context", r.context),
        _text("reflexion", "action", r.action),
        _text("reflexion", "outcome", r.outcome),
        check_timestamp("reflexion", "created_at", r.created_at),
    )


def edge_row(e: StoredCausalEdge) -> tuple:
    """Validate a causal edge; return its column values."""
    if type(e) is not StoredCausalEdge:
        _record("causal_edge", e, StoredCausalEdge)
    return (
        check_id("causal_edge", "id", e.id),
        check_id("causal_edge", "from_memory", e.from_memory),
        check_id("causal_edge", "to_memory", e.to_memory),
        _unit("causal_edge", "weight", e.weight),
        _text("causal_edge", "edge_type", e.edge_type),
        check_timestamp("causal_edge", "created_at", e.created_at),
    )
