"""A tiny items.parquet-shaped table for build_sft's tests."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.schema import FIELDS


def item_rows(n: int) -> pd.DataFrame:
    """`n` items: the first n-2 train, then one val and one test, each its own product group; category and color
    from the catalog, pattern from a rule, the rest unknown."""
    rows = []
    for i in range(n):
        row = {
            "item_id": f"i{i}",
            "title": f"Acme Men Red Striped Tee {i}",
            "desc": "",
            "group_key": f"g{i}",
            "split": "train" if i < n - 2 else ("val" if i == n - 2 else "test"),
        }
        for name in FIELDS:
            row[name], row[f"{name}_source"] = "unknown", "unknown"
        row.update(category="tees", category_source="field", color="red", color_source="field")
        row.update(pattern="striped", pattern_source="rule")
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def make_items():
    return item_rows


def varied_items(n: int, seed: int = 0) -> pd.DataFrame:
    """`item_rows(n)` with colors, patterns and sleeves drawn from the vocabulary (seeded), so answers differ."""
    import numpy as np

    from pipelines.schema import vocabulary

    rng = np.random.default_rng(seed)
    items = item_rows(n)
    for name in ("color", "pattern", "sleeve_length"):
        items[name] = rng.choice(vocabulary()[name][:-1], size=n)
    items["sleeve_length_source"] = "field"
    return items


@pytest.fixture(scope="module")
def tiny_world():
    """SFT records of 24 items, a tokenizer trained on them, a seeded 1-layer LM over 8-d random image keys."""
    import torch

    from pipelines.extract import build_sft
    from pipelines.extract.model import ExtractorModel, LmSpec, tiny_lm
    from pipelines.extract.sequences import shared_prefix
    from pipelines.extract.tokenizer import train_tokenizer

    data = build_sft(varied_items(24), ["image_only", "image_title"], 0.99)
    records = data.files["train"] + data.files["val"] + data.files["eval"]
    tokenizer = train_tokenizer([m["content"] for r in records for m in r["messages"]], 600)
    torch.manual_seed(0)
    lm = tiny_lm(LmSpec(tokenizer.get_vocab_size(), hidden=32, layers=1, heads=2, max_positions=1024))
    model = ExtractorModel(lm, tokenizer, image_dim=8, image_tokens=2)
    images = torch.randn(24, 8, generator=torch.Generator().manual_seed(1))
    row_of = {f"i{i}": i for i in range(24)}
    return {
        "records": records,
        "files": data.files,
        "model": model,
        "prefix": model.encode(shared_prefix(records)),
        "images": images,
        "row_of": row_of,
    }
