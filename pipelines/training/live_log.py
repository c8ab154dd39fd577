"""Training curves and the best epoch's headline numbers through DVCLive, byte-identical for equal runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.training.loop import LOG_COLUMNS

DECIMALS = 4
# What `dvc metrics diff` shows for training: the selected (best) epoch's validation numbers; DVCLive's `step`
# beside them is that epoch (best_epoch itself is in the plain report, so the metric holds no duplicate).
HEADLINE = ("val_attr_at_10", "val_loss", "val_recall_at_1")
CURVES = [c for c in LOG_COLUMNS if c != "epoch"]  # the epoch is DVCLive's step


def rounded(summary: dict[str, Any]) -> dict[str, Any]:
    """Floats rounded to DECIMALS (ints, flags, strings and nulls as they are)."""
    return {k: round(v, DECIMALS) if isinstance(v, float) else v for k, v in summary.items()}


def headline_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The best epoch's numbers from a TrainResult summary: the training metric under `metrics:`."""
    return rounded({k: summary[k] for k in HEADLINE})


def training_report(summary: dict[str, Any]) -> dict[str, Any]:
    """Everything else in a TrainResult summary (sampler shares, sizes, baselines, run hash): a plain report."""
    return rounded({k: v for k, v in summary.items() if k not in HEADLINE})


class LiveTrainingLog:
    """A DVCLive log in `directory`: `plots/metrics/<name>.tsv` (columns `step`, `<name>`; step = epoch) for
    every LOG_COLUMNS value, and `metrics.json` with the best epoch's headline numbers at the end.

    Nothing that varies between equal runs is written (no timestamps, no report) and nothing outside
    `directory` (no dvc.yaml, no experiment saved, no `next_step`/`end`, which signal the VS Code extension
    under `.dvc/tmp`).
    """

    def __init__(self, directory: str | Path) -> None:
        from dvclive.live import Live

        # A fresh Live empties its folder's metrics and plots; the trainer replays a resumed run's history into it.
        self.live = Live(str(directory), report=None, save_dvc_exp=False, dvcyaml=False)

    @property
    def directory(self) -> Path:
        return Path(self.live.dir)

    def log_epoch(self, row: dict[str, Any]) -> None:
        self.live.step = int(row["epoch"])
        for name in CURVES:
            self.live.log_metric(name, row[name], timestamp=False)

    def write_summary(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Write `metrics.json`: the best epoch's headline numbers and, as DVCLive's `step`, the best epoch."""
        self.live.summary = headline_metrics(summary)
        self.live.step = int(summary["best_epoch"])
        self.live.make_summary()
        return dict(self.live.summary)
