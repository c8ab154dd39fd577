"""Per-query retrieval metrics over ranked result lists (torchmetrics)."""

from __future__ import annotations

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


def ranked_metric(name: str, relevant: np.ndarray, relevant_total: np.ndarray | None = None) -> np.ndarray:
    """One value per query of metric `name` (p@K, recall@K, hit@K, attribute@K, mrr) over ranked lists.

    `relevant_total[q]`, when given, is how many relevant documents query q has in the whole catalog: recall@K
    then divides the hits in the top K by it, not by the relevant documents the list happens to hold.

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
    if relevant_total is not None and name.startswith("recall@"):
        return _recall_over_total(relevant, int(name.partition("@")[2]), np.asarray(relevant_total))
    preds = torch.arange(depth, 0, -1, dtype=torch.float64).repeat(queries)
    indexes = torch.arange(queries, dtype=torch.long).repeat_interleave(depth)
    metric.update(preds, torch.from_numpy(relevant.reshape(-1)), indexes)
    return metric.compute().double().numpy()


def _recall_over_total(relevant: np.ndarray, k: int, relevant_total: np.ndarray) -> np.ndarray:
    """Recall@K against every relevant document of the catalog: hits in the top K over `relevant_total`."""
    if relevant_total.shape != (len(relevant),):
        raise PipelineError(
            f"relevant_total must hold one count per query ({len(relevant)}), got shape {relevant_total.shape}"
        )
    listed = relevant.sum(axis=1)
    if (listed > relevant_total).any():
        q = int(np.flatnonzero(listed > relevant_total)[0])
        raise PipelineError(
            f"query {q}: {int(listed[q])} relevant results listed, but relevant_total says {int(relevant_total[q])}"
        )
    hits = relevant[:, :k].sum(axis=1).astype(np.float64)
    return np.divide(hits, relevant_total, out=np.zeros(len(hits)), where=relevant_total > 0)
