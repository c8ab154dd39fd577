"""Rerank: train the list-wise policy against simulated users, then compare none / constraints / MMR / policy."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.encoders.prompt_cache import CachedPromptEncoder
from pipelines.index.config import IndexConfig
from pipelines.io import read_parquet, write_json_atomic, write_text_atomic
from pipelines.params import load_params
from pipelines.rerank import run_study, save_policy
from pipelines.runtime import RuntimeConfig, limit_threads
from pipelines.search.config import RerankConfig
from pipelines.search.rerank import STRATEGIES
from pipelines.search.service import SearchService

log = logging.getLogger("stages.rerank")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    index: IndexConfig
    rerank: RerankConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.rerank
    limit_threads(1)  # single queries run fastest on one thread, and the results never depend on the count
    service = SearchService.from_build(
        Path("."), cfg, params.index, seed=params.seed, device=params.runtime.device, with_policy=False
    )
    items = read_parquet(paths.ITEMS, "the normalize stage")
    # The queries' frozen CLIP text keys depend on no train.* param: a sweep reads them from the cache.
    clip = service.clip
    cached = CachedPromptEncoder(
        paths.PROMPT_CACHE_DIR,
        clip.model,
        clip.store_hash,
        clip.device,
        lambda: clip.text_keys,
        batching="one text at a time",
    )
    study = run_study(service, items, cfg, cached, params.seed)
    log.info("query text keys %s (%s)", "cached" if cached.hits else "encoded", cached.folder)

    save_policy(study.policy, paths.POLICY)
    write_json_atomic(study.metrics, paths.RERANK_METRICS)
    write_json_atomic(study.detail, paths.RERANK_DETAIL)
    write_text_atomic(study.report, paths.RERANK_REPORT)
    for strategy in STRATEGIES:
        s = study.detail["strategies"][strategy]
        log.info(
            "%-11s satisfaction %.4f faithfulness %.4f ndcg %.4f ild %.4f coverage %.4f",
            strategy,
            s["satisfaction"],
            s["faithfulness"],
            s["ndcg"],
            s["ild"],
            s["coverage"],
        )


if __name__ == "__main__":
    run_stage(main, __doc__)
