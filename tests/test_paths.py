"""Stage paths live in pipelines/paths.py, each named in dvc.yaml; no stage spells a data path of its own."""

import ast
from pathlib import Path

import pytest
import yaml

from pipelines import paths

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOTS = ("data/", "artifacts/", "reports/")


def dvc_paths() -> set[str]:
    """Every dep, out, metric and plot path dvc.yaml names (folders and files)."""
    named: set[str] = set()
    for stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].values():
        for entry in [*stage.get("deps", []), *stage.get("outs", []), *stage.get("metrics", [])]:
            named.update(entry if isinstance(entry, dict) else [entry])
    return named


def test_every_stage_path_is_named_in_dvc_yaml_or_lies_in_an_out_it_names():
    named = dvc_paths()
    declared = {name: value for name, value in vars(paths).items() if name.isupper() and isinstance(value, Path)}
    assert len(declared) > 30
    for name, path in declared.items():
        if path == Path("."):
            continue
        covered = str(path) in named or any(str(parent) in named for parent in path.parents)
        if name in ("CHECKPOINTS_DIR", "PROMPT_CACHE_DIR"):  # resume state and a cache: deliberately not outs
            assert not covered
            continue
        assert covered, f"paths.{name} = {path} is not named in dvc.yaml (nor a folder above it)"


@pytest.mark.parametrize("stage", sorted(p.stem for p in (ROOT / "stages").glob("*.py") if p.stem != "__init__"))
def test_stages_take_their_paths_from_the_paths_module(stage):
    tree = ast.parse((ROOT / "stages" / f"{stage}.py").read_text())
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(DATA_ROOTS)
    ]
    assert not literals, f"stages/{stage}.py spells {literals[0]!r}: use pipelines/paths.py"
