"""Per-query retrieval metrics against hand computation, and the seeded bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.evaluation import (
    bootstrap_generator,
    bootstrap_interval,
    bootstrap_means,
    ndcg_at_k,
    paired_delta_interval,
    ranked_metric,
)

RELEVANT = np.array(
    [
        [0, 1, 0, 1, 0],  # first hit at rank 2
        [0, 0, 0, 0, 0],  # nothing relevant retrieved
        [1, 1, 1, 0, 0],
        [0, 0, 0, 0, 1],
    ],
    dtype=bool,
)


def test_mrr_and_precision_match_a_hand_computation():
    hand_rr = [1 / 2, 0.0, 1.0, 1 / 5]
    hand_p3 = [1 / 3, 0.0, 3 / 3, 0.0]
    assert ranked_metric("mrr", RELEVANT) == pytest.approx(hand_rr)
    assert ranked_metric("p@3", RELEVANT) == pytest.approx(hand_p3)
    assert ranked_metric("mrr", RELEVANT).mean() == pytest.approx(np.mean(hand_rr))
    assert ranked_metric("hit@1", RELEVANT).tolist() == [0.0, 0.0, 1.0, 0.0]
    # attribute@K is precision@K with "same value" as relevance; K beyond the list counts the empty slots as misses
    assert ranked_metric("attribute@10", RELEVANT) == pytest.approx([0.2, 0.0, 0.3, 0.1])


def test_recall_with_one_relevant_document_is_the_hit_rate():
    one = np.zeros((3, 4), dtype=bool)
    one[0, 0] = one[1, 3] = True
    assert ranked_metric("recall@1", one).tolist() == [1.0, 0.0, 0.0]
    assert ranked_metric("recall@4", one).tolist() == [1.0, 1.0, 0.0]


def test_no_queries_and_bad_names():
    assert ranked_metric("mrr", np.zeros((0, 5), bool)).shape == (0,)
    for bad in ("ndcg", "p@0", "attribute@x", "mrr@10", "recall"):
        with pytest.raises(PipelineError, match=f"unknown retrieval metric '{bad}'"):
            ranked_metric(bad, RELEVANT)


def test_bootstrap_interval_contains_the_mean_and_is_seeded():
    scores = np.random.default_rng(0).random(200)
    lo, hi = bootstrap_interval(scores, 500, bootstrap_generator(42, "i2i/category@10"))
    assert lo < scores.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * scores.std() / np.sqrt(200), rel=0.25)  # the normal approximation
    assert bootstrap_interval(scores, 500, bootstrap_generator(42, "i2i/category@10")) == (lo, hi)
    assert bootstrap_interval(scores, 500, bootstrap_generator(43, "i2i/category@10")) != (lo, hi)
    assert bootstrap_interval(scores, 500, bootstrap_generator(42, "i2i/material@10")) != (lo, hi)
    assert bootstrap_interval(np.zeros(0), 500, bootstrap_generator(42, "x")) is None
    assert bootstrap_interval(np.array([0.25]), 50, bootstrap_generator(42, "x")) == (0.25, 0.25)


def test_bootstrap_chunks_give_the_same_resamples():
    scores = np.arange(10, dtype=float)
    whole = bootstrap_means(scores, 30, bootstrap_generator(1, "k"))
    chunked = bootstrap_means(scores, 30, bootstrap_generator(1, "k"), chunk=25)  # two resamples per chunk
    np.testing.assert_allclose(whole, chunked)


def test_paired_delta_interval_removes_shared_query_difficulty():
    rng = np.random.default_rng(0)
    difficulty = rng.random(300)
    baseline, finetuned = difficulty, np.clip(difficulty + 0.05 + rng.normal(0, 0.01, 300), 0, None)
    lo, hi = paired_delta_interval(baseline, finetuned, 500, bootstrap_generator(0, "d"))
    assert 0.04 < lo < 0.05 < hi < 0.06  # far narrower than either model's own interval
    with pytest.raises(PipelineError, match="differ in shape"):
        paired_delta_interval(baseline, finetuned[:10], 10, bootstrap_generator(0, "d"))


def test_recall_divides_by_every_relevant_document_in_the_catalog_when_counted():
    relevant = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 1]], dtype=bool)
    total = np.array([2, 1, 2])  # query 0 has one relevant document beyond its list, query 1 one never retrieved
    assert ranked_metric("recall@1", relevant, total).tolist() == pytest.approx([0.0, 0.0, 0.5])
    assert ranked_metric("recall@3", relevant, total).tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert ranked_metric("mrr", relevant, total).tolist() == pytest.approx([0.5, 0.0, 1.0])  # MRR ignores the count
    assert ranked_metric("p@2", relevant, total).tolist() == pytest.approx([0.5, 0.0, 0.5])
    with pytest.raises(PipelineError, match="relevant_total"):
        ranked_metric("recall@1", relevant, np.array([0, 1, 2]))


def test_ndcg_at_k_graded_linear_gain():
    gains = np.array([3.0, 2.0, 0.0, 1.0])
    # shown: 2, 3, 1 -> 2/log2(2) + 3/log2(3) + 1/log2(4); ideal: 3, 2, 1
    expected = (2 + 3 / np.log2(3) + 0.5) / (3 + 2 / np.log2(3) + 0.5)
    assert ndcg_at_k(gains, np.array([1, 0, 3]), 3) == pytest.approx(expected)
    assert ndcg_at_k(gains, np.array([0, 1, 3]), 3) == pytest.approx(1.0)
    assert ndcg_at_k(gains, np.array([0]), 3) == pytest.approx(3 / (3 + 2 / np.log2(3) + 0.5))  # empty slots score 0
    assert ndcg_at_k(np.zeros(4), np.array([0, 1]), 2) == 0.0
