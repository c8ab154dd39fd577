"""Seeded bootstrap intervals over per-query scores (numpy only: the scoreboard stage never imports torch)."""

from __future__ import annotations

import zlib

import numpy as np

from pipelines.errors import PipelineError


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
