"""The pair set: the requested mix, shortfalls reported, and the invariants every pair set keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.pairs import TYPE_CODE, PairItems, allocate, build_pairs, classify_pairs, pair_keys
from pipelines.pairs.config import PairsConfig
from pipelines.params import build
from pipelines.schema import FIELDS

CHOICES = {
    "category": ["tees", "tees", "tees", "shirts", "jeans", "shorts"],
    "material": ["cotton", "denim", "unknown"],
    "pattern": ["solid", "striped", "graphic", "unknown"],
    "style": ["casual", "sports", "unknown"],
    "neckline": ["round", "v_neck", "unknown"],
    "color": ["blue", "red", "black"],
}


def catalog(n: int = 400, seed: int = 0, multi_view: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: "unknown" for name in FIELDS}, index=range(n))
    for name, values in CHOICES.items():
        frame[name] = rng.choice(values, n)
    frame.insert(0, "item_id", [f"i{i:04d}" for i in range(n)])
    # Multi-view products: consecutive pairs share a group key (and are drawn alike).
    group = np.where((np.arange(n) < n // 2) & multi_view, np.arange(n) // 2, np.arange(n))
    frame.insert(1, "group_key", [f"g{g}" for g in group])
    frame.insert(2, "split", np.where(group % 5 == 4, "val", "train"))  # by group, as normalize splits
    return frame


def mined(items: pd.DataFrame, per_anchor: int = 3) -> pd.DataFrame:
    """Same-category train pairs that differ on material or neckline, as the miner would emit them."""
    train = items[items["split"] == "train"]
    pairs = train.merge(train, on="category")
    differ = (
        (pairs.material_x != pairs.material_y) & (pairs.material_x != "unknown") & (pairs.material_y != "unknown")
    ) | ((pairs.neckline_x != pairs.neckline_y) & (pairs.neckline_x != "unknown") & (pairs.neckline_y != "unknown"))
    pairs = pairs[differ & (pairs.group_key_x != pairs.group_key_y)]
    pairs = pairs.groupby("item_id_x").head(per_anchor)
    return pd.DataFrame(
        {
            "anchor_id": pairs.item_id_x,
            "negative_id": pairs.item_id_y,
            "rank": pairs.groupby("item_id_x").cumcount() + 1,
        }
    )


def run(items: pd.DataFrame, negatives: pd.DataFrame, **params):
    return build_pairs(
        items,
        negatives,
        build(PairsConfig, params, "pairs"),
        seed=3,
        items_where="items.parquet",
        negatives_where="hard_negatives.parquet",
    )


@pytest.mark.parametrize(
    "n_pairs, mix, expected",
    [
        (100, {"strong": 0.3, "medium": 0.2, "weak": 0.1, "hard": 0.3, "easy": 0.1}, [30, 20, 10, 30, 10]),
        (7, {"strong": 0.3, "medium": 0.2, "weak": 0.1, "hard": 0.3, "easy": 0.1}, [2, 1, 1, 2, 1]),
        (10, {"strong": 0.0, "medium": 0.0, "weak": 0.0, "hard": 0.5, "easy": 0.5}, [0, 0, 0, 5, 5]),
    ],
)
def test_allocate_sums_to_n_pairs(n_pairs, mix, expected):
    targets = allocate(n_pairs, mix)
    assert list(targets.values()) == expected and sum(targets.values()) == n_pairs


def test_mix_is_met_and_every_invariant_holds():
    items = catalog(600)
    result = run(items, mined(items), n_pairs=300)
    pairs, stats = result.pairs, result.stats
    assert stats["count"] == allocate(300, PairsConfig().mix)
    assert stats["shortfall"] == dict.fromkeys(stats["count"], 0) and stats["short_reason"] == {}
    assert all(abs(gap) < 1e-3 for gap in stats["share_gap"].values())

    train_ids = set(items.loc[items["split"] == "train", "item_id"])
    assert set(pairs["anchor_id"]) | set(pairs["other_id"]) <= train_ids
    assert (pairs["anchor_id"] != pairs["other_id"]).all()
    unordered = {frozenset(p) for p in zip(pairs["anchor_id"], pairs["other_id"], strict=True)}
    assert len(unordered) == len(pairs)  # no duplicate, in either order, within or across types
    assert (pairs["label"] == pairs["pair_type"].isin(["strong", "medium", "weak"]).astype("int8")).all()
    assert str(pairs["label"].dtype) == "int8"

    # Every pair is what the rules say it is (so none is both positive and negative).
    train = items[items["split"] == "train"].reset_index(drop=True)
    encoded = PairItems.from_items(train, ["graphic", "printed"], "items")
    row = pd.Series(np.arange(len(train)), index=train["item_id"])
    negatives = mined(items)
    hard = pair_keys(row[negatives["anchor_id"]].to_numpy(), row[negatives["negative_id"]].to_numpy(), len(train))
    types = classify_pairs(encoded, row[pairs["anchor_id"]].to_numpy(), row[pairs["other_id"]].to_numpy(), hard)
    assert (types == pairs["pair_type"].map(TYPE_CODE).to_numpy()).all()

    # Graphic policy: graphic items never take part in category-based pairs.
    graphic = set(train.loc[train["pattern"] == "graphic", "item_id"])
    category_based = pairs[pairs["pair_type"].isin(["medium", "weak", "easy"])]
    assert not (set(category_based["anchor_id"]) | set(category_based["other_id"])) & graphic
    assert set(pairs.loc[pairs["pair_type"] == "hard", "anchor_id"]) & graphic  # but they can be hard negatives


def test_same_seed_same_pairs_and_a_type_ignores_the_others_sizes():
    items = catalog(600)
    first = run(items, mined(items), n_pairs=300).pairs
    pd.testing.assert_frame_equal(first, run(items, mined(items), n_pairs=300).pairs)
    other_mix = run(
        items, mined(items), n_pairs=300, mix={"strong": 0.1, "medium": 0.2, "weak": 0.3, "hard": 0.3, "easy": 0.1}
    ).pairs
    pd.testing.assert_frame_equal(
        first[first.pair_type == "medium"].reset_index(drop=True),
        other_mix[other_mix.pair_type == "medium"].reset_index(drop=True),
    )


def test_short_type_is_reported_not_redistributed():
    items = catalog(multi_view=False)
    few = mined(items, per_anchor=1).head(6)
    distinct = len({frozenset(p) for p in zip(few["anchor_id"], few["negative_id"], strict=True)})
    result = run(items, few, n_pairs=300)
    stats = result.stats
    assert stats["count"]["strong"] == 0 and stats["shortfall"]["strong"] == 90
    assert stats["short_reason"]["strong"].startswith("no train item has a partner under the rule (same group key")
    assert stats["count"]["hard"] == distinct and f"only {distinct} distinct mined" in stats["short_reason"]["hard"]
    assert stats["count"]["medium"] == 60 and stats["pairs"] == 300 - 90 - (90 - distinct)
    assert stats["share_gap"]["strong"] == -0.3


def test_small_pool_is_taken_whole():
    rows = [{"category": "skirts", "material": "denim"}] * 4 + [{"category": "jeans", "material": "denim"}] * 2
    items = pd.DataFrame([{name: "unknown" for name in FIELDS} | row for row in rows])
    items.insert(0, "item_id", [f"s{i}" for i in range(6)])
    items.insert(1, "group_key", [f"g{i}" for i in range(6)])
    items.insert(2, "split", "train")
    empty = pd.DataFrame({"anchor_id": [], "negative_id": [], "rank": []})
    stats = run(items, empty, n_pairs=100).stats
    assert stats["count"]["medium"] == 6 + 1  # C(4,2) skirts + C(2,2) jeans
    assert stats["count"]["easy"] == 8  # 4 skirts x 2 jeans


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("negative_id", "nope", "row 0 names negative_id 'nope', which is not in items.parquet"),
        ("anchor_id", "i0008", "row 0 names anchor_id 'i0008', which is a 'val' item"),
    ],
)
def test_mined_ids_must_be_train_items(column, value, message):
    items = catalog(50)
    negatives = mined(items).reset_index(drop=True)
    negatives.loc[0, column] = value
    with pytest.raises(PipelineError, match=f"hard_negatives.parquet: {message}"):
        run(items, negatives, n_pairs=50)


def test_repeated_item_ids_are_an_error():
    items = catalog(20)
    items.loc[3, "item_id"] = items.loc[2, "item_id"]
    with pytest.raises(PipelineError, match="items.parquet: row 3 repeats item_id 'i0002'"):
        run(items, pd.DataFrame({"anchor_id": [], "negative_id": [], "rank": []}), n_pairs=10)
