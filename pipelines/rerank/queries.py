"""The rerank stage's query set: each query made of one catalog item's own attributes, some with a negation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import yaml

from pipelines.errors import PipelineError
from pipelines.schema import UNKNOWN
from pipelines.search.constraints import PHRASES_FILE

COLOR_CATEGORY = "color+category"
WITH_ATTRIBUTE = "color+category+attribute"
NEGATION = "negation"
KINDS = (COLOR_CATEGORY, WITH_ATTRIBUTE, NEGATION)
EXTRA_FIELDS = ("pattern", "material", "sleeve_length", "neckline")
NEGATED_PATTERNS = ("striped", "checked", "floral", "printed", "graphic", "dotted")


@dataclass(frozen=True)
class RerankQuery:
    kind: str  # one of KINDS
    text: str
    item_id: str  # the item whose attributes the query names


@cache
def _display() -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8")).get("display", {})
    return result


def display(field: str, value: str) -> str:
    """How a query names a canonical value: "v_neck" -> "v-neck", "long" sleeves -> "long sleeves"."""
    return _display().get(field, {}).get(value, value.replace("_", " "))


def _known(value: object) -> bool:
    return isinstance(value, str) and value not in ("", UNKNOWN, "other")


def build_queries(items: pd.DataFrame, split: str, count: int, negation_share: float, seed: int) -> list[RerankQuery]:
    """A seeded sample of `count` items of `split` with a known colour and category, each rendered as a query:
    its colour and category ("black tees"), sometimes with one more of its attributes ("black striped tees",
    "red dresses with long sleeves"), and a `negation_share` of them excluding a value the item does not hold
    ("black tees, not striped", "tees, not red")."""
    eligible = items[(items["split"] == split) & items["color"].map(_known) & items["category"].map(_known)]
    if eligible.empty:
        raise PipelineError(f"items.parquet: no {split}-split item with a known colour and category to query with")
    rng = np.random.default_rng([seed, len(eligible)])
    chosen = np.sort(rng.choice(len(eligible), size=min(count, len(eligible)), replace=False))
    colors = sorted(v for v in items["color"].unique() if _known(v))
    queries = []
    for record in eligible.iloc[chosen].to_dict("records"):
        item = {str(key): value for key, value in record.items()}
        color, category = display("color", item["color"]), display("category", item["category"])
        extras = [f for f in EXTRA_FIELDS if _known(item.get(f))]
        if rng.random() < negation_share:
            if rng.random() < 0.5:
                pattern = str(rng.choice([p for p in NEGATED_PATTERNS if p != item.get("pattern")]))
                cue = "not" if rng.random() < 0.5 else "no"
                text = f"{color} {category}, {cue} {display('pattern', pattern)}"
            else:
                other = str(rng.choice([c for c in colors if c != item["color"]]))
                text = f"{category}, not {display('color', other)}"
            queries.append(RerankQuery(NEGATION, text, str(item["item_id"])))
        elif extras and rng.random() < 0.5:
            extra = extras[int(rng.integers(len(extras)))]
            value = display(extra, item[extra])
            if extra == "sleeve_length" and item[extra] != "sleeveless":
                text = f"{color} {category} with {value}"
            else:
                text = f"{color} {value} {category}"
            queries.append(RerankQuery(WITH_ATTRIBUTE, text, str(item["item_id"])))
        else:
            queries.append(RerankQuery(COLOR_CATEGORY, f"{color} {category}", str(item["item_id"])))
    return queries
