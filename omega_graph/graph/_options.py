"""A snapshot's options, checked at the boundary: which edges it reads and which beliefs it applies."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from ..errors import ValidationError
from .beliefs import BeliefFilter
from .loading import Filters

__all__ = ["checked"]


def _timestamp(name: str, value: object) -> int | None:
    """None, or Unix seconds as an int (numpy and pandas integers too; not a bool)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError("causal_graph", name, value, "a Unix timestamp in seconds (int) or None")
    return int(value)


def _edge_types(edge_types: object) -> tuple[str, ...] | None:
    if edge_types is None:
        return None
    if isinstance(edge_types, str) or not isinstance(edge_types, Iterable):
        raise ValidationError(
            "causal_graph", "edge_types", edge_types, "a list of edge types, e.g. ['causes']"
        )
    types = tuple(sorted(set(edge_types)))
    if not all(isinstance(t, str) for t in types):
        raise ValidationError("causal_graph", "edge_types", list(edge_types), "edge type strings")
    return types


def checked(
    min_weight: object,
    edge_types: object,
    as_of: object,
    valid_at: object,
    known_at: object,
    include_invalidated: object,
) -> tuple[int | None, Filters, BeliefFilter]:
    """``(as_of, filters, belief filter)`` of :class:`~.causal_graph.CausalGraph`'s arguments.

    :class:`~omega_graph.errors.ValidationError` names the first unusable one. ``known_at=t`` also
    bounds ``created_at`` (what was known at t was created by t): the filters' ``as_of`` is the
    smaller of the two, while the first item is the ``as_of`` asked for.

    >>> as_of, filters, beliefs = checked(0.2, ["causes"], 300, None, 200, False)
    >>> as_of, filters.as_of, beliefs.known_at
    (300, 200, 200)
    """
    if isinstance(min_weight, bool) or not isinstance(min_weight, int | float) or math.isnan(min_weight):
        raise ValidationError("causal_graph", "min_weight", min_weight, "a number, e.g. 0.0 or 0.2")
    if not isinstance(include_invalidated, bool):
        raise ValidationError("causal_graph", "include_invalidated", include_invalidated, "True or False")
    types = _edge_types(edge_types)
    asked = _timestamp("as_of", as_of)
    valid, known = _timestamp("valid_at", valid_at), _timestamp("known_at", known_at)
    cut = asked if known is None else known if asked is None else min(asked, known)
    return asked, Filters(float(min_weight), types, cut), BeliefFilter(valid, known, include_invalidated)
