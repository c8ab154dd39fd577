"""The miner on a hand-built catalog whose hard negatives are known exactly."""

from __future__ import annotations

import faiss
import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.index import search_excluding_groups
from pipelines.mining import mine_hard_negatives, positive_reference, select_anchors, signal_codes
from pipelines.mining.config import MiningConfig
from pipelines.params import build
from pipelines.schema import FIELDS

BASE = {
    "category": "tees",
    "material": "cotton",
    "neckline": "round",
    "pattern": "solid",
    "sleeve_length": "short",
    "color": "blue",
}
# (item_id, group, split, similarity to a0, attribute overrides). a0's neighbours, in order of similarity:
#   a0b 0.90 same group (excluded, and a0's positive reference: margin threshold 0.90 - 0.05*0.90 = 0.855)
#   n5  0.87 differs on pattern, but above the margin threshold -> skipped (false-negative guard)
#   n2  0.85 identical attributes (its pattern *signal* says striped, but the known value wins) -> no
#   n1  0.80 differs on neckline -> hard negative
#   n6  0.75 a val item -> never a negative
#   n4  0.70 material unknown; its active signal says denim -> hard negative only with use_signals
#   n3  0.65 another category -> no
#   n7  0.60 differs on colour -> hard negative
CATALOG = [
    ("a0", "g0", "train", 1.00, {}),
    ("a0b", "g0", "train", 0.90, {"neckline": "v_neck"}),
    ("n5", "g5", "train", 0.87, {"pattern": "striped"}),
    ("n2", "g2", "train", 0.85, {}),
    ("n1", "g1", "train", 0.80, {"neckline": "v_neck"}),
    ("n6", "g6", "val", 0.75, {"color": "red"}),
    ("n4", "g4", "train", 0.70, {"material": "unknown"}),
    ("n3", "g3", "train", 0.65, {"category": "shirts", "color": "red"}),
    ("n7", "g7", "train", 0.60, {"color": "black"}),
]
SIGNALS = pd.DataFrame(
    {"material": ["cotton", "denim", "unknown"], "pattern": ["unknown", "unknown", "striped"]},
    index=pd.Index(["a0", "n4", "n2"], name="item_id"),
)


def catalog() -> tuple[pd.DataFrame, np.ndarray]:
    rows = []
    for item_id, group, split, _, overrides in CATALOG:
        row = {name: "unknown" for name in FIELDS} | BASE | overrides
        rows.append({"item_id": item_id, "group_key": group, "split": split, **row})
    # Unit vectors with a chosen cosine to a0 (= e0); each on its own orthogonal direction.
    dims = len(CATALOG) + 1
    keys = np.zeros((len(CATALOG), dims), dtype=np.float32)
    for i, (_, _, _, sim, _) in enumerate(CATALOG):
        keys[i, 0] = sim
        keys[i, i + 1] = np.sqrt(1 - sim**2)
    return pd.DataFrame(rows), keys


def flat_search(meta: pd.DataFrame, keys: np.ndarray):
    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(keys)
    doc_groups = meta["group_key"].to_numpy()
    return lambda queries, k, groups: search_excluding_groups(index, queries, k, groups, doc_groups)


def mine(overrides: dict | None = None, signals: pd.DataFrame | None = SIGNALS) -> pd.DataFrame:
    meta, keys = catalog()
    cfg = build(MiningConfig, {"k": 8, "per_anchor": 5, **(overrides or {})}, "mining")
    result = mine_hard_negatives(meta, keys, flat_search(meta, keys), cfg, seed=0, signal_labels=signals)
    return result


def of_a0(result) -> list[tuple]:
    frame = result.negatives[result.negatives["anchor_id"] == "a0"]
    return [
        (r.negative_id, r.rank, round(float(r.similarity), 2), r.differs, r.from_signals) for r in frame.itertuples()
    ]


def test_known_hard_negatives_with_signal_fill_and_guards():
    # Ranks count a0's train neighbours outside its group: n5 1, n2 2, n1 3, n4 4, n3 5, n7 6.
    assert of_a0(mine()) == [
        ("n1", 3, 0.80, "neckline", ""),
        ("n4", 4, 0.70, "material", "material"),
        ("n7", 6, 0.60, "color", ""),
    ]


def test_without_signals_only_known_values_differ():
    assert [row[0] for row in of_a0(mine({"use_signals": False}))] == ["n1", "n7"]


def test_relative_margin_zero_lets_the_near_duplicate_through_until_the_ceiling():
    # Margin 0: the threshold is the positive itself (0.90), so n5 at 0.87 is a negative ...
    assert [row[0] for row in of_a0(mine({"relative_margin": 0.0}))] == ["n5", "n1", "n4", "n7"]
    # ... unless the absolute ceiling is below it.
    assert [row[0] for row in of_a0(mine({"relative_margin": 0.0, "max_similarity": 0.86}))] == ["n1", "n4", "n7"]


def test_per_anchor_keeps_the_nearest():
    assert [row[0] for row in of_a0(mine({"per_anchor": 1}))] == ["n1"]


def test_group_mates_val_items_and_other_categories_are_never_negatives():
    negatives = mine({"relative_margin": 0.0, "max_similarity": 1.0}).negatives
    pairs = set(zip(negatives["anchor_id"], negatives["negative_id"], strict=True))
    assert ("a0", "a0b") not in pairs and ("a0b", "a0") not in pairs
    assert "n6" not in set(negatives["anchor_id"]) | set(negatives["negative_id"])
    assert "n3" not in set(negatives["anchor_id"]) | set(negatives["negative_id"])


def test_report_counts():
    result = mine()
    report, negatives = result.report, result.negatives
    assert report["anchors"] == 8  # the train items with a known, placed category (n6 is val)
    assert report["negatives"] == len(negatives)
    assert report["anchors_with_negatives"] == negatives["anchor_id"].nunique()
    assert report["negatives_per_anchor"] == pytest.approx(len(negatives) / 8, abs=1e-4)
    assert report["reason_share"]["material"] == pytest.approx(
        negatives["differs"].str.contains("material").mean(), abs=1e-4
    )
    assert report["signal_share"] == pytest.approx((negatives["from_signals"] != "").mean(), abs=1e-4)
    assert 0 < report["signal_share"] < 1
    assert report["skipped_relative_margin"] >= 1  # n5 for a0
    assert report["anchors_with_positive_reference"] == 2  # a0 and a0b; the singletons have only the ceiling


def test_positive_reference_is_the_least_similar_group_mate_or_none():
    keys = np.array([[1, 0], [0.6, 0.8], [0.8, 0.6], [0, 1]], dtype=np.float32)
    groups = np.array([0, 0, 0, 1])
    reference = positive_reference(keys, np.array([0, 3]), groups, np.ones(4, dtype=bool))
    np.testing.assert_allclose(reference, [0.6, np.nan], atol=1e-6)  # item 3 has no other view
    # Mates outside the pool (another split) do not count.
    pool = np.array([True, False, True, True])
    np.testing.assert_allclose(positive_reference(keys, np.array([0]), groups, pool), [0.8], atol=1e-6)


def test_select_anchors_is_seeded_and_capped():
    eligible = np.arange(100) % 3 != 0
    first, again = select_anchors(eligible, 10, seed=7), select_anchors(eligible, 10, seed=7)
    np.testing.assert_array_equal(first, again)
    assert len(first) == 10 and eligible[first].all() and (np.diff(first) > 0).all()
    np.testing.assert_array_equal(select_anchors(eligible, 1000, seed=7), np.flatnonzero(eligible))


def test_signals_for_items_outside_the_store_are_an_error():
    with pytest.raises(PipelineError, match="'zz'.*not in the store"):
        signal_codes(pd.DataFrame({"material": ["cotton"]}, index=["zz"]), pd.Series(["a0"]), ["material"], "sig")


def test_non_canonical_value_names_row_and_field():
    meta, keys = catalog()
    meta.loc[3, "neckline"] = "crew"
    cfg = build(MiningConfig, {"k": 8}, "mining")
    with pytest.raises(PipelineError, match="row 3 has neckline='crew'"):
        mine_hard_negatives(meta, keys, flat_search(meta, keys), cfg, seed=0)
