"""The curated statistics of :class:`~.statistics.Analytics`: one SQL statement each (see
:mod:`.queries`), run through the session's ``_run``; a mixin, so the session stays in one class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DataQualityWarning, NotFoundError, ValidationError, warn
from . import queries as Q

__all__ = ["FREQUENCIES", "CuratedStatistics"]

#: ``activity(freq=...)``: DuckDB date_trunc part and the matching pandas frequency.
FREQUENCIES: dict[str, tuple[str, str]] = {
    "hour": ("hour", "h"),
    "day": ("day", "D"),
    "week": ("week", "W-MON"),
    "month": ("month", "MS"),
    "quarter": ("quarter", "QS"),
    "year": ("year", "YS"),
}
_MAX_PERIODS = 5_000_000


class CuratedStatistics:
    """The statistics of the crate's seven tables (mixed into Analytics)."""

    if TYPE_CHECKING:

        def _run(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame: ...

        def _run_beliefs(self, what: str, sql: str, params: list[Any] | None = None) -> pd.DataFrame: ...

    def overview(self) -> pd.DataFrame:
        """Row counts of the seven entity kinds, from one snapshot.

        Columns: ``entity`` (the table name: memories, skills, architectures, intelligences,
        causal_edges, vectors, reflexion_episodes, in that order), ``count``. Counted by SQLite
        (B-tree counts) in one statement.
        """
        return self._run(Q.OVERVIEW, [Q.SQLITE_OVERVIEW])

    def tier_summary(self) -> pd.DataFrame:
        """Memories per tier: one row per tier present, ordered by tier.

        Columns: ``tier``, ``memories`` (count), ``mean_importance``, ``median_importance``
        (interpolated, as pandas' median), ``min_importance``, ``max_importance``,
        ``with_embedding`` (memories whose ``embedding_blob`` is not NULL). Importance values of
        the wrong type are left out of the importance columns but counted in ``memories``.
        """
        return self._run(Q.TIER_SUMMARY)

    def importance_histogram(self, bins: int = 10) -> pd.DataFrame:
        """Memories per importance bin: exactly ``bins`` rows over [0, 1], empty bins included.

        Bin ``k`` covers ``[k/bins, (k+1)/bins)``; the last bin also holds 1.0. Columns:
        ``bin_start``, ``bin_end``, ``memories``. Importance outside [0, 1] (or not a number) is
        not counted; a :class:`DataQualityWarning` says how many such memories there are.
        """
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValidationError("importance_histogram", "bins", bins, "an integer >= 1")
        df = self._run(Q.IMPORTANCE_HISTOGRAM, [bins])
        outside = int(df["_outside"].iloc[0]) if len(df) else 0
        if outside:
            warn(DataQualityWarning(
                f"{outside} memories have an importance outside [0, 1] (or not a number) and are "
                "not in the histogram"
            ))  # fmt: skip
        return df.drop(columns="_outside").astype({"memories": "int64"})

    def edge_type_summary(self) -> pd.DataFrame:
        """Causal edges per ``edge_type``, ordered by edge type.

        Columns: ``edge_type``, ``edges``, ``mean_weight``, ``min_weight``, ``max_weight``.
        """
        return self._run(Q.EDGE_TYPE_SUMMARY)

    def degree_table(self, top: int | None = None) -> pd.DataFrame:
        """Degree and summed edge weight of every memory (and every edge endpoint).

        Columns: ``memory_id``, ``out_degree``, ``in_degree``, ``out_weight``, ``in_weight``;
        ordered by ``out_degree + in_degree`` descending, then ``memory_id``; memories without
        edges have zeros. ``top`` keeps the first ``top`` rows.
        """
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
            raise ValidationError("degree_table", "top", top, "None or an integer >= 0")
        return self._run(Q.DEGREE_TABLE, [top if top is not None else 2**62])

    def skill_leaderboard(self) -> pd.DataFrame:
        """Skills ranked by ``success_count``.

        Columns: ``rank`` (1 = most successes; ties share a rank), ``skill_id``, ``name``,
        ``success_count``, ``share`` (of all successes; NaN when there are none), ``last_used``
        and ``created_at`` (Unix seconds; ``last_used`` is <NA> for a never used skill). Ordered
        by ``success_count`` descending, then name.
        """
        df = self._run(Q.SKILL_LEADERBOARD)
        return df.astype({"last_used": "Int64", "created_at": "Int64"})

    def architecture_summary(self) -> pd.DataFrame:
        """Architectures per paradigm.

        Columns: ``paradigm``, ``architectures`` (count), ``mean_fitness`` and ``max_fitness`` (of
        ``fitness_json``'s ``overall``; entries without a numeric ``overall`` or with invalid JSON
        are left out), ``intelligences`` (intelligences built on architectures of this paradigm).
        Ordered by paradigm.
        """
        return self._run(Q.ARCHITECTURE_SUMMARY)

    def intelligence_summary(self) -> pd.DataFrame:
        """Intelligences per architecture.

        Columns: ``arch_id``, ``architecture`` (its name; <NA> if the architecture is missing),
        ``paradigm``, ``intelligences`` (count), ``mean_maturity``, ``min_maturity``,
        ``max_maturity``, ``last_updated`` (latest ``updated_at``, Unix seconds). Ordered by
        ``intelligences`` descending, then ``arch_id``.
        """
        return self._run(Q.INTELLIGENCE_SUMMARY)

    def reflexion_outcomes(self) -> pd.DataFrame:
        """Reflexion episodes per ``outcome``.

        Columns: ``outcome``, ``episodes``, ``memories`` (distinct memories reflected on),
        ``share`` (of all episodes), ``first_at`` and ``last_at`` (Unix seconds). Ordered by
        ``episodes`` descending, then outcome.
        """
        return self._run(Q.REFLEXION_OUTCOMES)

    def _per_period(
        self, what: str, freq: str, sql: str, cols: list[str], records: str, beliefs: bool = False
    ) -> pd.DataFrame:
        """Run a per-period statement (``{part}``: ``freq``'s date_trunc part), warn of the
        ``records`` whose time was unusable, and return the rows that have a period, typed."""
        if freq not in FREQUENCIES:
            raise ValidationError(what, "freq", freq, f"one of {', '.join(FREQUENCIES)}")
        sql = sql.format(part=FREQUENCIES[freq][0])
        df = self._run_beliefs(what, sql) if beliefs else self._run(sql)
        outside = int(df["_outside"].sum())
        if outside:
            warn(DataQualityWarning(
                f"{outside} {records} (wrong type, or outside years 1..9999) and are not counted"
            ))  # fmt: skip
        df = df[df["period"].notna()].drop(columns="_outside").reset_index(drop=True)
        if df.empty:
            df = pd.DataFrame({"period": pd.Series([], dtype="datetime64[us]")})
            return df.assign(**{c: pd.Series([], dtype="int64") for c in cols})
        return df.astype({"period": "datetime64[us]", **{c: "int64" for c in cols}})

    def activity(self, freq: str = "day") -> pd.DataFrame:
        """Memories, causal edges and reflexion episodes created per period (UTC).

        ``freq`` is one of hour, day, week (starting Monday), month, quarter, year. Columns:
        ``period`` (start of the period, a naive UTC timestamp), ``memories``, ``edges``,
        ``reflexions``; every period from the first to the last activity, empty ones with zeros.
        Timestamps of the wrong type or outside years 1..9999 are skipped with a
        :class:`DataQualityWarning`.
        """
        cols = ["memories", "edges", "reflexions"]
        df = self._per_period("activity", freq, Q.ACTIVITY, cols, "records have no usable created_at")
        if df.empty:
            return df
        pandas_freq = FREQUENCIES[freq][1]
        df = df.set_index("period")
        start, end = df.index.min(), df.index.max()
        n = len(pd.date_range(start, periods=2, freq=pandas_freq))  # validates the frequency
        grid = pd.date_range(start, end, freq=pandas_freq) if n else df.index
        if len(grid) > _MAX_PERIODS:
            raise ValidationError(
                "activity", "freq", freq, f"a coarser period: {len(grid)} periods from {start} to {end}"
            )
        out = df.reindex(grid, fill_value=0).rename_axis("period").reset_index()
        out["period"] = out["period"].astype("datetime64[us]")
        return out.astype({c: "int64" for c in cols})

    def architecture_lineage(self, id: str) -> pd.DataFrame:
        """The chain of parents of architecture ``id`` read from ``lineage_json``, the given one first.

        Columns: ``architecture_id``, ``depth`` (0 for ``id``, 1 for its parent, ...),
        ``in_store`` (False for a parent named in ``lineage_json`` but not stored; the chain ends
        there), ``name``, ``paradigm``, ``generation`` (``lineage_json``'s), ``fitness``
        (``fitness_json``'s ``overall``), ``created_at``. A cycle is cut before the first
        repeated id (with a :class:`DataQualityWarning`). A chain of primary-key lookups, so it
        runs inside SQLite (one statement, one snapshot), not in DuckDB's scanner.

        Raises
        ------
        NotFoundError
            No architecture has this id.
        """
        if not isinstance(id, str):
            raise ValidationError("architecture_lineage", "id", id, "an architecture id (str)")
        df = self._run(Q.LINEAGE, [Q.SQLITE_LINEAGE, id])
        if df.empty:
            raise NotFoundError(
                "architecture", id, "check the id (Analytics.sql('SELECT id FROM architectures'))"
            )
        seen: set[str] = set()
        keep = 0
        for keep, arch in enumerate(df["architecture_id"]):  # noqa: B007
            if arch in seen:
                warn(DataQualityWarning(
                    f"the lineage of {id!r} loops back to {arch!r}; the chain is cut there"
                ))  # fmt: skip
                break
            seen.add(arch)
        else:
            keep = len(df)
        df = df.iloc[:keep].reset_index(drop=True)
        return df.astype({"generation": "Int64", "created_at": "Int64", "depth": "int64"})
