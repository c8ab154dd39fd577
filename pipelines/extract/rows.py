"""The rows every extraction table holds beside the generative ones, and what they are scored against: the eval
items' silver labels and sources, the built-in sample's truth, the label prior, classifier answers; and each
item's row in the store."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.errors import PipelineError
from pipelines.extract.grammar import Answer
from pipelines.extract.records import json_schema
from pipelines.schema import FIELDS

if TYPE_CHECKING:
    from pipelines.store import Store


def eval_labels(items: pd.DataFrame, item_ids: Sequence[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Per item (items indexed by item_id) the silver labels and each label's source, in `item_ids` order."""
    labels = [{n: str(items.at[i, n]) for n in FIELDS} for i in item_ids]
    sources = [{n: str(items.at[i, f"{n}_source"]) for n in FIELDS} for i in item_ids]
    return labels, sources


def item_rows(store: Store, item_ids: Iterable[str]) -> dict[str, int]:
    """Each store row's item id -> row; fails naming the first of `item_ids` with no image key in the store."""
    row_of = {str(item): row for row, item in enumerate(store.meta["item_id"])}
    missing = next((i for i in item_ids if i not in row_of), None)
    if missing is not None:
        raise PipelineError(f"{store.path}: item {missing!r} of data/sft has no image key")
    return row_of


def json_schema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json_schema())


def sample_truth(source: str, items: int, seed: int, item_ids: list[str]) -> list[dict[str, str]] | None:
    """The built-in sample's truth per eval item (what its image shows), None for a real catalog."""
    if source != "sample":
        return None
    from pipelines.catalog.sample import plan_sample_catalog

    plan = {str(item.id): dict(item.truth) for item in plan_sample_catalog(items, seed)}
    return [plan[i] for i in item_ids]


def prior_answers(items: pd.DataFrame, count: int) -> list[Answer]:
    """The label prior: per field the train split's most frequent value (unknown included), its share the
    confidence. Written through the schema, so its format gates pass by construction."""
    train = items[items["split"] == "train"]
    values, confidence = {}, {}
    for name in FIELDS:
        counts = Counter(train[name].astype(str))
        value, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        values[name], confidence[name] = value, round(n / len(train), 2)
    return [classifier_answer(values, confidence) for _ in range(count)]


def classifier_answer(values: dict[str, str], confidence: dict[str, float]) -> Answer:
    """A classifier's predictions as an answer: written through the schema, its format gates pass by construction."""
    text = json.dumps({**values, "confidence": confidence}, ensure_ascii=False, separators=(",", ":"))
    return Answer(text, False, True, True, dict(values), dict(confidence))
