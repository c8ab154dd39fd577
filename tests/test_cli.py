"""A stage's bad input becomes one line on stderr and exit code 1; --verbose shows the traceback."""

import subprocess
import sys
import textwrap


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
