"""encode_kv performance: the stage's encode pass vs the bare forward of the same model, and the stage's peak RSS.

Throughput (default mode): on the same items of a sample catalog, time
- bare: open_clip's `model.encode_image` over the items' preprocessed images plus `model.encode_text` over
  their tokenized CLIP texts (decoding, preprocessing and tokenizing done beforehand, untimed), in batches of
  `runtime.encode.batch_size`, torch on every core;
- stage: `encode_kv_store`, the stage's local engine as `dvc repro` runs it (decoding workers, torch thread
  budget, trimmed text tokens, memory-mapped store write, manifest hashing), with `runtime.encode` from
  params.yaml. Its image and CLIP-text phases are the counterpart of the bare forward; the fact values (a
  second model the bare forward does not run) are reported beside them.
Runs come in adjacent bare/stage pairs (alternating order) and the table gives the median of the per-pair
ratios, so load that other processes put on a shared machine cancels out. The last line is the headline:
`encode ratio (stage image+text keys / bare image+text forward): R`.

    python benchmarks/encode_throughput.py --rounds 4 --images 256

Peak RSS (`--rss N ...`): run `python -m stages.encode_kv` as a subprocess on generated
catalogs of N items and report its peak resident memory (ru_maxrss of the waited children:
the stage process and its DataLoader workers). `--rss-arch tiny` swaps in a 2-layer stand-in
backbone (an open_clip `local-dir:` config with seeded random weights) so that a 20,000-item
catalog is measurable on a 2-core machine: the catalog-dependent part of the memory (items,
texts, the store writer, the loader) is the same code either way; the model is a constant.

    python benchmarks/encode_throughput.py --rss 2000 20000 --rss-arch tiny

Catalogs are made by the pipeline's own ingest + normalize stages from the sample generator
(`data.source: sample`) in `--workdir`, and reused when already there; `--catalog .` uses this
checkout's own default build (data/processed/items.parquet) instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)

# isort: split
import pandas as pd
import torch
import yaml

from pipelines.encoders import ClipEncoder
from pipelines.encoders.facts import FactEncoder
from pipelines.encoders.images import load_rgb
from pipelines.encoders.kv import encode_kv_store, torch_threads
from pipelines.encoders.texts import clip_texts
from pipelines.params import load_params
from pipelines.runtime import EncodeRuntime
from stages.encode_kv import Params as EncodeParams

REPO = Path(__file__).resolve().parents[1]

ITEMS = Path("data/processed/items.parquet")
TINY_CLIP = {
    "model_cfg": {
        "embed_dim": 64,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    },
    "preprocess_cfg": {},
}


def catalog(workdir: Path, items: int, model_overrides: dict | None = None) -> Path:
    """A repo-shaped folder with params.yaml and data/processed/items.parquet for `items` sample items."""
    folder = workdir / f"sample-{items}"
    folder.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"]["sample"]["items"] = items
    params["model"].update(model_overrides or {})
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if not (folder / ITEMS).is_file():
        for stage in ("ingest", "normalize"):
            print(f"[{folder.name}] running stages.{stage} ...", flush=True)
            subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=folder, check=True)
    return folder


def bare_forward(
    encoder: ClipEncoder, pixels: torch.Tensor, tokens: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Seconds of model.encode_image and of model.encode_text over prepared inputs, in batches of `batch_size`."""
    model = encoder.model
    seconds = []
    with torch.inference_mode():
        for forward, inputs in ((model.encode_image, pixels), (model.encode_text, tokens)):
            start = time.perf_counter()
            for first in range(0, len(inputs), batch_size):
                forward(inputs[first : first + batch_size].to(encoder.device))
            if encoder.device.type == "cuda":
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def stage_pass(
    encoder: ClipEncoder, facts: FactEncoder, items: pd.DataFrame, root: Path, speed: EncodeRuntime
) -> dict[str, float]:
    """Seconds per phase of encode_kv_store (the local engine) writing a store into a temp folder."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        start = time.perf_counter()
        report = encode_kv_store(
            items,
            Path(tmp) / "store",
            encoder,
            facts,
            batch_size=speed.batch_size,
            workers=speed.workers,
            threads=speed.threads,
            text_batch_size=speed.text_batch_size,
            root=root,
        )
        total = time.perf_counter() - start
    rows = report.rows
    images, texts, fact_values = rows / report.images_per_s, rows / report.texts_per_s, rows / report.facts_per_s
    return {"image": images, "text": texts, "keys": images + texts, "facts": fact_values, "total": total}


def throughput(args: argparse.Namespace) -> None:
    folder = args.catalog.resolve() if args.catalog else catalog(args.workdir, args.items)
    params = load_params(EncodeParams, folder / "params.yaml")
    speed = params.runtime.encode
    if args.batch_size:
        speed = dataclasses.replace(speed, batch_size=args.batch_size)
    items = pd.read_parquet(folder / ITEMS)
    encoder = ClipEncoder.from_config(params.model, params.seed, params.runtime.device)
    facts = FactEncoder(params.kv.text_encoder, device=str(encoder.device))
    print(
        f"\n{params.model.arch} ({params.model.pretrained}), {encoder.device}, {len(os.sched_getaffinity(0))} cores, "
        f"batch {speed.batch_size}, workers {speed.workers}, threads {speed.threads or 'all'}, text tokens trimmed: "
        f"{encoder.trims_text}; {args.rounds} rounds x {args.images} items of {folder}",
        flush=True,
    )
    stage_pass(encoder, facts, items.iloc[: speed.batch_size * 2], folder, speed)  # warm-up
    sides: dict[str, list[float]] = {}
    for round_index in range(args.rounds):
        first = round_index * args.images % max(len(items) - args.images, 1)
        chunk = items.iloc[first : first + args.images].reset_index(drop=True)
        pixels = torch.stack([encoder.preprocess(load_rgb(folder / p)) for p in chunk["image_path"]])
        tokens = encoder.tokenizer(clip_texts(chunk))
        # Adjacent bare/stage pairs, alternating which goes first, so others' load hits both sides alike.
        for side in ("bare", "stage") if round_index % 2 == 0 else ("stage", "bare"):
            if side == "bare":
                with torch_threads(speed.threads):
                    bare_image, bare_text = bare_forward(encoder, pixels, tokens, speed.batch_size)
                bare = bare_image + bare_text
            else:
                stage = stage_pass(encoder, facts, chunk, folder, speed)
        n = len(chunk)
        sides.setdefault("bare/s", []).append(n / bare)
        sides.setdefault("keys/s", []).append(n / stage["keys"])
        sides.setdefault("keys", []).append(bare / stage["keys"])
        sides.setdefault("image", []).append(bare_image / stage["image"])
        sides.setdefault("text", []).append(bare_text / stage["text"])
        sides.setdefault("keys+facts", []).append(bare / (stage["keys"] + stage["facts"]))
        sides.setdefault("total", []).append(bare / stage["total"])
        print(
            f"round {round_index + 1}: bare image+text {n / bare:.1f} items/s; stage image keys "
            f"{n / stage['image']:.1f}/s, "
            f"text keys {n / stage['text']:.1f}/s, image+text {n / stage['keys']:.1f} items/s (ratio "
            f"{bare / stage['keys']:.3f}), facts {n / stage['facts']:.1f}/s, whole pass {n / stage['total']:.1f} "
            f"items/s (ratio {bare / stage['total']:.3f})",
            flush=True,
        )
    median = {key: statistics.median(values) for key, values in sides.items()}
    print("\n| path | items/s (median) | ratio to bare, same round (median; min-max) |")
    print("|---|---|---|")
    print(f"| bare image+text forward | {median['bare/s']:.1f} | 1 |")
    for key, label in (
        ("image", "encode_kv_store image keys alone (decoding, thread budget) vs bare encode_image"),
        ("text", "encode_kv_store CLIP text keys alone (trimmed tokens) vs bare encode_text"),
        ("keys", "encode_kv_store image+text keys"),
        ("keys+facts", "encode_kv_store image+text keys + fact values"),
        ("total", "encode_kv_store whole call (+ loader start, store write, hashing)"),
    ):
        rate = f"{median['keys/s']:.1f}" if key == "keys" else "-"
        print(f"| {label} | {rate} | {median[key]:.3f} ({min(sides[key]):.3f}-{max(sides[key]):.3f}) |")
    print(f"\nencode ratio (stage image+text keys / bare image+text forward): {median['keys']:.3f}")


def peak_rss(args: argparse.Namespace) -> None:
    overrides = {}
    if args.rss_arch == "tiny":
        tiny = args.workdir / "tiny-clip"
        tiny.mkdir(parents=True, exist_ok=True)
        (tiny / "open_clip_config.json").write_text(json.dumps(TINY_CLIP))
        overrides["arch"] = f"local-dir:{tiny}"
    rows = []
    for items in args.rss:
        folder = catalog(args.workdir, items, overrides)
        rows_in = len(pd.read_parquet(folder / ITEMS))
        probe = (
            "import resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "code = subprocess.run([sys.executable, '-m', 'stages.encode_kv']).returncode\n"
            "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - start)\n"
        )
        print(f"[{folder.name}] running stages.encode_kv on {rows_in} items ...", flush=True)
        result = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True)
        code, rss_kib, seconds = result.stdout.split()
        if code != "0":
            sys.exit(f"encode_kv failed on {folder}:\n{result.stderr[-3000:]}")
        rows.append((rows_in, int(rss_kib) / 1024, float(seconds)))
        summary = [line for line in result.stderr.splitlines() if "wrote artifacts/store" in line]
        print(f"[{folder.name}] {summary[-1].split(': ', 1)[-1] if summary else 'no summary line'}", flush=True)
    arch = (
        "2-layer stand-in (local-dir)"
        if args.rss_arch == "tiny"
        else load_params(EncodeParams, REPO / "params.yaml").model.arch
    )
    print(f"\nencode_kv peak RSS (stage process and its loader workers), backbone {arch}")
    print("| items | peak RSS (MiB) | vs first | stage seconds |")
    print("|---|---|---|---|")
    for items, rss, seconds in rows:
        print(f"| {items} | {rss:.0f} | {rss / rows[0][1]:.3f} | {seconds:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "encode_kv_bench")
    parser.add_argument("--items", type=int, default=2000, help="size of the sample catalog for throughput")
    parser.add_argument("--catalog", type=Path, help="a checkout with a default build to read items from (e.g. .)")
    parser.add_argument("--images", type=int, default=256, help="items (images + texts) per timed run")
    parser.add_argument("--rounds", type=int, default=4, help="bare/stage pairs")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = runtime.encode.batch_size from params.yaml")
    parser.add_argument("--rss", type=int, nargs="*", help="measure the stage's peak RSS at these catalog sizes")
    parser.add_argument("--rss-arch", choices=["default", "tiny"], default="default")
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    if args.rss:
        peak_rss(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
