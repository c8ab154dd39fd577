"""The scoreboard: fine-tuned vs baseline on the locked targets (params `scoreboard.targets`), pass or miss each."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.evaluation.bootstrap import bootstrap_generator, paired_delta_interval
from pipelines.evaluation.config import Target
from pipelines.evaluation.tasks import I2I

BASELINE, FINETUNED = "baseline", "finetuned"
POINTS = 100.0  # deltas are in points: 0.05 of attribute@10 is 5 points
VALUE_DECIMALS = 6  # as reports/metrics_detail.json
HEADLINE_DECIMALS = 4  # scoreboard.json is a DVC metric: short numbers, so `dvc metrics diff` reads at a glance
_ATTRIBUTE_METRIC = re.compile(r"^(?P<attribute>[a-z_]+)@(?P<k>[0-9]+)$")
INTERVAL_METHOD = (
    "95% interval of the delta: percentile bootstrap over the target's queries, resampling the same queries "
    "for both models (paired), from evaluate's per-query scores"
)


@dataclass(frozen=True)
class TargetResult:
    metric: str
    slice: str
    min_delta: float
    n: int
    baseline: float | None
    finetuned: float | None
    delta: float | None  # points
    delta_lo: float | None  # points
    delta_hi: float | None  # points
    status: str  # pass | miss | no data
    note: str

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def name(self) -> str:
        return f"{self.metric} [{self.slice}]"


def compute_scoreboard(
    targets: list[Target],
    per_query: pd.DataFrame,
    *,
    resamples: int,
    seed: int,
) -> list[TargetResult]:
    """Score every target from evaluate's per-query scores (the one table the metrics files summarise): the mean
    of each model over the target's queries, the delta, and its interval from a paired bootstrap."""
    return [_score(t, per_query, resamples, seed) for t in targets]


def _score(target: Target, per_query: pd.DataFrame, resamples: int, seed: int) -> TargetResult:
    attribute_metric = _ATTRIBUTE_METRIC.match(target.metric)
    metric_key = f"{I2I}/{target.metric}" if attribute_metric else target.metric
    baseline, finetuned = _paired_scores(target, metric_key, per_query)
    if len(baseline) == 0:
        return TargetResult(
            target.metric,
            target.slice,
            target.min_delta,
            0,
            None,
            None,
            None,
            None,
            None,
            "no data",
            f"no test query in slice {target.slice} has a known value for {target.metric}; "
            "the target cannot pass until the test split holds such items",
        )
    # to the metrics files' precision, so the scoreboard and metrics_detail.json agree digit for digit
    values = {
        BASELINE: round(float(baseline.mean()), VALUE_DECIMALS),
        FINETUNED: round(float(finetuned.mean()), VALUE_DECIMALS),
    }
    interval = paired_delta_interval(
        baseline, finetuned, resamples, bootstrap_generator(seed, f"scoreboard/{target.name}")
    )
    assert interval is not None  # the queries were counted above: an empty target returned early
    # Rounded before the comparison: 0.4 - 0.3 is 9.999999999999998 points, which meets a +10 target.
    delta = round((values[FINETUNED] - values[BASELINE]) * POINTS, 4)
    passed = delta >= target.min_delta
    note = "" if passed else f"{delta:+.1f} pts is short of the +{target.min_delta:g} pts target"
    if interval[0] * POINTS <= 0 <= interval[1] * POINTS:
        note = (note + "; " if note else "") + "the interval includes 0: not distinguishable from noise"
    return TargetResult(
        target.metric,
        target.slice,
        target.min_delta,
        len(baseline),
        values[BASELINE],
        values[FINETUNED],
        delta,
        round(interval[0] * POINTS, 4),
        round(interval[1] * POINTS, 4),
        "pass" if passed else "miss",
        note,
    )


def _paired_scores(target: Target, metric_key: str, per_query: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Both models' scores on the target's queries that have one (a query with an unknown value has none)."""
    task, _, metric = metric_key.partition("/")
    columns = [f"{BASELINE}/{metric}", f"{FINETUNED}/{metric}"]
    rows = per_query[per_query["task"] == task]
    if any(c not in rows.columns for c in columns):
        raise PipelineError(
            f"scoreboard target {target.name}: evaluate's per-query scores have no {metric_key!r} (is the attribute "
            "in eval.attributes and K in eval.ks, or the metric in the task table?); rerun the evaluate stage"
        )
    if target.slice != "all":
        attribute, _, value = target.slice.partition("=")
        if attribute not in rows.columns:
            raise PipelineError(
                f"scoreboard target {target.name}: evaluate's per-query scores have no {attribute!r} column"
            )
        rows = rows[rows[attribute] == value]
    pairs = rows[columns].dropna().to_numpy(dtype=np.float64)
    return pairs[:, 0], pairs[:, 1]


def metric_keys(results: list[TargetResult]) -> list[str]:
    """Short keys for the metrics file, as `dvc exp show` columns: `neckline@10`, `category@10 cardigans`
    (`<metric> <field>=<value>` where a value alone would name two targets). No brackets: the terminal table
    reads `[...]` as markup and drops it."""
    short = [r.metric if r.slice == "all" else f"{r.metric} {r.slice.partition('=')[2]}" for r in results]
    return [key if short.count(key) == 1 else f"{r.metric} {r.slice}" for key, r in zip(short, results, strict=True)]


def scoreboard_json(results: list[TargetResult]) -> dict[str, Any]:
    """reports/scoreboard.json, the DVC metric: per target (see metric_keys) baseline, finetuned, delta (points)
    and pass, nothing else, rounded to 4 decimals; null values for a target with no data. The interval, query
    count, threshold, status and notes are in scoreboard_detail.json and scoreboard.md."""
    return {
        key: {
            "baseline": _rounded(r.baseline),
            "finetuned": _rounded(r.finetuned),
            "delta": _rounded(r.delta),
            "pass": r.passed,
        }
        for key, r in zip(metric_keys(results), results, strict=True)
    }


PLAN_RULE = (
    "the plan's success rule: every whole-test-set target (slice all, e.g. neckline@10) meets its threshold, and "
    "every sliced target (the weak classes and rare materials) shows a positive gain"
)


def plan_verdict(results: list[TargetResult]) -> bool:
    """The plan's success rule (PLAN_RULE): a slice with no data shows no gain, so it fails the rule."""
    if not results:
        return False
    return all(r.passed if r.slice == "all" else r.delta is not None and r.delta > 0 for r in results)


def scoreboard_detail(results: list[TargetResult], untrained_backbone: bool) -> dict[str, Any]:
    """reports/scoreboard_detail.json (a plain report): the verdict by the plan's rule, whether every target met
    its own threshold, how the interval is computed, and every field of every target, notes included."""
    return {
        "pass": plan_verdict(results),
        "rule": PLAN_RULE,
        "all_targets_met": bool(results) and all(r.passed for r in results),
        "passed": sum(r.passed for r in results),
        "targets_total": len(results),
        "untrained_backbone": untrained_backbone,
        "interval": INTERVAL_METHOD,
        "targets": {key: {**asdict(r), "pass": r.passed} for key, r in zip(metric_keys(results), results, strict=True)},
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), HEADLINE_DECIMALS)


def missed(results: list[TargetResult]) -> list[str]:
    return [r.name + (" (no data)" if r.status == "no data" else "") for r in results if not r.passed]


def scoreboard_markdown(
    results: list[TargetResult], untrained_backbone: bool, graphic_patterns: list[str] | None = None
) -> str:
    """reports/scoreboard.md: the table a reviewer reads. `graphic_patterns`: the graphic policy evaluate applied to
    the category metrics (its run card), stated under the table when a target is one."""
    lines = ["# Scoreboard: fine-tuned vs frozen baseline", ""]
    if untrained_backbone:
        lines += [
            "> **Warning: the backbone is untrained** (`model.pretrained: none`, seeded random weights). These "
            "numbers show that the pipeline runs end to end; they say nothing about a fine-tune of a real CLIP.",
            "",
        ]
    verdict = "PASS" if plan_verdict(results) else "FAIL"
    lines += [
        f"**Overall: {verdict}** by {PLAN_RULE}.",
        "",
        f"Targets met at their own thresholds: {sum(r.passed for r in results)} of {len(results)}.",
        "",
        "| target | slice | queries | baseline | fine-tuned | delta (pts) | 95% CI of delta (pts) | needed | result |",
        "|---|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        if r.status == "no data":
            lines.append(f"| {r.metric} | {r.slice} | 0 | – | – | – | – | +{r.min_delta:g} | no data |")
            continue
        lines.append(
            f"| {r.metric} | {r.slice} | {r.n} | {r.baseline:.3f} | {r.finetuned:.3f} | {r.delta:+.1f} | "
            f"[{r.delta_lo:+.1f}, {r.delta_hi:+.1f}] | +{r.min_delta:g} | {r.status} |"
        )
    notes = [f"- {r.name}: {r.note}" for r in results if r.note]
    lines += ["", f"Deltas are fine-tuned minus baseline, in points (×100). {INTERVAL_METHOD}.", ""]
    if graphic_patterns and any(r.metric.startswith("category@") for r in results):
        lines += [
            f"Graphic policy: category@K reads an item whose pattern is {' or '.join(graphic_patterns)} as having no "
            "category (a print is pattern-only evidence), so it is neither a query nor a hit "
            "(`eval.graphic_patterns`).",
            "",
        ]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return "\n".join(lines)
