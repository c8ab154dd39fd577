"""Evaluate the attribute extractor on the eval split: E0/E1/E2 with free and constrained decoding, per prompt
variant, beside the label prior; on the built-in sample, against the truth the images show too. (The retrieval
heads' row and the comparison are extraction_report's, so that a train.* sweep never reruns this stage.)"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from pipelines import paths
from pipelines.catalog.config import DataConfig
from pipelines.cli import run_stage
from pipelines.extract import ExtractConfig
from pipelines.extract.decode import generate
from pipelines.extract.grammar import Answer, Grammar, read_answer
from pipelines.extract.report import headline, main_prompt, row
from pipelines.extract.rows import eval_labels, item_rows, json_schema_validator, prior_answers, sample_truth
from pipelines.extract.scoring import confusion, score_row
from pipelines.extract.sequences import examples, read_records, shared_prefix
from pipelines.extract.variants import VARIANTS, load_variant
from pipelines.io import atomic_dir, read_parquet, write_json_atomic
from pipelines.params import load_params
from pipelines.schema import FIELDS
from pipelines.seeding import seed_everything
from pipelines.store import open_store

log = logging.getLogger("stages.evaluate_extraction")

DECODE_BATCH = 64


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    data: DataConfig
    extract: ExtractConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.extract
    seed_everything(params.seed)
    torch.set_num_threads(cfg.threads)
    records = read_records(paths.SFT_DIR / "eval.jsonl")
    items = read_parquet(paths.ITEMS, "the normalize stage").set_index("item_id", drop=False)
    store = open_store(paths.STORE_DIR)
    images = torch.from_numpy(np.array(store.image_keys, dtype=np.float32))
    eval_ids = list(dict.fromkeys(r["item_id"] for r in records))
    row_of = item_rows(store, eval_ids)
    labels, sources = eval_labels(items, eval_ids)
    truth = sample_truth(params.data.source, params.data.sample.items, params.seed, eval_ids)
    validator = json_schema_validator()

    rows: dict[str, list[Answer]] = {}
    rows["prior"] = prior_answers(items, len(eval_ids))
    for variant in VARIANTS:
        model = load_variant(paths.EXTRACTOR_DIR, variant)
        prefix = model.encode(shared_prefix(records))
        grammar = Grammar.build(model.encode, model.eos_id)
        for decoding in ("free", "constrained"):
            for prompt in cfg.prompt_variants:
                chosen = [r for r in records if r["variant"] == prompt]
                started = time.perf_counter()
                generations = generate(
                    model,
                    prefix,
                    examples(chosen, model.encode, model.image_tokens, with_answer=False),
                    images,
                    row_of,
                    max_new_tokens=cfg.max_new_tokens,
                    grammar=grammar if decoding == "constrained" else None,
                    batch_size=DECODE_BATCH,
                )
                seconds = time.perf_counter() - started
                name = row(variant, decoding, prompt)
                by_item = {r["item_id"]: g for r, g in zip(chosen, generations, strict=True)}
                rows[name] = [read_answer(by_item[i].text, by_item[i].truncated, validator) for i in eval_ids]
                tokens = sum(g.tokens for g in generations)
                log.info("%s: %.0f tokens/s, %.0f items/s", name, tokens / seconds, len(chosen) / seconds)

    scores = {name: score_row(answers, labels, sources, truth) for name, answers in rows.items()}
    metrics = headline(scores)
    write_json_atomic(metrics, paths.EXTRACTION_METRICS)
    write_json_atomic({"items": eval_ids, "rows": scores}, paths.EXTRACTION_DETAIL)
    with atomic_dir(paths.EXTRACTION_ANSWERS_DIR) as out:
        for name, answers in rows.items():
            lines = [
                json.dumps({"item_id": i, "answer": a.text, "truncated": a.truncated}, ensure_ascii=False)
                for i, a in zip(eval_ids, answers, strict=True)
            ]
            (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with atomic_dir(paths.EXTRACTION_CONFUSION_DIR) as out:
        plotted = row("E2", "constrained", main_prompt(cfg.prompt_variants))  # the row DVC's confusion plots show
        for field in FIELDS:
            pd.DataFrame(confusion(rows[plotted], labels, field)).to_csv(out / f"{field}.csv", index=False)
    log.info("evaluate_extraction: %s", json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    run_stage(main, __doc__)
