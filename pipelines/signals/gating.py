"""Calibrated concept scores and the gating rule: threshold, fallback, per-dimension top-K, global budget.

Everything here is a pure function over (items × concepts) matrices, vectorised over items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipelines.signals.config import SignalsConfig


def calibrate(similarities: np.ndarray, normalize: Literal["zscore", "none"], temperature: float) -> np.ndarray:
    """Map cosine similarities (items × concepts of one dimension) to scores comparable to the threshold.

    - ``zscore``: each item's similarities are standardised over the dimension's concepts,
      z = (s - mean) / std, and mapped to ``sigmoid(z / temperature)``: a per-concept score in
      (0, 1) that says how far a concept stands out from the item's other concepts. With
      temperature 1, the default threshold 0.75 means z ≥ ln 3 ≈ 1.10 and the fallback 0.70
      means z ≥ 0.85. An item equally similar to every concept (std 0) scores 0.5 everywhere.
    - ``none``: the raw cosine similarity, unchanged (temperature is not used).
    """
    similarities = np.asarray(similarities, dtype=np.float64)
    if similarities.ndim != 2:
        raise ValueError(f"calibrate: expected an (items, concepts) matrix, got shape {similarities.shape}")
    if normalize == "none":
        return similarities.astype(np.float32)
    if normalize != "zscore":
        raise ValueError(f"calibrate: normalize must be 'zscore' or 'none', got {normalize!r}")
    if temperature <= 0:
        raise ValueError(f"calibrate: temperature must be positive, got {temperature}")
    mean = similarities.mean(axis=1, keepdims=True)
    std = similarities.std(axis=1, keepdims=True)
    z = np.divide(similarities - mean, std, out=np.zeros_like(similarities), where=std > 1e-12)
    result: np.ndarray = (1.0 / (1.0 + np.exp(-z / temperature))).astype(np.float32)
    return result


@dataclass(frozen=True)
class GatingRule:
    """The gate: s ≥ threshold is active; else the top-1 if s ≥ threshold − fallback_delta;
    at most top_k per dimension and budget in all, dimensions served in priority order.

    merge="fair" hands out the budget round-robin: every dimension's best concept (in priority
    order) before any dimension's second; merge="priority" gives each dimension up to top_k
    before the next dimension gets any.
    """

    threshold: float = 0.75
    fallback_delta: float = 0.05
    top_k: int = 2
    budget: int = 3
    priority: tuple[str, ...] = ()
    merge: Literal["fair", "priority"] = "fair"

    @classmethod
    def from_config(cls, cfg: SignalsConfig) -> GatingRule:
        return cls(cfg.threshold, cfg.fallback_delta, cfg.top_k, cfg.budget, tuple(cfg.priority), cfg.merge)


def rank_concepts(scores: np.ndarray) -> np.ndarray:
    """Concept indices per item, best score first (ties keep concept order)."""
    return np.argsort(-np.asarray(scores), axis=1, kind="stable")


def candidates(scores: np.ndarray, rule: GatingRule) -> np.ndarray:
    """How many of each item's top-ranked concepts pass the per-dimension gate (before the budget)."""
    ordered = np.take_along_axis(scores, rank_concepts(scores), axis=1)
    # Thresholds in the scores' own precision, so a float32 score of 0.70 passes a 0.75 − 0.05 fallback.
    threshold = np.asarray(rule.threshold, dtype=ordered.dtype)
    fallback_threshold = np.asarray(rule.threshold - rule.fallback_delta, dtype=ordered.dtype)
    above = (ordered >= threshold).sum(axis=1)
    fallback = (above == 0) & (ordered[:, 0] >= fallback_threshold)
    return np.minimum(np.where(fallback, 1, above), rule.top_k)


def gate(scores: Mapping[str, np.ndarray], rule: GatingRule) -> dict[str, np.ndarray]:
    """Active masks (items × concepts, bool) per dimension, the global budget applied across dimensions.

    `scores` maps each dimension to its calibrated (items × concepts) matrix; every matrix has
    the same number of items. Dimensions missing from `rule.priority` are served last, in the
    order given.
    """
    if not scores:
        return {}
    items = {matrix.shape[0] for matrix in scores.values()}
    if len(items) != 1:
        raise ValueError(f"gate: every dimension must score the same items, got row counts {sorted(items)}")
    (n_items,) = items
    order = [d for d in rule.priority if d in scores] + [d for d in scores if d not in rule.priority]
    wanted = {dim: candidates(np.asarray(scores[dim]), rule) for dim in order}
    granted = {dim: np.zeros(n_items, dtype=np.int64) for dim in order}
    remaining = np.full(n_items, rule.budget, dtype=np.int64)
    if rule.merge == "fair":
        for round_ in range(rule.top_k):
            for dim in order:
                take = (wanted[dim] > round_) & (remaining > 0)
                granted[dim] += take
                remaining -= take
    else:
        for dim in order:
            take = np.minimum(wanted[dim], remaining)
            granted[dim] = take
            remaining -= take
    active = {}
    for dim in scores:
        ranking = rank_concepts(np.asarray(scores[dim]))
        mask = np.zeros(ranking.shape, dtype=bool)
        ranks = np.arange(ranking.shape[1])[None, :]
        np.put_along_axis(mask, ranking, ranks < granted[dim][:, None], axis=1)
        active[dim] = mask
    return active


__all__ = ["GatingRule", "calibrate", "candidates", "gate", "rank_concepts"]
