"""Compare the extractor with the retrieval heads: score the heads' attribute classifiers on the same eval items,
judge the targets, write reports/extraction.md. A train.* sweep reruns this (seconds), never the decoding."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pipelines import paths
from pipelines.catalog.config import DataConfig
from pipelines.cli import run_stage
from pipelines.extract import ExtractConfig
from pipelines.extract.grammar import Answer, read_answer
from pipelines.extract.report import comparison, main_prompt, render_report, row, targets
from pipelines.extract.rows import (
    classifier_answer,
    eval_labels,
    item_rows,
    json_schema_validator,
    prior_answers,
    sample_truth,
)
from pipelines.extract.scoring import score_row
from pipelines.io import read_json, read_parquet, write_json_atomic, write_text_atomic
from pipelines.params import load_params
from pipelines.schema import FIELDS
from pipelines.store import Store, open_store
from pipelines.training.finetuned import load_finetuned, rowwise

log = logging.getLogger("stages.extraction_report")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    data: DataConfig
    extract: ExtractConfig


def main() -> None:
    params = load_params(Params)
    detail = read_json(paths.EXTRACTION_DETAIL, "the evaluate_extraction stage")
    eval_ids: list[str] = detail["items"]
    scores: dict[str, Any] = detail["rows"]
    items = read_parquet(paths.ITEMS, "the normalize stage").set_index("item_id", drop=False)
    store = open_store(paths.STORE_DIR)
    row_of = item_rows(store, eval_ids)
    labels, sources = eval_labels(items, eval_ids)
    truth = sample_truth(params.data.source, params.data.sample.items, params.seed, eval_ids)
    heads = heads_answers(store, [row_of[i] for i in eval_ids], prior_answers(items, len(eval_ids)))
    scores["heads"] = score_row(heads, labels, sources, truth)
    verdicts = targets(scores, params.extract.prompt_variants)
    metrics = comparison(scores, verdicts)
    write_json_atomic(metrics, paths.EXTRACTION_COMPARISON)
    write_json_atomic({"targets": verdicts, "heads": scores["heads"]}, paths.EXTRACTION_TARGETS)
    prompt = main_prompt(params.extract.prompt_variants)
    base_rows = [row("E0", decoding, prompt) for decoding in ("free", "constrained")]
    base_answers = {n: read_answers(paths.EXTRACTION_ANSWERS_DIR / f"{n}.jsonl", eval_ids) for n in base_rows}
    write_text_atomic(render_report(scores, verdicts, eval_ids, base_answers, labels, truth is not None),
                      paths.EXTRACTION_REPORT)  # fmt: skip
    log.info("extraction_report: %s", json.dumps(metrics, sort_keys=True))
    for verdict in verdicts:
        log.info("%s %s: %s", "met" if verdict["met"] else "NOT met", verdict["target"], verdict["value"])


def heads_answers(store: Store, rows: list[int], prior: list[Answer]) -> list[Answer]:
    """The retrieval heads' attribute classifiers (artifacts/model) on the items' image keys: the argmax class and
    its softmax probability; a field without a head keeps the prior's value. Heads never say `unknown`."""
    finetuned = load_finetuned(paths.MODEL_DIR, store, "cpu")
    heads = finetuned.model
    batch = np.asarray(rows)
    with torch.no_grad():
        if finetuned.backbone is not None:
            keys = finetuned.backbone.encode_rows(store, batch)
        else:
            keys = torch.from_numpy(np.array(store.image_keys[batch], dtype=np.float32))
        logits = rowwise(lambda k: torch.cat(list(heads.attribute_logits(heads.image_outputs(k)[1]).values()), 1), keys)
    chosen: dict[str, tuple[list[str], list[float]]] = {}
    offset = 0
    for name, classes in heads.spec.attr_classes.items():
        probs = torch.softmax(logits[:, offset : offset + len(classes)], dim=1)
        best = probs.max(dim=1)
        chosen[name] = ([classes[int(i)] for i in best.indices], [round(float(p), 2) for p in best.values])
        offset += len(classes)
    out = []
    for i, base in enumerate(prior):
        values = {n: chosen[n][0][i] if n in chosen else base.values[n] for n in FIELDS}
        confidence = {n: chosen[n][1][i] if n in chosen else float(base.confidence[n] or 0) for n in FIELDS}
        out.append(classifier_answer(values, confidence))
    return out


def read_answers(path: Any, item_ids: list[str]) -> list[Answer]:
    """A row's answers as evaluate_extraction wrote them (artifacts/extraction/<row>.jsonl), in `item_ids` order."""
    validator = json_schema_validator()
    by_item = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        by_item[record["item_id"]] = read_answer(record["answer"], record["truncated"], validator)
    return [by_item[i] for i in item_ids]


if __name__ == "__main__":
    run_stage(main, __doc__)
