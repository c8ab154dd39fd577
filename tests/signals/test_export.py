"""export_signals on a tiny store whose report values are worked out by hand, and active_signal_labels."""

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.params import ParamsError, build
from pipelines.signals import SIGNAL_COLUMNS, active_signal_labels, export_signals
from pipelines.signals.config import SignalsConfig

E = np.eye(4, dtype=np.float32)
SPLIT = ["train", "train", "train", "val", "val", "val", "test"]
KEYS = E[[0, 1, 2, 0, 1, 2, 3]]
COLOR = ["black", "red", "blue", "black", "blue", "unknown", "unknown"]
CATEGORY = ["tees", "shirts", "tees", "tees", "unknown", "shirts", "unknown"]


def config(**overrides) -> SignalsConfig:
    return build(SignalsConfig, {"dims": ["category", "color"]} | overrides, "signals")


def test_report_values_on_a_tiny_store(make_store):
    # color prototypes are e0, e1, e2: items 0-5 have z = (√2, −1/√2, −1/√2) → sigmoid 0.80, active;
    # item 6 (e3) is equally far from all → 0.5, inactive. Category has two concepts, tees = (e0+e2)/√2
    # and shirts = e1: z = ±1 → 0.73, active by the fallback, except item 6.
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR)
    result = export_signals(store, config(), seed=0)
    report = result.report
    assert result.prototypes["color"].concepts == ("black", "red", "blue")
    assert result.prototypes["category"].concepts == ("tees", "shirts")
    assert report["items"] == 7
    assert report["color"] == {
        "concepts": 3,
        "val_known": 2,
        "top1_accuracy": 0.5,
        "active_accuracy": 0.5,
        "coverage": round(6 / 7, 4),
        "mean_active": round(6 / 7, 4),
        "pseudo_labels": 1,
    }
    assert report["category"] == {
        "concepts": 2,
        "val_known": 2,
        "top1_accuracy": 0.5,
        "active_accuracy": 0.5,
        "coverage": round(6 / 7, 4),
        "mean_active": round(6 / 7, 4),
        "pseudo_labels": 1,
    }
    assert report["coverage_any"] == round(6 / 7, 4)
    assert report["mean_active_per_item"] == round(12 / 7, 4)


def test_signal_table_rows(make_store):
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR)
    signals = export_signals(store, config(), seed=0).signals
    assert list(signals.columns) == SIGNAL_COLUMNS
    assert len(signals) == 7 * (2 + 2)  # top_k concepts per item and dim
    item4 = signals[signals.item_id == "i004"]
    assert item4[["dim", "concept", "rank", "active"]].values.tolist() == [
        ["category", "shirts", 1, True],
        ["category", "tees", 2, False],
        ["color", "red", 1, True],
        ["color", "black", 2, False],
    ]
    np.testing.assert_allclose(
        item4.score.tolist(),
        [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1)), 1 / (1 + np.exp(-np.sqrt(2))), 1 / (1 + np.exp(1 / np.sqrt(2)))],
        rtol=1e-5,
    )
    assert signals.score.dtype == np.float32 and signals["rank"].dtype == np.int64


def test_budget_goes_to_the_priority_dimension(make_store):
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR)
    report = export_signals(store, config(budget=1), seed=0).report
    assert report["category"]["coverage"] == round(6 / 7, 4)
    assert report["color"]["coverage"] == 0.0


def test_active_signal_labels(make_store):
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR)
    signals = export_signals(store, config(), seed=0).signals
    labels = active_signal_labels(signals, ["color", "category", "neckline"])
    assert labels.index.name == "item_id" and list(labels.index) == [f"i{i:03d}" for i in range(7)]
    assert list(labels.columns) == ["color", "category", "neckline"]
    assert labels.loc["i005"].tolist() == ["blue", "tees", "unknown"]
    assert labels.loc["i006"].tolist() == ["unknown", "unknown", "unknown"]
    assert labels.loc["i004", "color"] == "red"


def test_refinement_runs_on_the_store(make_store):
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR)
    refined = export_signals(store, config(refine={"epochs": 3}), seed=0)
    np.testing.assert_allclose(np.linalg.norm(refined.prototypes["color"].vectors, axis=1), 1.0, rtol=1e-5)
    assert refined.report["color"]["top1_accuracy"] == 0.5


def test_dimension_without_known_train_values(make_store):
    store = make_store(KEYS, SPLIT, category=CATEGORY, color=COLOR, neckline=["unknown"] * 6 + ["round"])
    with pytest.raises(PipelineError, match="'neckline'"):
        export_signals(store, config(dims=["category", "neckline"]), seed=0)


def test_dimension_missing_from_the_store(make_store):
    store = make_store(KEYS, SPLIT, drop=("pattern",), category=CATEGORY, color=COLOR)
    with pytest.raises(PipelineError, match="meta.parquet: has no column 'pattern' named in signals.dims"):
        export_signals(store, config(dims=["category", "pattern"]), seed=0)


def test_dims_must_be_schema_fields():
    with pytest.raises(ParamsError, match="'colour', which is not a schema field"):
        config(dims=["category", "colour"])
