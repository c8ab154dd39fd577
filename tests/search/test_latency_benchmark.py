"""benchmarks/search_latency.py still runs (on the tiny build, a small synthetic catalog) and prints its tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_search_latency_prints_both_tables(built_project):
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks/search_latency.py"),
            "--root",
            str(built_project.root),
            "--queries",
            "10",
            "--items",
            "3000",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's code, not whichever one is installed
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "default build: ms per text query at k=10" in done.stdout
    assert "3,000 synthetic items: ms per text query at k=10" in done.stdout
    for strategy in ("none", "constraints", "mmr", "policy"):
        assert f"| {strategy} |" in done.stdout
