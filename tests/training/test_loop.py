"""The training loop: it learns, clips each step's gradients, stops on NaN keeping the last good checkpoint, and
resumes after a kill; its DVCLive log (curves, the sampler's per-batch extremes) replays a resumed run's history,
so it ends byte-identical to an uninterrupted run's."""

import dataclasses
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from train_synthetic import RUN, small_run

from pipelines.errors import PipelineError
from pipelines.training.checkpoint import load_checkpoint
from pipelines.training.live_log import LiveTrainingLog
from pipelines.training.loop import LOG_COLUMNS, NonFiniteLossError, Trainer
from pipelines.training.validation import validation_retrieval

HERE = Path(__file__).parent


@pytest.fixture
def outside_any_repo(tmp_path, monkeypatch):
    """DVCLive looks for a DVC repo from the working folder: keep it away from this project's."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def live_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fit_with_live_log(checkpoint_root: Path, live_dir: Path, epochs: int):
    live = LiveTrainingLog(live_dir)
    result = small_run(checkpoint_root, epochs=epochs).fit(epoch_log=live)
    live.write_summary(result.summary)
    return result


def test_training_lowers_val_loss_and_beats_the_frozen_baseline(tmp_path, outside_any_repo):
    result = fit_with_live_log(tmp_path / "run", tmp_path / "live", epochs=8)
    log = result.log
    assert list(log.columns) == LOG_COLUMNS and log["epoch"].tolist() == list(range(1, 9))
    assert log["val_loss"].iloc[-1] < 0.9 * log["val_loss"].iloc[0]
    assert log["loss"].iloc[-1] < log["loss"].iloc[0]
    assert result.summary["val_loss"] < result.summary["initial_val_loss"]
    baseline = result.summary["baseline_val_recall_at_1"]
    assert result.summary["val_recall_at_1"] >= baseline + 0.05
    assert result.summary["val_attr_at_10"] >= result.summary["baseline_val_attr_at_10"] + 0.01
    best = load_checkpoint(tmp_path / "run" / RUN / "best.pt")
    assert best["epoch"] == result.summary["best_epoch"] and best["params_hash"] == RUN
    assert set(best) >= {"model", "optimizer", "epoch", "params_hash", "store_hash"}

    # the DVCLive log: one TSV per curve, one row per epoch (step = epoch), the values the loop computed
    curves = sorted(p.stem for p in (tmp_path / "live/plots/metrics").glob("*.tsv"))
    assert curves == sorted(c for c in LOG_COLUMNS if c != "epoch")
    for name in curves:
        tsv = pd.read_csv(tmp_path / f"live/plots/metrics/{name}.tsv", sep="\t")
        assert list(tsv.columns) == ["step", name]
        assert tsv["step"].tolist() == list(range(1, 9))
        assert tsv[name].tolist() == log[name].tolist(), name
    # its summary: the best epoch alone, rounded (DVCLive's `step` is that epoch too)
    best_row = log.set_index("epoch").loc[result.summary["best_epoch"]]
    assert json.loads((tmp_path / "live/metrics.json").read_text()) == {
        "step": result.summary["best_epoch"],
        **{k: round(float(best_row[k]), 4) for k in ("val_attr_at_10", "val_loss", "val_recall_at_1")},
    }
    assert set(live_files(tmp_path / "live")) == {"metrics.json", *(f"plots/metrics/{c}.tsv" for c in curves)}


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = small_run(tmp_path, epochs=3)

    def poison(epoch, row):
        with torch.no_grad():
            trainer.model.text_head[0].weight.fill_(float("nan"))

    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2, step 0.*last good checkpoint .*epoch 1"):
        trainer.fit(on_epoch_end=poison)
    kept = load_checkpoint(trainer.run_dir / "last.pt")
    assert kept["epoch"] == 1 and all(torch.isfinite(v).all() for v in kept["model"].values())


def test_nan_loss_in_the_first_epoch_names_no_checkpoint(tmp_path):
    trainer = small_run(tmp_path, epochs=3)
    with torch.no_grad():
        trainer.model.text_head[0].weight.fill_(float("nan"))

    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 1, step 0") as info:
        trainer.fit()
    assert "no checkpoint was written (a rerun starts from epoch 1)" in str(info.value)
    assert "last.pt" not in str(info.value) and not (trainer.run_dir / "last.pt").exists()


def test_a_finished_run_is_reexported_without_training_and_its_history_replayed(tmp_path, outside_any_repo):
    first = fit_with_live_log(tmp_path / "run", tmp_path / "first", epochs=2)
    again = fit_with_live_log(tmp_path / "run", tmp_path / "again", epochs=2)
    assert again.resumed_from_epoch == 2 and again.samples_per_second == 0.0
    assert again.log.equals(first.log) and again.summary == first.summary
    assert (tmp_path / "again/plots/metrics/loss.tsv").read_text().splitlines()[0] == "step\tloss"
    assert len((tmp_path / "again/plots/metrics/loss.tsv").read_text().splitlines()) == 3
    assert live_files(tmp_path / "again") == live_files(tmp_path / "first")


def test_a_killed_run_resumes_from_its_last_checkpoint_and_ends_where_an_uninterrupted_run_ends(
    tmp_path, outside_any_repo
):
    epochs = 6
    killed, killed_live = tmp_path / "killed", tmp_path / "killed_live"
    killed_last = killed / RUN / "last.pt"
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "resume_worker.py"), str(killed), str(epochs), "0.4", str(killed_live)],
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while not killed_last.exists():
            assert proc.poll() is None, "the worker exited before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    interrupted_at = load_checkpoint(killed_last)["epoch"]
    assert 1 <= interrupted_at < epochs and not load_checkpoint(killed_last)["finished"]
    # the killed run logged each epoch as it ended (a kill between checkpoint and log loses that last row)
    partial = pd.read_csv(killed_live / "plots/metrics/loss.tsv", sep="\t")["step"].tolist()
    assert partial in (list(range(1, interrupted_at)), list(range(1, interrupted_at + 1)))
    assert not (killed_live / "metrics.json").exists()

    # resumed on the partial log folder (a plain rerun; `dvc repro` would have deleted it first)
    resumed = fit_with_live_log(killed, killed_live, epochs=epochs)
    assert resumed.resumed_from_epoch == interrupted_at
    assert resumed.log["epoch"].tolist() == list(range(1, epochs + 1))

    straight = fit_with_live_log(tmp_path / "straight", tmp_path / "straight_live", epochs=epochs)
    a, b = load_checkpoint(killed_last), load_checkpoint(tmp_path / "straight" / RUN / "last.pt")
    for name, weight in a["model"].items():
        assert torch.equal(weight, b["model"][name]), name
    assert resumed.log.equals(straight.log)
    assert live_files(killed_live) == live_files(tmp_path / "straight_live")
    for name in ("last.pt", "best.pt"):  # every value equal is not enough: dvc.lock hashes the bytes
        assert (killed / RUN / name).read_bytes() == (tmp_path / "straight" / RUN / name).read_bytes(), name


def test_val_attribute_at_10_skips_the_query_s_own_product_and_counts_empty_slots_as_misses():
    # rows 0 and 1 are two views of one product; 2 is the nearest other product, 3 the farthest
    image = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.01], [1.0, 0.2], [0.0, 1.0]]), dim=1)
    image = image.numpy()
    labels = {"color": np.array([0, 0, 1, 1])}
    texts = np.arange(4)
    # other products only, 10 slots each, the empty ones misses: 0 and 1 see 2, 3 (no hit);
    # 2 sees 1, 0, 3 (one hit); 3 sees 2, 1, 0 (one hit)
    by_product = validation_retrieval(image, image, labels, np.array([0, 0, 1, 2]), texts)
    assert by_product["val_attr_at_10"] == pytest.approx(np.mean([0.0, 0.0, 0.1, 0.1]))
    # grouped by item instead, the other view counts: 0 and 1 see each other, a hit each
    by_item = validation_retrieval(image, image, labels, np.arange(4), texts)
    assert by_item["val_attr_at_10"] == pytest.approx(0.1)
    assert by_item["val_recall_at_1"] == 1.0  # each image's nearest text is its own


def test_the_constructor_does_no_work_and_the_baselines_are_an_explicit_step(tmp_path):
    trainer = small_run(tmp_path, epochs=1)
    assert trainer.baselines is None and not any(tmp_path.iterdir())
    baselines = trainer.measure_baselines()
    assert set(baselines) == {"initial_val_loss", "baseline_val_recall_at_1", "baseline_val_attr_at_10"}
    assert 0 < baselines["baseline_val_attr_at_10"] < 1 and baselines["initial_val_loss"] > 0
    result = trainer.fit()  # measured once: fit keeps them
    assert {k: result.summary[k] for k in baselines} == baselines


def test_non_finite_store_keys_fail_before_any_step_naming_the_row(tmp_path):
    trainer = small_run(tmp_path, epochs=1)
    trainer.data.image_keys[3, 0] = np.nan
    with pytest.raises(PipelineError, match="image_keys: row 3 holds NaN"):
        trainer.fit()
    assert not (trainer.run_dir / "last.pt").exists()


def test_the_trainer_copies_only_train_and_val_rows_and_reads_them_as_the_store_holds_them(tmp_path):
    trainer = small_run(tmp_path, epochs=1)
    data = trainer.data
    used = np.union1d(data.train_rows, data.val_rows)
    test_rows = np.flatnonzero(data.meta["split"].to_numpy() == "test")
    assert len(test_rows) and len(trainer.text.rows) == len(used) < len(data.meta)
    rows = np.array([used[5], used[0], used[-1], used[5]])
    np.testing.assert_array_equal(trainer.text[rows].numpy(), data.text_keys[rows])
    np.testing.assert_array_equal(trainer.images.features(rows).numpy(), data.image_keys[rows])
    with pytest.raises(PipelineError, match=f"store row {test_rows[0]} is neither a train nor a val row"):
        trainer.text[test_rows[:1]]


def test_training_on_a_memory_mapped_store_matches_training_on_its_arrays(tmp_path):
    from pipelines.store import write_store

    in_memory = small_run(tmp_path / "a", epochs=1)
    data = in_memory.data
    # before the second Trainer: both draw dropout masks from torch's global generator, which each seeds when built
    expected = in_memory.fit().log
    store = write_store(
        tmp_path / "store",
        data.meta,
        data.image_keys,
        data.text_keys,
        np.zeros((len(data.meta), 2)),
        {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0},
        "test",
    )
    from_store = dataclasses.replace(data, image_keys=store.image_keys, text_keys=store.text_keys)
    mapped = Trainer(from_store, in_memory.cfg, seed=7, params_hash=RUN, store_hash="s", checkpoint_root=tmp_path / "b")
    assert isinstance(mapped.data.image_keys, np.memmap)
    pd.testing.assert_frame_equal(mapped.fit().log, expected)


def applied_grad_norms(trainer: Trainer) -> list[float]:
    """Train one epoch, recording the global L2 norm of the gradients each optimizer step applies."""
    norms: list[float] = []
    step = trainer.optimizer.step

    def recording_step(*args, **kwargs):
        grads = [p.grad for p in trainer.trained if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
        return step(*args, **kwargs)

    trainer.optimizer.step = recording_step
    trainer.train_epoch(1)
    return norms


def test_gradient_clipping_bounds_the_norm_each_step_applies_and_is_off_at_0(tmp_path):
    weights = {"contrastive_weight": 100.0, "pair_weight": 100.0, "attr_weight": 100.0}  # gradients far above 1
    unclipped = applied_grad_norms(small_run(tmp_path / "off", epochs=1, grad_clip=0.0, **weights))
    clipped = applied_grad_norms(small_run(tmp_path / "on", epochs=1, grad_clip=0.5, **weights))
    assert len(clipped) == len(unclipped) > 1 and min(unclipped) > 10
    assert all(norm <= 0.5 * (1 + 1e-5) for norm in clipped)
    # step 1 sees the same gradient in both runs (same seed, same dropout masks): clipping rescales it to the bound
    assert clipped[0] == pytest.approx(0.5, rel=1e-5)


def test_each_epoch_logs_the_sampler_s_per_batch_extremes_rounded(tmp_path, outside_any_repo):
    result = fit_with_live_log(tmp_path / "run", tmp_path / "live", epochs=2)
    spread = [c for c in LOG_COLUMNS if c.startswith("sampler_")]
    assert len(spread) == 7
    for column in spread:
        tsv = pd.read_csv(tmp_path / f"live/plots/metrics/{column}.tsv", sep="\t")
        assert tsv["step"].tolist() == [1, 2]
        expected = [round(stats[column.removeprefix("sampler_")], 4) for stats in result.sampler_stats]
        assert tsv[column].tolist() == expected, column
        assert all(0 <= v <= 1 and round(v, 4) == v for v in tsv[column]), column
    for stats in result.sampler_stats:  # the epoch's share lies within its batches' range
        for share in ("weak_category_share", "rare_material_share", "neckline_known_share"):
            assert stats[f"{share}_min"] <= stats[share] <= stats[f"{share}_max"], share
        assert stats["weak_category_share_min"] < stats["weak_category_share_max"]
    assert set(json.loads((tmp_path / "live/metrics.json").read_text())) == {
        "step",
        "val_attr_at_10",
        "val_loss",
        "val_recall_at_1",
    }
