"""Every warning omega-graph issues points at the caller's line, not at a line inside the package."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory, StoredSkill
from omega_graph.errors import DataQualityWarning, PatternWarning


def _bad_pattern(store: OmegaStore) -> Any:
    store.store_skill(StoredSkill("s1", "broken", "", "review", 1, None, 0))
    store.connection.execute("UPDATE skills SET trigger_pattern = '(' WHERE id = 's1'")
    return lambda: store.match_skills("review my code")


def _bad_weight(store: OmegaStore) -> Any:
    store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "ab")
    store.store_causal_edge(StoredCausalEdge("ab", "a", "b", 0.5, "causes", 0))
    store.connection.execute("UPDATE causal_edges SET weight = 'heavy'")
    return lambda: store.causal_graph(cache=False)


def _bad_type_in_statistics(store: OmegaStore) -> Any:
    store.store_memories(StoredMemory(f"m{i}", "", 1, 0.5, None, 0, 0) for i in range(3))
    store.connection.execute("UPDATE memories SET tier = 'top' WHERE id = 'm1'")

    def call() -> None:
        with store.analytics() as a:
            a.tier_summary()

    return call


@pytest.mark.parametrize(
    "arrange, category",
    [
        (_bad_pattern, PatternWarning),
        (_bad_weight, DataQualityWarning),
        (_bad_type_in_statistics, DataQualityWarning),
    ],
    ids=["match_skills", "causal_graph", "analytics"],
)
def test_warning_points_at_the_callers_line(
    tmp_path: Path, arrange: Callable[[OmegaStore], Any], category: type[Warning]
) -> None:
    with OmegaStore(tmp_path / "w.db") as store:
        call = arrange(store)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, [str(w.message) for w in caught]
    assert all(w.filename == __file__ for w in ours), [(w.filename, w.lineno) for w in ours]
