"""Tiny stores for the signals tests, written with the real store writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.schema import FIELDS, UNKNOWN
from pipelines.store import write_store

MODEL = {"arch": "test", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}


def store_meta(split: list[str], **fields: list[str]) -> pd.DataFrame:
    """Items meta with every contract column; fields not given are all `unknown`."""
    n = len(split)
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i:03d}" for i in range(n)],
            "image_path": [f"data/raw/images/{i}.jpg" for i in range(n)],
            "title": "",
            "desc": "",
            "group_key": [f"g{i}" for i in range(n)],
            "split": split,
        }
    )
    for name in FIELDS:
        values = fields.get(name, [UNKNOWN] * n)
        meta[name] = values
        meta[f"{name}_source"] = ["unknown" if v == UNKNOWN else "field" for v in values]
        meta[f"{name}_conf"] = np.float32(0.9)
    return meta


@pytest.fixture
def make_store(tmp_path):
    """make_store(image_keys, split, drop=(), **fields) -> Store (the text keys equal the image keys)."""

    def make(image_keys: np.ndarray, split: list[str], drop: tuple[str, ...] = (), **fields: list[str]):
        meta = store_meta(split, **fields).drop(columns=list(drop))
        keys = np.asarray(image_keys, dtype=np.float32)
        return write_store(tmp_path / "store", meta, keys, keys, np.zeros((len(meta), 4), np.float32), MODEL, "test")

    return make
