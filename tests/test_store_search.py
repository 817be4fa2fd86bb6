"""Finding things: search_memories (FTS5, bm25; robust to the crate's INSERT OR REPLACE from another
connection; user text never a syntax error), match_skills (regex), get_skills_by_pattern (literal
substring), similar_memories (exact cosine top-k, checked against numpy)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega_graph.errors import PatternWarning, ValidationError
from omega_graph.models import StoredMemory, StoredSkill, StoredVector, pack_f32
from omega_graph.store import OmegaStore

CRATE_REPLACE_MEMORY = """INSERT OR REPLACE INTO memories
             (id, content, tier, importance, embedding_blob, created_at, last_accessed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"""
CRATE_REPLACE_SKILL = """INSERT OR REPLACE INTO skills
             (id, name, description, trigger_pattern, success_count, last_used, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"""


def _mem(id: str, content: str) -> StoredMemory:
    return StoredMemory(id, content, 1, 0.5, None, 0, 0)


@pytest.fixture
def corpus(mem_store: OmegaStore) -> OmegaStore:
    texts = {
        "smoker": "smoke smoke smoke and lung",
        "lung": "lung cancer follows years of smoke exposure in many patients",
        "asia": "a visit to asia raises the risk of tuberculosis",
        "xray": "the xray shows a shadow on the lung",
        "dysp": "dyspnoea: shortness of breath",
    }
    for mid, text in texts.items():
        mem_store.store_memory(_mem(mid, text))
    return mem_store


# ----- search_memories -----------------------------------------------------------------------------------


def test_search_ranks_best_match_first(corpus: OmegaStore) -> None:
    found = corpus.search_memories("smoke")
    assert [m.id for m in found] == ["smoker", "lung"]
    assert found[0] == corpus.get_memory("smoker")
    assert all(isinstance(m, StoredMemory) for m in found)


def test_search_respects_limit_and_keeps_the_best(corpus: OmegaStore) -> None:
    everything = corpus.search_memories("lung", limit=100)
    assert {m.id for m in everything} == {"smoker", "lung", "xray"}
    assert corpus.search_memories("lung", limit=2) == everything[:2]
    assert corpus.search_memories("lung", limit=1) == everything[:1]
    assert len(corpus.search_memories("the a of lung smoke asia", limit=3)) == 3


def test_search_finds_every_memory_holding_all_words_and_none_holding_none(corpus: OmegaStore) -> None:
    found = {m.id for m in corpus.search_memories("lung smoke", limit=100)}
    assert {"smoker", "lung"} <= found
    assert "asia" not in found and "dysp" not in found


def test_search_ties_keep_insertion_order(mem_store: OmegaStore) -> None:
    ids = ["m9", "m1", "m5", "m3"]
    for mid in ids:
        mem_store.store_memory(_mem(mid, "identical text here"))
    assert [m.id for m in mem_store.search_memories("identical")] == ids


def test_search_uses_stemming(corpus: OmegaStore) -> None:
    assert [m.id for m in corpus.search_memories("visiting")] == ["asia"]
    assert {m.id for m in corpus.search_memories("patient")} == {"lung"}


@pytest.mark.parametrize(
    "text",
    [
        '"AND OR NEAR( * ',
        "AND OR NEAR( * ",
        '"',
        '""',
        "*",
        "^",
        "(",
        ")",
        "NEAR(",
        "NOT",
        "AND",
        "OR",
        "-",
        ":",
        "content:",
        "{content}",
        "'; DROP TABLE memories; --",
        "smoke AND",
        "AND smoke",
        "smoke NOT",
        "smoke OR OR lung",
        "NEAR(smoke lung, 2",
        "content: smoke",
        "-smoke",
        "smoke*",
        "^smoke",
        '"smoke',
        "smoke\x00lung",
        "🧠 emoji",
        "a" * 10_000,
    ],
)
def test_user_text_is_never_a_query_syntax_error(corpus: OmegaStore, text: str) -> None:
    found = corpus.search_memories(text, limit=100)
    assert isinstance(found, list)
    if "smoke" in text:
        assert "smoker" in {m.id for m in found}
    assert corpus.get_statistics().memory_count == 5


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "*", '" " "', "(((", "!?.,;"])
def test_search_without_words_finds_nothing(corpus: OmegaStore, text: str) -> None:
    assert corpus.search_memories(text) == []


@settings(max_examples=300)
@given(text=st.text(max_size=40))
def test_any_text_is_a_valid_search(text: str) -> None:
    with OmegaStore.new_in_memory() as store:
        store.store_memory(_mem("m", "alpha bravo AND OR NEAR charlie"))
        found = store.search_memories(text)
        assert all(isinstance(m, StoredMemory) for m in found)


@pytest.mark.parametrize(
    ("text", "limit"), [(None, 10), (b"smoke", 10), (123, 10), ("smoke", 0), ("smoke", -1), ("smoke", "5")]
)
def test_search_argument_errors(corpus: OmegaStore, text: object, limit: object) -> None:
    with pytest.raises(ValidationError):
        corpus.search_memories(text, limit=limit)  # type: ignore[arg-type]


def test_search_follows_updates_and_deletes_through_the_store(corpus: OmegaStore) -> None:
    corpus.store_memory(_mem("asia", "now about malaria instead"))
    assert corpus.search_memories("tuberculosis") == []
    assert [m.id for m in corpus.search_memories("malaria")] == ["asia"]
    corpus.delete_memory("asia")
    assert corpus.search_memories("malaria") == []
    corpus.store_memories([_mem("new1", "malaria again"), _mem("new2", "tuberculosis again")])
    assert [m.id for m in corpus.search_memories("malaria")] == ["new1"]


VOCAB = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["store", "store_bulk", "crate_replace", "crate_update", "crate_delete", "store_delete"]
        ),
        st.sampled_from(["m0", "m1", "m2", "m3"]),
        st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=60)
@given(ops=OPS)
def test_search_stays_exact_when_the_crate_writes_the_same_file(
    ops: list[tuple[str, str, list[str]]],
) -> None:
    """Mix store writes with the crate's own SQL (INSERT OR REPLACE, whose implicit delete fires no
    trigger, UPDATE, DELETE) on a second plain connection: search always equals a substring scan."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mixed.db")
        with OmegaStore(path) as store:
            crate = sqlite3.connect(path, isolation_level=None)
            crate.execute("PRAGMA foreign_keys = ON")
            try:
                for op, mid, words in ops:
                    content = " ".join(words)
                    exists = crate.execute("SELECT 1 FROM memories WHERE id = ?", (mid,)).fetchone()
                    if op == "store":
                        store.store_memory(_mem(mid, content))
                    elif op == "store_bulk":
                        store.store_memories([_mem(mid, content), _mem(mid + "b", content + " golf")])
                    elif op == "crate_replace":
                        crate.execute(CRATE_REPLACE_MEMORY, (mid, content, 2, 0.5, None, 1, 1))
                    elif op == "crate_update":
                        crate.execute("UPDATE memories SET content = ? WHERE id = ?", (content, mid))
                    elif op == "crate_delete":
                        crate.execute("DELETE FROM memories WHERE id = ?", (mid,))
                    elif exists:
                        store.delete_memory(mid)
                    truth = dict(crate.execute("SELECT id, content FROM memories"))
                    for word in [*VOCAB, "golf"]:
                        expected = {i for i, c in truth.items() if word in c.split()}
                        found = store.search_memories(word, limit=1000)
                        assert {m.id for m in found} == expected, (word, op, mid)
                        assert len(found) == len(expected)
                        assert all(m.content == truth[m.id] for m in found)
                assert crate.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                crate.close()


# ----- match_skills --------------------------------------------------------------------------------------


@pytest.fixture
def skills(mem_store: OmegaStore) -> OmegaStore:
    for s in [
        StoredSkill("s0", "code_review", "", "review.*code|code.*review", 10, None, 0),
        StoredSkill("s1", "analyze_code", "", "analyze_code", 7, None, 0),
        StoredSkill("s2", "write_tests", "", "write_tests", 4, None, 0),
        StoredSkill("s3", "plan_trip", "", "plan.*trip", 0, None, 0),
        StoredSkill("s4", "deploy", "", "^deploy\\b", 7, None, 0),
        StoredSkill("s5", "percent", "", "100%_sure", 1, None, 0),
    ]:
        mem_store.store_skill(s)
    return mem_store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("please review my code", ["s0"]),
        ("this code needs a review", ["s0"]),
        ("Review my Code", []),  # case-sensitive
        ("analyze_code then write_tests", ["s1", "s2"]),
        ("plan a trip, then review the code", ["s0", "s3"]),
        ("deploy now and analyze_code", ["s1", "s4"]),  # tie at 7: insertion order
        ("we will deploy now", []),  # ^ anchors at the start of the text
        ("I am 100%_sure", ["s5"]),
        ("", []),
    ],
)
def test_match_skills_uses_re_search(skills: OmegaStore, text: str, expected: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [s.id for s in skills.match_skills(text)] == expected


def test_match_skills_returns_full_records(skills: OmegaStore) -> None:
    assert skills.match_skills("plan the trip") == [skills.get_skill("s3")]


def test_invalid_stored_regex_is_skipped_with_a_warning(file_store: OmegaStore) -> None:
    file_store.store_skill(StoredSkill("good", "good", "", "trip", 1, None, 0))
    crate = sqlite3.connect(file_store.path)
    crate.execute(CRATE_REPLACE_SKILL, ("broken", "broken", "", "trip([", 5, None, 0))
    crate.commit()
    crate.close()
    with pytest.warns(PatternWarning, match="broken") as caught:
        found = file_store.match_skills("a trip([ somewhere")
    assert [s.id for s in found] == ["good"]
    assert any("trip([" in str(w.message) for w in caught)


def test_match_skills_rejects_non_text(skills: OmegaStore) -> None:
    with pytest.raises(ValidationError):
        skills.match_skills(None)  # type: ignore[arg-type]


# ----- get_skills_by_pattern -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code", ["s0", "s1"]),
        ("CODE", ["s0", "s1"]),  # case-insensitive
        ("Review.*Code", ["s0"]),  # regex characters are literal
        (".*", ["s0", "s3"]),
        ("%", ["s5"]),  # % is literal, not a wildcard
        ("_", ["s1", "s2", "s5"]),  # _ is literal (s1, s2 contain one)
        ("100%_", ["s5"]),
        ("a%e", []),
        ("p_an", []),
        ("", ["s0", "s1", "s4", "s2", "s5", "s3"]),  # everything, most successful first
        ("nothing-like-this", []),
    ],
)
def test_get_skills_by_pattern_is_a_literal_case_insensitive_substring(
    skills: OmegaStore, text: str, expected: list[str]
) -> None:
    assert [s.id for s in skills.get_skills_by_pattern(text)] == expected


def test_get_skills_by_pattern_folds_non_ascii_case(mem_store: OmegaStore) -> None:
    mem_store.store_skill(StoredSkill("u", "umlaut", "", "Überprüfung der Straße", 1, None, 0))
    assert [s.id for s in mem_store.get_skills_by_pattern("überprüfung")] == ["u"]
    assert [s.id for s in mem_store.get_skills_by_pattern("ÜBERPRÜFUNG")] == ["u"]


# ----- similar_memories ----------------------------------------------------------------------------------


@pytest.fixture
def embedded(mem_store: OmegaStore) -> tuple[OmegaStore, list[str], np.ndarray]:
    rng = np.random.default_rng(7)
    ids = [f"m{i:03d}" for i in range(60)]
    matrix = rng.normal(size=(60, 8)).astype(np.float32)
    for mid, row in zip(ids, matrix, strict=True):
        mem_store.store_memory(_mem(mid, "x"))
        mem_store.store_vector(StoredVector(f"v-{mid}", mid, 8, pack_f32(row.tolist())))
    for i in range(5):  # other dimensions must be ignored
        mem_store.store_vector(StoredVector(f"w{i}", ids[i], 3, pack_f32([1.0, 0.0, 0.0])))
    return mem_store, ids, matrix


def _numpy_top(matrix: np.ndarray, ids: list[str], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    m = matrix.astype(np.float64)
    q = np.asarray(query, dtype=np.float64)
    scores = m @ q / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in order]


@pytest.mark.parametrize("k", [1, 5, 60, 500])
def test_similar_memories_matches_numpy_cosine(embedded, k: int) -> None:
    store, ids, matrix = embedded
    rng = np.random.default_rng(k)
    for _ in range(5):
        query = rng.normal(size=8)
        got = store.similar_memories(query, k=k)
        want = _numpy_top(matrix, ids, query, k)
        assert [g[0] for g in got] == [w[0] for w in want]
        assert [g[1] for g in got] == pytest.approx([w[1] for w in want], rel=1e-6, abs=1e-9)
        assert all(type(mid) is str and type(score) is float for mid, score in got)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_similar_memories_accepts_lists_tuples_and_arrays(embedded) -> None:
    store, ids, matrix = embedded
    query = matrix[17].astype(np.float64)
    as_array = store.similar_memories(query, k=3)
    assert store.similar_memories(query.tolist(), k=3) == as_array
    assert store.similar_memories(tuple(query.tolist()), k=3) == as_array
    assert store.similar_memories(query.astype(np.float32), k=3)[0][0] == ids[17]
    assert as_array[0] == (ids[17], pytest.approx(1.0))


def test_similar_memories_default_k_is_ten(embedded) -> None:
    store, _, _ = embedded
    assert len(store.similar_memories([1.0] * 8)) == 10


def test_similar_memories_other_dimension(embedded) -> None:
    store, ids, _ = embedded
    got = store.similar_memories([2.0, 0.0, 0.0], k=10)
    assert [m for m, _ in got] == ids[:5]
    assert [s for _, s in got] == pytest.approx([1.0] * 5)


def test_a_memory_with_several_vectors_appears_once(mem_store: OmegaStore) -> None:
    mem_store.store_memory(_mem("a", "x"))
    mem_store.store_memory(_mem("b", "x"))
    mem_store.store_vector(StoredVector.from_values("a1", "a", [1.0, 0.0]))
    mem_store.store_vector(StoredVector.from_values("a2", "a", [0.0, 1.0]))
    mem_store.store_vector(StoredVector.from_values("b1", "b", [1.0, 1.0]))
    got = mem_store.similar_memories([1.0, 0.1], k=10)
    assert [m for m, _ in got] == ["a", "b"]
    assert got[0][1] == pytest.approx(1.0 / np.sqrt(1.01))


@pytest.mark.parametrize("dims", [1, 4, 9, 1536])
def test_unknown_dimension_is_a_validation_error(embedded, dims: int) -> None:
    store, _, _ = embedded
    with pytest.raises(ValidationError, match=str(dims)):
        store.similar_memories([0.5] * dims)


def test_similar_memories_on_a_store_without_vectors(mem_store: OmegaStore) -> None:
    with pytest.raises(ValidationError):
        mem_store.similar_memories([1.0, 2.0])


@pytest.mark.parametrize(
    ("vector", "k"),
    [
        ([0.0] * 8, 5),
        ([float("nan")] + [1.0] * 7, 5),
        ([], 5),
        ([[1.0] * 8], 5),
        ([1.0] * 8, 0),
        ([1.0] * 8, -3),
    ],
)
def test_similar_memories_bad_arguments(embedded, vector: list, k: int) -> None:
    store, _, _ = embedded
    with pytest.raises(ValidationError):
        store.similar_memories(vector, k=k)
