"""Hypothesis strategies for every record type: valid records, and records with exactly one bad field.

``RECORDS`` maps a kind ("memory", "skill", ...) to ``(record class, valid strategy, invalid field
strategies)``; :func:`invalid_records` draws a valid record and breaks one field of it, returning the
record and the name of the broken field (the ``ValidationError`` must name it).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from omega_graph.models import (
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1  # the crate's i32 columns: skills.success_count, vectors.dimensions

# ----- valid field values -------------------------------------------------------------------------------
ids = st.text(min_size=1, max_size=24)
texts = st.text(max_size=60)
tiers = st.integers(min_value=1, max_value=12)
#: [0, 1]: Python floats, the ints 0 and 1, numpy float64 (a float subclass).
unit_values = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([0, 1, 0.0, 1.0, 5e-324, math.nextafter(1.0, 0.0)]),
    st.floats(min_value=0.0, max_value=1.0).map(np.float64),
)
timestamps = st.one_of(
    st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
    st.sampled_from([INT64_MIN, INT64_MAX, 0, -1, 1_764_000_000]),
)
counts = st.integers(min_value=0, max_value=INT32_MAX)
#: A little-endian f32 blob: any bytes of a length that is a multiple of 4 (NaN patterns included).
f32_blobs = st.integers(min_value=0, max_value=16).flatmap(
    lambda n: st.binary(min_size=4 * n, max_size=4 * n)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_texts = json_values.map(lambda v: json.dumps(v, ensure_ascii=False))

# ----- invalid field values -----------------------------------------------------------------------------
bad_ids = st.sampled_from(["", None, 0, 7, 1.5, b"id", ["id"], True])
bad_texts = st.sampled_from([None, 0, 1.5, b"text", ["a"], True])
bad_tiers = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=13),
    st.sampled_from([True, False, 1.0, 3.0, "3", None, np.float64(2.0)]),
)
bad_units = st.one_of(
    st.floats(max_value=-1e-12, allow_nan=False),
    st.floats(min_value=1.0000001, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, True, False, "0.5", None, 2, -1]),
)
bad_timestamps = st.one_of(
    st.integers(min_value=INT64_MAX + 1),
    st.integers(max_value=INT64_MIN - 1),
    st.sampled_from([1.5, 1_764_000_000.0, True, False, "1764000000", None, math.nan]),
)
bad_counts = st.one_of(
    st.integers(max_value=-1), st.sampled_from([True, 1.5, "3", None, INT32_MAX + 1, INT64_MAX])
)
bad_blobs = st.one_of(
    st.binary(min_size=1, max_size=40).filter(lambda b: len(b) % 4 != 0),
    st.sampled_from(["abcd", 4, [1.0, 2.0], 1.5]),
)
bad_json = st.sampled_from(["", "{", "not json", "{'single': 'quotes'}", "[1, 2", None, 1, b"{}", {"a": 1}])


# ----- records ------------------------------------------------------------------------------------------
memories = st.builds(
    StoredMemory,
    id=ids,
    content=texts,
    tier=tiers,
    importance=unit_values,
    embedding_blob=st.none() | f32_blobs,
    created_at=timestamps,
    last_accessed=timestamps,
)
skills = st.builds(
    StoredSkill,
    id=ids,
    name=ids,
    description=texts,
    trigger_pattern=texts,
    success_count=counts,
    last_used=st.none() | timestamps,
    created_at=timestamps,
)
architectures = st.builds(
    StoredArchitecture,
    id=ids,
    name=texts,
    paradigm=texts,
    substrate=texts,
    fitness_json=json_texts,
    lineage_json=json_texts,
    created_at=timestamps,
)
intelligences = st.builds(
    StoredIntelligence,
    id=ids,
    name=texts,
    arch_id=ids,
    maturity=unit_values,
    capabilities_json=json_texts,
    memories_json=json_texts,
    state_json=json_texts,
    created_at=timestamps,
    updated_at=timestamps,
)


@st.composite
def vectors(draw: st.DrawFn) -> StoredVector:
    """A vector whose blob holds exactly ``dimensions`` f32 values (any bit patterns)."""
    dims = draw(st.integers(min_value=1, max_value=32))
    blob = draw(st.binary(min_size=4 * dims, max_size=4 * dims))
    return StoredVector(draw(ids), draw(ids), dims, blob)


reflexions = st.builds(
    StoredReflexionEpisode,
    id=ids,
    memory_id=ids,
    trigger=texts,
    context=texts,
    action=texts,
    outcome=texts,
    created_at=timestamps,
)
causal_edges = st.builds(
    StoredCausalEdge,
    id=ids,
    from_memory=ids,
    to_memory=ids,
    weight=unit_values,
    edge_type=texts,
    created_at=timestamps,
)


@st.composite
def bad_vector_shapes(draw: st.DrawFn, dims: int) -> tuple[str, Any]:
    """Break a vector of ``dims`` dimensions: a bad ``dimensions``, or a blob of the wrong length/type."""
    if draw(st.booleans()):
        return "dimensions", draw(st.sampled_from([0, -1, True, float(dims), str(dims), None]))
    wrong = st.integers(min_value=0, max_value=4 * dims + 8).filter(lambda n: n != 4 * dims)
    return "data_blob", draw(
        st.one_of(wrong.map(lambda n: b"\x01" * n), st.sampled_from(["abcd", None, [0.0]]))
    )


#: kind -> (record class, valid strategy, {field: invalid values}, entity name in errors)
RECORDS: dict[str, tuple[type, st.SearchStrategy[Any], dict[str, st.SearchStrategy[Any]], str]] = {
    "memory": (
        StoredMemory,
        memories,
        {
            "id": bad_ids,
            "content": bad_texts,
            "tier": bad_tiers,
            "importance": bad_units,
            "embedding_blob": bad_blobs,
            "created_at": bad_timestamps,
            "last_accessed": bad_timestamps,
        },
        "memory",
    ),
    "skill": (
        StoredSkill,
        skills,
        {
            "id": bad_ids,
            "name": bad_ids,
            "description": bad_texts,
            "trigger_pattern": bad_texts,
            "success_count": bad_counts,
            "last_used": st.sampled_from([1.5, True, "yesterday", INT64_MAX + 1]),
            "created_at": bad_timestamps,
        },
        "skill",
    ),
    "architecture": (
        StoredArchitecture,
        architectures,
        {
            "id": bad_ids,
            "name": bad_texts,
            "paradigm": bad_texts,
            "substrate": bad_texts,
            "fitness_json": bad_json,
            "lineage_json": bad_json,
            "created_at": bad_timestamps,
        },
        "architecture",
    ),
    "intelligence": (
        StoredIntelligence,
        intelligences,
        {
            "id": bad_ids,
            "name": bad_texts,
            "arch_id": bad_ids,
            "maturity": bad_units,
            "capabilities_json": bad_json,
            "memories_json": bad_json,
            "state_json": bad_json,
            "created_at": bad_timestamps,
            "updated_at": bad_timestamps,
        },
        "intelligence",
    ),
    "vector": (
        StoredVector,
        vectors(),
        {"id": bad_ids, "memory_id": bad_ids},
        "vector",
    ),
    "reflexion": (
        StoredReflexionEpisode,
        reflexions,
        {
            "id": bad_ids,
            "memory_id": bad_ids,
            "trigger": bad_texts,
            "context": bad_texts,
            "action": bad_texts,
            "outcome": bad_texts,
            "created_at": bad_timestamps,
        },
        "reflexion",
    ),
    "causal_edge": (
        StoredCausalEdge,
        causal_edges,
        {
            "id": bad_ids,
            "from_memory": bad_ids,
            "to_memory": bad_ids,
            "weight": bad_units,
            "edge_type": bad_texts,
            "created_at": bad_timestamps,
        },
        "causal_edge",
    ),
}
KINDS = tuple(RECORDS)


@st.composite
def invalid_records(draw: st.DrawFn, kind: str) -> tuple[Any, str]:
    """A record of ``kind`` with exactly one invalid field; returns ``(record, field name)``."""
    _, valid, bad_fields, _ = RECORDS[kind]
    record = draw(valid)
    if kind == "vector" and draw(st.booleans()):
        name, value = draw(bad_vector_shapes(record.dimensions))
    else:
        name = draw(st.sampled_from(sorted(bad_fields)))
        value = draw(bad_fields[name])
    return dataclasses.replace(record, **{name: value}), name


def valid_records(kind: str) -> st.SearchStrategy[Any]:
    """The valid-record strategy of ``kind``."""
    return RECORDS[kind][1]
