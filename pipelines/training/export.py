"""Export a trained run to artifacts/model/: best.pt and last.pt beside the model.json card `load_finetuned` reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pipelines.io import atomic_dir, sha256_file
from pipelines.store import Store
from pipelines.training.checkpoint import BEST, LAST, load_checkpoint
from pipelines.training.finetuned import CARD
from pipelines.training.loop import TrainResult
from pipelines.training.model import ModelSpec, RetrievalHeads


def export_model(result: TrainResult, store: Store, model_dir: Path) -> dict[str, Any]:
    """Copy the run's best.pt and last.pt into `model_dir` with a model.json card, atomically."""
    best_state = load_checkpoint(result.run_dir / BEST)
    summary = result.summary
    card = {
        "kind": summary["kind"],
        "arch": store.model["arch"],
        "pretrained": store.model["pretrained"],
        "untrained": bool(store.model["untrained"]),
        "store_model": store.model,
        "store_hash": store.store_hash,
        "params_hash": result.params_hash,
        "best_epoch": summary["best_epoch"],
        "epochs_run": summary["epochs_run"],
        "val_recall_at_1": summary["val_recall_at_1"],
        "val_attr_at_10": summary["val_attr_at_10"],
        "baseline_val_recall_at_1": summary["baseline_val_recall_at_1"],
        "fusion_weight": summary["fusion_weight"],
        "embedding_dim": RetrievalHeads(ModelSpec(**best_state["spec"])).embedding_dim,
        "spec": best_state["spec"],
        "lora": best_state["info"].get("lora"),
    }
    with atomic_dir(model_dir) as tmp:
        for name in (BEST, LAST):
            shutil.copyfile(result.run_dir / name, tmp / name)
        card["files"] = {name: sha256_file(tmp / name) for name in (BEST, LAST)}
        (tmp / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return card
