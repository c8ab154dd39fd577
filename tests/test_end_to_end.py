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
    "ingest",
    "normalize",
    "build_sft",
    "encode_kv",
    "export_signals",
    "build_index",
    "mine_negatives",
    "build_pairs",
    "train",
    "evaluate",
    "scoreboard",
    "rerank",
    "train_extractor",
    "evaluate_extraction",
    "extraction_report",
]
# What a train.* experiment reruns, in the order DVC runs it (the extractor's decoding never: only its report)
AFTER_TRAIN = ["train", "evaluate", "scoreboard", "rerank", "extraction_report"]
# Small enough for a couple of minutes on 2 CPU cores; every stage still does its real work.
TINY = {
    "data": {"sample": {"items": 240, "image_size": 64}},
    "runtime": {"encode": {"batch_size": 32, "workers": 0}},
    "index": {"factory": "Flat", "eval_queries": 50},
    "mining": {"max_anchors": 500, "k": 20},
    "pairs": {"n_pairs": 1500},
    "train": {"epochs": 4, "batch_size": 64, "patience": 2},
    "eval": {"bootstrap": 100, "gallery_queries": 3},
    "rerank": {"queries": 40, "examples": 5, "policy": {"train_queries": 40, "epochs": 8}},
    "extract": {"vocab_size": 400, "hidden": 32, "layers": 1, "heads": 2, "base_epochs": 1, "epochs": 1},
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
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [name for name in listed if name and (REPO / name).is_file()]


class Workspace:
    """A throwaway git + DVC copy of the project, driven through the real CLIs."""

    def __init__(self, root: Path):
        self.root = root
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONDONTWRITEBYTECODE": "1",
            "GIT_AUTHOR_NAME": "e2e",
            "GIT_AUTHOR_EMAIL": "e2e@example.com",
            "GIT_COMMITTER_NAME": "e2e",
            "GIT_COMMITTER_EMAIL": "e2e@example.com",
        }

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


def tiny_project(root: Path) -> Workspace:
    """A copy of the project at `root` with the TINY profile and nothing built (no dvc.lock, no reports)."""
    for name in _project_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    for leftover in ("dvc.lock", "reports"):
        path = root / leftover
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(_merge(yaml.safe_load(params_path.read_text()), TINY), sort_keys=False))
    return Workspace(root)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    ws = tiny_project(tmp_path_factory.mktemp("e2e"))
    ws.run("git", "init", "-q", "-b", "main")
    ws.commit("tiny profile")
    return ws


@pytest.mark.slow
def test_repro_runs_every_stage_then_nothing(workspace):
    first = workspace.dvc("repro")
    assert ran_stages(first.stdout) == STAGES
    scoreboard = json.loads((workspace.root / "reports/scoreboard.json").read_text())
    assert scoreboard and all(isinstance(target["pass"], bool) for target in scoreboard.values())
    # training on the sample's cached features lowers the val loss and beats the frozen baseline on val
    train = json.loads((workspace.root / "reports/train/metrics.json").read_text())  # DVCLive: the best epoch
    details = json.loads((workspace.root / "reports/train.json").read_text())
    assert train["val_loss"] < details["initial_val_loss"]
    assert train["val_recall_at_1"] > details["baseline_val_recall_at_1"]
    assert train["val_attr_at_10"] > details["baseline_val_attr_at_10"]
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
def test_forced_rerun_is_byte_identical(workspace):
    lock = (workspace.root / "dvc.lock").read_bytes()
    forced = workspace.dvc("repro", "-f")
    assert ran_stages(forced.stdout) == STAGES
    assert (workspace.root / "dvc.lock").read_bytes() == lock, "a forced rerun on unchanged inputs changed dvc.lock"
    assert workspace.run("git", "status", "--porcelain").stdout == "", "a forced rerun changed a committed report"


# One leaf param per section, and the stages that read it (dvc.yaml must list it there and nowhere else).
LEAF_PROBES = [
    ("seed", 7, [stage for stage in STAGES if stage != "build_sft"]),
    ("data.sample.items", 250, ["ingest", "evaluate_extraction", "extraction_report"]),  # the sample's truth
    ("data.min_readable", 0.9, ["normalize"]),
    ("schema.rules", False, ["normalize"]),
    ("model.arch", "ViT-B-32", ["encode_kv"]),
    ("kv.text_encoder", "all-MiniLM-L12-v2", ["encode_kv"]),
    ("signals.threshold", 0.5, ["export_signals"]),
    ("index.factory", "HNSW16", ["build_index", "evaluate", "rerank"]),
    ("index.eval_queries", 40, ["build_index"]),
    ("mining.k", 30, ["mine_negatives"]),
    ("pairs.n_pairs", 1000, ["build_pairs"]),
    ("train.lr", 0.5, ["train"]),
    ("train.sampler.dominant_cap", 0.5, ["train"]),
    ("train.threads", 2, ["train"]),
    ("eval.bootstrap", 50, ["evaluate", "scoreboard"]),
    ("eval.ks", [1, 10], ["evaluate"]),
    ("scoreboard.fail_on_miss", True, ["scoreboard"]),
    ("rerank.alpha", 0.7, ["rerank"]),
    ("rerank.policy.epochs", 3, ["rerank"]),
    ("extract.min_schema_pass", 0.95, ["build_sft"]),
    ("extract.lora.r", 4, ["train_extractor"]),
    ("extract.max_new_tokens", 300, ["train_extractor", "evaluate_extraction"]),
    ("extract.prompt_variants", ["image_only"], ["build_sft", "evaluate_extraction", "extraction_report"]),
]
RUNTIME_CHANGES = {
    "device": "cpu",
    "normalize": {"workers": 1},
    "encode": {"batch_size": 7, "workers": 1, "text_batch_size": 5},
    "index": {"threads": 1},
    "mining": {"batch_size": 33},
}


@pytest.mark.slow
def test_runtime_knobs_rerun_nothing_and_a_leaf_param_invalidates_exactly_its_readers(set_params, workspace):
    committed = (workspace.root / "params.yaml").read_text()
    try:
        set_params(workspace.root, {"runtime": _merge(yaml.safe_load(committed)["runtime"], RUNTIME_CHANGES)})
        assert json.loads(workspace.dvc("status", "--json").stdout) == {}
        assert ran_stages(workspace.dvc("repro").stdout) == []
        for key, value, readers in LEAF_PROBES:
            (workspace.root / "params.yaml").write_text(committed)
            set_params(workspace.root, {key: value})
            changed = json.loads(workspace.dvc("status", "--json").stdout)
            assert sorted(changed) == sorted(readers), (
                f"changing {key} invalidated {sorted(changed)}, expected {readers}"
            )
    finally:
        (workspace.root / "params.yaml").write_text(committed)
    assert json.loads(workspace.dvc("status", "--json").stdout) == {}


@pytest.mark.slow
def test_exp_run_on_a_train_param_reruns_only_train_and_after(workspace):
    before = json.loads((workspace.root / "reports/metrics.json").read_text())
    exp = workspace.dvc("exp", "run", "-n", "lr-sweep", "-S", "train.lr=0.01", "-S", "train.epochs=2")
    assert sorted(ran_stages(exp.stdout)) == sorted(AFTER_TRAIN)

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
    # what a reviewer reads: a short table of the headline metrics that moved
    header = workspace.dvc("exp", "show", "--only-changed", "--csv").stdout.splitlines()[0].split(",")
    assert len(header) <= 30, header
    assert len(diff_rows(workspace)) <= 30


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
def test_the_sweep_benchmark_times_an_experiment_and_puts_the_workspace_back(workspace):
    workspace.dvc("repro")  # a no-op after the tests above
    workspace.commit("built")
    done = workspace.run("python", "benchmarks/sweep.py", "--lr", "0.01")
    run_line, last = done.stdout.splitlines()[-2:]
    match = re.match(r"run 1: train\.lr=(1\.00\d+e-02): [\d.]+ s \([\d.]+ CPU s\); dvc start ", run_line)
    assert match, run_line
    assert sorted(re.findall(r"(\w+) [\d.]+ s[,;]", run_line)) == sorted(["start", *AFTER_TRAIN])
    assert re.fullmatch(r"sweep seconds=[\d.]+", last)
    assert workspace.run("git", "status", "--porcelain").stdout == ""
    assert json.loads(workspace.dvc("status", "--json").stdout) == {}
    assert repr(float(match.group(1))) not in workspace.dvc("exp", "show", "--json").stdout  # removed

    # A failed experiment (train.lr nan is refused by train) puts the workspace back too: DVC had removed train's
    # committed outputs before running it.
    failed = workspace.run("python", "benchmarks/sweep.py", "--lr", "nan", check=False)
    assert failed.returncode == 1 and "dvc exp run failed" in failed.stderr, failed.stderr[-2000:]
    assert workspace.run("git", "status", "--porcelain").stdout == ""
    assert json.loads(workspace.dvc("status", "--json").stdout) == {}


@pytest.mark.slow
def test_dag_draws_the_graph(workspace):
    dag = workspace.dvc("dag", "--md").stdout
    names = dict(re.findall(r'(node\d+)\["([^"]+)"\]', dag))
    edges = {(names[a], names[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", dag)}
    assert sorted(names.values()) == sorted(STAGES)
    assert {
        ("train", "evaluate"),
        ("evaluate", "scoreboard"),
        ("ingest", "normalize"),
        ("normalize", "encode_kv"),
        ("normalize", "build_sft"),
        ("build_sft", "train_extractor"),
        ("train_extractor", "evaluate_extraction"),
        ("evaluate_extraction", "extraction_report"),
        ("train", "extraction_report"),
    } <= edges, edges


def diff_rows(workspace: Workspace) -> list[str]:
    return [
        line for line in workspace.dvc("metrics", "diff", "--md").stdout.splitlines() if line.startswith("| reports/")
    ]


@pytest.mark.slow
def test_editing_a_local_catalog_in_place_reruns_ingest(set_params, workspace, tmp_path):
    """A catalog folder outside the repo is a dep of ingest through data.catalog: no `dvc repro -f` needed."""
    catalog = tmp_path / "myntra"
    shutil.copytree(workspace.root / "data/raw", catalog)
    committed = (workspace.root / "params.yaml").read_text()
    try:
        set_params(workspace.root, {"data.source": "myntra", "data.catalog": str(catalog)})
        assert ran_stages(workspace.dvc("repro", "ingest").stdout) == ["ingest"]
        assert json.loads(workspace.dvc("status", "ingest", "--json").stdout) == {}
        styles = catalog / "styles.csv"
        styles.write_bytes(styles.read_bytes() + b"\n")  # any in-place edit
        changed = json.loads(workspace.dvc("status", "ingest", "--json").stdout)
        assert changed["ingest"] == [{"changed deps": {str(catalog): "modified"}}], changed
        # the legacy one-string form must name the tracked path, or ingest refuses to read an untracked catalog
        set_params(workspace.root, {"data.source": f"myntra:{tmp_path / 'elsewhere'}"})
        refused = workspace.dvc("repro", "ingest", check=False)
        assert refused.returncode != 0 and "data.catalog (the path DVC tracks)" in refused.stdout + refused.stderr
    finally:
        (workspace.root / "params.yaml").write_text(committed)
        workspace.run("git", "checkout", "--", "dvc.lock")
        workspace.dvc("checkout", "--force")
