"""Build an index from the `index` params and measure it: recall@10 against exact search, queries/s, size."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import faiss
import numpy as np

from pipelines.index.config import IndexConfig
from pipelines.index.faiss_index import (
    build_index,
    configure_search,
    search_params,
    exact_neighbours,
    index_bytes,
    recall_at_k,
    search,
)

log = logging.getLogger(__name__)

RECALL_K = 10
# Held-out queries are store keys plus Gaussian noise of this norm (relative to the unit key),
# renormalised: cos(query, its source key) ≈ 0.9, so a query is near, not identical to, an indexed
# item and recall is not inflated by trivial self-matches.
QUERY_NOISE = 0.5
MIN_TIMING_S = 0.2


@dataclass(frozen=True)
class MeasuredIndex:
    index: faiss.Index
    report: dict  # flat: factory, rows, dim, recall_at_10, queries_per_s, build_s, bytes_per_vector, ...


def held_out_queries(vectors: np.ndarray, n: int, seed: int, noise: float = QUERY_NOISE) -> np.ndarray:
    """`n` perturbed copies of randomly chosen (seeded) rows, L2-normalised: queries near the catalog."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(vectors), size=min(n, len(vectors)), replace=False))
    base = np.asarray(vectors[rows], dtype=np.float32)
    jitter = rng.standard_normal(base.shape).astype(np.float32) * (noise / np.sqrt(base.shape[1]))
    queries = base + jitter
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


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


def build_and_measure(vectors: np.ndarray, cfg: IndexConfig, seed: int) -> MeasuredIndex:
    """Build `cfg.factory` over `vectors`, set its search knobs, and measure it on held-out queries.

    Recall@10 is against exact inner-product search (IndexFlatIP) over the same vectors, on
    `cfg.eval_queries` perturbed store keys (see held_out_queries).
    """
    start = time.perf_counter()
    index = build_index(vectors, cfg.factory, train_size=cfg.train_size, seed=seed)
    build_s = time.perf_counter() - start
    configure_search(index, cfg.ef_search, cfg.nprobe)
    k = min(RECALL_K, index.ntotal)
    queries = held_out_queries(vectors, cfg.eval_queries, seed)
    recall = recall_at_k(search(index, queries, k)[1], exact_neighbours(vectors, queries, k))
    qps = queries_per_second(index, queries, k)
    report = {
        "factory": cfg.factory,
        "rows": int(index.ntotal),
        "dim": int(index.d),
        "recall_at_10": round(recall, 4),
        "eval_queries": int(len(queries)),
        "queries_per_s": round(qps, 1),
        "build_s": round(build_s, 3),
        "bytes_per_vector": round(index_bytes(index) / max(index.ntotal, 1), 1),
        **search_params(index),  # what the index really uses: None where it has no such knob, nprobe capped
    }
    log.info("%s over %d×%d: recall@10 %.4f, %.0f queries/s, built in %.1f s",
             cfg.factory, index.ntotal, index.d, recall, qps, build_s)
    return MeasuredIndex(index, report)


__all__ = ["MeasuredIndex", "build_and_measure", "held_out_queries", "queries_per_second"]
