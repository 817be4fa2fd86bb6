"""The one exception hierarchy of omega-graph.

Every error the library raises derives from :class:`OmegaGraphError`; each subclass also derives
from the nearest built-in exception, so ``except LookupError`` or ``except ValueError`` keep working
in code that does not know omega-graph.

Examples
--------
>>> from omega_graph.errors import NotFoundError, OmegaGraphError
>>> err = NotFoundError("memory", "mem-1")
>>> isinstance(err, LookupError) and isinstance(err, OmegaGraphError)
True
>>> print(err)
memory 'mem-1' not found; store it first or check the id
"""

from __future__ import annotations

__all__ = [
    "CacheWarning",
    "ConflictError",
    "ConvergenceError",
    "DataQualityWarning",
    "DatabaseError",
    "LimitWarning",
    "MissingDependencyError",
    "NoPathError",
    "NotADAGError",
    "NotFoundError",
    "OmegaGraphError",
    "PatternWarning",
    "SchemaError",
    "ValidationError",
]


class OmegaGraphError(Exception):
    """Base class of every error omega-graph raises."""


class NotFoundError(OmegaGraphError, LookupError):
    """A record looked up by id does not exist.

    Attributes ``entity`` and ``id`` carry what was looked up.
    """

    def __init__(self, entity: str, id: object, hint: str | None = None) -> None:
        self.entity = entity
        self.id = id
        hint = hint or "store it first or check the id"
        super().__init__(f"{entity} {id!r} not found; {hint}")

    def __str__(self) -> str:  # LookupError would otherwise repr() the message
        return str(self.args[0])


class ValidationError(OmegaGraphError, ValueError):
    """A value is not acceptable; nothing was written.

    Attributes ``entity``, ``field`` and ``value`` carry what was rejected.
    """

    def __init__(self, entity: str, field: str, value: object, expected: str) -> None:
        self.entity = entity
        self.field = field
        self.value = value
        super().__init__(f"{entity}.{field} = {value!r} is invalid: expected {expected}")


class ConflictError(OmegaGraphError):
    """A write would break a uniqueness rule (e.g. a skill name already taken by another id)."""


class DatabaseError(OmegaGraphError):
    """The file cannot be used: not a SQLite file, corrupt, locked for too long, unreadable."""


class SchemaError(DatabaseError):
    """The file's schema is not one this version can use (newer version, or not an omega store)."""


class NoPathError(OmegaGraphError, LookupError):
    """No causal path (of positive strength, where that matters) links two memories."""

    def __init__(self, source: str, target: str, detail: str = "") -> None:
        self.source = source
        self.target = target
        msg = f"no causal path from {source!r} to {target!r}"
        super().__init__(msg + (f" {detail}" if detail else ""))

    def __str__(self) -> str:
        return str(self.args[0])


class NotADAGError(OmegaGraphError, ValueError):
    """The question needs an acyclic graph and a cycle was found; ``cycle`` lists its memory ids."""

    def __init__(self, cycle: list[str], what: str = "this query") -> None:
        self.cycle = list(cycle)
        shown = " -> ".join([*self.cycle, self.cycle[0]]) if self.cycle else "?"
        super().__init__(
            f"{what} needs an acyclic causal graph, but it has the cycle {shown}; "
            "remove or filter an edge of it (e.g. min_weight=, edge_types=)"
        )


class ConvergenceError(OmegaGraphError, ArithmeticError):
    """An iterative computation stopped before its answer was within the requested tolerance.

    Raised, for example, by ``CausalGraph.influence`` when the PageRank iteration's error bound is
    still above ``tol`` after ``max_iter`` iterations, or when rounding keeps it from getting there.
    Nothing is returned: an answer outside the bound it promises is not given at all.

    It is also an :class:`ArithmeticError`, the built-in family of numerical failures (with
    ``FloatingPointError`` and ``OverflowError``): the inputs were valid (that would be a
    :class:`ValidationError`) and nothing is wrong with the program (``RuntimeError``); the
    arithmetic did not reach the accuracy asked for. ``except ArithmeticError`` around numerical
    code catches it.

    Attributes ``entity`` (what was computed), ``iterations`` (how many were done), ``error_bound``
    (the guaranteed error bound reached, ``inf`` when none was) and ``tol`` (the one asked for).

    Examples
    --------
    >>> err = ConvergenceError("influence", 1000, 3.2e-9, 1e-10, "raise max_iter")
    >>> isinstance(err, ArithmeticError) and isinstance(err, OmegaGraphError)
    True
    >>> print(err)
    influence did not converge: after 1000 iterations the error bound is 3.2e-09, above tol=1e-10; raise max_iter
    """

    def __init__(self, entity: str, iterations: int, error_bound: float, tol: float, fix: str) -> None:
        self.entity = entity
        self.iterations = iterations
        self.error_bound = error_bound
        self.tol = tol
        super().__init__(
            f"{entity} did not converge: after {iterations} iterations the error bound is "
            f"{error_bound:.3g}, above tol={tol!r}; {fix}"
        )


class MissingDependencyError(OmegaGraphError, ImportError):
    """An optional component (e.g. DuckDB's SQLite extension) is not installed."""


class DataQualityWarning(UserWarning):
    """Some stored values could not be used (wrong SQLite type, out of range) by a statistic or a
    graph snapshot; the message names the table, the column, an example and the consequence."""


class PatternWarning(UserWarning):
    """A stored skill ``trigger_pattern`` is not a valid regular expression and was skipped."""


class LimitWarning(UserWarning):
    """An enumeration stopped at its ``limit`` while more answers exist; the message says which are kept."""


class CacheWarning(UserWarning):
    """The persisted graph snapshot cache cannot be written here (unwritable directory, full disk).

    Emitted once per cache directory per process; the cache is then skipped there, and every answer
    comes from the SQLite file as usual.
    """


def warn(warning: Warning) -> None:
    """Issue ``warning`` at the user's line: the first frame outside omega_graph, however deep the call.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn(PatternWarning("pattern skipped"))
    >>> caught[0].filename == __file__ or caught[0].filename.startswith("<doctest")
    True
    """
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(warning, stacklevel=level + 1)
