"""Rerank: train the list-wise policy against simulated users, then compare none / constraints / MMR / policy."""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.evaluation.prompt_cache import CachedPromptEncoder
from pipelines.index.config import IndexConfig
from pipelines.io import read_parquet, write_json_atomic, write_text_atomic
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.search.config import RerankConfig
from pipelines.search.evaluation import (
    headline,
    parse_queries,
    report_markdown,
    run_queries,
    score_runs,
    summarise,
    training_pools,
)
from pipelines.search.policy import save_policy, train_policy
from pipelines.search.queries import build_queries
from pipelines.search.service import SearchService

log = logging.getLogger("stages.rerank")


def main() -> None:
    params = load_params(index=IndexConfig, rerank=RerankConfig, runtime=RuntimeConfig)
    cfg = params.rerank
    # One thread: single queries run fastest on it, and the results never depend on the thread count.
    service = SearchService.from_build(
        Path("."), cfg, params.index, seed=params.seed, device=params.runtime.device, threads=1, with_policy=False
    )
    items = read_parquet(paths.ITEMS, "the normalize stage")
    space = service.spaces[cfg.model]

    simulated_users = build_queries(items, "train", cfg.policy.train_queries, cfg.negation_share, params.seed)
    queries = build_queries(items, "test", cfg.queries, cfg.negation_share, params.seed)
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
    parsed = parse_queries(service, simulated_users + queries)
    text_keys = cached([query.clip_text for query in parsed])
    log.info("%d query text keys %s (%s)", len(text_keys), "cached" if cached.hits else "encoded", cached.folder)
    users = len(simulated_users)

    pools = training_pools(service, space, parsed[:users], text_keys[:users])
    policy, history = train_policy(pools, cfg.k, cfg.policy, params.seed)
    policy.info.update({"return_first": round(history[0], 4), "return_last": round(history[-1], 4)})
    service.policy = policy
    log.info("policy: mean discounted return %.4f -> %.4f over %d passes", history[0], history[-1], len(history))

    runs = run_queries(service, space, queries, parsed[users:], text_keys[users:], cfg.k)
    table, coverage = score_runs(service, space, runs, items, cfg.k)
    summary = summarise(table, coverage)
    payload = policy.to_dict()

    save_policy(policy, paths.POLICY)
    write_json_atomic(headline(summary, cfg.k), paths.RERANK_METRICS)
    write_json_atomic({"model": cfg.model, "k": cfg.k, "strategies": summary, "policy": payload}, paths.RERANK_DETAIL)
    write_text_atomic(
        report_markdown(summary, runs, cfg.k, cfg.examples, cfg.model, payload, service.attributes.rows),
        paths.RERANK_REPORT,
    )
    for strategy in ("none", "constraints", "mmr", "policy"):
        s = summary[strategy]
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
