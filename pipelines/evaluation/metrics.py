"""Retrieval metrics over ranked result lists (numpy): the one implementation behind evaluate and training validation.

A metric is named `p@K`, `attribute@K` (precision@K with "same attribute value" as relevance), `recall@K`,
`hit@K` or `mrr`; every function returns one value per query, so bootstrap intervals, slices and paired
deltas can use them. The lists are already ranked (by FAISS), so only the relevance matrix matters.
"""

from __future__ import annotations

import numpy as np

from pipelines.errors import PipelineError

_CUTOFF_KINDS = ("p", "attribute", "recall", "hit")


def parse_metric(name: str) -> tuple[str, int]:
    """(kind, K) of a metric name; K is 0 for `mrr`, which reads the whole list."""
    kind, at, k = name.partition("@")
    if kind == "mrr" and not at:
        return kind, 0
    if kind in _CUTOFF_KINDS and k.isdigit() and int(k) >= 1:
        return kind, int(k)
    raise PipelineError(f"unknown retrieval metric {name!r} (expected p@K, recall@K, hit@K, attribute@K or mrr)")


def ranked_metric(name: str, relevant: np.ndarray, relevant_total: np.ndarray | None = None) -> np.ndarray:
    """One value per query of metric `name` over ranked lists.

    `relevant[q, j]` says whether the j-th result of query q is relevant; padding (no result) is False,
    so it counts as a miss and P@K keeps K as its denominator, also when K is past the end of the list.
    A query with nothing relevant in its list scores 0 on every metric. recall@K divides the hits in the
    top K by the relevant results the list holds, or by `relevant_total[q]` (how many relevant documents
    query q has in the whole catalog) when given.
    """
    kind, k = parse_metric(name)
    relevant = np.asarray(relevant, dtype=bool)
    if relevant.ndim != 2:
        raise PipelineError(f"relevance must be a (queries, results) matrix, got shape {relevant.shape}")
    if kind == "mrr":
        first = relevant.argmax(axis=1)
        return np.where(relevant.any(axis=1), 1.0 / (first + 1.0), 0.0)
    hits = relevant[:, :k].sum(axis=1).astype(np.float64)
    result: np.ndarray
    if kind in ("p", "attribute"):
        result = hits / k
    elif kind == "hit":
        result = (hits > 0).astype(np.float64)
    else:
        total = relevant.sum(axis=1) if relevant_total is None else _checked_total(relevant, relevant_total)
        result = np.divide(hits, total, out=np.zeros(len(hits)), where=total > 0)
    return result


def _checked_total(relevant: np.ndarray, relevant_total: np.ndarray) -> np.ndarray:
    relevant_total = np.asarray(relevant_total)
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
    return relevant_total.astype(np.float64)


def same_value(ids: np.ndarray, doc_values: np.ndarray, query_values: np.ndarray) -> np.ndarray:
    """(Q, K) relevance: result j of query q has the query's value; empty slots (id -1) are misses."""
    ids = np.asarray(ids)
    result: np.ndarray = (np.asarray(doc_values)[np.maximum(ids, 0)] == np.asarray(query_values)[:, None]) & (ids >= 0)
    return result


def attribute_at_k(ids: np.ndarray, values: dict[str, np.ndarray], k: int, unknown: object) -> dict[str, np.ndarray]:
    """attribute@k per query for each attribute, over the queries whose own value is known.

    `ids[q]` are the ranked catalog rows retrieved for query q, which is catalog row q, and `values[a]`
    the catalog's values of attribute a; an `unknown` result never matches a known query value.
    """
    scores = {}
    for attribute, column in values.items():
        column = np.asarray(column)
        known = column != unknown
        scores[attribute] = ranked_metric(f"attribute@{k}", same_value(ids[known], column, column[known]))
    return scores


def mean_attribute_at_k(ids: np.ndarray, values: dict[str, np.ndarray], k: int, unknown: object) -> float:
    """attribute@k averaged over known queries, then over the attributes that have any: one headline number."""
    means = [float(s.mean()) for s in attribute_at_k(ids, values, k, unknown).values() if len(s)]
    return float(np.mean(means)) if means else 0.0


def ndcg_at_k(gains: np.ndarray, ranked: np.ndarray, k: int) -> float:
    """NDCG@K of one ranked list over graded relevance (linear gain, log2 discount).

    `gains[i]` is document i's relevance; `ranked` lists the documents in the order shown. The ideal list
    takes the K largest gains of all documents. A list shorter than K counts its empty slots as zero gain;
    with no relevant document at all the value is 0.
    """
    gains = np.asarray(gains, dtype=np.float64)
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    shown = gains[np.asarray(ranked, dtype=np.int64)[:k]]
    ideal = np.sort(gains)[::-1][:k]
    best = float(ideal @ discount[: len(ideal)])
    return float(shown @ discount[: len(shown)]) / best if best > 0 else 0.0
