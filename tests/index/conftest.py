"""Tiny stores for the index tests, written with the real store writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.schema import FIELDS, UNKNOWN
from pipelines.store import write_store

MODEL = {"arch": "test", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}


@pytest.fixture
def make_store(tmp_path):
    """make_store(image_keys, name="store") -> Store whose meta has every contract column."""

    def make(image_keys: np.ndarray, name: str = "store"):
        n = len(image_keys)
        meta = pd.DataFrame(
            {
                "item_id": [f"i{i}" for i in range(n)],
                "image_path": "",
                "title": "",
                "desc": "",
                "group_key": [f"g{i // 2}" for i in range(n)],
                "split": "train",
            }
        )
        for field in FIELDS:
            meta[field], meta[f"{field}_source"], meta[f"{field}_conf"] = UNKNOWN, "unknown", np.float32(0.1)
        return write_store(tmp_path / name, meta, image_keys, image_keys, np.zeros((n, 4), np.float32), MODEL, "test")

    return make
