"""encode_kv performance: the stage's image path vs the bare forward pass, and the stage's peak RSS.

Throughput (default mode): on the sample catalog, time the stage's image path
(`encode_image_keys`: DataLoader decoding + open_clip preprocessing in workers, forward,
normalisation, memory-mapped store write) against the bare `model.encode_image` on one
already-preprocessed batch of the same size, in the same process and run. Runs come in
adjacent bare/stage pairs (alternating order), and the table gives the median of the per-pair
ratios, so load that other processes put on a shared machine cancels out.

    python benchmarks/encode_throughput.py --rounds 4 --images 256 --workers 1 2

Peak RSS (`--rss N ...`): run `python -m stages.encode_kv` as a subprocess on generated
catalogs of N items and report its peak resident memory (ru_maxrss of the waited children:
the stage process and its DataLoader workers). `--rss-arch tiny` swaps in a 2-layer stand-in
backbone (an open_clip `local-dir:` config with seeded random weights) so that a 20,000-item
catalog is measurable on a 2-core machine: the catalog-dependent part of the memory (items,
texts, the store writer, the loader) is the same code either way; the model is a constant.

    python benchmarks/encode_throughput.py --rss 2000 20000 --rss-arch tiny

Catalogs are made by the pipeline's own ingest + normalize stages from the sample generator
(`data.source: sample`) in `--workdir`, and reused when already there.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from pipelines.encoders import ClipEncoder, ModelConfig
from pipelines.encoders.images import load_rgb
from pipelines.encoders.kv import encode_image_keys
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.store import StoreWriter

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


def cpu_seconds() -> float:
    """CPU time of this process (all threads) plus its finished children (the loader workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_forward(encoder: ClipEncoder, batch: torch.Tensor, images: int) -> float:
    """images/s of model.encode_image alone, on one preprocessed batch reused."""
    batch = batch.to(encoder.device)
    full, rest = divmod(images, len(batch))
    with torch.inference_mode():
        encoder.model.encode_image(batch)  # warm-up
        start = time.perf_counter()
        for _ in range(full):
            encoder.model.encode_image(batch)
        if rest:
            encoder.model.encode_image(batch[:rest])
        if encoder.device.type == "cuda":
            torch.cuda.synchronize()
    return images / (time.perf_counter() - start)


def stage_path(encoder: ClipEncoder, paths: list[str], root: Path, batch_size: int, workers: int) -> float:
    """images/s of the stage's image path, writing into a memory-mapped store in a temp folder."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        writer = StoreWriter(Path(tmp), len(paths), {"image_keys": encoder.dim, "text_keys": 1, "fact_values": 1})
        rate = encode_image_keys(
            encoder,
            paths,
            lambda block: writer.append("image_keys", block),
            batch_size=batch_size,
            workers=workers,
            root=root,
        )
        assert writer.rows_written("image_keys") == len(paths)
    return rate


def throughput(args: argparse.Namespace) -> None:
    folder = catalog(args.workdir, args.items)
    params = load_params(folder / "params.yaml", model=ModelConfig, runtime=RuntimeConfig)
    batch_size = args.batch_size or params.runtime.encode.batch_size
    paths = pd.read_parquet(folder / ITEMS)["image_path"].tolist()
    encoder = ClipEncoder.from_config(params.model, params.seed, params.runtime.device)
    batch = torch.stack([encoder.preprocess(load_rgb(folder / p)) for p in paths[:batch_size]])
    print(
        f"\n{params.model.arch} ({params.model.pretrained}), {encoder.device}, torch threads "
        f"{torch.get_num_threads()}, batch {batch_size}, {args.rounds} rounds x {args.images} images "
        f"of the {args.items}-item sample",
        flush=True,
    )
    stage_path(encoder, paths[: batch_size * 2], folder, batch_size, args.workers[0])  # warm-up
    rates: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    cpu_ratios: dict[str, list[float]] = {}
    for round_index in range(args.rounds):
        # Adjacent bare/stage pairs, alternating which goes first, so the load others put
        # on the machine hits both sides of each ratio alike.
        first = round_index * args.images % max(len(paths) - args.images, 1)
        chunk = paths[first : first + args.images]
        for workers in args.workers:
            pair, cpu_ms = {}, {}
            for side in ("bare", "stage") if round_index % 2 == 0 else ("stage", "bare"):
                cpu = cpu_seconds()
                if side == "bare":
                    pair[side] = bare_forward(encoder, batch, len(chunk))
                else:
                    pair[side] = stage_path(encoder, chunk, folder, batch_size, workers)
                cpu_ms[side] = (cpu_seconds() - cpu) / len(chunk) * 1e3
            cpu_ratios.setdefault(f"stage/{workers}", []).append(cpu_ms["bare"] / cpu_ms["stage"])
            rates.setdefault("bare", []).append(pair["bare"])
            rates.setdefault(f"stage/{workers}", []).append(pair["stage"])
            ratios.setdefault(f"stage/{workers}", []).append(pair["stage"] / pair["bare"])
            print(
                f"round {round_index + 1}, workers {workers}: bare {pair['bare']:.1f}/s "
                f"({cpu_ms['bare']:.1f} CPU-ms/img), stage {pair['stage']:.1f}/s ({cpu_ms['stage']:.1f} CPU-ms/img), "
                f"ratio {pair['stage'] / pair['bare']:.3f}",
                flush=True,
            )
    # Load-independent cross-check: CPU seconds per image of the two parts of the stage. When
    # every core is busy (no idle core to overlap on), the stage can be no slower than
    # forward / (forward + decode&preprocess) of the bare rate.
    sample = paths[: args.images]
    cpu = time.process_time()
    for path in sample:
        encoder.preprocess(load_rgb(folder / path))
    prep_ms = (time.process_time() - cpu) / len(sample) * 1e3
    cpu = time.process_time()
    bare_forward(encoder, batch, len(sample))
    forward_ms = (time.process_time() - cpu) / len(sample) * 1e3
    print(
        f"\nCPU per image: decode+preprocess {prep_ms:.2f} ms, forward {forward_ms:.2f} ms (all threads); "
        f"saturated-CPU bound on the ratio: {forward_ms / (forward_ms + prep_ms):.3f}"
    )
    print(
        "\n| path | workers | images/s (median) | wall ratio to bare, same round (median; min-max) "
        "| CPU-time ratio bare/stage (median) |"
    )
    print("|---|---|---|---|---|")
    print(f"| bare model.encode_image | - | {statistics.median(rates['bare']):.1f} | 1 | 1 |")
    for workers in args.workers:
        key = f"stage/{workers}"
        print(
            f"| stage image path | {workers} | {statistics.median(rates[key]):.1f} | "
            f"{statistics.median(ratios[key]):.3f} ({min(ratios[key]):.3f}-{max(ratios[key]):.3f}) | "
            f"{statistics.median(cpu_ratios[key]):.3f} |"
        )


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
        else load_params(REPO / "params.yaml", model=ModelConfig).model.arch
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
    parser.add_argument("--images", type=int, default=256, help="images per timed run")
    parser.add_argument("--rounds", type=int, default=4, help="bare/stage pairs per workers setting")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = runtime.encode.batch_size from params.yaml")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="DataLoader workers to compare")
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
