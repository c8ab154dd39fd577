"""Train the retrieval heads on the store's cached frozen features (or LoRA on the images), resuming a stopped run."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import torch

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.encoders import resolve_device
from pipelines.io import atomic_dir, read_parquet, write_json_atomic
from pipelines.params import load_params, params_dict
from pipelines.runtime import RuntimeConfig
from pipelines.seeding import seed_everything
from pipelines.signals import read_signal_labels
from pipelines.store import META_FILE, open_store
from pipelines.training import Trainer, export_model, prepare_training_data, run_hash
from pipelines.training.config import TrainConfig
from pipelines.training.live_log import LiveTrainingLog, training_report

log = logging.getLogger("stages.train")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    train: TrainConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.train
    seed_everything(params.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    store = open_store(paths.STORE_DIR)
    if store.model["untrained"]:
        log.warning(
            "the backbone %s is untrained (seeded random weights): the heads learn on random features",
            store.model["arch"],
        )
    pairs = read_parquet(paths.PAIRS, "the build_pairs stage")
    pseudo = read_signal_labels(paths.SIGNALS, cfg.attr_heads, "train.use_signals") if cfg.use_signals else None
    data = prepare_training_data(
        store.meta,
        store.image_keys,
        store.text_keys,
        pairs,
        cfg.attr_heads,
        where_store=str(paths.STORE_DIR / META_FILE),
        where_pairs=str(paths.PAIRS),
        pseudo=pseudo,
    )
    signals = paths.SIGNALS if cfg.use_signals else None
    key = run_hash(params_dict(cfg), params.seed, store.store_hash, paths.PAIRS, signals)
    device = resolve_device(params.runtime.device)
    images, info = None, {"store_model": store.model}
    if cfg.lora.enabled:
        from pipelines.training.lora import LoraImageFeatures

        info["lora"] = dataclasses.asdict(cfg.lora)
        images = LoraImageFeatures.for_store(store, info["lora"], device=device)
    trainer = Trainer(
        data,
        cfg,
        seed=params.seed,
        params_hash=key,
        store_hash=store.store_hash,
        checkpoint_root=paths.CHECKPOINTS_DIR,
        images=images,
        device=device,
        info=info,
    )
    # DVCLive empties the folder it logs to: it logs to a temporary sibling, which replaces the curves only once the
    # run succeeded, so a failed run (a divergence, a bad input) leaves the previous ones in place.
    with atomic_dir(paths.TRAIN_LIVE_DIR) as live_dir:
        live = LiveTrainingLog(live_dir)
        result = trainer.fit(epoch_log=live)
        export_model(result, store, paths.MODEL_DIR)
        live.write_summary(result.summary)
        write_json_atomic(training_report(result.summary), paths.TRAIN_REPORT)
    log.info(
        "best epoch %d: val attribute@10 %.4f (frozen baseline %.4f), val recall@1 %.4f (frozen baseline %.4f)",
        result.summary["best_epoch"],
        result.summary["val_attr_at_10"],
        result.summary["baseline_val_attr_at_10"],
        result.summary["val_recall_at_1"],
        result.summary["baseline_val_recall_at_1"],
    )


if __name__ == "__main__":
    run_stage(main, __doc__)
