"""Summaries of the per-query table: the headline, the full metric table with intervals, per-category and per-value
breakdowns, plot data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.evaluation.bootstrap import bootstrap_generator, bootstrap_interval
from pipelines.evaluation.config import EvalConfig
from pipelines.evaluation.evaluator import attribute_column
from pipelines.evaluation.tasks import I2I, TaskTable
from pipelines.schema import UNKNOWN

DECIMALS = 6  # the detail files are rounded so that equal runs give equal bytes and diffs stay readable
HEADLINE_DECIMALS = 4  # files under `metrics:` in dvc.yaml: what `dvc metrics diff` and `dvc exp show` print
PLOT_K = 10
CURVE_ATTRIBUTE = "category"
MEAN_ATTRIBUTE = "mean_attribute"  # i2i/mean_attribute@K: attribute@K averaged over eval.attributes
# reports/metrics.json, per model: a few overall numbers. {k} is the K of the bars (10 unless eval.ks lacks it).
# neckline@10 is left out on purpose: the scoreboard's `neckline@10 [all]` target already shows it.
HEADLINE = (f"{I2I}/{MEAN_ATTRIBUTE}@{{k}}", f"{I2I}/{CURVE_ATTRIBUTE}@{{k}}", "t2i_title/recall@10")


def task_metrics(table: TaskTable, cfg: EvalConfig) -> dict[str, list[str]]:
    """Metric columns of each task, in report order."""
    out = {}
    for task in table.tasks:
        if task.relevance == "attributes":
            out[task.name] = [attribute_column(a, k) for a in cfg.attributes for k in sorted(cfg.ks)]
        else:
            out[task.name] = list(task.metrics)
    return out


def metric_table(
    per_query: pd.DataFrame, models: list[str], table: TaskTable, cfg: EvalConfig, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """metrics_detail.json (`{model: {"<task>/<metric>": mean, "<task>/<metric>_n": queries}}`) and the
    intervals (`{model: {"<task>/<metric>": {"lo", "hi"}}}`, seeded percentile bootstrap over queries)."""
    metrics: dict[str, dict[str, Any]] = {m: {} for m in models}
    intervals: dict[str, dict[str, Any]] = {m: {} for m in models}
    for task, columns in task_metrics(table, cfg).items():
        rows = per_query[per_query["task"] == task]
        for column in columns:
            key = f"{task}/{column}"
            for model in models:
                values = _values(rows, model, column)
                metrics[model][f"{key}_n"] = int(len(values))
                if len(values) == 0:
                    continue  # a metric with no query is absent, its _n says why
                metrics[model][key] = _round(values.mean())
                interval = bootstrap_interval(values, cfg.bootstrap, bootstrap_generator(seed, f"{model}/{key}"))
                assert interval is not None  # values is not empty
                intervals[model][key] = {"lo": _round(interval[0]), "hi": _round(interval[1])}
    return metrics, intervals


def headline(detail: dict[str, Any], cfg: EvalConfig) -> dict[str, Any]:
    """metrics.json, the DVC metric: `{model: {key: value}}` for the HEADLINE keys, rounded to 4 decimals.

    `i2i/mean_attribute@K` is the unweighted mean of image->image attribute@K over the eval.attributes that
    have a query with a known value; a key whose metric has no query is left out (metrics_detail.json's
    `_n` counts say why)."""
    k = plot_k(cfg)
    out: dict[str, dict[str, Any]] = {}
    for model, values in detail.items():
        attributes = [values[key] for a in cfg.attributes if (key := f"{I2I}/{attribute_column(a, k)}") in values]
        known = values | ({f"{I2I}/{MEAN_ATTRIBUTE}@{k}": float(np.mean(attributes))} if attributes else {})
        keys = [template.format(k=k) for template in HEADLINE]
        out[model] = {key: round(float(known[key]), HEADLINE_DECIMALS) for key in keys if key in known}
    return out


def by_category(per_query: pd.DataFrame, models: list[str], cfg: EvalConfig) -> dict[str, Any]:
    """`{model: {category: {"<attr>@K": mean, "<attr>_n": queries, "n": queries}}}` over image->image queries."""
    rows = per_query[(per_query["task"] == I2I) & (per_query["category"] != UNKNOWN)]
    out: dict[str, dict[str, Any]] = {m: {} for m in models}
    for category, group in rows.groupby("category", sort=True):
        for model in models:
            entry: dict[str, float | int] = {"n": int(len(group))}
            for attribute in cfg.attributes:
                entry[f"{attribute}_n"] = int(group[f"{model}/{attribute_column(attribute, cfg.ks[0])}"].notna().sum())
                for k in sorted(cfg.ks):
                    values = _values(group, model, attribute_column(attribute, k))
                    if len(values):
                        entry[attribute_column(attribute, k)] = _round(values.mean())
            out[model][str(category)] = entry
    return out


def by_value(per_query: pd.DataFrame, models: list[str], cfg: EvalConfig) -> dict[str, Any]:
    """`{model: {"<attr>=<value>": {"<attr>@K": mean, "n": queries}}}`: each attribute's own metric per value."""
    rows = per_query[per_query["task"] == I2I]
    out: dict[str, dict[str, Any]] = {m: {} for m in models}
    for attribute in cfg.attributes:
        known = rows[rows[attribute] != UNKNOWN]
        for value, group in known.groupby(attribute, sort=True):
            for model in models:
                entry: dict[str, float | int] = {"n": int(len(group))}
                for k in sorted(cfg.ks):
                    entry[attribute_column(attribute, k)] = _round(
                        _values(group, model, attribute_column(attribute, k)).mean()
                    )
                out[model][f"{attribute}={value}"] = entry
    return out


def curve_attribute(cfg: EvalConfig) -> str:
    return CURVE_ATTRIBUTE if CURVE_ATTRIBUTE in cfg.attributes else cfg.attributes[0]


def plot_k(cfg: EvalConfig) -> int:
    """K of the per-attribute bars: 10 when evaluated, else the largest evaluated cut-off below it (or the smallest)."""
    below = [k for k in cfg.ks if k <= PLOT_K]
    return max(below) if below else min(cfg.ks)


def recall_curve(metrics: dict[str, Any], cfg: EvalConfig) -> pd.DataFrame:
    """Image->image category@K for every K: columns k, baseline, finetuned (one per model)."""
    attribute = curve_attribute(cfg)
    frame = pd.DataFrame({"k": sorted(cfg.ks)})
    for model, values in metrics.items():
        frame[model] = [values.get(f"{I2I}/{attribute_column(attribute, k)}", np.nan) for k in frame["k"]]
    return frame


def attribute_bars(metrics: dict[str, Any], cfg: EvalConfig) -> pd.DataFrame:
    """attribute@10 per attribute and model: columns attribute, model, value (one row per pair with queries)."""
    k = plot_k(cfg)
    rows = [
        {"attribute": attribute, "model": model, "value": values.get(f"{I2I}/{attribute_column(attribute, k)}", np.nan)}
        for attribute in cfg.attributes
        for model, values in metrics.items()
    ]
    # attributes no query knows (every value unknown) have no bar rather than an empty cell
    return pd.DataFrame(rows, columns=["attribute", "model", "value"]).dropna(subset=["value"]).reset_index(drop=True)


def _values(rows: pd.DataFrame, model: str, column: str) -> np.ndarray:
    name = f"{model}/{column}"
    if name not in rows.columns:
        return np.zeros(0)
    values = rows[name].to_numpy(dtype=np.float64)
    result: np.ndarray = values[~np.isnan(values)]
    return result


def _round(value: float) -> float:
    return round(float(value), DECIMALS)
