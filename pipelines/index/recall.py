"""Recall of an index against exact search, per query modality: build an index from the `index` params and
measure recall@10 for image queries and for text queries (build time and queries/s go to the log only)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from pipelines.index.config import IndexConfig
from pipelines.index.exact import exact_neighbours
from pipelines.index.faiss_index import build_searchable, index_bytes, search
from pipelines.store import take_rows

RECALL_K = 10
# Held-out queries are store keys plus Gaussian noise of this norm (relative to the unit key),
# renormalised: cos(query, its source key) ≈ 0.9, so a query is near, not identical to, a stored
# key and recall is not inflated by trivial self-matches.
QUERY_NOISE = 0.5
MIN_TIMING_S = 0.2


def recall_key(modality: str) -> str:
    """The report key of recall@10 for queries of one modality, e.g. `recall_at_10_text_queries`."""
    return f"recall_at_{RECALL_K}_{modality}_queries"


@dataclass(frozen=True)
class MeasuredIndex:
    index: faiss.Index
    report: dict[
        str, Any
    ]  # deterministic: factory, rows, dim, recall@10 per query modality, eval_queries, bytes/vector, knobs
    timings: dict[
        str, Any
    ]  # build_s, queries_per_s: they differ run to run, so they go to the log, never into a hashed out
    estimated_bytes: int | None  # choose_index's estimate when index.factory is auto (for the log)


def held_out_queries(vectors: np.ndarray, n: int, seed: int, noise: float = QUERY_NOISE) -> np.ndarray:
    """`n` perturbed copies of randomly chosen (seeded) rows, L2-normalised: queries near the catalog."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(vectors), size=min(n, len(vectors)), replace=False))
    base = take_rows(vectors, rows)
    jitter = rng.standard_normal(base.shape).astype(np.float32) * (noise / np.sqrt(base.shape[1]))
    queries = base + jitter
    result: np.ndarray = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return result


def modality_queries(keys: Mapping[str, np.ndarray], n: int, seed: int) -> dict[str, np.ndarray]:
    """Held-out queries per modality (`{"image": image_keys, "text": text_keys}`), the same rows for each."""
    return {modality: held_out_queries(vectors, n, seed) for modality, vectors in keys.items()}


def queries_per_second(index: faiss.Index, queries: np.ndarray, k: int, min_seconds: float = MIN_TIMING_S) -> float:
    """Batch search throughput, repeated until at least `min_seconds` have passed."""
    search(index, queries[: min(len(queries), 32)], k)  # warm-up
    runs, start = 0, time.perf_counter()
    while True:
        search(index, queries, k)
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return runs * len(queries) / elapsed


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the exact top-k that the approximate top-k recovered (k-recall@k)."""
    if found.shape != truth.shape:
        raise ValueError(f"recall_at_k: shapes differ, {found.shape} vs {truth.shape}")
    hits = (found[:, :, None] == truth[:, None, :]) & (truth[:, None, :] >= 0)
    return float(hits.any(axis=1).sum() / max(int((truth >= 0).sum()), 1))


def recall_by_modality(
    index: faiss.Index, vectors: np.ndarray, queries: Mapping[str, np.ndarray], k: int = RECALL_K
) -> dict[str, float]:
    """k-recall@k of `index` against exact inner-product search over `vectors`, per query set."""
    k = min(k, index.ntotal)
    return {
        recall_key(modality): round(recall_at_k(search(index, q, k)[1], exact_neighbours(vectors, q, k)), 4)
        for modality, q in queries.items()
    }


def build_and_measure(
    vectors: np.ndarray, cfg: IndexConfig, seed: int, queries: Mapping[str, np.ndarray]
) -> MeasuredIndex:
    """Build `cfg.factory` ('auto': chosen by size) over `vectors`, set its search knobs, and measure recall@10
    against exact inner-product search for each query set in `queries` (modality -> held-out queries).

    The report is the same for the same vectors, params and seed; build time and queries/s are returned
    apart, in `timings`.
    """
    start = time.perf_counter()
    built = build_searchable(vectors, cfg, seed)
    build_s = time.perf_counter() - start
    index = built.index
    report = {
        "factory": built.factory,
        "auto": built.choice is not None,
        "rows": int(index.ntotal),
        "dim": int(index.d),
        **recall_by_modality(index, vectors, queries),
        "eval_queries": int(min(len(q) for q in queries.values())),
        "bytes_per_vector": round(index_bytes(index) / max(index.ntotal, 1), 1),
        **built.knobs,  # what the index really uses: None where it has no such knob, nprobe capped
    }
    first = next(iter(queries.values()))
    qps = queries_per_second(index, first, min(RECALL_K, index.ntotal))
    estimate = built.choice.estimated_bytes if built.choice else None
    return MeasuredIndex(index, report, {"build_s": build_s, "queries_per_s": qps}, estimate)


def index_reports(measured: Mapping[str, MeasuredIndex]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(headline, detail) over the named indexes: recall@10 per query modality for reports/index.json (a DVC
    metric) and the full report for reports/index_detail.json. Neither holds a timing."""
    headline = {
        name: {key: value for key, value in m.report.items() if key.startswith(f"recall_at_{RECALL_K}_")}
        for name, m in measured.items()
    }
    return headline, {name: dict(m.report) for name, m in measured.items()}


__all__ = [
    "MeasuredIndex",
    "build_and_measure",
    "held_out_queries",
    "index_reports",
    "modality_queries",
    "queries_per_second",
    "recall_at_k",
    "recall_by_modality",
    "recall_key",
]
