"""Group keys and hash splits: colour variants and views share a group; growth never moves an item."""

import hashlib

import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.normalize.rules import load_rules
from pipelines.normalize.splits import assign_splits, check_splits, group_keys, name_group_key, split_position
from pipelines.normalize.tables import format_spec

FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}


@pytest.mark.parametrize(
    "name",
    [
        "Puma Men Black T-shirt",
        "Puma Men Navy Blue T-shirt",
        "Puma Men Black & White T-shirt",
        "Puma Men Light Blue T-shirt - view 2",
        "Puma Men Grey Melange T-shirt (back)",
        "Puma Men Off-White T-shirt_view1",
        "Puma  Men Gold-Toned T-shirt front/back view",
        "PUMA MEN BLACK T-SHIRT (Front View)",
    ],
)
def test_colour_words_and_view_suffixes_are_stripped(name):
    assert name_group_key(name, load_rules()) == "puma men t-shirt"


def test_group_keys_are_prefixed_by_format_and_empty_keys_stay_alone(make_myntra, make_hm):
    rules = load_rules()
    myntra = make_myntra(
        [
            {"id": "1", "productDisplayName": "Nike Men Red Shoes"},
            {"id": "2", "productDisplayName": "Nike Men Blue Shoes (side)"},
            {"id": "3", "productDisplayName": "Black"},
        ]
    )
    keys = group_keys(myntra, format_spec("myntra"), rules, myntra["id"])
    assert keys.tolist() == ["myntra:nike men shoes", "myntra:nike men shoes", "myntra:id:3"]
    hm = make_hm(
        [{"article_id": "0108775015", "product_code": "108775"}, {"article_id": "0108775044", "product_code": "108775"}]
    )
    assert group_keys(hm, format_spec("hm"), rules, hm["article_id"]).tolist() == ["hm:108775", "hm:108775"]


def test_split_position_is_sha256_of_seed_and_key():
    expected = int.from_bytes(hashlib.sha256(b"42:myntra:puma men t-shirt").digest()[:8], "big") / 2**64
    assert split_position("myntra:puma men t-shirt", 42) == expected
    assert split_position("myntra:puma men t-shirt", 43) != expected


def test_splits_follow_fractions_and_never_straddle_groups():
    keys = pd.Series([f"hm:{i // 2}" for i in range(8000)])  # 4000 groups of two items
    splits = assign_splits(keys, FRACTIONS, seed=42)
    assert splits.groupby(keys).nunique().max() == 1
    shares = splits.value_counts(normalize=True)
    for name, fraction in FRACTIONS.items():
        assert abs(shares[name] - fraction) < 0.03


def test_growing_the_catalog_never_moves_an_existing_item():
    small = pd.Series([f"myntra:product {i}" for i in range(300)])
    grown = pd.concat([pd.Series([f"myntra:product {i}" for i in range(1000, 1700)]), small], ignore_index=True)
    before = assign_splits(small, FRACTIONS, seed=7)
    after = assign_splits(grown, FRACTIONS, seed=7)
    assert after.iloc[700:].tolist() == before.tolist()


def test_an_empty_split_names_the_split_and_the_group_count():
    keys = pd.Series(["hm:1", "hm:1", "hm:2"])
    splits = pd.Series(["train", "train", "test"])
    with pytest.raises(PipelineError, match=r"split 'val' got no items: the catalog has only 2 product groups \(3"):
        check_splits(splits, keys, FRACTIONS)
