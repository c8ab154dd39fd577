"""The DVCLive training log: exact files, nothing else written, a fresh log starts over, headline vs report split."""

import json

import pytest

from pipelines.training.live_log import LiveTrainingLog, headline_metrics, training_report

ROW = {
    "epoch": 1,
    "lr": 0.003,
    "loss": 2.5,
    "loss_contrastive": 4.0,
    "loss_pair": 0.375,
    "loss_attr": 1.25,
    "val_loss": 2.125,
    "val_recall_at_1": 0.0625,
    "val_attr_at_10": 0.25,
    "sampler_max_group_share": 0.3,
    "sampler_weak_category_share_min": 0.125,
    "sampler_weak_category_share_max": 0.25,
    "sampler_rare_material_share_min": 0.0625,
    "sampler_rare_material_share_max": 0.1875,
    "sampler_neckline_known_share_min": 0.5,
    "sampler_neckline_known_share_max": 0.6875,
}
SUMMARY = {
    "kind": "heads",
    "params_hash": "abc",
    "best_epoch": 2,
    "epochs_run": 3,
    "early_stopped": True,
    "val_loss": 1.123456,
    "val_attr_at_10": 0.345678,
    "val_recall_at_1": 0.0712345,
    "initial_val_loss": 2.987654,
    "baseline_val_attr_at_10": 0.2,
    "fusion_weight": None,
    "pairs": 40,
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # DVCLive looks for a DVC repo from here: not this project's
    return tmp_path


def test_epochs_become_tsv_rows_and_the_summary_holds_only_the_best_epoch(workdir):
    live = LiveTrainingLog(workdir / "reports/train")
    live.log_epoch(ROW)
    live.log_epoch({**ROW, "epoch": 2, "lr": 0.0015, "loss": 1.75})
    assert (workdir / "reports/train/plots/metrics/loss.tsv").read_text() == "step\tloss\n1\t2.5\n2\t1.75\n"
    assert (workdir / "reports/train/plots/metrics/lr.tsv").read_text() == "step\tlr\n1\t0.003\n2\t0.0015\n"
    assert not (workdir / "reports/train/metrics.json").exists()  # written once training has ended

    live.write_summary(SUMMARY)
    assert json.loads((workdir / "reports/train/metrics.json").read_text()) == {
        "step": 2,
        "val_attr_at_10": 0.3457,
        "val_loss": 1.1235,
        "val_recall_at_1": 0.0712,
    }
    # no timestamps, report, dvc.yaml or anything else, in the folder or beside it
    written = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*") if p.is_file())
    assert written == ["reports/train/metrics.json"] + [
        f"reports/train/plots/metrics/{name}.tsv" for name in sorted(k for k in ROW if k != "epoch")
    ]


def test_a_fresh_log_on_an_old_folder_starts_over(workdir):
    LiveTrainingLog(workdir / "live").log_epoch(ROW)
    again = LiveTrainingLog(workdir / "live")
    assert not (workdir / "live/plots/metrics/loss.tsv").exists()
    again.log_epoch(ROW)
    assert (workdir / "live/plots/metrics/loss.tsv").read_text() == "step\tloss\n1\t2.5\n"


def test_headline_and_report_split_the_summary_rounded_to_four_decimals():
    assert headline_metrics(SUMMARY) == {"val_attr_at_10": 0.3457, "val_loss": 1.1235, "val_recall_at_1": 0.0712}
    report = training_report(SUMMARY)
    assert report == {
        "kind": "heads",
        "params_hash": "abc",
        "best_epoch": 2,
        "epochs_run": 3,
        "early_stopped": True,
        "initial_val_loss": 2.9877,
        "baseline_val_attr_at_10": 0.2,
        "fusion_weight": None,
        "pairs": 40,
    }
    assert report["early_stopped"] is True
