"""A synthetic feature store for training tests: attributes are linearly decodable from the frozen keys
but drowned in cosine similarity by a large per-item nuisance component."""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ["tees", "shirts", "dresses", "cardigans", "shorts"]
COLORS = ["black", "white", "blue", "red"]
MATERIALS = ["cotton", "denim", "leather", "unknown"]
NECKLINES = ["round", "v_neck", "unknown", "unknown"]
RUN = "h"  # small_run's params hash: its checkpoints lie in <checkpoint_root>/h/


def synthetic_catalog(
    n: int = 600, dim: int = 64, seed: int = 0, signal: float = 0.35
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame]:
    """(meta, image_keys, text_keys, pairs): meta has the store's columns that training reads."""
    rng = np.random.default_rng(seed)
    cat = rng.choice(len(CATEGORIES), n, p=[0.5, 0.2, 0.15, 0.08, 0.07])
    col = rng.integers(len(COLORS), size=n)
    mat = rng.integers(len(MATERIALS), size=n)
    neck = rng.integers(len(NECKLINES), size=n)
    protos = {
        name: rng.normal(size=(len(vals), dim))
        for name, vals in (("cat", CATEGORIES), ("col", COLORS), ("mat", MATERIALS), ("neck", NECKLINES))
    }
    attr = protos["cat"][cat] + 0.7 * protos["col"][col] + 0.5 * protos["mat"][mat] + 0.5 * protos["neck"][neck]
    attr /= np.linalg.norm(attr, axis=1, keepdims=True)
    # a shared offset makes every pair of frozen keys similar (as random ViT features are)
    common = rng.normal(size=dim)
    common /= np.linalg.norm(common)
    nuisance = rng.normal(size=(n, dim)) / np.sqrt(dim)
    image = common * 1.0 + nuisance * 1.0 + signal * attr
    # the text key sees the same attributes through another (fixed) linear map plus its own nuisance
    mix = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    # identical titles (same attributes) give identical text keys, as a real text encoder would
    text = common * 1.0 + 2 * signal * attr @ mix
    image = (image / np.linalg.norm(image, axis=1, keepdims=True)).astype(np.float32)
    text = (text / np.linalg.norm(text, axis=1, keepdims=True)).astype(np.float32)
    split = np.where(np.arange(n) % 5 == 0, "val", np.where(np.arange(n) % 5 == 1, "test", "train"))
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i:05d}" for i in range(n)],
            "title": [
                f"{COLORS[c]} {CATEGORIES[k]} {MATERIALS[m]} {NECKLINES[q]}"
                for c, k, m, q in zip(col, cat, mat, neck, strict=True)
            ],
            "desc": "",
            "group_key": [f"g{i}" for i in range(n)],
            "split": split,
            "category": np.asarray(CATEGORIES)[cat],
            "color": np.asarray(COLORS)[col],
            "pattern": "solid",
            "material": np.asarray(MATERIALS)[mat],
            "neckline": np.asarray(NECKLINES)[neck],
            "sleeve_length": "unknown",
        }
    )
    train = np.flatnonzero(split == "train")
    a = rng.choice(train, 4 * len(train))
    b = rng.choice(train, 4 * len(train))
    pairs = pd.DataFrame(
        {
            "anchor_id": meta["item_id"].to_numpy()[a],
            "other_id": meta["item_id"].to_numpy()[b],
            "pair_type": "hard",
            "label": (cat[a] == cat[b]).astype(np.int8),
        }
    )
    pairs.loc[pairs["label"] == 1, "pair_type"] = "medium"
    return meta, image, text, pairs


def small_run(checkpoint_root, epochs: int = 6, **overrides):
    """A Trainer on the synthetic catalog with a small, fast config."""
    from pipelines.params import build
    from pipelines.training.config import TrainConfig
    from pipelines.training.data import prepare_training_data
    from pipelines.training.loop import Trainer

    meta, image, text, pairs = synthetic_catalog()
    cfg = build(
        TrainConfig,
        {
            "epochs": epochs,
            "patience": epochs,
            "batch_size": 64,
            "lr": 3e-3,
            "contrastive_weight": 1.0,
            "pair_weight": 0.5,
            "attr_weight": 0.3,
            "attr_heads": ["category", "color", "material", "neckline"],
            **overrides,
        },
        "train",
    )
    data = prepare_training_data(meta, image, text, pairs, cfg.attr_heads)
    return Trainer(data, cfg, seed=7, params_hash=RUN, store_hash="s", checkpoint_root=checkpoint_root)
