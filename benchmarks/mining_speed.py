"""Mining and pair-building speed: 20,000 train anchors on a synthetic catalog, against the bare FAISS search.

Prints one row per index factory: the time of the group-excluding neighbour search alone, the
miner's own work on those neighbours (split filter, attribute comparison, guards, output frame;
timed on the cached search result), the whole miner end to end, and the ratio of the miner's own
work to the search. Then build_pairs on the same catalog and the last index's negatives, with the
default n_pairs and mix. Run: python benchmarks/mining_speed.py [--train 20000] [--others 8000]
"""

from __future__ import annotations

import argparse
import math
import time

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)

# isort: split
import numpy as np
import pandas as pd

from pipelines.index import build_searchable, search_excluding_groups
from pipelines.index.config import IndexConfig
from pipelines.mining import mine_hard_negatives
from pipelines.mining.config import MiningConfig
from pipelines.mining.negatives import FETCH_EXTRA, FETCH_SLACK
from pipelines.pairs import build_pairs
from pipelines.pairs.config import PairsConfig
from pipelines.runtime import SearchRuntime
from pipelines.schema import FIELDS, UNKNOWN, vocabulary


def synthetic_catalog(train: int, others: int, dim: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Random unit keys clustered by category, random attributes (some unknown), 20% two-view products."""
    rng = np.random.default_rng(seed)
    n = train + others
    vocab = vocabulary()
    meta = pd.DataFrame({"item_id": [f"s{i:06d}" for i in range(n)]})
    meta["group_key"] = [f"g{i // 2}" if i < n // 5 else f"g{i}" for i in range(n)]
    meta["split"] = np.where(np.arange(n) < train, "train", "val")
    for field in FIELDS:
        meta[field] = rng.choice(list(vocab[field]), n)  # vocab includes "unknown"
    meta.loc[meta["category"].isin([UNKNOWN, "other"]), "category"] = "tees"  # every train item is an anchor
    centres = rng.standard_normal((len(vocab["category"]), dim)).astype(np.float32)
    keys = centres[pd.Index(vocab["category"]).get_indexer(meta["category"])]
    keys += 1.5 * rng.standard_normal((n, dim)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    return meta, keys.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--others", type=int, default=8_000, help="val/test items also in the index")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--factories", nargs="+", default=["HNSW32", "Flat"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    meta, keys = synthetic_catalog(args.train, args.others, args.dim, args.seed)
    cfg = MiningConfig(max_anchors=args.train)
    batch_size = SearchRuntime().batch_size  # runtime.mining.batch_size
    groups = meta["group_key"].to_numpy()
    fetch = min(len(meta), math.ceil(cfg.k * len(meta) / args.train * FETCH_SLACK) + FETCH_EXTRA)
    print(
        f"catalog: {args.train} train + {args.others} other items, dim {args.dim}, k {cfg.k} (fetch {fetch}), "
        f"per_anchor {cfg.per_anchor}, batch {batch_size}"
    )
    print(
        f"{'index':<8} {'build s':>8} {'search s':>9} {'miner s':>9} {'total s':>8} {'miner/srch':>10} "
        f"{'anchors':>8} {'negatives':>10}"
    )
    for factory in args.factories:
        started = time.perf_counter()
        index_cfg = IndexConfig(factory, ef_search=64, nprobe=16, train_size=len(keys))
        index = build_searchable(keys, index_cfg, args.seed).index
        built = time.perf_counter() - started

        def neighbours(queries, k, query_groups, index=index):  # bound now: the loop rebinds `index`
            return search_excluding_groups(index, queries, k, query_groups, groups, batch_size=batch_size)

        anchors = np.flatnonzero(meta["split"].to_numpy() == "train")
        started = time.perf_counter()
        cached = neighbours(np.ascontiguousarray(keys[anchors]), fetch, groups[anchors])
        searched = time.perf_counter() - started

        started = time.perf_counter()
        mine_hard_negatives(meta, keys, lambda queries, k, query_groups, cached=cached: cached, cfg, seed=args.seed)
        own = time.perf_counter() - started

        started = time.perf_counter()
        result = mine_hard_negatives(meta, keys, neighbours, cfg, seed=args.seed)  # use_signals without labels
        mined = time.perf_counter() - started
        print(
            f"{factory:<8} {built:>8.2f} {searched:>9.2f} {own:>9.2f} {mined:>8.2f} {own / searched:>10.2f} "
            f"{result.report['anchors']:>8} {result.report['negatives']:>10}"
        )

    pairs_cfg = PairsConfig()
    started = time.perf_counter()
    pairs = build_pairs(meta, result.negatives, pairs_cfg, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"build_pairs: {len(meta)} items ({args.train} train), n_pairs {pairs_cfg.n_pairs}: {elapsed:.2f} s, "
        f"{pairs.stats['pairs']} pairs {pairs.stats['count']}"
    )


if __name__ == "__main__":
    main()
