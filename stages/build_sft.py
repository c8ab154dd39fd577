"""Build the attribute extractor's SFT data: chat records per item and split, and the JSON Schema of their targets."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.extract import SPLIT_FILES, ExtractConfig, build_sft, json_schema, jsonl
from pipelines.io import atomic_dir, read_parquet, write_json_atomic
from pipelines.params import load_params
from pipelines.schema import FIELDS, UNKNOWN

log = logging.getLogger("stages.build_sft")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    extract: ExtractConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.extract
    items = read_parquet(paths.ITEMS, "the normalize stage")
    data = build_sft(items, cfg.prompt_variants, cfg.min_schema_pass)
    with atomic_dir(paths.SFT_DIR) as out:
        for name, records in data.files.items():
            (out / f"{name}.jsonl").write_text(jsonl(records), encoding="utf-8")
        schema = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
        (out / paths.SFT_SCHEMA_NAME).write_text(schema, encoding="utf-8")
    write_json_atomic(report(items, data.files, cfg.prompt_variants), paths.SFT_REPORT)
    log.info(
        "build_sft: %s records; %d targets checked against the JSON Schema, %.2f%% pass",
        ", ".join(f"{name} {len(records)}" for name, records in data.files.items()),
        data.checked,
        100 * data.schema_pass,
    )


def report(items: pd.DataFrame, files: dict[str, list[dict[str, Any]]], variants: Sequence[str]) -> dict[str, Any]:
    """Records per file, and per field the share of train targets whose value is known (what the extractor can
    learn from; the schema gate's pass rate is in the log: on normalized items it is 1 by construction)."""
    train = items[items["split"] == SPLIT_FILES["train"]]
    return {
        "records": {name: len(records) for name, records in files.items()},
        "variants": list(variants),
        "train_known_share": {name: round(float((train[name] != UNKNOWN).mean()), 4) for name in FIELDS},
    }


if __name__ == "__main__":
    run_stage(main, __doc__)
