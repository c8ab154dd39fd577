"""The rerank stage's entry point: a missing build or a bad rerank param is one line naming it, and nothing is
written. (The stage on a real build: tests/search/test_rerank_stage.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_missing_build_is_one_line_saying_to_run_dvc_repro(tmp_path, run_stage):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    done = run_stage("rerank", tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: artifacts/store") and "dvc repro" in last
    assert not (tmp_path / "reports").exists() and not (tmp_path / "artifacts").exists()


def test_a_bad_rerank_param_is_named(tmp_path, run_stage, set_params):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    set_params(tmp_path, {"rerank.pool": 5})
    done = run_stage("rerank", tmp_path)
    assert done.returncode == 1
    assert "rerank.pool (5)" in done.stderr and "rerank.k (10)" in done.stderr
    assert "Traceback" not in done.stderr
