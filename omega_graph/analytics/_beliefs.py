"""The belief statistics of :class:`~.statistics.Analytics` (the side tables of schema migration 5).

``edge_churn`` and ``belief_changes`` read ``omega_edge_events`` and ``omega_edge_weight_log``
through the same DuckDB session as every other statistic; a mixin, so the session stays in one class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import SchemaError, ValidationError
from . import queries as Q

__all__ = ["BeliefStatistics"]


class BeliefStatistics:
    """Statistics of what the store believes about its edges over time (mixed into Analytics)."""

    if TYPE_CHECKING:

        def _run(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame: ...

        def _per_period(
            self, what: str, freq: str, sql: str, cols: list[str], records: str, beliefs: bool = False
        ) -> pd.DataFrame: ...

    def _run_beliefs(self, what: str, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a statement over the belief side tables; SchemaError when the file has none."""
        try:
            return self._run(sql, params)
        except Exception as err:
            present = set(self._run(Q.BELIEF_TABLES_PRESENT)["table_name"])
            missing = [t for t in Q.BELIEF_TABLES if t not in present]
            if not missing:
                raise
            raise SchemaError(
                f"{what} reads the table(s) {', '.join(missing)} (schema version 5), which the file "
                "DuckDB reads lacks: a file of the original crate gets them when opened once with "
                "OmegaStore(path)"
            ) from err

    def edge_churn(self, freq: str = "day") -> pd.DataFrame:
        """Causal edges created, invalidated and reinstated per period (UTC).

        ``freq`` and the periods are those of :meth:`activity`. Columns: ``period``, ``created``
        (edges by ``created_at``), ``invalidated`` and ``reinstated`` (the events of
        ``invalidate_causal_edge``/``reinstate_causal_edge`` by their ``at``, for stored edges);
        only periods with a count, in time order. Unusable times are skipped with a
        :class:`DataQualityWarning`.

        Raises
        ------
        ValidationError
            ``freq`` is not one of those of :meth:`activity`.
        SchemaError
            The file DuckDB reads has no belief tables (a file of the original crate never opened
            with ``OmegaStore``).

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
        2
        >>> store.store_causal_edge(StoredCausalEdge("e1", "a", "b", 0.8, "causes", 1764000000))
        >>> store.invalidate_causal_edge("e1", at=1764000000 + 3 * 86400, reason="refuted")
        >>> with store.analytics() as a:
        ...     a.edge_churn("day")
              period  created  invalidated  reinstated
        0 2025-11-24        1            0           0
        1 2025-11-27        0            1           0
        """
        return self._per_period(
            "edge_churn", freq, Q.EDGE_CHURN, ["created", "invalidated", "reinstated"],
            "edges or belief events have no usable time", beliefs=True,
        )  # fmt: skip

    def belief_changes(self, top: int = 20) -> pd.DataFrame:
        """The stored edges whose beliefs changed most, with the reason of the latest change.

        Columns: ``edge_id``; ``changes``, the edge's invalidations + reinstatements + validity
        settings + weight changes (updates in place, from the weight log); ``last_reason``, the
        reason given with its latest invalidation or reinstatement (None if it has none, or none
        was given). Edges without changes are left out. Sorted by ``changes`` descending, then
        ``edge_id``; at most ``top`` rows.

        Raises
        ------
        ValidationError
            ``top`` is not a positive integer.
        SchemaError
            As for :meth:`edge_churn`.

        Examples
        --------
        >>> from omega_graph import OmegaStore, StoredMemory, StoredCausalEdge
        >>> store = OmegaStore.new_in_memory()
        >>> store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "abc")
        3
        >>> store.store_causal_edges([StoredCausalEdge("e1", "a", "b", 0.8, "causes", 100),
        ...                           StoredCausalEdge("e2", "b", "c", 0.6, "causes", 100)])
        2
        >>> store.invalidate_causal_edge("e2", at=200, reason="a redeploy")
        >>> store.reinstate_causal_edge("e2", at=300, reason="seen again")
        >>> store.set_edge_validity("e1", valid_from=100)
        >>> with store.analytics() as a:
        ...     a.belief_changes()
          edge_id  changes last_reason
        0      e2        2  seen again
        1      e1        1        None
        """
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValidationError("belief_changes", "top", top, "a positive integer")
        df = self._run_beliefs("belief_changes", Q.BELIEF_CHANGES, [top])
        reason = df["last_reason"].astype(object)
        df["last_reason"] = reason.where(reason.notna(), None)
        return df.astype({"changes": "int64"})
