"""Product group keys and leak-free train/val/test splits by a stable hash of the group key."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.normalize.rules import RuleSet, clean_text
from pipelines.normalize.tables import FormatSpec

SPLITS = ("train", "val", "test")
_NON_WORD = re.compile(r"[^\w&'+./-]+")
_EDGE_PUNCT = re.compile(r"(?:^|\s)[-&/,.]+(?=\s|$)")


def name_group_key(name: str, rules: RuleSet) -> str:
    """A product name without colour words and view suffixes, lower-cased, whitespace folded.

    "Puma Men Navy Blue T-shirt - view 2" and "Puma Men Black T-shirt (back)" both give "puma men t-shirt".
    """
    text = clean_text(name).lower()
    for _ in range(4):  # suffixes can stack ("... (back) - view 2"); a few passes settle them
        before = text
        for pattern in rules.view_suffixes:
            text = pattern.sub("", text)
        if text == before:
            break
    text = rules.group_key_colors.sub(" ", text)
    text = _NON_WORD.sub(" ", text)
    text = _EDGE_PUNCT.sub(" ", text)
    return " ".join(text.split())


def group_keys(frame: pd.DataFrame, spec: FormatSpec, rules: RuleSet, item_ids: pd.Series) -> pd.Series:
    """`<format>:<key>` per row, so keys of two formats never collide.

    A format with its own product column (H&M `product_code`) uses it; Myntra uses the cleaned name.
    An item whose key is empty (no product code, a name that cleans to nothing) is a group of its own
    (`<format>:id:<item_id>`).
    """
    if spec.group_key != "name":
        keys = frame[spec.group_key].astype(str).str.strip()
    else:
        names = frame[spec.title].astype(str)
        cleaned = {n: name_group_key(n, rules) for n in names.unique()}
        keys = names.map(cleaned)
    own = keys.eq("")
    keys = f"{spec.name}:" + keys
    keys[own] = f"{spec.name}:id:" + item_ids[own]
    return keys


def split_position(group_key: str, seed: int) -> float:
    """A uniform number in [0, 1) from sha256(seed:key): the same key always lands in the same place."""
    digest = hashlib.sha256(f"{seed}:{group_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_splits(keys: pd.Series, fractions: dict[str, float], seed: int) -> pd.Series:
    """Split name per row, by group: position < train -> train, < train+val -> val, else test.

    Depends only on the key, the seed and the fractions, so adding items never moves an existing one.
    """
    edges = np.cumsum([fractions[s] for s in SPLITS])
    unique = keys.unique()
    positions = np.array([split_position(k, seed) for k in unique])
    index = np.minimum(np.searchsorted(edges, positions, side="right"), len(SPLITS) - 1)
    by_key = dict(zip(unique, np.asarray(SPLITS, dtype=object)[index], strict=True))
    return keys.map(by_key)


def check_splits(splits: pd.Series, keys: pd.Series, fractions: dict[str, float]) -> None:
    """An empty split is an error: the catalog has too few groups for the fractions."""
    counts = splits.value_counts()
    for name in SPLITS:
        if counts.get(name, 0) == 0:
            raise PipelineError(
                f"split {name!r} got no items: the catalog has only {keys.nunique()} product groups "
                f"({len(keys)} readable items) for data.splits {dict(fractions)}; ingest more items "
                f"(data.sample.items / data.max_items) or change data.splits"
            )
