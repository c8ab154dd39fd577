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
