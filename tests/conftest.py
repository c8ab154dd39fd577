"""Helpers every test folder shares: run a stage as DVC runs it, edit params.yaml, one local Ray, one tiny build."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

StageRunner = Callable[..., subprocess.CompletedProcess]


def run_stage_in(
    stage: str,
    cwd: Path,
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """`python -m stages.<stage>` in `cwd` (writing `params` to its params.yaml first when given), captured."""
    if params is not None:
        (Path(cwd) / "params.yaml").write_text(yaml.safe_dump(dict(params), sort_keys=False))
    return subprocess.run(
        [sys.executable, "-m", f"stages.{stage}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1", **(env or {})},
        timeout=timeout,
    )


def set_params_in(root: Path, values: Mapping[str, Any]) -> None:
    """Set params.yaml keys in place, each named by its dotted path: {"train.lr": 3e-4, "seed": 1}."""
    path = Path(root) / "params.yaml"
    params = yaml.safe_load(path.read_text()) or {}
    for key, value in values.items():
        node = params
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="session")
def run_stage() -> StageRunner:
    """`run_stage(stage, cwd, params=None, env=None, timeout=600)`: see run_stage_in."""
    return run_stage_in


@pytest.fixture(scope="session")
def set_params() -> Callable[[Path, Mapping[str, Any]], None]:
    """`set_params(root, {"section.key": value})`: see set_params_in."""
    return set_params_in


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray (2 CPUs) for every test that needs it, shut down when the session ends."""
    import ray

    from pipelines.encoders.ray_engine import job_runtime_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=job_runtime_env())
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def built_project(tmp_path_factory):
    """A Workspace (tests/test_end_to_end.py) whose `root` holds a tiny project built by `dvc repro`, through
    the rerank stage (its TINY profile covers every stage)."""
    spec = importlib.util.spec_from_file_location("_end_to_end", Path(__file__).with_name("test_end_to_end.py"))
    e2e = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(e2e)
    workspace = e2e.tiny_project(tmp_path_factory.mktemp("tiny_build"))
    workspace.run("git", "init", "-q", "-b", "main")
    workspace.commit("tiny profile")
    workspace.dvc("repro")
    return workspace
