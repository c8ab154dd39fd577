"""Normalize throughput (items/s) on generated Myntra-layout catalogs of a few sizes, by worker count.

Each catalog is generated with `generate_sample_catalog`, ingested into a temporary `data/raw`, and
normalized with the library call the stage makes (interpreter start-up excluded). Image decoding is
also timed alone, so the table shows how much of normalize is decoding. Ratios are against the first
row of the same run.

    python benchmarks/normalize_throughput.py                 # 2,000 and 20,000 items, 1 and 2 workers
    python benchmarks/normalize_throughput.py --items 2000 --workers 2
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from pipelines.catalog import ingest_catalog, parse_source, read_raw_catalog
from pipelines.catalog.config import DataConfig, SampleConfig
from pipelines.normalize import SchemaConfig, normalize_catalog
from pipelines.normalize.images import check_images

DATA = DataConfig()  # the stage's defaults: splits and min_readable


def measure(items: int, workers_list: list[int], image_size: int, seed: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="normalize-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        (root / "data" / "raw").mkdir(parents=True)
        ingest_catalog(
            parse_source("sample"),
            root / "data" / "raw",
            max_items=0,
            seed=seed,
            sample=SampleConfig(items=items, image_size=image_size),
        )
        prepare_s = time.perf_counter() - started
        cwd = os.getcwd()
        os.chdir(root)
        try:
            raw = read_raw_catalog("data/raw")
            for workers in workers_list:
                started = time.perf_counter()
                check_images([str(Path("data/raw") / f) for f in raw.frame["image_file"]], workers)
                decode_s = time.perf_counter() - started
                started = time.perf_counter()
                result = normalize_catalog(
                    raw.format,
                    raw.frame,
                    "data/raw",
                    csv_name="styles.csv",
                    schema=SchemaConfig(),
                    splits=DATA.splits,
                    min_readable=DATA.min_readable,
                    workers=workers,
                    seed=seed,
                )
                total_s = time.perf_counter() - started
                rows.append(
                    {
                        "rows": len(raw.frame),
                        "items": len(result.items),
                        "workers": workers,
                        "total_s": total_s,
                        "decode_s": decode_s,
                        "prepare_s": prepare_s,
                    }
                )
        finally:
            os.chdir(cwd)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TQDM_DISABLE", "1")

    rows = [row for n in args.items for row in measure(n, args.workers, args.image_size, args.seed)]
    base = rows[0]["rows"] / rows[0]["total_s"]
    print(f"normalize throughput, generated catalogs at {args.image_size} px, {os.cpu_count()} CPUs visible")
    print(
        f"{'rows':>7} {'kept':>7} {'workers':>7} {'total s':>8} {'items/s':>8} {'decode s':>8} "
        f"{'decode %':>8} {'vs row 1':>8} {'(generate+ingest s)':>20}"
    )
    for row in rows:
        rate = row["rows"] / row["total_s"]
        print(
            f"{row['rows']:>7} {row['items']:>7} {row['workers']:>7} {row['total_s']:>8.2f} {rate:>8.0f} "
            f"{row['decode_s']:>8.2f} {100 * row['decode_s'] / row['total_s']:>7.0f}% {rate / base:>7.2f}x "
            f"{row['prepare_s']:>20.1f}"
        )


if __name__ == "__main__":
    main()
