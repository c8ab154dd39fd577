"""Flat vs HNSW32 vs IVF-PQ on synthetic clustered unit vectors: recall@10 against Flat and queries/s, one run.

    python benchmarks/index_recall.py              # 200,000 × 512-d (a few minutes on 2 cores)
    python benchmarks/index_recall.py --n 20000    # quick run

The data is a Gaussian mixture on the unit sphere (uniform noise in 512-d has no neighbour
structure and is unrealistically hard for every approximate index). Queries are held-out draws
from the same mixture. Target: HNSW32 recall@10 ≥ 0.95 at ≥ 5× the queries/s of Flat.
"""

from __future__ import annotations

import argparse
import time

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)

# isort: split
import faiss
import numpy as np

from pipelines.index import build_searchable, index_bytes, queries_per_second, recall_at_k, search
from pipelines.index.config import IndexConfig

K = 10


def mixture(n: int, dim: int, clusters: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around `clusters` random centres; `spread` is the noise norm relative to the centre's."""
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 50_000):  # in blocks, to bound the temporaries
        stop = min(n, start + 50_000)
        block = centres[rng.integers(clusters, size=stop - start)]
        block += rng.standard_normal(block.shape, dtype=np.float32) * (spread / np.sqrt(dim))
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="indexed vectors")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=1.0)
    parser.add_argument("--ef-search", type=int, default=128)
    parser.add_argument(
        "--ivfpq",
        default="IVF256,PQ64np",
        help="IVF-PQ factory string (np: no polysemous training, which takes minutes here)",
    )
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--train-size", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    vectors = mixture(args.n + args.queries, args.dim, args.clusters, args.spread, rng)
    vectors, queries = vectors[: args.n], vectors[args.n :]
    print(
        f"{args.n} × {args.dim}-d vectors, {args.clusters} clusters (spread {args.spread}), "
        f"{args.queries} held-out queries, k={K}, {args.threads} threads"
    )

    rows, truth, flat_qps = [], None, None
    for factory in ["Flat", "HNSW32", args.ivfpq]:
        start = time.perf_counter()
        cfg = IndexConfig(factory, ef_search=args.ef_search, nprobe=args.nprobe, train_size=args.train_size)
        index = build_searchable(vectors, cfg, args.seed).index
        build_s = time.perf_counter() - start
        ids, qps = search(index, queries, K)[1], queries_per_second(index, queries, K, min_seconds=1.0)
        if truth is None:  # Flat is exact search: the reference for recall and speed
            truth, flat_qps = ids, qps
        rows.append((factory, build_s, recall_at_k(ids, truth), qps, qps / flat_qps, index_bytes(index) / index.ntotal))
        del index

    print(f"{'index':<16}{'build s':>9}{'recall@10':>11}{'queries/s':>12}{'× Flat':>8}{'bytes/vec':>11}")
    for factory, build_s, recall, qps, ratio, size in rows:
        print(f"{factory:<16}{build_s:>9.1f}{recall:>11.4f}{qps:>12.0f}{ratio:>8.1f}{size:>11.0f}")
    hnsw = rows[1]
    verdict = "met" if hnsw[2] >= 0.95 and hnsw[4] >= 5 else "MISSED"
    print(
        f"target HNSW32 recall@10 ≥ 0.95 at ≥ 5× Flat queries/s: {verdict} "
        f"(recall {hnsw[2]:.4f}, {hnsw[4]:.1f}× Flat, efSearch {args.ef_search})"
    )


if __name__ == "__main__":
    main()
