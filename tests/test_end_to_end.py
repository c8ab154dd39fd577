"""The real DVC workflow on a tiny sample: repro, no-op repro, exp run -S, queue, metrics/plots diff, dag."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = [
    "ingest", "normalize", "encode_kv", "export_signals", "build_index",
    "mine_negatives", "build_pairs", "train", "evaluate", "scoreboard",
]
# Small enough for a couple of minutes on 2 CPU cores; every stage still does its real work.
TINY = {
    "data": {"sample": {"items": 240, "image_size": 64}},
    "model": {"batch_size": 32, "workers": 0},
    "index": {"factory": "Flat", "eval_queries": 50},
    "mining": {"max_anchors": 500, "k": 20},
    "pairs": {"n_pairs": 1500},
    "train": {"epochs": 4, "batch_size": 64, "patience": 2},
    "eval": {"bootstrap": 100, "gallery_queries": 3},
}
DEFAULT_LR = yaml.safe_load((REPO / "params.yaml").read_text())["train"]["lr"]


def _merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    return [name for name in listed if name and (REPO / name).is_file()]


class Workspace:
    """A throwaway git + DVC copy of the project, driven through the real CLIs."""

    def __init__(self, root: Path):
        self.root = root
        bin_dir = str(Path(sys.executable).parent)
        self.env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
                    "PYTHONDONTWRITEBYTECODE": "1", "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.com",
                    "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.com"}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(args, cwd=self.root, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("dvc", *args, check=check)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message)


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("e2e")
    for name in _project_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    for leftover in ("dvc.lock", "reports"):
        path = root / leftover
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(_merge(yaml.safe_load(params_path.read_text()), TINY), sort_keys=False))
    ws = Workspace(root)
    ws.run("git", "init", "-q", "-b", "main")
    ws.commit("tiny profile")
    return ws


@pytest.mark.slow
def test_repro_runs_all_ten_stages_then_nothing(workspace):
    first = workspace.dvc("repro")
    assert ran_stages(first.stdout) == STAGES
    scoreboard = json.loads((workspace.root / "reports/scoreboard.json").read_text())
    assert scoreboard["targets"] and isinstance(scoreboard["pass"], bool)
    # training on the sample's cached features lowers the val loss and beats the frozen baseline on val
    train = json.loads((workspace.root / "reports/train.json").read_text())
    assert train["val_loss"] < train["initial_val_loss"]
    assert train["val_recall_at_1"] > train["baseline_val_recall_at_1"]
    assert train["val_attr_at_10"] > train["baseline_val_attr_at_10"]
    workspace.commit("first repro")

    second = workspace.dvc("repro")
    assert ran_stages(second.stdout) == []
    assert "up to date" in second.stdout
    assert workspace.dvc("status").stdout.strip().endswith("Data and pipelines are up to date.")

    # forcing one stage reruns only it; the sample is byte-identical, so nothing downstream moves
    forced = workspace.dvc("repro", "-f", "-s", "ingest")
    assert ran_stages(forced.stdout) == ["ingest"]
    assert ran_stages(workspace.dvc("repro").stdout) == []


@pytest.mark.slow
def test_exp_run_on_a_train_param_reruns_only_train_and_after(workspace):
    before = json.loads((workspace.root / "reports/metrics.json").read_text())
    exp = workspace.dvc("exp", "run", "-n", "lr-sweep", "-S", "train.lr=0.01", "-S", "train.epochs=2")
    assert ran_stages(exp.stdout) == ["train", "evaluate", "scoreboard"]

    after = json.loads((workspace.root / "reports/metrics.json").read_text())
    assert after["baseline"] == before["baseline"], "the frozen baseline must not move with a train param"
    assert after["finetuned"] != before["finetuned"]

    diff = json.loads(workspace.dvc("metrics", "diff", "--json").stdout)
    changed = diff["reports/metrics.json"]
    assert any(key.startswith("finetuned.") for key in changed)
    assert not any(key.startswith("baseline.") for key in changed)

    params_diff = json.loads(workspace.dvc("params", "diff", "--json").stdout)
    lr_diff = params_diff["params.yaml"]["train.lr"]
    assert (lr_diff["old"], lr_diff["new"]) == (DEFAULT_LR, 0.01)

    plots = workspace.dvc("plots", "diff", "--json", "HEAD")
    rendered = json.loads(plots.stdout)["data"]
    assert {"Training losses", "Learning rate"} <= set(rendered)
    assert set(rendered["Training losses"][0]["revisions"]) == {"workspace", "HEAD"}

    shown = workspace.dvc("exp", "show", "--json").stdout
    assert "lr-sweep" in shown


@pytest.mark.slow
def test_queued_sweep_runs(workspace):
    workspace.dvc("exp", "run", "--queue", "-S", "train.head=linear", "-S", "train.epochs=2")
    workspace.dvc("queue", "start", "-j", "1")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = workspace.dvc("queue", "status").stdout
        if not re.search(r"\b(Queued|Running)\b", status):
            break
        time.sleep(3)
    assert "Success" in status, status
    shown = json.loads(workspace.dvc("exp", "show", "--json").stdout)
    assert "linear" in json.dumps(shown)


@pytest.mark.slow
def test_dag_draws_the_graph(workspace):
    dag = workspace.dvc("dag", "--md").stdout
    names = dict(re.findall(r'(node\d+)\["([^"]+)"\]', dag))
    edges = {(names[a], names[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", dag)}
    assert sorted(names.values()) == sorted(STAGES)
    assert {("train", "evaluate"), ("evaluate", "scoreboard"), ("ingest", "normalize"), ("normalize", "encode_kv")} <= edges, edges
