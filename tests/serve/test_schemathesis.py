"""Schemathesis against the running server: every operation of /openapi.json fuzzed in all its phases (examples,
coverage, fuzzing, stateful) with its default checks (no server error, status codes, content types, headers and
bodies as documented, invalid data rejected, valid data accepted, Allow on 405). The schema documents the
400/404/413/415/500/503 answers and their error body; schemathesis_hooks.py states the two rules OpenAPI cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


def test_schemathesis_finds_no_failure(server, tmp_path):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    done = subprocess.run(
        [str(schemathesis), "run", f"{server}/openapi.json", "--max-examples", "60", "--seed", "25", "--workers", "1"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(HERE), "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout, done.stdout[-3000:]
