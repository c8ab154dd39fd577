"""Pair rules: which type (strong/medium/weak/hard/easy, or none) two train items form, as array operations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.io import require_columns
from pipelines.mining.attribute_codes import category_codes, encode_attributes
from pipelines.pairs.config import PAIR_TYPES
from pipelines.schema import FIELDS

NONE = -1
TYPE_CODE = {name: code for code, name in enumerate(PAIR_TYPES)}
POSITIVE_TYPES = ("strong", "medium", "weak")
ITEM_COLUMNS = ("item_id", "group_key", "split", *FIELDS)


def block_codes(columns: list[np.ndarray], eligible: np.ndarray) -> np.ndarray:
    """One int64 code per distinct combination of the given code columns; -1 where not eligible."""
    if not eligible.any():
        return np.full(len(eligible), NONE, dtype=np.int64)
    stacked = np.stack(columns, axis=1)[eligible]
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    codes = np.full(len(eligible), NONE, dtype=np.int64)
    codes[eligible] = inverse.reshape(-1)
    return codes


@dataclass(frozen=True)
class PairItems:
    """Train items encoded for the pair rules; every array is indexed by row of `items`.

    Block codes are -1 where the item cannot take part in the rule. The graphic policy (a graphic or
    printed pattern is a pattern signal, never a category signal: a print says nothing of the cut) is
    applied here: items whose pattern is one of the graphic patterns get no category-based block (medium, weak, easy),
    while their pattern still counts as a pattern (in the full attribute tuple and in mining).
    """

    items: pd.DataFrame  # the train rows, index 0..n-1
    group: np.ndarray  # product group (strong)
    full_tuple: np.ndarray  # identical full known attribute tuple (strong); -1 unless all fields known
    category: np.ndarray  # category for "different category" (easy); -1 for unknown/other/graphic
    category_material: np.ndarray  # medium
    category_pattern: np.ndarray  # weak
    category_style: np.ndarray  # weak
    graphic: np.ndarray  # pattern is a graphic pattern

    @property
    def size(self) -> int:
        return len(self.items)

    @classmethod
    def from_items(cls, items: pd.DataFrame, graphic_patterns: list[str], where: str) -> PairItems:
        require_columns(items, ITEM_COLUMNS, where)
        items = items.reset_index(drop=True)
        codes = encode_attributes(items, FIELDS, where)
        field = {name: codes[:, i] for i, name in enumerate(FIELDS)}
        graphic = items["pattern"].isin(graphic_patterns).to_numpy()
        category = np.where(graphic, NONE, category_codes(items, where)).astype(np.int64)
        placed = category >= 0
        return cls(
            items=items,
            group=pd.factorize(items["group_key"].astype(str))[0].astype(np.int64),
            full_tuple=block_codes(list(codes.T), np.asarray((codes >= 0).all(axis=1))),
            category=category,
            category_material=block_codes([category, field["material"]], placed & (field["material"] >= 0)),
            category_pattern=block_codes([category, field["pattern"]], placed & (field["pattern"] >= 0)),
            category_style=block_codes([category, field["style"]], placed & (field["style"] >= 0)),
            graphic=graphic,
        )


def pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """An order-free int64 key per pair of rows, so (a, b) and (b, a) collide."""
    result: np.ndarray = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
    return result


def _same(codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    result: np.ndarray = (codes[a] >= 0) & (codes[a] == codes[b])
    return result


def classify_pairs(items: PairItems, a: np.ndarray, b: np.ndarray, hard_keys: np.ndarray) -> np.ndarray:
    """The type code of each pair (a[i], b[i]) of rows, or -1 (NONE); exactly one type per pair.

    Precedence, strongest evidence first, so that no pair is both positive and negative:
    strong (same group; else identical full known tuple: all ten fields known and equal) >
    hard (mined: `hard_keys` holds the pair_keys of the mined pairs) > medium (same category and
    material) > weak (same category and pattern, or same category and style) > easy (both
    categories known and different). A mined hard negative is specific evidence that the two
    differ on a target attribute, so it outranks the coarse medium/weak rules; a same-product
    pair is never a negative. Self pairs are NONE.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    types = np.full(len(a), NONE, dtype=np.int8)
    rules = [
        ("easy", (items.category[a] >= 0) & (items.category[b] >= 0) & (items.category[a] != items.category[b])),
        ("weak", _same(items.category_pattern, a, b) | _same(items.category_style, a, b)),
        ("medium", _same(items.category_material, a, b)),
        ("hard", np.isin(pair_keys(a, b, items.size), hard_keys)),
        ("strong", (items.group[a] == items.group[b]) | _same(items.full_tuple, a, b)),
    ]
    for name, matches in rules:  # weakest first: a stronger rule overwrites
        types[matches] = TYPE_CODE[name]
    types[a == b] = NONE
    return types
