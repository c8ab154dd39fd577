"""The public KAGL benchmark's view of an evaluation: reports/leaderboard.md beside the published rows, the
ground truth that was asked, and the benchmark's headline numbers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from pipelines.evaluation.evaluator import catalog_texts, scope_rows
from pipelines.evaluation.tasks import Task, TaskTable, benchmark_tasks
from pipelines.schema import raw_column

REFERENCE_FILE = Path(__file__).with_name("leaderboard_reference.yaml")
DECIMALS = 3  # as the public board prints
HEADLINE_DECIMALS = 4  # reports/metrics.json
FIELD_TASKS = "kagl_fields"  # headline key prefix of the field tasks' mean: `kagl_fields/mean_avg_p`


@dataclass(frozen=True)
class Reference:
    source: str
    url: str
    models: dict[str, dict[str, list[float]]]  # model -> benchmark task -> [@1, @10, MRR]


@lru_cache(maxsize=1)
def load_reference() -> Reference:
    """The published rows (leaderboard_reference.yaml)."""
    raw = yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))
    return Reference(raw["source"], raw["url"], raw["models"])


def _is_recall(task: Task) -> bool:
    return task.metrics[0].startswith("recall@")


def task_row(values: dict[str, Any], task: Task) -> list[float] | None:
    """[@1, @10, MRR, average of @1 and @10] of one task from a model's metrics_detail entry; None without queries."""
    found = [values.get(f"{task.name}/{metric}") for metric in task.metrics]
    cells = [float(cell) for cell in found if cell is not None]
    if len(cells) < len(found):
        return None
    cutoffs = [cell for metric, cell in zip(task.metrics, cells, strict=True) if "@" in metric]
    return [*cells, float(np.mean(cutoffs))]


def benchmark_headline(detail: dict[str, Any], table: TaskTable) -> dict[str, Any]:
    """Per model, two numbers for reports/metrics.json: text-to-image AvgRecall (`<task>/avg_recall`) and the
    mean AvgP over the field tasks that have queries (`kagl_fields/mean_avg_p`)."""
    out: dict[str, dict[str, Any]] = {}
    for model, values in detail.items():
        entry: dict[str, float] = {}
        field_averages = []
        for task in benchmark_tasks(table):
            row = task_row(values, task)
            if row is None:
                continue
            if _is_recall(task):
                entry[f"{task.name}/avg_recall"] = round(row[-1], HEADLINE_DECIMALS)
            else:
                field_averages.append(row[-1])
        if field_averages:
            entry[f"{FIELD_TASKS}/mean_avg_p"] = round(float(np.mean(field_averages)), HEADLINE_DECIMALS)
        out[model] = entry
    return out


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.{DECIMALS}f}"


def _title(task: Task) -> str:
    return "-".join(part.capitalize() for part in (task.benchmark or task.name).split("-"))


def leaderboard_markdown(
    detail: dict[str, Any],
    queries: dict[str, int],
    table: TaskTable,
    *,
    catalog: str,
    backbone: str,
    image_weight: float,
    max_queries: int,
    reference: Reference | None = None,
) -> str:
    """reports/leaderboard.md: our rows (every model of `detail`) per benchmark task, the published rows beside them.
    Our rows are held out (the tasks' scope is the test split), so the fine-tuned heads never saw a text-image pair
    they are asked about; the whole-catalog diagnostics stay in metrics_detail.json."""
    reference = reference or load_reference()
    tasks = benchmark_tasks(table)
    models = list(detail)
    t2i = [t for t in tasks if _is_recall(t)]
    fields = [t for t in tasks if not _is_recall(t)]
    lines = [
        "# Leaderboard: the public KAGL benchmark's tasks",
        "",
        f"Our rows: {', '.join(models)}, evaluated by this pipeline's one evaluator (same queries, same code) on "
        f"{catalog}, backbone {backbone}.",
        f"Reference rows: {reference.source} ({reference.url}). They are the **full KAGL catalog (44,434 items) "
        "with pretrained weights**; read them as the scale a pretrained model reaches, and compare our rows with "
        'them only for a full-catalog run with the same backbone (README, "The public benchmark").',
        "",
        "How the tasks are asked (pipelines/evaluation/tasks.yaml, as the benchmark's configs/KAGL.json, on held-out "
        "items):",
        "- **held out:** queries, documents and relevance all come from the **test split**, whose product groups the "
        "fine-tuned heads never trained on (the harness asks the whole catalog; here that would score the heads on "
        "text-image pairs they were trained on, so those numbers are a diagnostic in metrics_detail.json, "
        "`<task>_catalog/...`, never a row beside the published zero-shot ones).",
        "- **exact search:** every query is ranked by exact inner product over every document (unit vectors, so "
        "cosine), as the harness ranks, whatever `index.factory` says; the approximate index's recall against exact "
        "search is reports/index.json's.",
        "- text-to-image: the query is a test item's text (title, then description) as it is; documents are the image "
        "embeddings of the test split; relevant are **every test item with the identical text** (the benchmark's "
        "ground truth keys queries by text, so identical-text twins count); R@K = relevant items in the top K over "
        "all relevant items.",
        f"- field-to-product: the query is a raw catalog value of a test item as it is (e.g. `Topwear`, no prompt); "
        f"documents are normalize({image_weight:g}·image + {1 - image_weight:g}·text) of the test split; relevant "
        "are the test items whose raw field equals the value; P@K over K.",
        f"- up to {max_queries:,} queries per task, sampled with `seed` (reports/benchmark_ground_truth.tsv lists "
        "them with what is relevant); 10 results per query, so MRR is MRR@10. "
        "AvgRecall = mean(R@1, R@10), AvgP = mean(P@1, P@10), as the "
        "public board computes them.",
        "",
        "## Average",
        "",
        "The field tasks' mean is the unweighted mean of their AvgP "
        "(for the published rows, of the published AvgP; the "
        "board itself averages across datasets, not tasks).",
        "",
        "| Model | Text-To-Image AvgRecall | Field tasks mean AvgP |",
        "|---|---|---|",
    ]
    published_rows: list[tuple[str, dict[str, Any] | None]] = [*((m, None) for m in models), *reference.models.items()]
    for model, values in published_rows:
        rows_t2i = [task_row(detail[model], t) if values is None else _reference_row(values, t) for t in t2i]
        rows_f = [task_row(detail[model], t) if values is None else _reference_row(values, t) for t in fields]
        t2i_avg = rows_t2i[0][-1] if rows_t2i and rows_t2i[0] else None
        field_avgs = [row[-1] for row in rows_f if row]
        name = f"**ours: {model}**" if values is None else f"{model} (published)"
        lines.append(f"| {name} | {_cell(t2i_avg)} | {_cell(float(np.mean(field_avgs)) if field_avgs else None)} |")
    for task in tasks:
        average = "AvgRecall" if _is_recall(task) else "AvgP"
        kind = "R" if _is_recall(task) else "P"
        count = queries.get(task.name, 0)
        where = f"raw `{task.field}`" if task.field else "item text"
        lines += [
            "",
            f"## {_title(task)}",
            "",
            f"`{task.name}`: {count} held-out queries ({where}); documents: {task.documents} of the test split, "
            "exact search."
            + ("" if count else " No queries: the test split has no such field (H&M has no season or usage)."),
            "",
            f"| Model | {average} | {kind}@1 | {kind}@10 | MRR |",
            "|---|---|---|---|---|",
        ]
        for model in models:
            row = task_row(detail[model], task)
            lines.append(f"| **ours: {model}** | " + " | ".join(_cell(v) for v in _ordered(row)) + " |")
        for name, values in reference.models.items():
            lines.append(
                f"| {name} (published) | " + " | ".join(_cell(v) for v in _ordered(_reference_row(values, task))) + " |"
            )
    return "\n".join(lines) + "\n"


def _reference_row(values: dict[str, Any], task: Task) -> list[float] | None:
    """[@1, @10, MRR, average] as published (the board averages unrounded values, so it is copied, not derived)."""
    cells = values.get(task.benchmark or "")
    return None if cells is None else [cells[1], cells[2], cells[3], cells[0]]


def _ordered(row: list[float] | None) -> list[float | None]:
    """[@1, @10, MRR, avg] -> the board's column order [avg, @1, @10, MRR]."""
    return [None] * 4 if row is None else [row[3], row[0], row[1], row[2]]


def benchmark_ground_truth(per_query: pd.DataFrame, meta: pd.DataFrame, table: TaskTable) -> pd.DataFrame:
    """reports/benchmark_ground_truth.tsv: every benchmark query as asked, one row each (`task`, `query`,
    `relevant`: how many documents in the task's scope are relevant, `relevant_items`: their ids for text queries,
    space-separated, or the rule for field values, whose lists the items table holds)."""
    texts = catalog_texts(meta)
    ids = meta["item_id"].astype(str).to_numpy()
    rows = []
    for task in benchmark_tasks(table):
        scope = scope_rows(meta, task)
        asked = per_query.loc[per_query["task"] == task.name, "query"].astype(str).tolist()
        if task.query == "text":
            by_text = pd.Series(ids[scope]).groupby(texts[scope], sort=False).agg(list)
            rows += [(task.name, q, len(by_text[q]), " ".join(by_text[q])) for q in asked]
        else:
            assert task.field is not None  # benchmark tasks are text or field tasks
            column = raw_column(task.field)
            counts = meta[column].astype(str).iloc[scope].value_counts()
            within = " (test split)" if task.scope == "test" else ""
            rows += [(task.name, q, int(counts.get(q, 0)), f"{column} == {q}{within}") for q in asked]
    return pd.DataFrame(rows, columns=["task", "query", "relevant", "relevant_items"])
