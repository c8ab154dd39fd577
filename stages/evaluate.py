"""Evaluate the frozen baseline and the fine-tuned model with the same code, queries and index settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.encoders import resolve_device
from pipelines.encoders.prompt_cache import CachedPromptEncoder, TextEncoder
from pipelines.evaluation import Catalog, ModelSpace, identity, run_evaluation
from pipelines.evaluation.config import EvalConfig
from pipelines.index.config import IndexConfig
from pipelines.io import write_csv_atomic, write_json_atomic, write_parquet_atomic, write_text_atomic
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.seeding import seed_everything
from pipelines.store import open_store
from pipelines.training import load_finetuned

log = logging.getLogger("stages.evaluate")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    eval: EvalConfig
    index: IndexConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.eval
    index = params.index
    seed_everything(params.seed)
    store = open_store(paths.STORE_DIR)
    if store.model["untrained"]:
        log.warning(
            "the backbone %s is untrained (seeded random weights): baseline numbers are near chance",
            store.model["arch"],
        )
    finetuned = load_finetuned(paths.MODEL_DIR, store, params.runtime.device)

    def prompt_encoder() -> TextEncoder:
        from pipelines.encoders.clip import ClipEncoder  # open_clip loads only when the cache misses

        return ClipEncoder.from_manifest(store.model, device=params.runtime.device).encode_texts

    device = str(resolve_device(params.runtime.device))
    prompts = CachedPromptEncoder(paths.PROMPT_CACHE_DIR, store.model, store.store_hash, device, prompt_encoder)
    catalog = Catalog(meta=store.meta, text_keys=store.text_keys, encode_prompts=prompts)
    models = [
        ModelSpace("baseline", store.image_keys, identity),
        ModelSpace("finetuned", finetuned.image_vectors(store), finetuned.text_embeddings),
    ]
    result = run_evaluation(
        catalog,
        models,
        cfg,
        index,
        seed=params.seed,
        image_root=paths.IMAGE_ROOT,
        catalog_label=f"{store.rows:,} catalog items (store {store.store_hash[:12]})",
        backbone_label=backbone_label(store.model),
    )

    log.info("prompt features: %d cached, %d encoded (%s)", prompts.hits, prompts.misses, paths.PROMPT_CACHE_DIR)
    write_parquet_atomic(result.per_query, paths.PER_QUERY)
    write_json_atomic(
        {
            "store_hash": store.store_hash,
            "backbone": store.model,
            "untrained_backbone": bool(store.model["untrained"]),
            "finetuned": {key: finetuned.info.get(key) for key in ("kind", "best_epoch", "params_hash", "store_hash")},
            "index": {"factory": index.factory, "ef_search": index.ef_search, "nprobe": index.nprobe},
            "queries": result.queries,
            "bootstrap": cfg.bootstrap,
            "graphic_patterns": cfg.graphic_patterns,
            "seed": params.seed,
        },
        paths.RUN_CARD,
    )
    write_json_atomic(result.metrics, paths.METRICS)
    write_json_atomic(result.detail, paths.METRICS_DETAIL)
    write_json_atomic(result.intervals, paths.METRICS_CI)
    write_json_atomic(result.by_category, paths.METRICS_BY_CATEGORY)
    write_json_atomic(result.by_value, paths.METRICS_BY_VALUE)
    write_csv_atomic(result.recall_curve, paths.RECALL_CURVE)
    write_csv_atomic(result.attribute_bars, paths.ATTRIBUTE_BARS)
    write_text_atomic(result.gallery_html, paths.GALLERY)
    write_text_atomic(result.leaderboard, paths.LEADERBOARD)
    write_text_atomic(
        result.ground_truth.to_csv(sep="\t", index=False, lineterminator="\n"), paths.BENCHMARK_GROUND_TRUTH
    )
    for key in result.metrics["baseline"]:
        log.info(
            "%s: baseline %s, finetuned %s", key, result.metrics["baseline"][key], result.metrics["finetuned"].get(key)
        )


def backbone_label(model: dict[str, Any]) -> str:
    """How the leaderboard names the store's backbone, e.g. `ViT-S-32, UNTRAINED (seeded random weights)`."""
    weights = "UNTRAINED (seeded random weights)" if model["untrained"] else f"pretrained {model['pretrained']}"
    return f"{model['arch']}, {weights}"


if __name__ == "__main__":
    run_stage(main, __doc__)
