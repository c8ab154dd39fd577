"""A hand-built six-item catalog on the unit circle whose neighbour lists are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.evaluation import Catalog, ModelSpace, identity, parse_task_table
from pipelines.evaluation.config import EvalConfig
from pipelines.index.config import IndexConfig
from pipelines.params import build


def on_circle(degrees) -> np.ndarray:
    radians = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


# item: angle, split, group, category, material, neckline, color
ITEMS = [
    ("q0", 0, "test", "g0", "tees", "cotton", "round", "blue"),
    ("a", 1, "train", "g0", "tees", "cotton", "round", "blue"),  # another view of q0: excluded from q0's results
    ("b", 10, "train", "g1", "tees", "cotton", "unknown", "red"),
    ("c", 20, "train", "g2", "shirts", "cotton", "round", "red"),
    ("d", 30, "train", "g3", "tees", "denim", "v_neck", "blue"),
    ("e", 40, "test", "g4", "unknown", "unknown", "v_neck", "red"),
]
PROMPTS = {"a photo of tees clothing": 2.0, "a photo of blue clothing": 29.0, "a photo of red clothing": 39.0}


@pytest.fixture
def catalog() -> Catalog:
    meta = pd.DataFrame(
        ITEMS, columns=["item_id", "angle", "split", "group_key", "category", "material", "neckline", "color"]
    )
    meta["image_path"] = [f"images/{i}.jpg" for i in meta["item_id"]]
    meta["pattern"] = "solid"
    text = on_circle(meta["angle"])
    text[0] = on_circle([8])[0]  # q0's title reads nearly like b: b first, then (a removed) q0, then c
    return Catalog(meta=meta, text_keys=text, encode_prompts=lambda prompts: on_circle([PROMPTS[p] for p in prompts]))


@pytest.fixture
def baseline(catalog) -> ModelSpace:
    return ModelSpace("baseline", on_circle(catalog.meta["angle"]), identity)


@pytest.fixture
def cfg() -> EvalConfig:
    return build(
        EvalConfig,
        {
            "ks": [1, 2, 3],
            "attributes": ["category", "material", "neckline"],
            "bootstrap": 200,
            "gallery_queries": 2,
            "gallery_attributes": ["category", "material"],
        },
        "eval",
    )


@pytest.fixture
def index_cfg() -> IndexConfig:
    return IndexConfig(factory="Flat", ef_search=16, nprobe=1, train_size=100)


@pytest.fixture
def table():
    return parse_task_table(
        {
            "depth": 10,
            "skip_prompt_values": ["other"],
            "tasks": [
                {
                    "name": "i2i",
                    "query": "image",
                    "relevance": "attributes",
                    "exclude": "group",
                    "metrics": ["attribute@k"],
                },
                {
                    "name": "t2i_title",
                    "query": "title",
                    "relevance": "self",
                    "exclude": "group_others",
                    "metrics": ["recall@1", "recall@10", "mrr"],
                },
                {
                    "name": "t2i_category",
                    "query": "prompt",
                    "attribute": "category",
                    "relevance": "value",
                    "exclude": "none",
                    "metrics": ["p@1", "p@10", "mrr"],
                },
                {
                    "name": "t2i_color",
                    "query": "prompt",
                    "attribute": "color",
                    "relevance": "value",
                    "exclude": "none",
                    "metrics": ["p@1", "p@10", "mrr"],
                },
            ],
        },
        "test table",
    )
