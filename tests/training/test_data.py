"""Training inputs: labels with `unknown` ignored, class sets from train, pairs checked against the store."""

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.training.data import attribute_labels, pair_indices, text_groups
from pipelines.training.losses import IGNORE_INDEX


@pytest.fixture
def meta():
    return pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "split": ["train", "train", "val", "train"],
            "title": ["x", "y", "x", "z"],
            "desc": ["", "", "", ""],
            "neckline": ["v_neck", "round", "boat", "unknown"],
            "material": ["unknown"] * 4,
        }
    )


def test_classes_come_from_train_in_schema_order_and_unknown_or_unseen_is_ignored(meta):
    labels = attribute_labels(meta, ["neckline"], np.array([0, 1, 3]), "store")
    assert labels.classes["neckline"] == ["round", "v_neck"]
    assert labels.labels["neckline"].tolist() == [1, 0, IGNORE_INDEX, IGNORE_INDEX]  # boat only in val


def test_signal_pseudo_labels_fill_unknown_only(meta):
    pseudo = pd.DataFrame({"neckline": ["round", "v_neck"]}, index=pd.Index(["d", "a"], name="item_id"))
    labels = attribute_labels(meta, ["neckline"], np.array([0, 1, 3]), "store", pseudo)
    assert labels.labels["neckline"].tolist() == [1, 0, IGNORE_INDEX, 0]


def test_signal_pseudo_labels_never_fill_val_rows(meta):
    meta.loc[2, "neckline"] = "unknown"  # c is a val item: validation keeps its ground truth
    pseudo = pd.DataFrame({"neckline": ["round", "round"]}, index=pd.Index(["c", "d"], name="item_id"))
    labels = attribute_labels(meta, ["neckline"], np.array([0, 1, 3]), "store", pseudo)
    assert labels.labels["neckline"].tolist() == [1, 0, IGNORE_INDEX, 0]


def test_an_empty_class_set_is_a_clear_error(meta):
    with pytest.raises(PipelineError, match="'material' has no known value in the train split"):
        attribute_labels(meta, ["material"], np.array([0, 1, 3]), "store")


def test_pairs_map_to_rows_and_reject_missing_or_non_train_items(meta):
    pairs = pd.DataFrame({"anchor_id": ["a", "b"], "other_id": ["d", "a"], "label": [1, 0]})
    got = pair_indices(pairs, meta, np.array([0, 1, 3]), "pairs.parquet")
    assert got.anchor.tolist() == [0, 1] and got.other.tolist() == [3, 0] and got.label.tolist() == [1.0, 0.0]
    with pytest.raises(PipelineError, match="pairs.parquet: row 1 names item 'zz', which is not in the store"):
        pair_indices(
            pd.DataFrame({"anchor_id": ["a", "zz"], "other_id": ["b", "a"], "label": [1, 0]}),
            meta,
            np.array([0, 1, 3]),
            "pairs.parquet",
        )
    with pytest.raises(PipelineError, match="train-split items only"):
        pair_indices(
            pd.DataFrame({"anchor_id": ["a"], "other_id": ["c"], "label": [1]}),
            meta,
            np.array([0, 1, 3]),
            "pairs.parquet",
        )


def test_identical_texts_share_a_group(meta):
    assert text_groups(meta).tolist() == [0, 1, 0, 2]
