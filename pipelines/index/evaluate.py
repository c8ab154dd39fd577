"""Build an index from the `index` params and measure it: recall@10 against exact search, size, and (for the
log only) build time and queries/s."""

from __future__ import annotations

import time
from dataclasses import dataclass

import faiss
import numpy as np

from pipelines.index.config import IndexConfig
from pipelines.index.faiss_index import (
    build_index,
    configure_search,
    exact_neighbours,
    index_bytes,
    recall_at_k,
    search,
    search_params,
)

RECALL_K = 10
# Held-out queries are store keys plus Gaussian noise of this norm (relative to the unit key),
# renormalised: cos(query, its source key) ≈ 0.9, so a query is near, not identical to, an indexed
# item and recall is not inflated by trivial self-matches.
QUERY_NOISE = 0.5
MIN_TIMING_S = 0.2
RECALL_KEY = "recall_at_10"  # the headline: reports/index.json holds only this, per index


@dataclass(frozen=True)
class MeasuredIndex:
    index: faiss.Index
    report: (
        dict  # flat, deterministic: factory, rows, dim, recall_at_10, eval_queries, bytes_per_vector, ef_search, nprobe
    )
    timings: dict  # build_s, queries_per_s: they differ run to run, so they go to the log, never into a hashed out


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
    `cfg.eval_queries` perturbed store keys (see held_out_queries). The report is the same for the same
    vectors, params and seed; build time and queries/s are returned apart, in `timings`.
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
        RECALL_KEY: round(recall, 4),
        "eval_queries": int(len(queries)),
        "bytes_per_vector": round(index_bytes(index) / max(index.ntotal, 1), 1),
        **search_params(index),  # what the index really uses: None where it has no such knob, nprobe capped
    }
    return MeasuredIndex(index, report, {"build_s": build_s, "queries_per_s": qps})


def index_reports(measured: dict[str, MeasuredIndex]) -> tuple[dict, dict]:
    """(headline, detail) over the named indexes: `{name: {"recall_at_10"}}` for reports/index.json (a DVC
    metric) and `{name: report}` for reports/index_detail.json. Neither holds a timing."""
    headline = {name: {RECALL_KEY: m.report[RECALL_KEY]} for name, m in measured.items()}
    return headline, {name: m.report for name, m in measured.items()}


__all__ = ["MeasuredIndex", "build_and_measure", "held_out_queries", "index_reports", "queries_per_second"]
