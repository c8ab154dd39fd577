"""Rerank strategies over a pool: the constraint score and MMR."""

import numpy as np

from pipelines.search.rerank import constraint_scores, mmr, top_by_score


def test_constraint_score_is_base_plus_alpha_match_minus_beta_conflict():
    scores = constraint_scores(np.array([0.9, 0.5, 0.7]), np.array([0, 2, 1]), np.array([1, 0, 0]), 0.5, 1.0)
    np.testing.assert_allclose(scores, [-0.1, 1.5, 1.2])
    assert top_by_score(scores, 2).tolist() == [1, 2]


def test_mmr_with_lambda_one_is_relevance_order_and_below_one_skips_a_near_duplicate():
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.array([1.0, 0.95, 0.8])
    assert mmr(relevance, vectors, 3, 1.0).tolist() == [0, 1, 2]
    assert mmr(relevance, vectors, 2, 0.5).tolist() == [0, 2]
