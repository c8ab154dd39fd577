"""The evaluate stage's library entry point: run every model, then summarise into the report payloads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.evaluation.config import EvalConfig
from pipelines.evaluation.evaluator import Catalog, ModelSpace, evaluate_models, select_queries
from pipelines.evaluation.gallery import render_gallery, worst_queries
from pipelines.evaluation.leaderboard import benchmark_ground_truth, benchmark_headline, leaderboard_markdown
from pipelines.evaluation.report import (
    attribute_bars,
    by_category,
    by_value,
    headline,
    metric_table,
    plot_k,
    recall_curve,
)
from pipelines.evaluation.tasks import I2I, TaskTable, load_task_table
from pipelines.index.config import IndexConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]  # reports/metrics.json: the headline (a DVC metric)
    detail: dict[str, Any]  # reports/metrics_detail.json: every metric at every K, with query counts
    intervals: dict[str, Any]  # reports/metrics_ci.json
    by_category: dict[str, Any]  # reports/metrics_by_category.json
    by_value: dict[str, Any]  # reports/metrics_by_value.json
    recall_curve: pd.DataFrame  # reports/plots/recall_at_k.csv
    attribute_bars: pd.DataFrame  # reports/plots/attribute_at_10.csv
    per_query: pd.DataFrame  # every query's score per model (the scoreboard's paired bootstrap reads it)
    gallery_html: str  # reports/gallery.html
    queries: dict[str, int]  # queries per task
    leaderboard: str  # reports/leaderboard.md: the public KAGL benchmark's tasks beside its published rows
    ground_truth: pd.DataFrame  # reports/benchmark_ground_truth.tsv: the benchmark queries asked and what is relevant


def run_evaluation(
    catalog: Catalog,
    models: list[ModelSpace],
    cfg: EvalConfig,
    index_cfg: IndexConfig,
    *,
    seed: int,
    image_root: Path,
    table: TaskTable | None = None,
    catalog_label: str = "this catalog",
    backbone_label: str = "as in the store",
) -> Evaluation:
    """Evaluate `models` (the last one is the gallery's subject) on the test split against the whole catalog."""
    table = table or load_task_table()
    queries = select_queries(catalog.meta, cfg.max_queries, seed)
    log.info("%d test queries against %d catalog items, %d models", len(queries), len(catalog.meta), len(models))
    per_query, runs = evaluate_models(models, catalog, queries, table, cfg, index_cfg, seed)
    names = [m.name for m in models]
    detail, intervals = metric_table(per_query, names, table, cfg, seed)
    k = plot_k(cfg)
    worst = worst_queries(per_query, names[-1], cfg.gallery_attributes, k, cfg.gallery_queries)
    image_rows = per_query.loc[per_query["task"] == I2I, "row"].to_numpy()
    gallery = render_gallery(
        worst,
        {name: run.image_neighbours for name, run in runs.items()},
        image_rows,
        catalog.meta,
        cfg.gallery_attributes,
        k,
        image_root,
        title="Weakness gallery: worst image-to-image queries",
    )
    counts = per_query.groupby("task", sort=False).size()
    queries_per_task = {task.name: int(counts.get(task.name, 0)) for task in table.tasks}
    metrics = headline(detail, cfg)
    for model, values in benchmark_headline(detail, table).items():
        metrics[model].update(values)
    leaderboard = leaderboard_markdown(
        detail,
        queries_per_task,
        table,
        catalog=catalog_label,
        backbone=backbone_label,
        image_weight=cfg.benchmark.image_weight,
        max_queries=cfg.benchmark.max_queries,
    )
    return Evaluation(
        metrics=metrics,
        detail=detail,
        intervals=intervals,
        by_category=by_category(per_query, names, cfg),
        by_value=by_value(per_query, names, cfg),
        recall_curve=recall_curve(detail, cfg),
        attribute_bars=attribute_bars(detail, cfg),
        per_query=per_query,
        gallery_html=gallery,
        queries={str(task): int(n) for task, n in counts.items()},
        leaderboard=leaderboard,
        ground_truth=benchmark_ground_truth(per_query, catalog.meta, table),
    )


def identity(features: np.ndarray) -> np.ndarray:
    """The frozen baseline's text map: CLIP text features are already in its image space."""
    return features
