"""The attribute extractor's SFT records: chat-style prompts over an item's image, the strict JSON it should write.

Each item gives one record per prompt variant: a fixed system prompt; a user turn with the schema, the image
reference (the item id; the trainer reads its frozen CLIP key from the store) and, in the `image_title` variant,
the title and description; an assistant turn with the item's attributes as compact JSON in the schema's field
order, each field's value (or `unknown`) followed by a `confidence` object (0.9 for a catalog field, 0.7 for a
rule over the title, 0.1 for unknown: `pipelines.schema.CONFIDENCE`).

The JSON Schema the targets must pass is generated from `pipelines/schema.yaml` (`json_schema`) and checked with
a real validator (`jsonschema`): only the schema's fields, values from their vocabularies, every confidence in
[0, 1].
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipelines.errors import PipelineError
from pipelines.schema import CONFIDENCE, FIELDS, vocabulary

if TYPE_CHECKING:
    import pandas as pd

SYSTEM_PROMPT = (
    "You extract a fashion product's attributes from its image. Answer with one JSON object and nothing else: "
    'each field of the schema with one of its values, or "unknown" when the image does not show it, in the '
    'schema\'s order, then "confidence" with a number from 0 to 1 for every field.'
)
# build_sft's files: the item splits they hold (eval is the test split; val is for the trainer's early stop)
SPLIT_FILES = {"train": "train", "val": "val", "eval": "test"}


class SftError(PipelineError):
    """A target that does not parse or pass the schema, or splits that share a product."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an extractor's answer, from schema.yaml's vocabularies."""
    values = vocabulary()
    confidence = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Fashion item attributes",
        "type": "object",
        "properties": {
            **{name: {"enum": list(values[name])} for name in FIELDS},
            "confidence": {
                "type": "object",
                "properties": {name: confidence for name in FIELDS},
                "required": list(FIELDS),
                "additionalProperties": False,
            },
        },
        "required": [*FIELDS, "confidence"],
        "additionalProperties": False,
    }


@lru_cache(maxsize=1)
def schema_prompt() -> str:
    """The schema as the user turn states it: a line per field with its values."""
    return "\n".join(f"{name}: {' | '.join(values)}" for name, values in vocabulary().items())


def answer(row: dict[str, Any]) -> dict[str, Any]:
    """The item's answer: its fields' values, then each field's confidence by the label's source."""
    confidence = {}
    for name in FIELDS:
        source = row[f"{name}_source"]
        if source not in CONFIDENCE:
            raise SftError(f"{name}_source is {source!r}, which has no confidence ({', '.join(CONFIDENCE)})")
        confidence[name] = CONFIDENCE[source]
    return {**{name: row[name] for name in FIELDS}, "confidence": confidence}


def user_turn(row: dict[str, Any], variant: str) -> str:
    lines = [f"Schema:\n{schema_prompt()}", f"Image: <image:{row['item_id']}>"]
    if variant == "image_title":
        lines += [f"Title: {row['title']}", f"Description: {row['desc'] or '(none)'}"]
    return "\n".join(lines)


def record(row: dict[str, Any], variant: str, target: str) -> dict[str, Any]:
    """One chat record: the system prompt, the user turn of `variant`, the assistant's `target` JSON."""
    return {
        "item_id": str(row["item_id"]),
        "variant": variant,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_turn(row, variant)},
            {"role": "assistant", "content": target},
        ],
    }


@dataclass(frozen=True)
class SftData:
    files: dict[str, list[dict[str, Any]]]  # file name (train, val, eval) -> records
    schema_pass: float  # share of targets the validator passed
    checked: int


def build_sft(items: pd.DataFrame, variants: Sequence[str], min_schema_pass: float) -> SftData:
    """Records per file from items.parquet's splits; fails naming the first bad row when a label's source has no
    confidence, when fewer than `min_schema_pass` of the targets pass the JSON Schema, or when a product group
    spans two files."""
    import jsonschema

    check_groups(items)
    validator = jsonschema.Draft202012Validator(json_schema())
    files: dict[str, list[dict[str, Any]]] = {}
    failed: list[str] = []
    checked = 0
    for name, split in SPLIT_FILES.items():
        rows: list[dict[str, Any]] = items[items["split"] == split].to_dict("records")  # type: ignore[assignment]
        records = []
        for row in rows:
            where = f"items.parquet: item {row['item_id']!r}"
            try:
                target = answer(row)
            except SftError as exc:
                raise SftError(f"{where}: {exc}") from None
            checked += 1
            error = next(iter(validator.iter_errors(target)), None)
            if error is not None:
                failed.append(f"{where}: {'.'.join(map(str, error.absolute_path)) or 'target'}: {error.message}")
            text = json.dumps(target, ensure_ascii=False, separators=(",", ":"))  # the same in every variant
            records += [record(row, variant, text) for variant in variants]
        files[name] = records
    schema_pass = 1 - len(failed) / max(checked, 1)
    if schema_pass < min_schema_pass:
        raise SftError(
            f"{len(failed)} of {checked} targets fail the JSON Schema ({schema_pass:.2%} pass, "
            f"extract.min_schema_pass is {min_schema_pass:.0%}); the first: {failed[0]}"
        )
    return SftData(files, schema_pass, checked)


def check_groups(items: pd.DataFrame) -> None:
    """No product group in two of the files (a product's other colours in eval would leak its labels)."""
    splits = items.groupby("group_key")["split"].nunique()
    shared = splits[splits > 1]
    if len(shared):
        raise SftError(f"items.parquet: product group {shared.index[0]!r} lies in more than one split")


def jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
