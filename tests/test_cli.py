"""A stage's bad input becomes one line on stderr and exit code 1; --verbose shows the traceback; a stage run
refuses a params.yaml that lacks a key its dvc.yaml entry lists."""

import copy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml


def _run(tmp_path, *args):
    script = tmp_path / "stage.py"
    script.write_text(
        textwrap.dedent("""
        from pipelines.cli import run_stage
        from pipelines.errors import PipelineError

        def main():
            raise PipelineError("items.parquet: row 3 has no item_id")

        run_stage(main, "Fail on a bad row.")
    """)
    )
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)


def test_error_is_one_line_and_exit_code_one(tmp_path):
    result = _run(tmp_path)
    assert result.returncode == 1
    assert result.stderr == "error: items.parquet: row 3 has no item_id\n"


def test_verbose_shows_the_traceback(tmp_path):
    result = _run(tmp_path, "--verbose")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "row 3 has no item_id" in result.stderr


def test_help_is_the_stage_description(tmp_path):
    result = _run(tmp_path, "--help")
    assert result.returncode == 0 and "Fail on a bad row." in result.stdout


REPO = Path(__file__).resolve().parents[1]


def _project_with_params(root: Path, params: dict | None) -> Path:
    """A working copy holding the project's dvc.yaml and `params` as its params.yaml (None: an empty file)."""
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    (root / "params.yaml").write_text("" if params is None else yaml.safe_dump(params, sort_keys=False))
    return root


def _run_scoreboard(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stages.scoreboard"], cwd=root, capture_output=True, text=True)


def test_a_stage_refuses_params_yaml_without_a_key_its_dvc_yaml_entry_lists(tmp_path):
    """No silent default for a deleted key: the stage names it (or its missing section) before doing any work."""
    committed = yaml.safe_load((REPO / "params.yaml").read_text())
    without_key = copy.deepcopy(committed)
    del without_key["scoreboard"]["fail_on_miss"]
    result = _run_scoreboard(_project_with_params(tmp_path, without_key))
    assert result.returncode == 1
    assert (
        result.stderr
        == "error: params.yaml: missing key 'scoreboard.fail_on_miss' (stage scoreboard lists it in dvc.yaml)\n"
    )

    without_section = {k: v for k, v in committed.items() if k != "eval"}
    result = _run_scoreboard(_project_with_params(tmp_path, without_section))
    assert (
        result.stderr
        == "error: params.yaml: missing key 'eval' (stage scoreboard lists 'eval.bootstrap' in dvc.yaml)\n"
    )

    result = _run_scoreboard(_project_with_params(tmp_path, None))
    assert result.returncode == 1
    assert result.stderr == "error: params.yaml: the file is empty; every stage reads its knobs from it\n"

    # every listed key present: the stage goes on (and stops at its missing inputs)
    result = _run_scoreboard(_project_with_params(tmp_path, committed))
    assert result.returncode == 1 and "run the evaluate stage first" in result.stderr
