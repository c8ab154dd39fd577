"""Search latency per text query at k=10: the default build, then the same catalog grown to 200,000 items.

    python benchmarks/search_latency.py                      # the workspace's build, then 200,000 items
    python benchmarks/search_latency.py --items 20000        # a quicker synthetic catalog

One process, one query at a time, `--threads` torch/FAISS/BLAS threads (1: single queries run fastest on one).
Beside the wall-clock phases the table shows `cpu`, the process's CPU time per query: on a shared machine
the wall clock also counts the time other processes hold the cores, the CPU time does not (with one thread,
CPU time is what the wall clock reads on an idle machine). The load average is printed with each table.
Queries are the rerank stage's kind (test-split items' colour + category, some with one more attribute or a
negation), each asked once after a warm-up. Part 1 searches the build as `make serve` does
(serve.build.load_service). Part 2 keeps that service's model and text encoder but swaps in a synthetic catalog:
real items' attributes resampled to `--items` rows, their fine-tuned embeddings plus noise (so neighbours stay
clustered), indexed with the build's `index.factory`. Goals: p50 <= 50 ms (build) and <= 100 ms (200,000).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time
from pathlib import Path

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)

# isort: split
import faiss
import numpy as np
import pandas as pd

from pipelines.index import build_searchable
from pipelines.index.config import IndexConfig
from pipelines.rerank.queries import build_queries
from pipelines.search import SearchService
from serve.build import load_service

K = 10
GOALS_MS = {"build": 50.0, "synthetic": 100.0}
PHASES = ("parse", "encode", "retrieve", "rerank", "total")
COLUMNS = (*PHASES, "cpu")


def measure(service: SearchService, texts: list[str], rerank: str, model: str) -> dict[str, np.ndarray]:
    for text in texts[:5]:  # warm-up: first-call allocations, lazy imports
        service.search(text=text, k=K, model=model, rerank=rerank)
    timings = {column: [] for column in COLUMNS}
    for text in texts:
        cpu = time.process_time()
        response = service.search(text=text, k=K, model=model, rerank=rerank)
        timings["cpu"].append((time.process_time() - cpu) * 1000.0)
        for phase in PHASES:
            timings[phase].append(response.timings_ms[phase])
    return {phase: np.asarray(values) for phase, values in timings.items()}


def synthetic_service(service: SearchService, items: int, noise: float, seed: int) -> SearchService:
    """`items` rows resampled from the build's catalog; embeddings = the row's embedding + noise, renormalised."""
    space = service.spaces["finetuned"]
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(service.meta), size=items)
    meta = service.meta.iloc[source].reset_index(drop=True)
    meta["item_id"] = [f"synthetic-{i}" for i in range(items)]
    embeddings = np.asarray(space.embeddings, dtype=np.float32)[source]
    embeddings += rng.standard_normal(embeddings.shape, dtype=np.float32) * (noise / np.sqrt(embeddings.shape[1]))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    index_cfg = dataclasses.replace(service.index_cfg or IndexConfig(factory="HNSW32"), train_size=50_000)
    start = time.perf_counter()
    built = build_searchable(embeddings, index_cfg, seed)
    print(f"synthetic catalog: {items:,} items, {built.factory} built in {time.perf_counter() - start:.1f} s")
    synthetic = dataclasses.replace(space, embeddings=embeddings, index=built.index)
    return SearchService(meta, {"finetuned": synthetic}, service.cfg, service.policy)


def table(name: str, results: dict[str, dict[str, np.ndarray]], goal: float) -> None:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{name}: ms per text query at k={K} (p50 / p95), load average {load} on {os.cpu_count()} cores")
    print(f"| rerank | {' | '.join(COLUMNS)} | goal p50 <= {goal:.0f} ms (total / cpu) |")
    print("|---|" + "---:|" * len(COLUMNS) + "---|")
    for rerank, timings in results.items():
        cells = [f"{np.percentile(timings[c], 50):.1f} / {np.percentile(timings[c], 95):.1f}" for c in COLUMNS]
        verdicts = ["met" if np.percentile(timings[c], 50) <= goal else "MISSED" for c in ("total", "cpu")]
        print(f"| {rerank} | {' | '.join(cells)} | {' / '.join(verdicts) if rerank == 'constraints' else ''} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="a built project (dvc repro)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--items", type=int, default=200_000, help="synthetic catalog size (0: skip part 2)")
    parser.add_argument("--noise", type=float, default=0.5, help="embedding noise norm of the synthetic items")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default="finetuned", choices=["baseline", "finetuned"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    service = load_service(args.root, threads=args.threads)
    items = pd.read_parquet(args.root / "data/processed/items.parquet")
    texts = [q.text for q in build_queries(items, "test", args.queries, 0.3, args.seed)]
    print(
        f"{len(texts)} text queries, {len(service.meta):,} catalog items, model {args.model}, "
        f"{args.threads} thread(s), faiss {faiss.omp_get_max_threads()} thread(s)"
    )
    strategies = ("none", "constraints", "mmr", "policy")
    table("default build", {s: measure(service, texts, s, args.model) for s in strategies}, GOALS_MS["build"])
    if args.items > 0:
        faiss.omp_set_num_threads(max(2, args.threads))  # building the index is not what is measured
        synthetic = synthetic_service(service, args.items, args.noise, args.seed)
        faiss.omp_set_num_threads(args.threads)
        results = {s: measure(synthetic, texts, s, "finetuned") for s in strategies}
        table(f"{args.items:,} synthetic items", results, GOALS_MS["synthetic"])


if __name__ == "__main__":
    main()
