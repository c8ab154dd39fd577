"""The benchmark scripts (`make bench`) still run: each on a tiny workload, checking the table it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "index_recall": (
        [
            "--n",
            "3000",
            "--dim",
            "32",
            "--queries",
            "50",
            "--clusters",
            "20",
            "--train-size",
            "2000",
            "--ivfpq",
            "IVF8,PQ8x4np",
            "--nprobe",
            "4",
        ],
        ["HNSW32", "Flat", "IVF8,PQ8x4np"],
    ),
    "mining_speed": (["--train", "500", "--others", "200", "--dim", "32"], ["HNSW32", "Flat", "build_pairs:"]),
    "normalize_throughput": (["--items", "80", "--workers", "1", "--image-size", "32"], ["items/s"]),
    "scale": (
        ["--items", "3000", "--train-steps", "5", "--val-items", "200", "--queries", "40", "--eval-queries", "40"],
        ["build_index", "HNSW32: estimated", "recall@10 image queries", "evaluate", "items=3000 seconds="],
    ),
    "encode_throughput": (
        ["--items", "80", "--images", "32", "--rounds", "1", "--batch-size", "16"],
        ["| bare image+text forward |", "encode ratio (stage image+text keys / bare image+text forward): "],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_prints_its_table(script, tmp_path):
    args, expected = CASES[script]
    if script == "encode_throughput":
        args = [*args, "--workdir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / f"{script}.py"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for text in expected:
        assert text in done.stdout, done.stdout
