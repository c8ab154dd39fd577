"""The train stage end to end on a tiny store: outputs (DVCLive log + report), byte-identical reruns, resume of a
finished run, a fresh run on new params, bad input."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipelines.store import write_store

REPO = Path(__file__).resolve().parents[2]
MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}


@pytest.fixture
def workdir(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 120, 16
    cats = rng.choice(["tees", "shirts", "cardigans"], n)
    protos = {c: rng.normal(size=d) for c in ("tees", "shirts", "cardigans")}
    image = np.stack([protos[c] for c in cats]) * 0.3 + rng.normal(size=(n, d))
    text = np.stack([protos[c] for c in cats]) * 0.3 + rng.normal(size=(n, d))
    norm = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "image_path": "",
            "title": [f"item {i}" for i in range(n)],
            "desc": "",
            "group_key": [f"g{i}" for i in range(n)],
            "split": np.where(np.arange(n) % 4 == 0, "val", "train"),
            "category": cats,
            "color": rng.choice(["red", "blue"], n),
            "pattern": "solid",
            "material": "cotton",
            "neckline": rng.choice(["round", "unknown"], n),
            "sleeve_length": "long",
        }
    )
    write_store(
        tmp_path / "artifacts/store", meta, norm(image), norm(text), np.zeros((n, 4), np.float32), MODEL, "test"
    )
    train_ids = meta.loc[meta["split"] == "train", "item_id"].to_numpy()
    pairs = pd.DataFrame(
        {"anchor_id": train_ids[:40], "other_id": train_ids[40:80], "pair_type": "hard", "label": np.int8(0)}
    )
    (tmp_path / "artifacts/pairs").mkdir(parents=True)
    pairs.to_parquet(tmp_path / "artifacts/pairs/pairs.parquet", index=False)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"].update({"epochs": 3, "batch_size": 32})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


SAMPLER_CURVES = [
    f"sampler_{share}_share_{end}"
    for share in ("neckline_known", "rare_material", "weak_category")
    for end in ("max", "min")
]
CURVES = sorted(
    ["loss", "loss_attr", "loss_contrastive", "loss_pair", "lr", "val_attr_at_10", "val_loss", "val_recall_at_1"]
    + ["sampler_max_group_share", *SAMPLER_CURVES]
)


def outputs(cwd: Path) -> dict[str, bytes]:
    files = [p for p in sorted((cwd / "reports").rglob("*")) if p.is_file()] + [cwd / "artifacts/model/model.json"]
    return {str(p.relative_to(cwd)): p.read_bytes() for p in files}


@pytest.mark.slow  # five stage subprocesses, each importing torch
def test_stage_writes_outputs_reuses_a_finished_run_and_starts_fresh_on_new_params(run_stage, set_params, workdir):
    first = run_stage("train", workdir)
    assert first.returncode == 0, first.stderr
    live = workdir / "reports/train"
    assert sorted(p.name for p in (live / "plots/metrics").iterdir()) == [f"{c}.tsv" for c in CURVES]
    for name in CURVES:
        tsv = pd.read_csv(live / f"plots/metrics/{name}.tsv", sep="\t")
        assert list(tsv.columns) == ["step", name] and tsv["step"].tolist() == [1, 2, 3]
    assert pd.read_csv(live / "plots/metrics/lr.tsv", sep="\t")["lr"].iloc[0] == pytest.approx(3e-3)
    headline = json.loads((live / "metrics.json").read_text())
    assert set(headline) == {"step", "val_attr_at_10", "val_loss", "val_recall_at_1"}
    best = headline["step"]  # DVCLive's step of the summary: the best epoch
    assert best in (1, 2, 3)
    val_loss = pd.read_csv(live / "plots/metrics/val_loss.tsv", sep="\t").set_index("step")["val_loss"]
    assert headline["val_loss"] == round(val_loss[best], 4)
    report = json.loads((workdir / "reports/train.json").read_text())
    assert report["best_epoch"] == best and not set(report) & {"val_loss", "val_attr_at_10", "val_recall_at_1"}
    assert report["epochs_run"] == 3 and report["early_stopped"] is False and report["pairs"] == 40
    assert all(round(v, 4) == v for v in report.values() if isinstance(v, float))
    card = json.loads((workdir / "artifacts/model/model.json").read_text())
    assert card["kind"] == "heads" and card["untrained"] is True and card["best_epoch"] == best
    (run_dir,) = (workdir / "artifacts/checkpoints").iterdir()
    assert card["params_hash"] == run_dir.name and {p.name for p in run_dir.iterdir()} == {"best.pt", "last.pt"}
    assert report["params_hash"] == run_dir.name
    before = outputs(workdir)
    assert "reports/train/metrics.json" in before and len(before) == 3 + len(
        CURVES
    )  # no dvc.yaml, report or timestamps

    # a finished run: nothing trains, the log is replayed from the checkpoint's history, byte for byte
    again = run_stage("train", workdir)
    assert again.returncode == 0 and "already finished" in again.stderr
    assert outputs(workdir) == before

    # training again from scratch (as `dvc repro -f` would, outs deleted) gives the same bytes too
    for path in ("artifacts/checkpoints", "reports", "artifacts/model"):
        shutil.rmtree(workdir / path)
    retrained = run_stage("train", workdir)
    assert retrained.returncode == 0 and "starting run" in retrained.stderr
    assert outputs(workdir) == before

    set_params(workdir, {"train.lr": 3e-4})
    fresh = run_stage("train", workdir)
    assert fresh.returncode == 0 and "starting run" in fresh.stderr
    assert len(list((workdir / "artifacts/checkpoints").iterdir())) == 2
    assert json.loads((workdir / "artifacts/model/model.json").read_text())["params_hash"] != card["params_hash"]


# The train stage as DVC runs it, killed (os._exit: no cleanup, like SIGKILL) right after epoch 2's checkpoint.
KILLED_AFTER_EPOCH_2 = """
import os, runpy, sys
import pipelines
import pipelines.training.loop as loop

save = loop.save_checkpoint

def save_then_die(state, path):
    save(state, path)
    if path.name == "last.pt" and state["epoch"] == 2:
        os._exit(137)

loop.save_checkpoint = save_then_die
sys.argv = ["stages.train"]
runpy.run_module("stages.train", run_name="__main__", alter_sys=True)
"""


def model_and_reports(cwd: Path) -> dict[str, str]:
    files = [p for p in sorted([*(cwd / "reports").rglob("*"), *(cwd / "artifacts/model").iterdir()]) if p.is_file()]
    return {str(p.relative_to(cwd)): hashlib.md5(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.slow  # three stage subprocesses
def test_a_train_killed_after_epoch_k_and_rerun_writes_the_uninterrupted_runs_bytes(run_stage, set_params, workdir):
    set_params(workdir, {"train.epochs": 5, "train.patience": 10})
    straight = workdir.parent / "straight"
    shutil.copytree(workdir, straight)
    assert run_stage("train", straight).returncode == 0

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_EPOCH_2], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == 137, killed.stderr[-3000:]
    assert not (workdir / "artifacts/model").exists()
    resumed = run_stage("train", workdir)  # a plain rerun over the partial DVCLive folder
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resum" in resumed.stderr.lower()
    assert model_and_reports(workdir) == model_and_reports(straight)


def test_pairs_naming_missing_items_fail_clearly_and_overwrite_nothing(run_stage, workdir):
    assert run_stage("train", workdir).returncode == 0
    model_json = (workdir / "artifacts/model/model.json").read_bytes()
    pairs = pd.read_parquet(workdir / "artifacts/pairs/pairs.parquet")
    pairs.loc[3, "other_id"] = "ghost"
    pairs.to_parquet(workdir / "artifacts/pairs/pairs.parquet", index=False)
    bad = run_stage("train", workdir)
    assert bad.returncode == 1
    assert (
        bad.stderr.strip().splitlines()[-1].startswith("error: artifacts/pairs/pairs.parquet: row 3 names item 'ghost'")
    )
    assert (workdir / "artifacts/model/model.json").read_bytes() == model_json


def test_a_diverging_run_fails_clearly_and_leaves_the_previous_outputs_in_place(run_stage, set_params, workdir):
    """DVCLive empties its folder when it starts: a failed plain run must not take the tracked curves with it."""
    assert run_stage("train", workdir).returncode == 0
    before = model_and_reports(workdir)
    assert any(name.startswith("reports/train/plots/metrics/") for name in before)
    set_params(workdir, {"train.lr": 1e30})  # a fresh run (new params hash) whose first step diverges
    failed = run_stage("train", workdir)
    assert failed.returncode == 1
    (error,) = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: train: the loss became") and "lower train.lr (now 1e+30)" in error
    assert "no checkpoint was written" in error and "last.pt" not in error  # none was: it diverged at once
    assert model_and_reports(workdir) == before
    assert not [p.name for p in (workdir / "reports").iterdir() if p.name.startswith(".")]  # no temporary left
