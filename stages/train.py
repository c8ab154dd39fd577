"""Train the retrieval heads on the store's cached frozen features (or LoRA on the images), resuming a stopped run."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch

from pipelines.cli import run_stage
from pipelines.encoders import resolve_device
from pipelines.io import read_parquet, sha256_file, write_json_atomic
from pipelines.params import load_params, params_dict
from pipelines.runtime import RuntimeConfig
from pipelines.seeding import seed_everything
from pipelines.signals import active_signal_labels
from pipelines.store import open_store
from pipelines.training import TrainConfig, export_model, params_hash, prepare_training_data, train_retrieval_heads
from pipelines.training.checkpoint import training_code_hash
from pipelines.training.live_log import LiveTrainingLog, training_report

log = logging.getLogger("stages.train")

STORE = Path("artifacts/store")
PAIRS = Path("artifacts/pairs/pairs.parquet")
SIGNALS = Path("artifacts/signals/signals.parquet")
CHECKPOINTS = Path("artifacts/checkpoints")
MODEL = Path("artifacts/model")
LIVE = Path("reports/train")  # DVCLive: per-epoch curves (plots/metrics/*.tsv) and the best epoch (metrics.json)
REPORT = Path("reports/train.json")


def main() -> None:
    params = load_params(train=TrainConfig, runtime=RuntimeConfig)
    cfg = params.train
    seed_everything(params.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if params.runtime.train.threads:
        torch.set_num_threads(params.runtime.train.threads)
    store = open_store(STORE)
    if store.model["untrained"]:
        log.warning(
            "the backbone %s is untrained (seeded random weights): the heads learn on random features",
            store.model["arch"],
        )
    pairs = read_parquet(PAIRS, "the build_pairs stage")
    inputs = {"pairs": sha256_file(PAIRS), "code": training_code_hash()}
    pseudo = None
    if cfg.use_signals:
        pseudo = active_signal_labels(read_parquet(SIGNALS, "the export_signals stage"), cfg.attr_heads)
        inputs["signals"] = sha256_file(SIGNALS)
    data = prepare_training_data(
        store.meta,
        store.image_keys,
        store.text_keys,
        pairs,
        cfg.attr_heads,
        where_store=str(STORE / "meta.parquet"),
        where_pairs=str(PAIRS),
        pseudo=pseudo,
    )
    run_hash = params_hash(params_dict(cfg), params.seed, store.store_hash, inputs.pop("pairs"), extra=inputs)
    device = resolve_device(params.runtime.device)
    images, info = None, {"store_model": store.model}
    if cfg.lora.enabled:
        from pipelines.training.lora import LoraImageFeatures

        info["lora"] = dataclasses.asdict(cfg.lora)
        images = LoraImageFeatures.for_store(store, info["lora"], device=device)
    live = LiveTrainingLog(LIVE)
    result = train_retrieval_heads(
        data,
        cfg,
        seed=params.seed,
        params_hash=run_hash,
        store_hash=store.store_hash,
        checkpoint_root=CHECKPOINTS,
        images=images,
        device=device,
        info=info,
        epoch_log=live,
    )
    export_model(result, store, MODEL)
    live.write_summary(result.summary)
    write_json_atomic(training_report(result.summary), REPORT)
    log.info(
        "best epoch %d: val attribute@10 %.4f (frozen baseline %.4f), val recall@1 %.4f (frozen baseline %.4f)",
        result.summary["best_epoch"],
        result.summary["val_attr_at_10"],
        result.summary["baseline_val_attr_at_10"],
        result.summary["val_recall_at_1"],
        result.summary["baseline_val_recall_at_1"],
    )


if __name__ == "__main__":
    run_stage(main)
