"""Which pair type two train items form: the rules and their precedence, table-driven."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.pairs import NONE, TYPE_CODE, PairItems, classify_pairs, pair_keys
from pipelines.schema import FIELDS

FULL = {
    "category": "tees",
    "color": "blue",
    "style": "casual",
    "season": "summer",
    "material": "cotton",
    "pattern": "solid",
    "gender": "men",
    "fit": "regular",
    "sleeve_length": "short",
    "neckline": "round",
}
TEE = {"category": "tees", "material": "cotton"}

# (item a, item b, same group, mined as hard negative, expected type)
CASES = [
    ("same group, even across categories", {"category": "tees"}, {"category": "shorts"}, True, False, "strong"),
    ("same group beats a mined negative", TEE, TEE | {"neckline": "v_neck"}, True, True, "strong"),
    ("all ten fields known and equal", FULL, FULL, False, False, "strong"),
    ("nine fields equal, one unknown: not a full tuple", FULL, FULL | {"fit": "unknown"}, False, False, "medium"),
    (
        "both graphic, full tuple: pattern counts as pattern",
        FULL | {"pattern": "graphic"},
        FULL | {"pattern": "graphic"},
        False,
        False,
        "strong",
    ),
    ("same category and material", TEE, TEE | {"color": "red"}, False, False, "medium"),
    ("mined negative outranks medium", TEE, TEE | {"neckline": "v_neck"}, False, True, "hard"),
    (
        "same category and pattern",
        {"category": "tees", "pattern": "striped", "material": "cotton"},
        {"category": "tees", "pattern": "striped", "material": "knit"},
        False,
        False,
        "weak",
    ),
    (
        "same category and style",
        {"category": "tees", "style": "sports"},
        {"category": "tees", "style": "sports"},
        False,
        False,
        "weak",
    ),
    (
        "same category only",
        {"category": "tees", "color": "red"},
        {"category": "tees", "color": "blue"},
        False,
        False,
        None,
    ),
    ("different categories", {"category": "tees"}, {"category": "jeans"}, False, False, "easy"),
    (
        "different categories, one graphic",
        {"category": "tees", "pattern": "graphic"},
        {"category": "jeans"},
        False,
        False,
        None,
    ),
    ("same category and material, one printed", TEE | {"pattern": "printed"}, TEE, False, False, None),
    (
        "both graphic, same category and pattern",
        {"category": "tees", "pattern": "graphic"},
        {"category": "tees", "pattern": "graphic"},
        False,
        False,
        None,
    ),
    ("category unknown on one side", {"category": "unknown", "material": "cotton"}, TEE, False, False, None),
    (
        "category other on both sides",
        {"category": "other", "material": "cotton"},
        {"category": "other", "material": "cotton"},
        False,
        False,
        None,
    ),
    ("other vs a known category is not 'different'", {"category": "other"}, {"category": "tees"}, False, False, None),
]


def encode(rows: list[dict], groups: list[str]) -> PairItems:
    frame = pd.DataFrame([{name: "unknown" for name in FIELDS} | row for row in rows])
    frame.insert(0, "item_id", [f"i{i}" for i in range(len(rows))])
    frame.insert(1, "group_key", groups)
    frame.insert(2, "split", "train")
    return PairItems.from_items(frame, ["graphic", "printed"], "items")


@pytest.mark.parametrize(
    "a, b, same_group, mined, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_pair_type(a, b, same_group, mined, expected):
    items = encode([a, b], ["g", "g" if same_group else "h"])
    hard = pair_keys(np.array([1]), np.array([0]), 2) if mined else np.zeros(0, dtype=np.int64)
    for first, second in ((0, 1), (1, 0)):  # the type does not depend on order
        got = classify_pairs(items, np.array([first]), np.array([second]), hard)[0]
        assert got == (NONE if expected is None else TYPE_CODE[expected])


def test_self_pair_is_nothing():
    items = encode([FULL, FULL], ["g", "h"])
    assert classify_pairs(items, np.array([0, 1]), np.array([0, 1]), np.zeros(0, dtype=np.int64)).tolist() == [NONE] * 2


def test_pair_keys_ignore_order():
    assert pair_keys(np.array([3, 5]), np.array([5, 3]), 10).tolist() == [35, 35]
