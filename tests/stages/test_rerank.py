"""The rerank stage's entry point: a missing build or a bad rerank param is one line naming it, and nothing is
written. (The stage on a real build: tests/search/test_rerank_stage.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def run_stage(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stages.rerank"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_build_is_one_line_saying_to_run_dvc_repro(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    done = run_stage(tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: artifacts/store: not found; build the project first with `dvc repro`"
    )
    assert not (tmp_path / "reports").exists() and not (tmp_path / "artifacts").exists()


def test_a_bad_rerank_param_is_named(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["rerank"]["pool"] = 5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = run_stage(tmp_path)
    assert done.returncode == 1
    assert "rerank.pool (5) must be at least rerank.k (10)" in done.stderr
    assert "Traceback" not in done.stderr
