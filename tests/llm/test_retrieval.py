from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loopline as ll
from loopline.errors import InvalidInputError
from loopline.gates import GatePolicy, promote
from loopline.llm import (
    Embedder,
    EmbeddingIndex,
    build_index,
    evaluate_index,
    evaluate_index_version,
    hit_rate_at_k,
    load_index,
    mrr,
    ndcg_at_k,
    register_index,
)
from loopline.llm._retrieval import Query, retrieval_metrics

RANKED = [
    ["d3", "d1", "d2", "d4", "d5"],  # relevant d1 at rank 2
    ["d2", "d5", "d1", "d3", "d4"],  # relevant d2 at rank 1, d4 at rank 5
    ["d5", "d4", "d3", "d2", "d1"],  # its only relevant doc was never retrieved
]
RELEVANT = [{"d1"}, {"d2", "d4"}, {"d9"}]


def test_metrics_equal_a_hand_computed_reference() -> None:
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == pytest.approx(1 / 3)
    assert hit_rate_at_k(RANKED, RELEVANT, 3) == pytest.approx(2 / 3)
    assert hit_rate_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert mrr(RANKED, RELEVANT) == pytest.approx((1 / 2 + 1 / 1 + 0) / 3)
    assert mrr(RANKED, RELEVANT, k=1) == pytest.approx(1 / 3)
    q1 = 1 / math.log2(3)  # one relevant doc at rank 2; ideal DCG 1
    q2_at3 = 1 / (1 + 1 / math.log2(3))  # d2 at rank 1 only; ideal has 2 relevant docs
    q2_at5 = (1 + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, RELEVANT, 3) == pytest.approx((q1 + q2_at3 + 0) / 3)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx((q1 + q2_at5 + 0) / 3)
    assert ndcg_at_k(RANKED, RELEVANT, 3) == pytest.approx(
        0.4146923, abs=1e-6
    )  # (0.6309298 + 0.6131472) / 3
    m = retrieval_metrics(RANKED, RELEVANT, ks=(1, 3))
    assert set(m) == {"mrr", "queries", "hit_rate_at_1", "ndcg_at_1", "hit_rate_at_3", "ndcg_at_3"}


def test_bad_inputs_say_what_to_fix() -> None:
    with pytest.raises(InvalidInputError, match="one set of relevant ids per query"):
        mrr(RANKED, RELEVANT[:2])
    with pytest.raises(InvalidInputError, match="k=0"):
        hit_rate_at_k(RANKED, RELEVANT, 0)


docs = st.sampled_from([f"d{i}" for i in range(8)])
rankings = st.lists(st.lists(docs, max_size=8, unique=True), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(rankings, st.data(), st.integers(1, 8))
def test_metric_properties(ranked: list[list[str]], data: st.DataObject, k: int) -> None:
    relevant = [data.draw(st.sets(docs, min_size=1, max_size=4)) for _ in ranked]
    for value in (
        hit_rate_at_k(ranked, relevant, k),
        mrr(ranked, relevant),
        ndcg_at_k(ranked, relevant, k),
    ):
        assert 0.0 <= value <= 1.0
    assert hit_rate_at_k(ranked, relevant, k) <= hit_rate_at_k(ranked, relevant, k + 1)
    assert hit_rate_at_k(ranked, relevant, 1) <= mrr(ranked, relevant) + 1e-12
    assert mrr(ranked, relevant, k) <= hit_rate_at_k(ranked, relevant, k) + 1e-12
    ideal = [
        sorted(rel) + [d for d in r if d not in rel]
        for r, rel in zip(ranked, relevant, strict=True)
    ]
    assert ndcg_at_k(ideal, relevant, k) == pytest.approx(1.0)
    assert mrr(ideal, relevant) == pytest.approx(1.0)


def test_numpy_index_search_is_cosine_top_k() -> None:
    v = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    index = EmbeddingIndex(("a", "b", "c"), v, "hand")
    (top,) = index.search(np.array([[0.0, 2.0]], dtype=np.float32), k=2)
    assert [d for d, _ in top] == ["b", "c"] and top[1][1] == pytest.approx(0.8)
    again = EmbeddingIndex.from_bytes(index.to_bytes())
    assert again.ids == index.ids and np.array_equal(again.vectors, index.vectors)


CORPUS = {
    "refunds": "Refunds are paid back to the original card within 14 days of the return.",
    "shipping": "Parcels ship within two business days and tracking links arrive by email.",
    "password": "To reset your password, use the 'forgot password' link on the login page.",
    "warranty": "Electronics carry a two-year warranty against manufacturing defects.",
    "stores": "Our shops open from 9am to 6pm, Monday to Saturday.",
}
QUERIES = [
    Query("q1", "How long until I get my money back?", frozenset({"refunds"})),
    Query("q2", "When will my package be delivered?", frozenset({"shipping"})),
    Query("q3", "I forgot my login credentials", frozenset({"password"})),
    Query("q4", "My laptop broke after a year, is it covered?", frozenset({"warranty"})),
]


def test_real_embedding_index_versions_gate_and_roll_back() -> None:
    embedder = Embedder()
    good = build_index(CORPUS, embedder)
    metrics, results = evaluate_index(good, QUERIES, embedder, ks=(1, 3))
    assert metrics["hit_rate_at_1"] == 1.0 and metrics["mrr"] == 1.0
    assert [r[0][0] for r in results] == ["refunds", "shipping", "password", "warranty"]
    # a broken rebuild: texts attached to the wrong ids
    ids = list(CORPUS)
    shuffled = {ids[i]: CORPUS[ids[(i + 1) % len(ids)]] for i in range(len(ids))}
    bad = build_index(shuffled, embedder)

    v1 = register_index("help-docs", good)
    assert v1.flavor == "embedding_index"
    evaluate_index_version("indexes:/help-docs/1", QUERIES, embedder)
    ll.promote("help-docs", 1, alias="production")
    register_index("help-docs", bad)
    bad_metrics, _ = evaluate_index_version("indexes:/help-docs/2", QUERIES, embedder)
    assert bad_metrics["mrr"] < 0.5
    policy = GatePolicy(rules=("mrr >= champion.mrr", "hit_rate_at_3 >= 0.9"))
    refused = promote("help-docs", 2, alias="production", policy=policy)
    assert not refused.promoted
    assert load_index("indexes:/help-docs@production")[0].version == 1
    # The refusing policy is now production's registered gate: without a policy, promote
    # keeps refusing. Forcing it through means registering a permissive one (audited).
    assert not ll.promote("help-docs", 2, alias="production").promoted
    ll.promote("help-docs", 2, alias="production", policy=GatePolicy())
    assert load_index("indexes:/help-docs@production")[1].ids == tuple(ids)
    ll.rollback("help-docs", "production")
    version, index = load_index("indexes:/help-docs@production")
    assert version.version == 1
    assert evaluate_index(index, QUERIES, embedder)[0]["mrr"] == 1.0
