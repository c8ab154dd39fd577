"""The scoreboard: fine-tuned vs baseline on the locked targets (params `scoreboard.targets`), pass or miss each."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.evaluation.config import Target
from pipelines.evaluation.bootstrap import bootstrap_generator, paired_delta_interval
from pipelines.evaluation.tasks import I2I

BASELINE, FINETUNED = "baseline", "finetuned"
POINTS = 100.0  # deltas are in points: 0.05 of attribute@10 is 5 points
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
    delta: float | None        # points
    delta_lo: float | None     # points
    delta_hi: float | None     # points
    status: str                # pass | miss | no data
    note: str

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def name(self) -> str:
        return f"{self.metric} [{self.slice}]"


def compute_scoreboard(
    targets: list[Target],
    metrics_detail: dict,
    metrics_by_category: dict,
    metrics_by_value: dict,
    per_query: pd.DataFrame,
    *,
    resamples: int,
    seed: int,
) -> list[TargetResult]:
    """Score every target: values and query counts from evaluate's detailed metrics files (the full table,
    per category, per value), the delta interval from a paired bootstrap over the per-query scores (checked
    against the metrics files first)."""
    for name, data in (("metrics_detail.json", metrics_detail), ("metrics_by_category.json", metrics_by_category),
                       ("metrics_by_value.json", metrics_by_value)):
        missing = [m for m in (BASELINE, FINETUNED) if not isinstance(data.get(m), dict)]
        if missing:
            raise PipelineError(f"reports/{name}: no {missing[0]!r} section (expected {{'baseline': ..., 'finetuned': ...}})")
    return [_score(t, metrics_detail, metrics_by_category, metrics_by_value, per_query, resamples, seed) for t in targets]


def _score(target, metrics, by_category, by_value, per_query, resamples, seed) -> TargetResult:
    attribute_metric = _ATTRIBUTE_METRIC.match(target.metric)
    metric_key = f"{I2I}/{target.metric}" if attribute_metric else target.metric
    for model in (BASELINE, FINETUNED):
        if f"{metric_key}_n" not in metrics[model]:
            raise PipelineError(
                f"scoreboard target {target.name}: reports/metrics_detail.json has no {metric_key!r} for {model} "
                "(is the attribute in eval.attributes and K in eval.ks, or the metric in the task table?)"
            )
    values, n = {}, 0
    for model in (BASELINE, FINETUNED):
        values[model], n = _lookup(target, metric_key, attribute_metric, metrics[model], by_category[model], by_value[model])
    if n == 0 or None in values.values():
        return TargetResult(target.metric, target.slice, target.min_delta, 0, None, None, None, None, None,
                            "no data", f"no test query in slice {target.slice} has a known value for {target.metric}; "
                            "the target cannot pass until the test split holds such items")
    baseline, finetuned = _paired_scores(target, metric_key, attribute_metric, per_query)
    _check_consistent(target, n, values, baseline, finetuned)
    interval = paired_delta_interval(baseline, finetuned, resamples, bootstrap_generator(seed, f"scoreboard/{target.name}"))
    # Rounded before the comparison: 0.4 - 0.3 is 9.999999999999998 points, which meets a +10 target.
    delta = round((values[FINETUNED] - values[BASELINE]) * POINTS, 4)
    passed = delta >= target.min_delta
    note = "" if passed else f"{delta:+.1f} pts is short of the +{target.min_delta:g} pts target"
    if interval[0] * POINTS <= 0 <= interval[1] * POINTS:
        note = (note + "; " if note else "") + "the interval includes 0: not distinguishable from noise"
    return TargetResult(
        target.metric, target.slice, target.min_delta, n, values[BASELINE], values[FINETUNED],
        delta, round(interval[0] * POINTS, 4), round(interval[1] * POINTS, 4),
        "pass" if passed else "miss", note,
    )


def _lookup(target, metric_key, attribute_metric, metrics, by_category, by_value) -> tuple[float | None, int]:
    """(value, query count) of the target in one model's metrics; (None, 0) when the slice has no queries."""
    if target.slice == "all":
        return metrics.get(metric_key), int(metrics[f"{metric_key}_n"])
    attribute, _, value = target.slice.partition("=")
    if attribute == attribute_metric["attribute"]:
        entry = by_value.get(target.slice, {})
        return entry.get(target.metric), int(entry.get("n", 0))
    if attribute == "category":
        entry = by_category.get(value, {})
        return entry.get(target.metric), int(entry.get(f"{attribute_metric['attribute']}_n", 0))
    raise PipelineError(
        f"scoreboard target {target.name}: slices are broken down by category (any attribute metric) or by the "
        f"metric's own attribute (e.g. material@10 on material=denim), not {attribute}= for {target.metric}"
    )


def _paired_scores(target, metric_key, attribute_metric, per_query) -> tuple[np.ndarray, np.ndarray]:
    task, _, metric = metric_key.partition("/")
    rows = per_query[per_query["task"] == task]
    if target.slice != "all":
        attribute, _, value = target.slice.partition("=")
        rows = rows[rows[attribute] == value]
    columns = [f"{BASELINE}/{metric}", f"{FINETUNED}/{metric}"]
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise PipelineError(f"per-query scores lack column {missing[0]!r}: rerun the evaluate stage")
    pairs = rows[columns].dropna().to_numpy(dtype=np.float64)
    return pairs[:, 0], pairs[:, 1]


def _check_consistent(target, n, values, baseline, finetuned) -> None:
    means = {BASELINE: baseline.mean() if len(baseline) else None, FINETUNED: finetuned.mean() if len(finetuned) else None}
    for model, mean in means.items():
        if len(baseline) != n or mean is None or abs(mean - values[model]) > 1e-5:
            raise PipelineError(
                f"scoreboard target {target.name}: the metrics files ({values[model]}, n={n}) and the per-query "
                f"scores ({mean}, n={len(baseline)}) disagree for {model}; rerun the evaluate stage"
            )


def scoreboard_json(results: list[TargetResult]) -> dict:
    """reports/scoreboard.json, the DVC metric: per target (keyed by its name) baseline, finetuned, delta (points)
    and pass, nothing else, rounded to 4 decimals; null values for a target with no data. The interval, query
    count, threshold, status and notes are in scoreboard_detail.json and scoreboard.md."""
    return {
        r.name: {
            "baseline": _rounded(r.baseline),
            "finetuned": _rounded(r.finetuned),
            "delta": _rounded(r.delta),
            "pass": r.passed,
        }
        for r in results
    }


def scoreboard_detail(results: list[TargetResult], untrained_backbone: bool) -> dict:
    """reports/scoreboard_detail.json (a plain report): the verdict, how the interval is computed, and every
    field of every target, notes included."""
    return {
        "pass": bool(results) and all(r.passed for r in results),
        "passed": sum(r.passed for r in results),
        "targets_total": len(results),
        "untrained_backbone": untrained_backbone,
        "interval": INTERVAL_METHOD,
        "targets": {r.name: {**asdict(r), "pass": r.passed} for r in results},
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), HEADLINE_DECIMALS)


def missed(results: list[TargetResult]) -> list[str]:
    return [r.name + (" (no data)" if r.status == "no data" else "") for r in results if not r.passed]


def scoreboard_markdown(results: list[TargetResult], untrained_backbone: bool) -> str:
    """reports/scoreboard.md: the table a reviewer reads."""
    lines = ["# Scoreboard: fine-tuned vs frozen baseline", ""]
    if untrained_backbone:
        lines += [
            "> **Warning: the backbone is untrained** (`model.pretrained: none`, seeded random weights). These "
            "numbers show that the pipeline runs end to end; they say nothing about a fine-tune of a real CLIP.",
            "",
        ]
    verdict = "PASS" if results and all(r.passed for r in results) else "FAIL"
    lines += [
        f"**Overall: {verdict}** ({sum(r.passed for r in results)} of {len(results)} targets met)",
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
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return "\n".join(lines)
