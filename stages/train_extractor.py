"""Train the attribute extractor's variants (E0 Base, E1 SFT, E2 SFT+LoRA) on the SFT records and the store's keys."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.errors import PipelineError
from pipelines.extract import ExtractConfig
from pipelines.extract.grammar import check_alignment
from pipelines.extract.model import ExtractorModel, LmSpec, load_pretrained_lm, tiny_lm
from pipelines.extract.rows import item_rows
from pipelines.extract.sequences import Example, examples, read_records, shared_prefix
from pipelines.extract.tokenizer import EOS, train_tokenizer
from pipelines.extract.trainer import FitSettings, Phase, fit
from pipelines.extract.variants import add_lora, save_variants
from pipelines.io import atomic_dir, read_parquet, sha256_file, write_json_atomic
from pipelines.params import load_params
from pipelines.seeding import seed_everything
from pipelines.store import open_store

log = logging.getLogger("stages.train_extractor")
TEXT_TOKENS = 160  # a pre-training text's tokens at most (long descriptions are cut)


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    extract: ExtractConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.extract
    seed_everything(params.seed)
    torch.set_num_threads(cfg.threads)
    records = {name: read_records(paths.SFT_DIR / f"{name}.jsonl") for name in ("train", "val")}
    items = read_parquet(paths.ITEMS, "the normalize stage")
    store = open_store(paths.STORE_DIR)
    images = torch.from_numpy(np.array(store.image_keys, dtype=np.float32))
    row_of = item_rows(store, (r["item_id"] for rs in records.values() for r in rs))

    texts = {split: catalog_texts(items, split) for split in ("train", "val")}
    if cfg.lm == "tiny":
        corpus = texts["train"] + [m["content"] for r in records["train"] for m in r["messages"]]
        tokenizer = train_tokenizer(corpus, cfg.vocab_size)
        spec = LmSpec(tokenizer.get_vocab_size(), cfg.hidden, cfg.layers, cfg.heads)
        torch.manual_seed(params.seed)
        lm = tiny_lm(spec)
    else:
        spec = None
        lm, tokenizer = load_pretrained_lm(Path(cfg.lm))
    torch.manual_seed(params.seed)
    base = ExtractorModel(lm, tokenizer, images.shape[1], cfg.image_tokens)
    train_rows = torch.tensor([row_of[r["item_id"]] for r in records["train"]])
    base.projector.set_statistics(images[train_rows])
    if cfg.lm == "tiny":
        check_alignment(base.encode, sorted({r["messages"][2]["content"] for r in records["train"]}))
    prefix = base.encode(shared_prefix(records["train"]))
    sft = {s: examples(records[s], base.encode, cfg.image_tokens, with_answer=True) for s in records}
    longest = max(len(e.body) - e.answer_start for e in sft["train"])
    if cfg.max_new_tokens <= longest:
        raise PipelineError(f"extract.max_new_tokens ({cfg.max_new_tokens}) must exceed the longest answer ({longest})")

    key = run_key(params, records, store.store_hash)
    checkpoints = paths.CHECKPOINTS_DIR / "extractor" / key
    reports: dict[str, Any] = {}

    def settings(epochs: int, lr: float) -> FitSettings:
        return FitSettings(epochs, cfg.patience, cfg.batch_size, lr, cfg.weight_decay, cfg.grad_clip, params.seed)

    lm_texts = Phase("base", [], text_examples(base, texts["train"]), text_examples(base, texts["val"]))
    seen = {t for e in lm_texts.train for t in e.body} if cfg.base_epochs else set()
    new_tokens = sorted({*prefix, *(t for e in sft["train"] for t in e.body)} - seen)
    with atomic_dir(paths.EXTRACTOR_LIVE_DIR) as live:
        if cfg.base_epochs:
            result = fit(base, list(base.lm.parameters()), lm_texts, settings(cfg.base_epochs, cfg.lr),
                         checkpoints / "base.pt", live / "base")  # fmt: skip
            reports["base"] = result.summary(cfg.base_epochs)
        e1 = copy.deepcopy(base)
        e1_phase = Phase("sft", prefix, sft["train"], sft["val"], images, row_of)
        reports["sft"] = fit(e1, list(e1.parameters()), e1_phase, settings(cfg.epochs, cfg.lr),
                             checkpoints / "sft.pt", live / "sft").summary(cfg.epochs)  # fmt: skip
        e2 = copy.deepcopy(base)
        torch.manual_seed(params.seed)
        add_lora(e2, cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout, new_tokens)
        trainable = [p for p in e2.parameters() if p.requires_grad]
        e2_phase = Phase("lora", prefix, sft["train"], sft["val"], images, row_of)
        reports["lora"] = fit(e2, trainable, e2_phase, settings(cfg.epochs, cfg.lora.lr),
                              checkpoints / "lora.pt", live / "lora").summary(cfg.epochs)  # fmt: skip
        reports["lora"]["trainable_parameters"] = sum(p.numel() for p in trainable)

    card = {
        "lm": cfg.lm,
        "spec": None if spec is None else spec.to_dict(),
        "image_dim": int(images.shape[1]),
        "image_tokens": cfg.image_tokens,
        "lora": {"r": cfg.lora.r, "alpha": cfg.lora.alpha, "dropout": cfg.lora.dropout},
        "new_tokens": new_tokens,
        "store_hash": store.store_hash,
    }
    with atomic_dir(paths.EXTRACTOR_DIR) as out:
        save_variants(out, card, {"E0": base, "E1": e1, "E2": e2})
    reports["parameters"] = {
        "lm": sum(p.numel() for p in base.lm.parameters()),
        "projector": sum(p.numel() for p in base.projector.parameters()),
    }
    reports["vocab_size"] = tokenizer.get_vocab_size()
    reports["prefix_tokens"], reports["longest_answer_tokens"] = len(prefix), longest
    reports["lora"]["new_tokens"] = len(new_tokens)
    write_json_atomic(reports, paths.EXTRACTOR_REPORT)
    log.info("train_extractor: %s", json.dumps(reports, sort_keys=True))


def catalog_texts(items: Any, split: str) -> list[str]:
    """The Base LM's pre-training texts: each item's title and description (the catalog's own words)."""
    rows = items[items["split"] == split]
    return [
        f"{title}. {desc}".strip() if desc else str(title)
        for title, desc in zip(rows["title"], rows["desc"], strict=True)
    ]


def text_examples(model: ExtractorModel, texts: list[str]) -> list[Example]:
    """Next-token examples over plain texts: EOS, the text, EOS; every token after the first is a target."""
    return [
        Example(f"text:{i}", "text", model.encode(EOS + text + EOS)[:TEXT_TOKENS], 1, "")
        for i, text in enumerate(texts)
    ]


def run_key(params: Params, records: dict[str, list[dict[str, Any]]], store_hash: str) -> str:
    """What decides the result: the extract section, the seed, the SFT files, the store and this stage's code; a
    checkpoint under another key is never resumed."""
    cfg = params.extract
    code = sorted(Path("pipelines/extract").glob("*.py")) + [Path(__file__)]
    model = [cfg.lm, cfg.vocab_size, cfg.hidden, cfg.layers, cfg.heads, cfg.image_tokens]
    fitting = [cfg.base_epochs, cfg.epochs, cfg.patience, cfg.batch_size, cfg.lr, cfg.weight_decay, cfg.grad_clip]
    payload = {
        "extract": [*model, *fitting, cfg.threads, asdict(cfg.lora)],
        "seed": params.seed,
        "sft": [sha256_file(paths.SFT_DIR / f"{name}.jsonl") for name in records],
        "store": store_hash,
        "code": [sha256_file(path) for path in code],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:16]


if __name__ == "__main__":
    run_stage(main, __doc__)
