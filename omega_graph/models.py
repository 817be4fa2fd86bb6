"""Records: the original crate's structs as frozen dataclasses, same field names and order.

Records carry data only; validation lives in :mod:`omega_graph.validation` and SQL in the store.

Examples
--------
>>> from omega_graph.models import StoredVector
>>> v = StoredVector.from_values("vec-1", "mem-1", [1.0, 0.5])
>>> v.dimensions, len(v.data_blob), v.values()
(2, 8, [1.0, 0.5])
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import TypeVar

__all__ = [
    "DatabaseStatistics",
    "StoredArchitecture",
    "StoredCausalEdge",
    "StoredIntelligence",
    "StoredMemory",
    "StoredReflexionEpisode",
    "StoredSkill",
    "StoredVector",
    "pack_f32",
    "unpack_f32",
]


def pack_f32(values: Sequence[float]) -> bytes:
    """Encode floats as the crate's little-endian f32 blob.

    >>> pack_f32([1.0])
    b'\\x00\\x00\\x80?'
    """
    return struct.pack(f"<{len(values)}f", *values)


def unpack_f32(blob: bytes) -> list[float]:
    """Decode a little-endian f32 blob into floats.

    >>> unpack_f32(pack_f32([0.25, -2.0]))
    [0.25, -2.0]
    """
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))


_R = TypeVar("_R", bound="_Record")


class _Record:
    """Shared helpers; every record is a dataclass whose columns match its table."""

    __slots__ = ()

    def as_tuple(self) -> tuple:
        return astuple(self)  # type: ignore[call-overload]

    @classmethod
    def _make(cls: type[_R], row: tuple) -> _R:
        """Build a record from a row of column values, in column order."""
        return cls(*row)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class StoredMemory(_Record):
    """A memory in one of 12 tiers; ``embedding_blob`` is little-endian f32 or None."""

    id: str
    content: str
    tier: int
    importance: float
    embedding_blob: bytes | None
    created_at: int
    last_accessed: int


@dataclass(frozen=True, slots=True)
class StoredSkill(_Record):
    """A skill; ``trigger_pattern`` is a regular expression matched against task text."""

    id: str
    name: str
    description: str
    trigger_pattern: str
    success_count: int
    last_used: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class StoredArchitecture(_Record):
    """An architecture; ``fitness_json`` and ``lineage_json`` hold JSON text."""

    id: str
    name: str
    paradigm: str
    substrate: str
    fitness_json: str
    lineage_json: str
    created_at: int


@dataclass(frozen=True, slots=True)
class StoredIntelligence(_Record):
    """An intelligence built on architecture ``arch_id``; maturity in [0, 1]."""

    id: str
    name: str
    arch_id: str
    maturity: float
    capabilities_json: str
    memories_json: str
    state_json: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class StoredVector(_Record):
    """An embedding of memory ``memory_id``: ``dimensions`` little-endian f32 values."""

    id: str
    memory_id: str
    dimensions: int
    data_blob: bytes

    @classmethod
    def from_values(cls, id: str, memory_id: str, values: Sequence[float]) -> StoredVector:
        """Build a vector record from floats (encoded as little-endian f32)."""
        return cls(id, memory_id, len(values), pack_f32(values))

    def values(self) -> list[float]:
        """The embedding as Python floats."""
        return unpack_f32(self.data_blob)


@dataclass(frozen=True, slots=True)
class StoredReflexionEpisode(_Record):
    """A reflexion episode about memory ``memory_id``."""

    id: str
    memory_id: str
    trigger: str
    context: str
    action: str
    outcome: str
    created_at: int


@dataclass(frozen=True, slots=True)
class StoredCausalEdge(_Record):
    """A causal edge ``from_memory`` → ``to_memory``; ``weight`` in [0, 1] is its strength."""

    id: str
    from_memory: str
    to_memory: str
    weight: float
    edge_type: str
    created_at: int


@dataclass(frozen=True, slots=True)
class DatabaseStatistics(_Record):
    """Row counts of every entity, read from one snapshot (the crate's five fields first)."""

    memory_count: int
    skill_count: int
    architecture_count: int
    intelligence_count: int
    causal_edge_count: int
    vector_count: int
    reflexion_count: int
