"""Headline metrics: which files dvc.yaml declares, flattened keys, and changes between revisions."""

import pytest

from pipelines.review.metric_changes import MetricChange, flatten_metrics, metric_changes, metrics_paths
from pipelines.review.revisions import ABSENT


def test_metrics_paths_from_the_top_level_list_and_stage_outs():
    dvc_yaml = {
        "metrics": ["reports/scoreboard.json", "reports/metrics.json"],
        "stages": {
            "train": {"metrics": [{"reports/train.json": {"cache": False}}]},
            "index": {"metrics": ["reports/metrics.json", "reports/index.json"]},
        },
    }
    assert metrics_paths(dvc_yaml) == [
        "reports/scoreboard.json",
        "reports/metrics.json",
        "reports/train.json",
        "reports/index.json",
    ]
    assert metrics_paths(None) == []


def test_flatten_metrics_joins_keys_with_dots_and_keeps_scalars():
    assert flatten_metrics({"finetuned": {"i2i/category@10": 0.41}, "neckline@10": {"pass": False}, "ks": [1, 10]}) == {
        "finetuned.i2i/category@10": 0.41,
        "neckline@10.pass": False,
    }


def test_changes_cover_both_sides_with_absent_keys_and_files():
    old = {"reports/metrics.json": {"finetuned": {"a": 0.4128, "b": 0.3}}, "reports/train/metrics.json": None}
    new = {"reports/metrics.json": {"finetuned": {"a": 0.45, "c": 0.1}}, "reports/train/metrics.json": {"step": 14}}
    rows = metric_changes(old, new)
    assert [(r.path, r.key, r.old, r.new) for r in rows] == [
        ("reports/metrics.json", "finetuned.a", 0.4128, 0.45),
        ("reports/metrics.json", "finetuned.c", ABSENT, 0.1),
        ("reports/metrics.json", "finetuned.b", 0.3, ABSENT),
        ("reports/train/metrics.json", "step", ABSENT, 14),
    ]
    assert rows[0].change == pytest.approx(0.0372)
    assert rows[1].change is None and rows[1].changed


def test_unchanged_and_boolean_values():
    assert not MetricChange("f", "k", 0.5, 0.5).changed
    flipped = MetricChange("f", "neckline@10.pass", False, True)
    assert flipped.changed and flipped.change is None
