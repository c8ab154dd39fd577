"""Per-query retrieval metrics over ranked result lists (torchmetrics) and seeded bootstrap intervals."""
from __future__ import annotations

import zlib

import numpy as np
import torch
from torchmetrics.retrieval import (
    RetrievalHitRate,
    RetrievalMRR,
    RetrievalPrecision,
    RetrievalRecall,
)

from torchmetrics.retrieval.base import RetrievalMetric

from pipelines.errors import PipelineError


def _per_query(values: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """torchmetrics aggregation that keeps one value per query (for bootstrap, slices and paired deltas)."""
    return values


def _metric(name: str) -> RetrievalMetric:
    kind, _, k = name.partition("@")
    # empty_target_action="neg": a query with no relevant result in its list scores 0, which is the exact
    # value of P@K, hit@K, recall@K (one relevant document) and reciprocal rank truncated to the list.
    common = {"empty_target_action": "neg", "aggregation": _per_query}
    if kind == "mrr" and not k:
        return RetrievalMRR(**common)
    if kind in ("p", "attribute") and k:
        return RetrievalPrecision(top_k=int(k), **common)
    if kind == "recall" and k:
        return RetrievalRecall(top_k=int(k), **common)
    if kind == "hit" and k:
        return RetrievalHitRate(top_k=int(k), **common)
    raise PipelineError(f"unknown retrieval metric {name!r} (expected p@K, recall@K, hit@K, attribute@K or mrr)")


def ranked_metric(name: str, relevant: np.ndarray) -> np.ndarray:
    """One value per query of metric `name` (p@K, recall@K, hit@K, attribute@K, mrr) over ranked lists.

    `relevant[q, j]` says whether the j-th result of query q is relevant; padding (no result) is False,
    so it counts as a miss and P@K keeps K as its denominator. The lists are already ranked (by FAISS),
    so torchmetrics gets strictly decreasing rank scores: raw inner products can tie or be negative,
    and torchmetrics' reciprocal rank ignores documents whose score is not positive.
    """
    relevant = np.asarray(relevant, dtype=bool)
    if relevant.ndim != 2:
        raise PipelineError(f"relevance must be a (queries, results) matrix, got shape {relevant.shape}")
    queries, depth = relevant.shape
    if queries == 0:
        return np.zeros(0, dtype=np.float64)
    metric = _metric(name)
    preds = torch.arange(depth, 0, -1, dtype=torch.float64).repeat(queries)
    indexes = torch.arange(queries, dtype=torch.long).repeat_interleave(depth)
    metric.update(preds, torch.from_numpy(relevant.reshape(-1)), indexes)
    return metric.compute().double().numpy()


def bootstrap_generator(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by (seed, key): each metric's resamples do not depend on which others were computed."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def bootstrap_means(scores: np.ndarray, resamples: int, rng: np.random.Generator, chunk: int = 4_000_000) -> np.ndarray:
    """Means of `resamples` bootstrap resamples (with replacement, over queries), vectorised in chunks.

    `scores` is (n,) for one metric or (n, m) for m columns resampled jointly (paired queries).
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    per_chunk = max(1, chunk // max(n, 1))
    means = []
    for start in range(0, resamples, per_chunk):
        size = min(per_chunk, resamples - start)
        index = rng.integers(0, n, size=(size, n))
        means.append(scores[index].mean(axis=1))
    return np.concatenate(means, axis=0)


def bootstrap_interval(scores: np.ndarray, resamples: int, rng: np.random.Generator) -> tuple[float, float] | None:
    """Percentile bootstrap 95% interval of the mean of per-query `scores`; None when there are no queries."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return None
    lo, hi = np.quantile(bootstrap_means(scores, resamples, rng), [0.025, 0.975])
    return float(lo), float(hi)


def paired_delta_interval(
    baseline: np.ndarray, finetuned: np.ndarray, resamples: int, rng: np.random.Generator
) -> tuple[float, float] | None:
    """95% interval of mean(finetuned) - mean(baseline), resampling the same queries for both models."""
    baseline = np.asarray(baseline, dtype=np.float64)
    finetuned = np.asarray(finetuned, dtype=np.float64)
    if baseline.shape != finetuned.shape:
        raise PipelineError(f"paired scores differ in shape: {baseline.shape} vs {finetuned.shape}")
    return bootstrap_interval(finetuned - baseline, resamples, rng)
