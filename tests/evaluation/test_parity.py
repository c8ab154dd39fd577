"""Training validation and evaluate score the same embeddings alike: both go through pipelines/evaluation/metrics.py."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipelines.evaluation import Catalog, ModelSpace, evaluate_models, identity, load_task_table
from pipelines.evaluation.config import EvalConfig
from pipelines.index.config import IndexConfig
from pipelines.params import build
from pipelines.training.losses import IGNORE_INDEX
from pipelines.training.validation import validation_retrieval

ATTRIBUTES = {
    "category": ["tees", "shirts", "dresses"],
    "material": ["cotton", "denim"],
    "neckline": ["round", "v_neck"],
}


def clustered_catalog(n: int = 240, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Items of 2-3 views per product whose embeddings lean towards their attribute values; some values unknown."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n // 2), 2)[:n]
    meta = pd.DataFrame({"item_id": [f"i{i:04d}" for i in range(n)], "group_key": [f"g{g}" for g in groups]})
    vectors = rng.normal(size=(n, 16)) * 0.8
    for offset, (attribute, values) in enumerate(ATTRIBUTES.items()):
        codes = rng.integers(0, len(values), size=n // 2)[groups]
        vectors[np.arange(n), offset * 4 + codes] += 1.5
        column = np.array(values, dtype=object)[codes]
        column[rng.random(n) < 0.15] = "unknown"
        meta[attribute] = column
    meta["split"], meta["image_path"] = "test", [f"images/{i}.jpg" for i in meta["item_id"]]
    meta["pattern"] = "solid"  # no graphic item: the graphic policy leaves category as validation reads it
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return meta, vectors.astype(np.float32)


def evaluated_attribute_at_10(meta: pd.DataFrame, vectors: np.ndarray) -> float:
    shipped = load_task_table()  # the i2i task evaluate runs, alone
    table = dataclasses.replace(shipped, tasks=tuple(t for t in shipped.tasks if t.name == "i2i"))
    cfg = build(EvalConfig, {"ks": [10], "attributes": list(ATTRIBUTES), "bootstrap": 10}, "eval")
    index_cfg = IndexConfig(factory="Flat", ef_search=16, nprobe=1, train_size=len(meta))
    catalog = Catalog(meta=meta, text_keys=vectors, encode_prompts=lambda prompts: np.zeros((len(prompts), 16)))
    per_query, _ = evaluate_models(
        [ModelSpace("baseline", vectors, identity)], catalog, np.arange(len(meta)), table, cfg, index_cfg, 0
    )
    return float(np.mean([per_query[f"baseline/{a}@10"].mean() for a in ATTRIBUTES]))  # NaN (unknown) skipped


def test_validation_attribute_at_10_equals_the_evaluators_on_the_same_embeddings():
    meta, vectors = clustered_catalog()
    labels = {}
    for attribute, values in ATTRIBUTES.items():
        code = {v: i for i, v in enumerate(values)}
        labels[attribute] = np.array([code.get(v, IGNORE_INDEX) for v in meta[attribute]], dtype=np.int64)
    groups = pd.factorize(meta["group_key"])[0]
    validation = validation_retrieval(vectors, vectors, labels, groups, np.arange(len(meta)))
    evaluated = evaluated_attribute_at_10(meta, vectors)
    assert 0.4 < evaluated < 0.95  # the clusters make it neither trivial nor chance
    assert validation["val_attr_at_10"] == pytest.approx(evaluated, abs=1e-12)
    # image -> text with the texts equal to the images: every item's nearest text is its own
    assert validation["val_recall_at_1"] == 1.0
