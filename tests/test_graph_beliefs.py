"""Belief snapshots (issue 13): ``store.causal_graph(valid_at=, known_at=, include_invalidated=)``
against a reference computed from the event list alone.

The reference (:func:`expected_edges`) is written here from the definitions of the issue, not from
``omega_graph.graph.beliefs``:

- ``known_at=t``: ``created_at <= t`` and the latest invalidation or reinstatement with ``at <= t``
  (ties: the one written last) is not an invalidation;
- default: the latest invalidation or reinstatement is not an invalidation;
- ``include_invalidated=True``: no invalidation filtering (``known_at``'s ``created_at`` bound stays);
- ``valid_at=t``: the latest validity setting's window contains ``t`` (inclusive, ``None`` open);
  an edge with no window is valid at every time;
- all of them intersect ``min_weight``, ``edge_types`` and ``as_of``; weights are the current ones.

Hypothesis state machines run random sequences of creates, weight updates, invalidations (one and
bulk), reinstatements, validity settings, the crate's ``INSERT OR REPLACE`` from another connection,
re-keys by plain ``UPDATE``, deletes (the store's, another connection's, cascades from a memory);
after each step the snapshots
for several times equal the reference, a snapshot kept from before and ``refresh()``ed equals a new
one, and a snapshot never refreshed keeps its old answers. Fixed sequences cover the DuckDB loader
and the persisted snapshot (file stores of 100,000 edges or more; forced here on small files, and
once on a real store of 100,000 edges). A writer in another thread checks that a snapshot reads the
edges and their belief events at one state.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from omega_graph.errors import ConflictError, NoPathError, NotFoundError, ValidationError
from omega_graph.graph import CausalGraph, _cache, _cachefile
from omega_graph.models import StoredCausalEdge, StoredMemory
from omega_graph.store import OmegaStore

CRATE_REPLACE_EDGE = (
    "INSERT OR REPLACE INTO causal_edges (id, from_memory, to_memory, weight, edge_type, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
)
CRATE_REPLACE_MEMORY = (
    "INSERT OR REPLACE INTO memories (id, content, tier, importance, embedding_blob, created_at, "
    "last_accessed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
)


# ----- the reference -----------------------------------------------------------------------------------
@dataclass
class Edge:
    """What the test knows of one stored edge: its row and its belief events, in the order written."""

    src: str
    dst: str
    weight: float
    edge_type: str
    created_at: int
    beliefs: list[tuple[str, int]] = field(default_factory=list)  # ("invalidated" | "reinstated", at)
    windows: list[tuple[int | None, int | None]] = field(default_factory=list)  # validity settings


def believed(e: Edge, known_at: int | None = None) -> bool:
    """Whether the latest invalidation or reinstatement (at or before ``known_at``) is not an
    invalidation.

    >>> e = Edge("a", "b", 0.5, "causes", 0, beliefs=[("invalidated", 10), ("reinstated", 20)])
    >>> believed(e), believed(e, 9), believed(e, 10), believed(e, 19), believed(e, 20)
    (True, True, False, False, True)
    """
    seen = [kind for kind, at in e.beliefs if known_at is None or at <= known_at]
    return not seen or seen[-1] != "invalidated"


def valid(e: Edge, t: int) -> bool:
    """Whether the latest validity window of ``e`` contains ``t`` (no window: always).

    >>> e = Edge("a", "b", 0.5, "causes", 0, windows=[(0, 5), (10, None)])
    >>> valid(e, 5), valid(e, 9), valid(e, 10), valid(e, 10**9)
    (False, False, True, True)
    """
    if not e.windows:
        return True
    lo, hi = e.windows[-1]
    return (lo is None or lo <= t) and (hi is None or t <= hi)


def expected_edges(
    model: dict[str, Edge],
    min_weight: float = 0.0,
    edge_types: Iterable[str] | None = None,
    as_of: int | None = None,
    valid_at: int | None = None,
    known_at: int | None = None,
    include_invalidated: bool = False,
) -> dict[str, tuple[str, str, float]]:
    """The edges (id -> source, target, weight) the snapshot with these arguments holds.

    >>> model = {"e1": Edge("a", "b", 0.5, "causes", 100, beliefs=[("invalidated", 200)])}
    >>> expected_edges(model), expected_edges(model, known_at=150), expected_edges(model, known_at=99)
    ({}, {'e1': ('a', 'b', 0.5)}, {})
    >>> expected_edges(model, include_invalidated=True)
    {'e1': ('a', 'b', 0.5)}
    """
    types = None if edge_types is None else set(edge_types)
    out = {}
    for eid, e in model.items():
        if e.weight < min_weight or (types is not None and e.edge_type not in types):
            continue
        if (as_of is not None and e.created_at > as_of) or (known_at is not None and e.created_at > known_at):
            continue
        if not include_invalidated and not believed(e, known_at):
            continue
        if valid_at is not None and not valid(e, valid_at):
            continue
        out[eid] = (e.src, e.dst, e.weight)
    return out


def edges_of(g: CausalGraph) -> dict[str, tuple[str, str, float]]:
    """The edges a snapshot holds (id -> source, target, weight), through its networkx face."""
    out = {k: (u, v, d["weight"]) for u, v, k, d in g.to_networkx().edges(keys=True, data=True)}
    assert len(out) == g.number_of_edges()
    return out


def interesting_times(model: dict[str, Edge]) -> list[int]:
    """Every time an answer may change at, and the seconds either side, plus before and after all."""
    times = {-1_000, 10_000}
    for e in model.values():
        times.add(e.created_at)
        times.update(at for _, at in e.beliefs)
        times.update(t for w in e.windows for t in w if t is not None)
    return sorted({t + d for t in times for d in (-1, 0, 1)})


# ----- the machine -------------------------------------------------------------------------------------
MEMORIES = ("m0", "m1", "m2", "m3", "m4")
EDGE_IDS = ("e0", "e1", "e2", "e3", "e4", "e5", "e6")
TYPES = ("causes", "enables")
WEIGHTS = (0.0, 0.2, 0.5, 0.9, 1.0)
times = st.integers(min_value=0, max_value=200)
edge_rows = st.tuples(
    st.sampled_from(MEMORIES),
    st.sampled_from(MEMORIES),
    st.sampled_from(WEIGHTS),
    st.sampled_from(TYPES),
    times,
)


def memory(m: str) -> StoredMemory:
    return StoredMemory(m, f"note {m}", 1, 0.5, None, 0, 0)


class BeliefMachine(RuleBasedStateMachine):
    """Random operations on a store and on :attr:`model`; the snapshots must follow the model.

    Subclasses say where the store lives (:meth:`open_store`) and how the other connection reaches it.
    Rules mostly pick stored edges and times at or after an edge's last belief change (so most
    operations succeed), and sometimes any id and any time (so the errors are exercised too).
    """

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, Edge] = {}
        self.folder: str | None = None
        self.store = self.open_store()
        self.store.store_memories(memory(m) for m in MEMORIES)
        self.other = self.other_connection()
        self.live: list[tuple[dict[str, Any], CausalGraph]] = []
        self.kept: list[tuple[CausalGraph, dict[str, tuple[str, str, float]]]] = []
        self.rng = random.Random(0)

    def open_store(self) -> OmegaStore:
        return OmegaStore.new_in_memory()

    def other_connection(self) -> sqlite3.Connection:
        """In memory there is no other connection: the store's own, used as the crate would."""
        return self.store.connection

    def teardown(self) -> None:
        for g in [g for _, g in self.live] + [g for g, _ in self.kept]:
            g.close()
        if self.other is not self.store.connection:
            self.other.close()
        self.store.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    @initialize(
        rows=st.dictionaries(st.sampled_from(EDGE_IDS), edge_rows, min_size=2, max_size=5),
        seed=st.integers(0, 2**32 - 1),
        known_at=times,
        valid_at=times,
    )
    def start(self, rows: dict[str, tuple], seed: int, known_at: int, valid_at: int) -> None:
        """Some edges, and snapshots taken now that are refreshed after every step."""
        self.store.store_causal_edges(StoredCausalEdge(eid, *row) for eid, row in rows.items())
        self.model = {eid: Edge(*row) for eid, row in rows.items()}
        self.rng = random.Random(seed)
        queries: list[dict[str, Any]] = [
            {},
            {"known_at": known_at},
            {"valid_at": valid_at, "include_invalidated": True},
        ]
        for query in queries:
            self.live.append((query, self.store.causal_graph(**query)))

    # ----- choices ------------------------------------------------------------------------------------
    def _edge(self, data: st.DataObject, invalidated: bool | None = None) -> str:
        """A stored edge most of the time (one ``invalidated`` or not, when there is one), else any id."""
        if len(self.model) > 0 and data.draw(st.integers(0, 4), label="stored?"):
            fit = sorted(
                k for k, e in self.model.items() if invalidated is None or believed(e) != invalidated
            )
            return data.draw(st.sampled_from(fit or sorted(self.model)), label="edge")
        return data.draw(st.sampled_from(EDGE_IDS), label="any edge")

    def _at(self, data: st.DataObject, eids: Iterable[str]) -> int:
        """At or a little after the edges' creation and last belief change, most of the time; else
        any time."""
        known = [self.model[e] for e in eids if e in self.model]
        last = max([e.created_at for e in known] + [e.beliefs[-1][1] for e in known if e.beliefs], default=0)
        if data.draw(st.integers(0, 5), label="in order?"):
            return last + data.draw(st.integers(0, 15), label="after")
        return data.draw(times, label="at")

    def _expect(self, call: Any, errors: set[type[Exception]]) -> bool:
        """Run ``call``; it must raise one of ``errors`` if there are any, else succeed."""
        if errors:
            with pytest.raises(tuple(errors)):
                call()
            return False
        call()
        return True

    def _belief_errors(self, eid: str, kind: str, at: int) -> set[type[Exception]]:
        """What the issue says an invalidation (``kind="invalidated"``) or reinstatement may raise."""
        e = self.model.get(eid)
        if e is None:
            return {NotFoundError}
        errors: set[type[Exception]] = set()
        invalidated = bool(e.beliefs) and e.beliefs[-1][0] == "invalidated"
        if invalidated == (kind == "invalidated"):
            errors.add(ConflictError)
        if e.beliefs and at < e.beliefs[-1][1]:
            errors.add(ValidationError)
        if kind == "invalidated" and at < e.created_at:  # not withdrawn before it was stored
            errors.add(ValidationError)
        return errors

    # ----- the rules: the store and the reference, side by side ---------------------------------------
    @rule(data=st.data(), row=edge_rows, crate=st.booleans())
    def store_edge(self, data: st.DataObject, row: tuple, crate: bool) -> None:
        """A create or a full update: the store's upsert, or the crate's INSERT OR REPLACE elsewhere."""
        eid = data.draw(st.sampled_from(EDGE_IDS), label="edge id")
        if crate:
            self.other.execute(CRATE_REPLACE_EDGE, (eid, *row))
        else:
            self.store.store_causal_edge(StoredCausalEdge(eid, *row))
        old = self.model.get(eid)
        self.model[eid] = Edge(*row)
        if old is not None:  # the side tables keep them, whichever way the row was re-stored
            self.model[eid].beliefs, self.model[eid].windows = old.beliefs, old.windows

    @rule(data=st.data(), weight=st.sampled_from(WEIGHTS), crate=st.booleans())
    def update_weight(self, data: st.DataObject, weight: float, crate: bool) -> None:
        eid = self._edge(data)
        e = self.model.get(eid)
        if e is None:
            return
        if crate:  # a plain UPDATE from the other connection
            self.other.execute("UPDATE causal_edges SET weight = ? WHERE id = ?", (weight, eid))
        else:
            self.store.store_causal_edge(
                StoredCausalEdge(eid, e.src, e.dst, weight, e.edge_type, e.created_at)
            )
        e.weight = weight

    @rule(data=st.data(), elsewhere=st.booleans())
    def delete_edge(self, data: st.DataObject, elsewhere: bool) -> None:
        eid = self._edge(data)
        if elsewhere:
            self.other.execute("DELETE FROM causal_edges WHERE id = ?", (eid,))
        else:
            self._expect(
                lambda: self.store.delete_causal_edge(eid), set() if eid in self.model else {NotFoundError}
            )
        self.model.pop(eid, None)

    @rule(data=st.data())
    def rekey_edge(self, data: st.DataObject) -> None:
        """A plain ``UPDATE causal_edges SET id = ...`` elsewhere: the beliefs move with the edge."""
        free = [e for e in EDGE_IDS if e not in self.model]
        if not self.model or not free:
            return
        old = data.draw(st.sampled_from(sorted(self.model)), label="old id")
        new = data.draw(st.sampled_from(free), label="new id")
        self.other.execute("UPDATE causal_edges SET id = ? WHERE id = ?", (new, old))
        self.model[new] = self.model.pop(old)

    @rule(m=st.sampled_from(MEMORIES), how=st.sampled_from(["store", "plain", "crate-replace"]))
    def delete_memory(self, m: str, how: str) -> None:
        """A cascade from a memory: its edges go with their beliefs; the memory comes back (without them)."""
        if how == "store":
            self.store.delete_memory(m)
            self.store.store_memory(memory(m))
        elif how == "plain":
            self.other.execute("DELETE FROM memories WHERE id = ?", (m,))
            self.other.execute(CRATE_REPLACE_MEMORY, (m, f"note {m}", 1, 0.5, None, 0, 0))
        else:  # the crate re-stores the memory: its implicit delete cascades to the edges
            self.other.execute(CRATE_REPLACE_MEMORY, (m, "again", 1, 0.5, None, 0, 0))
        self.model = {k: e for k, e in self.model.items() if m not in (e.src, e.dst)}

    @rule(
        data=st.data(),
        reason=st.none() | st.sampled_from(["refuted", "doubt"]),
        superseded=st.sampled_from([None, None, "stored", "any"]),
    )
    def invalidate(self, data: st.DataObject, reason: str | None, superseded: str | None) -> None:
        eid = self._edge(data, invalidated=False)
        at = self._at(data, [eid])
        sup = (
            None
            if superseded is None
            else self._edge(data)
            if superseded == "stored"
            else data.draw(st.sampled_from(EDGE_IDS))
        )
        errors = self._belief_errors(eid, "invalidated", at)
        if sup == eid:
            errors.add(ValidationError)
        elif sup is not None and sup not in self.model:
            errors.add(NotFoundError)
        if self._expect(lambda: self.store.invalidate_causal_edge(eid, at, reason, sup), errors):
            self.model[eid].beliefs.append(("invalidated", at))

    @rule(data=st.data())
    def reinstate(self, data: st.DataObject) -> None:
        eid = self._edge(data, invalidated=True)
        at = self._at(data, [eid])
        if self._expect(
            lambda: self.store.reinstate_causal_edge(eid, at, "back"),
            self._belief_errors(eid, "reinstated", at),
        ):
            self.model[eid].beliefs.append(("reinstated", at))

    @rule(data=st.data(), size=st.integers(0, 4))
    def invalidate_many(self, data: st.DataObject, size: int) -> None:
        eids = [self._edge(data, invalidated=False) for _ in range(size)]
        at = self._at(data, eids)
        errors: set[type[Exception]] = set()
        for eid in eids:
            errors |= self._belief_errors(eid, "invalidated", at)
        if len(set(eids)) < len(eids):
            errors.add(ConflictError)
        if self._expect(lambda: self.store.invalidate_causal_edges(iter(eids), at=at), errors):
            for eid in eids:
                self.model[eid].beliefs.append(("invalidated", at))

    @rule(data=st.data(), lo=st.none() | times, hi=st.none() | times)
    def set_validity(self, data: st.DataObject, lo: int | None, hi: int | None) -> None:
        eid = self._edge(data)
        errors: set[type[Exception]] = set()
        if eid not in self.model:
            errors.add(NotFoundError)
        if lo is not None and hi is not None and hi < lo:
            errors.add(ValidationError)
        if self._expect(lambda: self.store.set_edge_validity(eid, lo, hi), errors):
            self.model[eid].windows.append((lo, hi))

    @rule()
    def keep_a_snapshot(self) -> None:
        """A snapshot never refreshed: it must keep these answers whatever happens next."""
        if len(self.kept) < 3:
            query = self._query()
            g = self.store.causal_graph(**query)
            self.kept.append((g, edges_of(g)))
            assert self.kept[-1][1] == expected_edges(self.model, **query), query

    # ----- after every step -------------------------------------------------------------------------
    def _query(self) -> dict[str, Any]:
        """Some combination of every filter, at times drawn from the interesting ones."""
        t = interesting_times(self.model)
        query: dict[str, Any] = {"known_at": self.rng.choice(t)}
        if self.rng.random() < 0.7:
            query["valid_at"] = self.rng.choice(t)
        if self.rng.random() < 0.5:
            query["as_of"] = self.rng.choice(t)
        if self.rng.random() < 0.5:
            query["min_weight"] = self.rng.choice(WEIGHTS)
        if self.rng.random() < 0.3:
            query["edge_types"] = [self.rng.choice(TYPES)]
        if self.rng.random() < 0.3:
            query["include_invalidated"] = True
        if self.rng.random() < 0.2:
            del query["known_at"]
        return query

    @invariant()
    def snapshots_equal_the_reference(self) -> None:
        store, model = self.store, self.model
        t = interesting_times(model)
        queries: list[dict[str, Any]] = [{}, {"include_invalidated": True}]
        queries += [{"known_at": k} for k in self.rng.sample(t, min(3, len(t)))]
        queries += [{"valid_at": v} for v in self.rng.sample(t, min(2, len(t)))]
        queries += [{"as_of": self.rng.choice(t), "min_weight": 0.5}, self._query()]
        for query in queries:
            assert edges_of(store.causal_graph(**query)) == expected_edges(model, **query), query

    @invariant()
    def refreshed_snapshots_equal_new_ones(self) -> None:
        for query, g in self.live:
            assert g.refresh() is g
            got = edges_of(g)
            assert got == edges_of(self.store.causal_graph(**query)), query
            assert got == expected_edges(self.model, **query), query

    @invariant()
    def kept_snapshots_keep_their_answers(self) -> None:
        for g, answer in self.kept:
            assert edges_of(g) == answer


class FileBeliefMachine(BeliefMachine):
    """The same on a file store, the crate's statements through a second plain connection."""

    def open_store(self) -> OmegaStore:
        self.folder = tempfile.mkdtemp(prefix="omega-beliefs-")
        return OmegaStore(Path(self.folder) / "beliefs.db")

    def other_connection(self) -> sqlite3.Connection:
        assert self.store.path is not None
        conn = sqlite3.connect(self.store.path, isolation_level=None, timeout=10)
        conn.execute("PRAGMA foreign_keys = ON")  # as the crate does
        return conn


def _scaled(examples: int) -> int:
    """``examples`` at the default profile's 100; more under ``HYPOTHESIS_PROFILE=thorough``."""
    return max(1, examples * settings().max_examples // 100)


@pytest.mark.parametrize(
    ("machine", "examples", "steps"),
    [pytest.param(BeliefMachine, 20, 12, id="memory"), pytest.param(FileBeliefMachine, 8, 12, id="file")],
)
def test_random_sequences_follow_the_reference(
    machine: type[BeliefMachine], examples: int, steps: int
) -> None:
    run_state_machine_as_test(
        machine, settings=settings(max_examples=_scaled(examples), stateful_step_count=steps, deadline=None)
    )


# ----- fixed scenarios: answers, not only edge sets ---------------------------------------------------
@pytest.fixture
def chain(tmp_path: Path) -> Iterator[OmegaStore]:
    """a -> b -> c strong (0.9 each), a -> c weak (0.3); a -> b invalidated at 200, reinstated at 300;
    b -> c valid only in [0, 150]."""
    s = OmegaStore(tmp_path / "chain.db")
    s.store_memories(memory(m) for m in "abc")
    s.store_causal_edges(
        [
            StoredCausalEdge("ab", "a", "b", 0.9, "causes", 100),
            StoredCausalEdge("bc", "b", "c", 0.9, "causes", 100),
            StoredCausalEdge("ac", "a", "c", 0.3, "causes", 50),
        ]
    )
    s.invalidate_causal_edge("ab", at=200, reason="refuted")
    s.reinstate_causal_edge("ab", at=300)
    s.set_edge_validity("bc", 0, 150)
    yield s
    s.close()


@pytest.mark.parametrize(
    ("query", "path", "effects"),
    [
        ({}, ("a", "b", "c"), {"b": 0.9, "c": 0.81}),
        ({"known_at": 250}, ("a", "c"), {"c": 0.3}),
        ({"known_at": 199}, ("a", "b", "c"), {"b": 0.9, "c": 0.81}),
        ({"known_at": 99}, ("a", "c"), {"c": 0.3}),
        ({"known_at": 49}, None, {}),
        ({"valid_at": 151}, ("a", "c"), {"b": 0.9, "c": 0.3}),
        ({"valid_at": 150, "known_at": 250}, ("a", "c"), {"c": 0.3}),
        ({"known_at": 250, "include_invalidated": True}, ("a", "b", "c"), {"b": 0.9, "c": 0.81}),
        ({"as_of": 99, "known_at": 250}, ("a", "c"), {"c": 0.3}),
        ({"min_weight": 0.5, "valid_at": 151}, None, {"b": 0.9}),
    ],
)
def test_questions_answer_as_of_the_belief(
    chain: OmegaStore, query: dict[str, Any], path: tuple[str, ...] | None, effects: dict[str, float]
) -> None:
    g = chain.causal_graph(**query)
    if path is None:
        with pytest.raises(NoPathError):
            g.strongest_path("a", "c")
    else:
        assert g.strongest_path("a", "c").nodes == path
    got = dict(zip(g.effects("a")["memory_id"], g.effects("a")["strength"], strict=True))
    assert got == pytest.approx(effects)
    for name in ("known_at", "valid_at", "as_of"):
        assert getattr(g, name) == query.get(name)
    assert g.include_invalidated is query.get("include_invalidated", False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"known_at": 1.5}, "known_at"),
        ({"known_at": "2025-01-01"}, "known_at"),
        ({"known_at": True}, "known_at"),
        ({"valid_at": 2.0}, "valid_at"),
        ({"valid_at": False}, "valid_at"),
        ({"include_invalidated": 1}, "include_invalidated"),
        ({"include_invalidated": None}, "include_invalidated"),
    ],
)
def test_bad_snapshot_arguments_raise_naming_them(
    chain: OmegaStore, kwargs: dict[str, Any], field: str
) -> None:
    value = next(iter(kwargs.values()))
    with pytest.raises(ValidationError, match=re.escape(f"{field} = {value!r}")):
        chain.causal_graph(**kwargs)


def test_snapshot_weights_are_the_current_ones(chain: OmegaStore) -> None:
    chain.store_causal_edge(StoredCausalEdge("ac", "a", "c", 0.6, "causes", 50))  # in place: logged
    queries: list[dict[str, Any]] = [{}, {"known_at": 60}, {"known_at": 250, "valid_at": 1}]
    for query in queries:
        assert edges_of(chain.causal_graph(**query))["ac"] == ("a", "c", 0.6)


# ----- the DuckDB loader and the persisted snapshot ---------------------------------------------------
SCRIPT: list[tuple[str, tuple]] = [
    ("invalidate", ("e1", 30)),
    ("validity", ("e2", 10, 20)),
    ("crate_replace", ("e1", "m1", "m2", 0.4, "enables", 5)),
    ("reinstate", ("e1", 40)),
    ("bulk", (["e3", "e4", "e1"], 50)),
    ("store", ("e5", "m4", "m0", 0.7, "causes", 45)),
    ("delete_elsewhere", ("e3",)),
    ("validity", ("e2", 15, None)),
    ("reinstate", ("e4", 55)),
    ("delete_memory", ("m2",)),
]


def _scripted_store(path: Path) -> tuple[OmegaStore, dict[str, Edge]]:
    s = OmegaStore(path)
    s.store_memories(memory(m) for m in MEMORIES)
    model: dict[str, Edge] = {}
    for i in range(5):
        e = Edge(f"m{i}", f"m{(i + 1) % 5}", WEIGHTS[i], TYPES[i % 2], 10 * i)
        s.store_causal_edge(StoredCausalEdge(f"e{i}", e.src, e.dst, e.weight, e.edge_type, e.created_at))
        model[f"e{i}"] = e
    return s, model


def _play(store: OmegaStore, other: sqlite3.Connection, model: dict[str, Edge], op: str, args: tuple) -> None:
    """One step of :data:`SCRIPT` on the store and on the model."""
    if op == "invalidate":
        store.invalidate_causal_edge(args[0], at=args[1])
        model[args[0]].beliefs.append(("invalidated", args[1]))
    elif op == "reinstate":
        store.reinstate_causal_edge(args[0], at=args[1])
        model[args[0]].beliefs.append(("reinstated", args[1]))
    elif op == "bulk":
        assert store.invalidate_causal_edges(args[0], at=args[1]) == len(args[0])
        for eid in args[0]:
            model[eid].beliefs.append(("invalidated", args[1]))
    elif op == "validity":
        store.set_edge_validity(*args)
        model[args[0]].windows.append(args[1:])
    elif op in ("crate_replace", "store"):
        if op == "store":
            store.store_causal_edge(StoredCausalEdge(*args))
        else:
            other.execute(CRATE_REPLACE_EDGE, args)
        old = model.get(args[0])
        model[args[0]] = Edge(*args[1:])
        if old is not None:
            model[args[0]].beliefs, model[args[0]].windows = old.beliefs, old.windows
    elif op == "delete_elsewhere":
        other.execute("DELETE FROM causal_edges WHERE id = ?", args)
        del model[args[0]]
    else:
        store.delete_memory(args[0])
        for eid in [k for k, e in model.items() if args[0] in (e.src, e.dst)]:
            del model[eid]


def _queries(model: dict[str, Edge]) -> list[dict[str, Any]]:
    t = interesting_times(model)
    return [
        {},
        {"include_invalidated": True},
        {"known_at": t[len(t) // 3]},
        {"known_at": t[2 * len(t) // 3], "valid_at": 15, "min_weight": 0.2},
        {"valid_at": 21},
    ]


@pytest.mark.parametrize("path", ["duckdb-loader", "persisted-snapshot"])
def test_duckdb_loader_and_persisted_snapshot_follow_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """The two ways a large file store is read, forced on a small one: DuckDB's scanner
    (``loader="duckdb"``), and the persisted snapshot (the size threshold lowered to 0), reopened and
    caught up through the change logs at every step."""
    if path == "persisted-snapshot":
        monkeypatch.setattr(_cache, "CACHE_MIN_EDGES", 0)
    loader = "duckdb" if path == "duckdb-loader" else "auto"
    store, model = _scripted_store(tmp_path / "s.db")
    assert store.path is not None
    other = sqlite3.connect(store.path, isolation_level=None, timeout=10)
    other.execute("PRAGMA foreign_keys = ON")
    live = CausalGraph(store, known_at=35, loader=loader)
    try:
        for step, (op, args) in enumerate(SCRIPT):
            _play(store, other, model, op, args)
            _cache.wait_for_writes()
            with caplog.at_level(logging.INFO, logger="omega_graph.graph._cache"):
                caplog.clear()
                queries = _queries(model)
                if path == "duckdb-loader":  # a DuckDB read costs a child-process round trip: two per step
                    queries = [queries[step % len(queries)], queries[(step + 2) % len(queries)]]
                for query in queries:
                    g = CausalGraph(store, loader=loader, **query)
                    assert edges_of(g) == expected_edges(model, **query), (op, query)
                    if path == "duckdb-loader":
                        assert g.loader == "duckdb"
            if path == "persisted-snapshot":  # after the first full read, every snapshot came from the entry
                assert Path(_cachefile.entry_path(store.path)).is_file()
                assert "not used" not in caplog.text
            assert edges_of(live.refresh()) == expected_edges(model, known_at=35), op
    finally:
        other.close()
        store.close()


def test_persisted_snapshot_of_100000_edges_with_a_tenth_invalidated(tmp_path: Path) -> None:
    """A real large store (cache on by size): bulk invalidation of 10,000 edges, reinstatement of some,
    validity windows; new snapshots (from the persisted entry) and a refreshed one equal the reference."""
    n_edges, n_nodes = 100_000, 2_000
    rng = np.random.default_rng(13)
    src, dst = rng.integers(0, n_nodes, n_edges), rng.integers(0, n_nodes, n_edges)
    created = rng.integers(0, 1_000, n_edges)
    weight = np.round(rng.random(n_edges), 3)
    model = {
        f"e{i:06d}": Edge(f"m{src[i]}", f"m{dst[i]}", float(weight[i]), "causes", int(created[i]))
        for i in range(n_edges)
    }
    s = OmegaStore(tmp_path / "big.db")
    try:
        s.store_memories(memory(f"m{i}") for i in range(n_nodes))
        s.store_causal_edges(
            StoredCausalEdge(k, e.src, e.dst, e.weight, "causes", e.created_at) for k, e in model.items()
        )
        first = s.causal_graph()
        assert edges_of(first) == expected_edges(model)
        _cache.wait_for_writes()
        early = np.flatnonzero(created <= 500)  # an edge is not invalidated before it was stored
        wrong = [f"e{i:06d}" for i in rng.choice(early, n_edges // 10, replace=False)]
        assert s.invalidate_causal_edges(wrong, at=500, reason="bulk") == len(wrong)
        for eid in wrong:
            model[eid].beliefs.append(("invalidated", 500))
        for eid in wrong[:100]:
            s.reinstate_causal_edge(eid, at=700)
            model[eid].beliefs.append(("reinstated", 700))
        for eid in wrong[100:150] + [f"e{i:06d}" for i in range(50)]:
            s.set_edge_validity(eid, 100, 200)
            model[eid].windows.append((100, 200))
        queries: list[dict[str, Any]] = [
            {},
            {"known_at": 499},
            {"known_at": 600},
            {"known_at": 800, "valid_at": 250},
            {"include_invalidated": True, "valid_at": 150},
        ]
        for query in queries:
            assert edges_of(s.causal_graph(**query)) == expected_edges(model, **query), query
        assert edges_of(first.refresh()) == expected_edges(model)
    finally:
        s.close()


# ----- one state: the edges and the belief events are read together ------------------------------------
def test_snapshots_see_belief_changes_whole_while_another_connection_writes(tmp_path: Path) -> None:
    """Another store on the same file flips two edges together, in one transaction each time
    (invalidate both, reinstate both), and re-stores them the crate's way; every snapshot taken
    meanwhile, new or refreshed, holds both or neither, never one (edges and events read at one state)."""
    path = tmp_path / "busy.db"
    with OmegaStore(path) as s:
        s.store_memories(memory(m) for m in "abc")
        s.store_causal_edges(
            [
                StoredCausalEdge("p", "a", "b", 0.5, "causes", 0),
                StoredCausalEdge("q", "b", "c", 0.5, "causes", 0),
            ]
        )
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with OmegaStore(path) as w:
                crate = sqlite3.connect(path, isolation_level=None, timeout=30)
                crate.execute("PRAGMA foreign_keys = ON")
                t = 0
                while not stop.is_set():
                    t += 1
                    with w.transaction():
                        w.invalidate_causal_edges(["p", "q"], at=t)
                    crate.execute("BEGIN IMMEDIATE")
                    crate.execute(CRATE_REPLACE_EDGE, ("p", "a", "b", 0.5, "causes", 0))
                    crate.execute(CRATE_REPLACE_EDGE, ("q", "b", "c", 0.5, "causes", 0))
                    crate.execute("COMMIT")
                    with w.transaction():
                        w.reinstate_causal_edge("p", at=t)
                        w.reinstate_causal_edge("q", at=t)
                    time.sleep(0.002)  # a few hundred flips in all: each snapshot reads every event
                crate.close()
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    writer = threading.Thread(target=write)
    with OmegaStore(path) as store:
        live = store.causal_graph()
        writer.start()
        try:
            seen = set()
            for _ in range(60):
                for g in (store.causal_graph(), live.refresh()):
                    held = set(edges_of(g))
                    assert held in ({"p", "q"}, set()), held
                    seen.add(frozenset(held))
        finally:
            stop.set()
            writer.join()
    assert not errors, errors
    assert len(seen) == 2  # both states were seen: the writer really ran meanwhile


# ----- regressions ---------------------------------------------------------------------------
def test_refresh_after_an_edge_is_rekeyed_by_plain_update(tmp_path: Path) -> None:
    """Re-keying an invalidated edge (``UPDATE causal_edges SET id = ...``) moves its events to the
    new id (a trigger) without changing the events table's size or last seq; a refreshed snapshot
    must still leave the new id out, as a new snapshot does."""
    s = OmegaStore(tmp_path / "rekey.db")
    try:
        s.store_memories(memory(m) for m in "abc")
        s.store_causal_edges(
            [
                StoredCausalEdge("e1", "a", "b", 0.8, "causes", 100),
                StoredCausalEdge("e2", "b", "c", 0.8, "causes", 100),
            ]
        )
        s.invalidate_causal_edge("e1", at=200)
        g = s.causal_graph()
        s.connection.execute("UPDATE causal_edges SET id = 'e1x' WHERE id = 'e1'")
        assert set(edges_of(s.causal_graph())) == {"e2"}
        assert set(edges_of(g.refresh())) == {"e2"}
    finally:
        s.close()
