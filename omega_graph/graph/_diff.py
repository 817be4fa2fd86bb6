"""What changed between two snapshots: edges added, removed and reweighted (see :meth:`CausalGraph.diff`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .snapshot import MISSING_INT, GraphData

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SnapshotDiff", "diff"]

_EDGE_COLUMNS = ["edge_id", "from_memory", "to_memory", "weight", "edge_type", "created_at"]


@dataclass(frozen=True)
class SnapshotDiff:
    """The edges added, removed and reweighted from one snapshot to another, each a DataFrame.

    ``added`` and ``removed``: columns ``edge_id``, ``from_memory``, ``to_memory``, ``weight``,
    ``edge_type``, ``created_at`` (an edge whose endpoints changed is removed and added).
    ``reweighted``: ``edge_id``, ``from_memory``, ``to_memory``, ``old_weight``, ``new_weight``.
    All sorted by ``edge_id``.
    """

    added: pd.DataFrame
    removed: pd.DataFrame
    reweighted: pd.DataFrame

    def __bool__(self) -> bool:
        """True when anything changed."""
        return bool(len(self.added) or len(self.removed) or len(self.reweighted))

    def summary(self) -> str:
        """``"2 added, 1 removed, 3 reweighted"``."""
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.reweighted)} reweighted"


def _edges(data: GraphData) -> pd.DataFrame:
    import pandas as pd

    ids = np.array(data.node_ids, dtype=object)
    names = np.array(data.type_names, dtype=object)
    created = pd.array(np.where(data.created_bad, 0, data.created), dtype="Int64")
    created[data.created_bad | (data.created == MISSING_INT)] = pd.NA
    return pd.DataFrame(
        {
            "edge_id": data.edge_ids_at(),
            "from_memory": ids[data.src],
            "to_memory": ids[data.dst],
            "weight": data.weight,
            "edge_type": names[data.etype] if len(names) else np.array([], dtype=object),
            "created_at": created,
        }
    )


def diff(old: GraphData, new: GraphData) -> SnapshotDiff:
    """The changes from ``old`` to ``new`` (see :class:`SnapshotDiff`)."""
    a, b = _edges(old), _edges(new)
    both = a.merge(b, on="edge_id", how="outer", suffixes=("_old", "_new"), indicator=True)
    moved = (both["_merge"] == "both") & (
        (both["from_memory_old"] != both["from_memory_new"])
        | (both["to_memory_old"] != both["to_memory_new"])
    )
    gone = set(both.loc[(both["_merge"] == "left_only") | moved, "edge_id"])
    came = set(both.loc[(both["_merge"] == "right_only") | moved, "edge_id"])
    same = both[(both["_merge"] == "both") & ~moved]
    w_old, w_new = same["weight_old"].to_numpy(), same["weight_new"].to_numpy()
    changed = ~((w_old == w_new) | (np.isnan(w_old) & np.isnan(w_new)))
    reweighted = same.loc[
        changed, ["edge_id", "from_memory_new", "to_memory_new", "weight_old", "weight_new"]
    ]
    reweighted.columns = ["edge_id", "from_memory", "to_memory", "old_weight", "new_weight"]

    def rows(frame: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
        return frame[frame["edge_id"].isin(keep)].sort_values("edge_id").reset_index(drop=True)

    return SnapshotDiff(
        rows(b, came), rows(a, gone), reweighted.sort_values("edge_id").reset_index(drop=True)
    )
