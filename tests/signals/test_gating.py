"""The gate as a table: threshold, fallback, top-K, budget, priority and merge order."""

import numpy as np
import pytest

from pipelines.signals.gating import GatingRule, calibrate, gate

PRIORITY = ("category", "neckline", "material", "color")

# (case, {dim: scores of one item}, rule overrides, {dim: expected active concept indices})
CASES = [
    ("above threshold", {"category": [0.8, 0.2]}, {}, {"category": {0}}),
    ("threshold is inclusive", {"category": [0.75, 0.2]}, {}, {"category": {0}}),
    ("top-k keeps the best two", {"category": [0.8, 0.76, 0.9]}, {}, {"category": {0, 2}}),
    ("top-k 1", {"category": [0.8, 0.76, 0.9]}, {"top_k": 1}, {"category": {2}}),
    ("fallback to top-1", {"category": [0.5, 0.72]}, {}, {"category": {1}}),
    ("fallback boundary is inclusive", {"category": [0.70, 0.1]}, {}, {"category": {0}}),
    ("fallback is top-1 only", {"category": [0.72, 0.71, 0.1]}, {}, {"category": {0}}),
    ("below fallback", {"category": [0.69, 0.6]}, {}, {"category": set()}),
    ("no fallback when one is active", {"category": [0.76, 0.74]}, {}, {"category": {0}}),
    ("zero delta disables fallback", {"category": [0.74, 0.1]}, {"fallback_delta": 0.0}, {"category": set()}),
    (
        "fair budget: one per dim in priority order",
        {"category": [0.9, 0.8], "neckline": [0.9, 0.8], "material": [0.9], "color": [0.9]},
        {},
        {"category": {0}, "neckline": {0}, "material": {0}, "color": set()},
    ),
    (
        "fair budget: second round after every first",
        {"category": [0.9, 0.8], "neckline": [0.9, 0.8], "material": [0.1], "color": [0.1]},
        {},
        {"category": {0, 1}, "neckline": {0}, "material": set(), "color": set()},
    ),
    (
        "priority merge: a dim takes its top-k first",
        {"category": [0.9, 0.8], "neckline": [0.9, 0.8], "material": [0.9], "color": [0.9]},
        {"merge": "priority"},
        {"category": {0, 1}, "neckline": {0}, "material": set(), "color": set()},
    ),
    (
        "priority decides who gets the budget",
        {"category": [0.9], "neckline": [0.9], "material": [0.9], "color": [0.9]},
        {"priority": ("color", "material", "neckline", "category")},
        {"category": set(), "neckline": {0}, "material": {0}, "color": {0}},
    ),
    (
        "inactive dims leave the budget to later ones",
        {"category": [0.3, 0.2], "neckline": [0.1], "material": [0.9], "color": [0.8, 0.77]},
        {},
        {"category": set(), "neckline": set(), "material": {0}, "color": {0, 1}},
    ),
    (
        "a fallback spends budget",
        {"category": [0.72, 0.1], "neckline": [0.9], "material": [0.8], "color": [0.9]},
        {},
        {"category": {0}, "neckline": {0}, "material": {0}, "color": set()},
    ),
    (
        "budget 1",
        {"category": [0.9], "neckline": [0.9]},
        {"budget": 1},
        {"category": {0}, "neckline": set()},
    ),
]


@pytest.mark.parametrize("case, scores, overrides, expected", CASES, ids=[c[0] for c in CASES])
def test_gate_table(case, scores, overrides, expected):
    rule = GatingRule(**({"priority": PRIORITY} | overrides))
    active = gate({dim: np.array([values], dtype=np.float32) for dim, values in scores.items()}, rule)
    assert {dim: set(np.flatnonzero(mask[0])) for dim, mask in active.items()} == expected


def test_gate_is_per_item():
    """Rows are gated independently, with each row's own budget."""
    scores = {
        "category": np.array([[0.9, 0.8], [0.1, 0.72], [0.1, 0.2]], dtype=np.float32),
        "color": np.array([[0.9, 0.1], [0.76, 0.9], [0.6, 0.71]], dtype=np.float32),
    }
    active = gate(scores, GatingRule(budget=2, priority=("category", "color")))
    assert active["category"].tolist() == [[True, False], [False, True], [False, False]]
    assert active["color"].tolist() == [[True, False], [False, True], [False, True]]


def test_gate_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="same items"):
        gate({"category": np.zeros((2, 3)), "color": np.zeros((3, 3))}, GatingRule())


def test_calibrate_zscore_is_sigmoid_of_standardised_similarity():
    similarities = np.array([[0.9, 0.5, 0.1], [0.2, 0.2, 0.2]])
    z = np.array([1.224745, 0.0, -1.224745])
    scores = calibrate(similarities, "zscore", temperature=0.5)
    np.testing.assert_allclose(scores[0], 1 / (1 + np.exp(-z / 0.5)), rtol=1e-5)
    np.testing.assert_allclose(scores[1], [0.5, 0.5, 0.5])  # flat similarities: nothing stands out
    assert scores.dtype == np.float32


def test_calibrate_none_is_raw_cosine():
    similarities = np.array([[0.9, 0.5, -0.1]])
    np.testing.assert_allclose(calibrate(similarities, "none", temperature=3.0), similarities, rtol=1e-6)
