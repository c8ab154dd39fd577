"""Slices (category, attribute value) ranked by the change in the fine-tuned model's attribute@10."""

import pytest

from pipelines.review.slice_changes import SliceScore, gains, regressions, slice_changes, slice_scores

BY_CATEGORY = {
    "finetuned": {
        "cardigans": {"category@10": 0.0625, "category_n": 8, "material@10": 0.4, "material_n": 12, "fit_n": 0, "n": 8},
        "jeans": {"category@10": 0.5, "category_n": 21, "color@10": 0.8, "color_n": 21, "color@5": 0.9, "n": 21},
    },
    "baseline": {"jeans": {"category@10": 0.1, "category_n": 21, "n": 21}},
}
BY_VALUE = {
    "finetuned": {"category=jeans": {"category@10": 0.5, "n": 21}, "material=denim": {"material@10": 0.59, "n": 29}}
}


def test_scores_come_from_both_files_with_their_query_counts():
    scores = slice_scores(BY_CATEGORY, BY_VALUE, "finetuned", 10)
    assert scores == {
        ("category=cardigans", "category@10"): SliceScore("category=cardigans", "category@10", 0.0625, 8),
        ("category=cardigans", "material@10"): SliceScore("category=cardigans", "material@10", 0.4, 12),
        ("category=jeans", "category@10"): SliceScore("category=jeans", "category@10", 0.5, 21),
        ("category=jeans", "color@10"): SliceScore("category=jeans", "color@10", 0.8, 21),
        ("material=denim", "material@10"): SliceScore("material=denim", "material@10", 0.59, 29),
    }
    assert slice_scores(BY_CATEGORY, None, "baseline", 10) == {
        ("category=jeans", "category@10"): SliceScore("category=jeans", "category@10", 0.1, 21)
    }
    assert slice_scores(None, None) == {}


def _scores(**values):
    return {(name, "material@10"): SliceScore(name, "material@10", value, n) for name, (value, n) in values.items()}


def test_changes_in_points_skip_small_slices_and_slices_one_side_lacks():
    base = _scores(a=(0.50, 30), b=(0.40, 30), c=(0.30, 30), d=(0.90, 4), e=(0.2, 50))
    head = _scores(a=(0.40, 30), b=(0.45, 30), c=(0.30, 30), d=(0.10, 4), f=(0.9, 50))
    changes = slice_changes(base, head, min_queries=10)
    assert [(c.slice, round(c.change, 4)) for c in changes] == [("a", -10.0), ("c", 0.0), ("b", 5.0)]
    assert [c.slice for c in regressions(changes, 5)] == ["a"]
    assert [c.slice for c in gains(changes, 5)] == ["b"]


def test_top_n_largest_first():
    base = _scores(**{f"s{i}": (0.5, 20) for i in range(8)})
    head = _scores(**{f"s{i}": (0.5 + (i - 4) / 100, 20) for i in range(8)})
    changes = slice_changes(base, head, min_queries=10)
    assert [c.slice for c in regressions(changes, 2)] == ["s0", "s1"]
    assert [c.slice for c in gains(changes, 2)] == ["s7", "s6"]
    assert regressions(changes, 2)[0].change == pytest.approx(-4.0)
