"""Gather a review from both revisions' committed reports and write it to a folder: report.md and plot images."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines.io import atomic_dir
from pipelines.params import PARAMS_FILE
from pipelines.review.findings import Review, SliceSettings
from pipelines.review.markdown import render_report
from pipelines.review.metric_changes import metric_changes, metrics_paths
from pipelines.review.params_changes import param_changes
from pipelines.review.plot_images import plots_diff, render_plots
from pipelines.review.revisions import Side, Snapshot, repo_root, resolve_side
from pipelines.review.scoreboard_changes import compare_targets, overall_verdict, target_results
from pipelines.review.slice_changes import gains, regressions, slice_changes, slice_scores

log = logging.getLogger(__name__)

# The files the review reads, as the evaluate and scoreboard stages write them (dvc.yaml names them as outs).
PARAMS = PARAMS_FILE.as_posix()
DVC_YAML = "dvc.yaml"
SCOREBOARD = "reports/scoreboard.json"
SCOREBOARD_DETAIL = "reports/scoreboard_detail.json"
BY_CATEGORY = "reports/metrics_by_category.json"
BY_VALUE = "reports/metrics_by_value.json"
REPORT = "report.md"


def _presence(
    review: Review, section: str, path: str, old: Any, new: Any, consequence: str = "its values show as new / removed"
) -> None:
    """Say in the section's notes when a file is missing at one side or both, and what that means there."""
    if old is None and new is None:
        review.note(section, f"`{path}` is absent at both revisions.")
    elif old is None:
        review.note(section, f"`{path}` is absent at BASE ({review.base.label}): {consequence}.")
    elif new is None:
        review.note(section, f"`{path}` is absent at HEAD ({review.head.label}): {consequence}.")


def _params(review: Review, old: Snapshot, new: Snapshot) -> None:
    before, after = old.read_yaml(PARAMS), new.read_yaml(PARAMS)
    _presence(review, "params", PARAMS, before, after)
    review.params = param_changes(before, after)


def _scoreboard(review: Review, old: Snapshot, new: Snapshot) -> None:
    boards = {
        side: (snap.read_json(SCOREBOARD), snap.read_json(SCOREBOARD_DETAIL))
        for side, snap in (("base", old), ("head", new))
    }
    _presence(
        review, "scoreboard", SCOREBOARD, boards["base"][0], boards["head"][0], "its targets show as new / removed"
    )
    _presence(
        review,
        "scoreboard",
        SCOREBOARD_DETAIL,
        boards["base"][1],
        boards["head"][1],
        "no query counts or intervals there, unless that side's scoreboard.json holds them",
    )
    review.base_verdict = overall_verdict(*boards["base"])
    review.head_verdict = overall_verdict(*boards["head"])
    review.targets = compare_targets(target_results(*boards["base"]), target_results(*boards["head"]))
    detail = boards["head"][1] or {}
    if detail.get("untrained_backbone"):
        review.note(
            "summary",
            "HEAD ran on an untrained backbone (`model.pretrained: none`): the numbers measure "
            "what the heads learn on random features.",
        )


def _metrics(review: Review, old: Snapshot, new: Snapshot) -> None:
    paths = list(dict.fromkeys(metrics_paths(new.read_yaml(DVC_YAML)) + metrics_paths(old.read_yaml(DVC_YAML))))
    if not paths:
        review.note("metrics", f"no revision's `{DVC_YAML}` declares metrics.")
    before, after = {path: old.read_json(path) for path in paths}, {path: new.read_json(path) for path in paths}
    for path in paths:
        _presence(review, "metrics", path, before[path], after[path])
    review.metrics = metric_changes(before, after)


def _slices(review: Review, old: Snapshot, new: Snapshot) -> None:
    settings = review.slices
    files = {path: (old.read_json(path), new.read_json(path)) for path in (BY_CATEGORY, BY_VALUE)}
    for path, (before, after) in files.items():
        _presence(review, "slices", path, before, after, "its slices are not compared")
    base = slice_scores(files[BY_CATEGORY][0], files[BY_VALUE][0], settings.model, settings.k)
    head = slice_scores(files[BY_CATEGORY][1], files[BY_VALUE][1], settings.model, settings.k)
    changes = slice_changes(base, head, settings.min_queries)
    review.slices_compared = len(changes)
    review.regressions = regressions(changes, settings.top)
    review.gains = gains(changes, settings.top)


def build_review(
    root: Path,
    base: Side,
    head: Side,
    review_dir: Path,
    image_format: str = "svg",
    slices: SliceSettings | None = None,
    artifact_url: str | None = None,
) -> Review:
    """Everything the report shows; plot images are written into `review_dir` on the way."""
    old, new = Snapshot(root, base), Snapshot(root, head)
    review = Review(base, head, slices=slices or SliceSettings(), artifact_url=artifact_url)
    _params(review, old, new)
    _scoreboard(review, old, new)
    _metrics(review, old, new)
    _slices(review, old, new)
    diff, notes = plots_diff(root, base, head)
    for text in notes:
        review.note("plots", text)
    review.plots = render_plots(diff, review_dir, image_format, [base.name, head.name])
    return review


def write_review(
    start: Path,
    base_rev: str,
    head_rev: str | None,
    out: Path,
    image_format: str = "svg",
    slices: SliceSettings | None = None,
    artifact_url: str | None = None,
) -> Path:
    """Compare BASE with HEAD (None: the working tree) in the repository that holds `start`; write `out/report.md`.

    The folder is replaced whole, so a failed run never leaves a report that mixes two reviews.
    """
    root = repo_root(start)
    base, head = resolve_side(root, base_rev), resolve_side(root, head_rev)
    log.info("reviewing %s against %s", head.label, base.label)
    with atomic_dir(out) as tmp:
        review = build_review(root, base, head, tmp, image_format, slices, artifact_url)
        (tmp / REPORT).write_text(render_report(review), encoding="utf-8")
    return out / REPORT
