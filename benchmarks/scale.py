"""Scale benchmark: a synthetic store of N items through build_index, mine_negatives, build_pairs, train and evaluate.

    python benchmarks/scale.py --items 200000            # goal on 2 cores: <= 20 min, <= 4 GiB peak RSS
    python benchmarks/scale.py --items 1000000 --workdir /tmp/scale   # goal: <= 60 min, <= 8 GiB

The store holds unit vectors with planted attribute structure (each item's image key is a weighted sum of
one direction per attribute value -- category, colour, pattern, material, neckline, sleeve -- plus a
product direction shared by its two views, plus noise; its text key is the same signal across a
modality gap with its own noise) and a meta table with every contract column, written block by block
through the real store writer. Each step calls the library functions its stage calls, on that store:
build_index with index.factory auto (the choice, its estimated memory and recall@10 per query modality),
mine_negatives over the saved image index, build_pairs, train (one pass of --train-steps batches over
the mined pairs, validation on a --val-items sample) and evaluate (--queries sampled test queries, every
task, baseline and fine-tuned, indexes chosen by size). Prints per-step seconds and each step's own peak RSS
(the resident high-water mark, reset at the step's start, so it counts what is resident then: imports, the
meta table, whatever earlier steps left) and the RSS it leaves, and as its last line
`items=<N> seconds=<S> peak_rss_mib=<M>` (M: the highest step peak).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)

# isort: split
import faiss
import numpy as np
import pandas as pd
import torch

from pipelines.encoders import ClipEncoder
from pipelines.evaluation import Catalog, EvalConfig, ModelSpace, identity, run_evaluation
from pipelines.evaluation.config import BenchmarkConfig
from pipelines.index import build_and_measure, modality_queries, open_index, save_index
from pipelines.index.config import IndexConfig
from pipelines.mining import index_neighbours, mine_hard_negatives
from pipelines.mining.config import MiningConfig
from pipelines.pairs import build_pairs
from pipelines.pairs.config import PairsConfig
from pipelines.schema import FIELDS, RAW_FIELDS, UNKNOWN, raw_column, vocabulary
from pipelines.store import create_store, open_store
from pipelines.training import TrainConfig, Trainer, export_model, load_finetuned, prepare_training_data
from pipelines.training.data import PairSet

DIM = 384  # ViT-S-32's CLIP dimension: the store says its keys come from that (untrained) backbone
FACT_DIM = 384  # all-MiniLM-L6-v2's
BLOCK = 50_000  # rows generated and written at a time
MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 42}
# Planted structure: attribute -> weight of its value's direction in an item's key.
PLANTED = {"category": 1.0, "color": 0.8, "pattern": 0.6, "material": 0.5, "neckline": 0.4, "sleeve_length": 0.4}
PRODUCT_WEIGHT = 0.5  # the direction two views of one product share
IMAGE_NOISE, TEXT_NOISE = 0.9, 1.1  # relative to the signal; text keys are noisier than image keys
UNKNOWN_SHARE = {"material": 0.5, "neckline": 0.6, "sleeve_length": 0.4, "fit": 0.7, "style": 0.3}

log = logging.getLogger("scale")


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith(f"{field}:")).split()[1]) / 1024


def rss_now_mib() -> float:
    """The resident set right now (VmRSS): what a step left behind."""
    return _status_mib("VmRSS")


def reset_peak_rss() -> None:
    """Start a new peak: writing 5 to clear_refs resets the resident high-water mark (VmHWM, what ru_maxrss reads)
    to the current resident set (Linux >= 4.0), so each step reports its own peak."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")


def step_peak_rss_mib() -> float:
    """The resident high-water mark since the last reset_peak_rss (VmHWM): the step's own peak."""
    return _status_mib("VmHWM")


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (FAISS's OpenMP ones included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def synthetic_meta(n: int, seed: int) -> pd.DataFrame:
    """Items with every contract column: Zipf-skewed attribute values, two views per product, 70/15/15 by product."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    groups = np.arange(n) // 2
    split_of_group = rng.choice(["train", "val", "test"], size=groups[-1] + 1, p=[0.7, 0.15, 0.15])
    meta = pd.DataFrame(
        {
            "item_id": [f"s{i:07d}" for i in range(n)],
            "image_path": "",
            "desc": "",
            "group_key": [f"p{g}" for g in groups],
            "split": split_of_group[groups],
        }
    )
    for field in FIELDS:
        values = [v for v in vocab[field] if v not in (UNKNOWN, "other")]
        weights = 1.0 / np.arange(1, len(values) + 1)  # a long tail, as in real catalogs
        drawn = np.asarray(values, dtype=object)[
            rng.choice(len(values), size=groups[-1] + 1, p=weights / weights.sum())
        ]
        per_item = drawn[groups]  # both views of a product share its attributes
        unknown = rng.random(n) < UNKNOWN_SHARE.get(field, 0.05)
        # object arrays that point at a few shared strings: a million rows cost pointers, not string copies
        meta[field] = np.where(unknown, UNKNOWN, per_item)
        meta[f"{field}_source"] = np.asarray(["field", "unknown"], dtype=object)[unknown.astype(int)]
        meta[f"{field}_conf"] = np.where(unknown, 0.1, 0.9).astype(np.float32)
    meta["title"] = meta["color"] + " " + meta["pattern"] + " " + meta["category"] + " " + meta["group_key"]
    for raw, source in zip(RAW_FIELDS, ("category", "category", "category", "color", "season", "style"), strict=True):
        meta[raw_column(raw)] = meta[source].map({v: v.replace("_", " ").title() for v in meta[source].unique()})
    return meta


def write_synthetic_store(path: Path, meta: pd.DataFrame, seed: int) -> None:
    """Image, text and fact keys with the planted structure, block by block through the store writer."""
    rng = np.random.default_rng(seed + 1)
    vocab = vocabulary()
    directions = {
        field: rng.standard_normal((len(vocab[field]), DIM)).astype(np.float32) / np.sqrt(DIM) for field in PLANTED
    }
    gap = rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)  # the CLIP modality gap
    fact_mix = rng.standard_normal((DIM, FACT_DIM)).astype(np.float32) / np.sqrt(DIM)
    codes = {field: pd.Index(vocab[field]).get_indexer(meta[field]) for field in PLANTED}
    groups = pd.factorize(meta["group_key"])[0]
    with create_store(path, len(meta), {"image_keys": DIM, "text_keys": DIM, "fact_values": FACT_DIM}) as writer:
        for start in range(0, len(meta), BLOCK):
            rows = slice(start, min(start + BLOCK, len(meta)))
            signal = sum(w * directions[f][codes[f][rows]] for f, w in PLANTED.items())
            product = np.random.default_rng([seed, 2, int(groups[rows.start])])  # per block: reproducible
            product_dir = product.standard_normal((groups[rows.stop - 1] - groups[rows.start] + 1, DIM))
            signal = signal + PRODUCT_WEIGHT * product_dir[groups[rows] - groups[rows.start]].astype(
                np.float32
            ) / np.sqrt(DIM)
            scale = np.linalg.norm(signal, axis=1, keepdims=True)
            noise = rng.standard_normal((2, len(signal), DIM)).astype(np.float32) / np.sqrt(DIM)
            image = signal + IMAGE_NOISE * scale * noise[0]
            text = signal + scale * (gap + TEXT_NOISE * noise[1])
            writer.append("image_keys", _unit(image))
            writer.append("text_keys", _unit(text))
            writer.append("fact_values", _unit(text @ fact_mix))
        writer.finish(meta, MODEL, "synthetic (benchmarks/scale.py)")


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def fixed_steps(data, steps: int, batch_size: int, val_items: int, seed: int):
    """The training data cut to `steps` batches: train rows that the pairs use first, pairs among them; val sampled."""
    rng = np.random.default_rng(seed)
    want = steps * batch_size
    in_pairs = np.unique(np.concatenate([data.pairs.anchor, data.pairs.other]))
    chosen = rng.permutation(in_pairs)[:want]
    if len(chosen) < want:
        rest = np.setdiff1d(data.train_rows, chosen)
        chosen = np.concatenate([chosen, rng.choice(rest, size=min(len(rest), want - len(chosen)), replace=False)])
    chosen.sort()
    keep = np.isin(data.pairs.anchor, chosen) & np.isin(data.pairs.other, chosen)
    pairs = PairSet(data.pairs.anchor[keep], data.pairs.other[keep], data.pairs.label[keep])
    val = np.sort(rng.choice(data.val_rows, size=min(val_items, len(data.val_rows)), replace=False))
    return dataclasses.replace(data, train_rows=chosen, val_rows=val, pairs=pairs)


class Steps:
    """Times each step (wall and CPU seconds: on a shared box the CPU time is the steadier figure) and records
    its own peak RSS (imports and whatever earlier steps left resident included) and the RSS it leaves."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float, float]] = []
        self.started = time.perf_counter()

    @property
    def peak_mib(self) -> float:
        """The run's peak RSS: the highest step peak."""
        return max((row[3] for row in self.rows), default=step_peak_rss_mib())

    def run(self, name: str, step: Callable[[], object]) -> object:
        reset_peak_rss()
        start, cpu = time.perf_counter(), cpu_seconds()
        result = step()
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        self.rows.append((name, wall, cpu, step_peak_rss_mib(), rss_now_mib()))
        _, _, _, peak, now = self.rows[-1]
        print(
            f"{name:<14} {wall:>9.1f} s  {cpu:>9.1f} CPU s   step peak RSS {peak:>8.0f} MiB  (after {now:.0f})",
            flush=True,
        )
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the store and indexes go (default: a temp dir)"
    )
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--val-items", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=1000, help="sampled test queries (eval.max_queries)")
    parser.add_argument("--eval-queries", type=int, default=1000, help="held-out queries per modality for recall@10")
    parser.add_argument("--threads", type=int, default=2, help="FAISS OpenMP threads")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faiss.omp_set_num_threads(args.threads)
    torch.set_num_threads(1)  # train.threads
    work = args.workdir or Path(tempfile.mkdtemp(prefix="scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{args.items:,} items, {DIM}-d keys, workdir {work}, FAISS threads {args.threads}")
    steps = Steps()
    seed = args.seed

    steps.run("store", lambda: write_synthetic_store(work / "store", synthetic_meta(args.items, seed), seed))
    store = open_store(work / "store")

    index_cfg = IndexConfig(factory="auto", eval_queries=args.eval_queries)

    def build_indexes() -> dict:
        queries = modality_queries({"image": store.image_keys, "text": store.text_keys}, index_cfg.eval_queries, seed)
        built = {}
        for name, keys in (("image", store.image_keys), ("text", store.text_keys)):
            measured = build_and_measure(keys, index_cfg, seed, queries)
            report = measured.report
            save_index(measured.index, work / "index" / f"{name}.faiss", store, factory=report["factory"], knobs=report)
            built[name] = (measured.report, measured.estimated_bytes)
            del measured
        return built

    built = steps.run("build_index", build_indexes)
    for name, (report, estimate) in built.items():
        print(
            f"  {name} index {report['factory']}: estimated {estimate / 2**20:.0f} MiB, serialised "
            f"{report['bytes_per_vector'] * report['rows'] / 2**20:.0f} MiB; recall@10 image queries "
            f"{report['recall_at_10_image_queries']:.4f}, text queries {report['recall_at_10_text_queries']:.4f}"
        )

    def mine():
        index = open_index(work / "index" / "image.faiss", store)
        neighbours = index_neighbours(index, store.meta["group_key"].to_numpy(), batch_size=1024)
        return mine_hard_negatives(store.meta, store.image_keys, neighbours, MiningConfig(use_signals=False), seed)

    mined = steps.run("mine_negatives", mine)
    print(f"  {mined.report['anchors']} anchors, {mined.report['negatives']} negatives")
    pairs = steps.run("build_pairs", lambda: build_pairs(store.meta, mined.negatives, PairsConfig(), seed).pairs)
    print(f"  {len(pairs)} pairs")

    train_cfg = TrainConfig(epochs=1)

    def train():
        data = prepare_training_data(store.meta, store.image_keys, store.text_keys, pairs, list(train_cfg.attr_heads))
        data = fixed_steps(data, args.train_steps, train_cfg.batch_size, args.val_items, seed)
        result = Trainer(
            data,
            train_cfg,
            seed=seed,
            params_hash=f"scale-{args.items}",
            store_hash=store.store_hash,
            checkpoint_root=work / "checkpoints",
            info={"store_model": store.model},
        ).fit()
        export_model(result, store, work / "model")
        return result.summary

    shutil.rmtree(work / "checkpoints", ignore_errors=True)  # a fresh run, never a resumed one
    summary = steps.run("train", train)
    print(
        f"  {args.train_steps} steps of {train_cfg.batch_size}, {summary['pairs']} pairs, val attribute@10 "
        f"{summary['val_attr_at_10']:.4f} (frozen {summary['baseline_val_attr_at_10']:.4f})"
    )

    def evaluate():
        finetuned = load_finetuned(work / "model", store, "cpu")
        clip = ClipEncoder.from_manifest(store.model, device="cpu")
        catalog = Catalog(meta=store.meta, text_keys=store.text_keys, encode_prompts=clip.encode_texts)
        models = [
            ModelSpace("baseline", store.image_keys, identity),
            ModelSpace("finetuned", finetuned.image_vectors(store), finetuned.text_embeddings),
        ]
        cfg = EvalConfig(
            max_queries=args.queries,
            bootstrap=200,
            gallery_queries=0,
            benchmark=BenchmarkConfig(max_queries=args.queries),
        )
        return run_evaluation(catalog, models, cfg, index_cfg, seed=seed, image_root=work).metrics

    metrics = steps.run("evaluate", evaluate)
    for model, values in metrics.items():
        print(f"  {model}: " + ", ".join(f"{k} {v}" for k, v in list(values.items())[:4]))

    total = time.perf_counter() - steps.started
    print(f"{'step':<14} {'seconds':>9} {'CPU s':>9}   {'step peak RSS MiB':>17} {'RSS after MiB':>13}")
    for name, seconds, cpu, rss, now in steps.rows:
        print(f"{name:<14} {seconds:>9.1f} {cpu:>9.1f}   {rss:>17.0f} {now:>13.0f}")
    print(f"total CPU seconds {cpu_seconds():.0f}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(f"items={args.items} seconds={total:.0f} peak_rss_mib={steps.peak_mib:.0f}")


if __name__ == "__main__":
    main()
