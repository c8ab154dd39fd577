"""List construction over a candidate pool: constraint scores, MMR, and the learned policy's greedy rollout."""

from __future__ import annotations

import numpy as np

STRATEGIES = ("none", "constraints", "mmr", "policy")


def constraint_scores(
    base: np.ndarray, matched: np.ndarray, conflicts: np.ndarray, alpha: float, beta: float
) -> np.ndarray:
    """score = base + alpha * match - beta * conflict."""
    return np.asarray(base, dtype=np.float64) + alpha * matched - beta * conflicts


def top_by_score(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first; ties keep pool order (a stable sort)."""
    return np.argsort(-np.asarray(scores), kind="stable")[:k]


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> np.ndarray:
    """Maximal marginal relevance: repeatedly take argmax lambda * relevance - (1 - lambda) * max similarity to
    the items taken so far. `vectors` are L2-normalised; returns pool positions in list order."""
    relevance = np.asarray(relevance, dtype=np.float64)
    n = len(relevance)
    k = min(k, n)
    vectors = np.asarray(vectors, dtype=np.float32)
    similarity = (vectors @ vectors.T).astype(np.float64) if n else np.zeros((0, 0))
    redundancy = np.full(n, -np.inf)
    chosen: list[int] = []
    available = np.ones(n, dtype=bool)
    for _ in range(k):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        value = np.where(available, lam * relevance - (1.0 - lam) * penalty, -np.inf)
        pick = int(np.argmax(value))
        chosen.append(pick)
        available[pick] = False
        redundancy = np.maximum(redundancy, similarity[pick])
    return np.asarray(chosen, dtype=np.int64)
