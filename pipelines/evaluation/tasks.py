"""The retrieval task table (tasks.yaml): query side, relevance rule, exclusion and metrics per task."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from pipelines.errors import PipelineError
from pipelines.schema import FIELDS, RAW_FIELDS

TASKS_FILE = Path(__file__).with_name("tasks.yaml")
I2I = "i2i"  # the image->image attribute task: the scoreboard's `neckline@10` means `i2i/neckline@10`
_METRIC = re.compile(r"^(?P<kind>p|recall|hit)@(?P<k>[1-9][0-9]*)$|^(?P<mrr>mrr)$|^(?P<attr>attribute@k)$")
_RULES = {  # query side -> the relevance rule and exclusions that make sense for it
    "image": ({"attributes"}, {"group"}),
    "title": ({"self"}, {"group_others", "none"}),
    "prompt": ({"value"}, {"none"}),
    "text": ({"same_text"}, {"none"}),
    "field": ({"value"}, {"none"}),
}
_KNOWN_TOTAL = {"self", "same_text"}  # relevance rules whose relevant documents are counted in the whole catalog
DOCUMENTS = ("image", "image+text")
SCOPES = ("test", "catalog")
EXACT_QUERIES = ("text", "field")
_TABLE_KEYS = {"depth", "skip_prompt_values", "skip_field_values", "tasks"}


@dataclass(frozen=True)
class Task:
    name: str
    query: Literal["image", "title", "prompt", "text", "field"]
    relevance: Literal["attributes", "self", "value", "same_text"]
    exclude: Literal["group", "group_others", "none"]
    metrics: tuple[str, ...]
    attribute: str | None = None  # prompt tasks: the schema field whose canonical values are prompted
    field: str | None = None  # field tasks: the kept raw field (RAW_FIELDS) whose values are the queries
    documents: Literal["image", "image+text"] = "image"
    depth: int | None = None  # results retrieved per query (and MRR's cut-off); None: the table's depth
    benchmark: str | None = None  # the public benchmark's name for the task: it goes on the leaderboard
    # text and field tasks: the items their queries, documents and relevance come from. `test` holds out what the
    # heads trained on (the test split alone); `catalog` is every split, as the public harness asks it.
    scope: Literal["test", "catalog"] = "catalog"

    @property
    def exact(self) -> bool:
        """Text and field queries (the public benchmark's) rank by exact inner product over every document, as its
        harness does, whatever the index params say: the index's own recall is build_index's report."""
        return self.query in EXACT_QUERIES

    def cutoffs(self) -> list[int]:
        """The K of every `<metric>@K` this task reports."""
        return [int(m.split("@")[1]) for m in self.metrics if "@" in m and m != "attribute@k"]

    def results(self, table_depth: int) -> int:
        """How many results each query retrieves."""
        return self.depth or table_depth


@dataclass(frozen=True)
class TaskTable:
    depth: int
    skip_prompt_values: tuple[str, ...]
    tasks: tuple[Task, ...]
    skip_field_values: tuple[str, ...] = ()  # raw field values that are no query (compared case-insensitively)


def parse_task_table(raw: object, where: str) -> TaskTable:
    """Validate a task table mapping (the content of tasks.yaml); `where` names it in errors."""
    if not isinstance(raw, dict) or not {"depth", "skip_prompt_values", "tasks"} <= set(raw) <= _TABLE_KEYS:
        raise PipelineError(
            f"{where}: expected the keys depth, skip_prompt_values, tasks (and optionally skip_field_values)"
        )
    depth = raw["depth"]
    if not isinstance(depth, int) or depth < 1:
        raise PipelineError(f"{where}: depth must be a positive whole number, got {depth!r}")
    tasks = []
    for i, row in enumerate(raw["tasks"]):
        at = f"{where}: tasks[{i}]"
        try:
            task = Task(**{**row, "metrics": tuple(row.get("metrics", ()))})
        except TypeError as exc:
            raise PipelineError(f"{at}: {exc}") from None
        relevances, excludes = _RULES.get(task.query, (set(), set()))
        if task.relevance not in relevances or task.exclude not in excludes:
            raise PipelineError(
                f"{at} ({task.name}): query {task.query!r} takes relevance in {sorted(relevances)} and "
                f"exclude in {sorted(excludes)}, got relevance {task.relevance!r}, exclude {task.exclude!r}"
            )
        if (task.query == "prompt") != (task.attribute is not None) or (
            task.attribute is not None and task.attribute not in FIELDS
        ):
            raise PipelineError(f"{at} ({task.name}): prompt tasks, and only they, name a schema `attribute`")
        if (task.query == "field") != (task.field is not None) or (
            task.field is not None and task.field not in RAW_FIELDS
        ):
            raise PipelineError(
                f"{at} ({task.name}): field tasks, and only they, name a kept raw `field` ({', '.join(RAW_FIELDS)})"
            )
        if task.documents not in DOCUMENTS or (task.documents != "image" and task.query not in ("text", "field")):
            raise PipelineError(
                f"{at} ({task.name}): documents must be one of {', '.join(DOCUMENTS)} "
                "(image+text only for the benchmark's text and field queries)"
            )
        if task.scope not in SCOPES or (task.scope == "test" and not task.exact):
            raise PipelineError(
                f"{at} ({task.name}): scope must be one of {', '.join(SCOPES)} (test only for text and field queries; "
                "the other query sides already ask the test split against the whole catalog)"
            )
        if task.benchmark and task.scope != "test":
            raise PipelineError(
                f"{at} ({task.name}): a benchmark task goes on the leaderboard beside zero-shot rows, so it needs "
                "scope test (held out); ask the whole catalog in a diagnostic task without `benchmark`"
            )
        if task.depth is not None and (not isinstance(task.depth, int) or task.depth < 1):
            raise PipelineError(f"{at} ({task.name}): depth must be a positive whole number, got {task.depth!r}")
        for metric in task.metrics:
            match = _METRIC.match(metric)
            if not match or bool(match["attr"]) != (task.relevance == "attributes"):
                raise PipelineError(
                    f"{at} ({task.name}): unsupported metric {metric!r} for relevance {task.relevance!r}"
                )
            if match["kind"] == "recall" and task.relevance not in _KNOWN_TOTAL:
                # Recall needs the number of relevant documents in the whole catalog, which a top-`depth`
                # list does not carry; the evaluator counts it for these rules only.
                raise PipelineError(
                    f"{at} ({task.name}): recall@K is only defined here for relevance "
                    f"{' or '.join(sorted(_KNOWN_TOTAL))}"
                )
        if any(k > task.results(depth) for k in task.cutoffs()):
            raise PipelineError(f"{at} ({task.name}): a cut-off exceeds depth {task.results(depth)}")
        tasks.append(task)
    names = [t.name for t in tasks]
    attribute_tasks = [t.name for t in tasks if t.relevance == "attributes"]
    if len(set(names)) != len(names) or attribute_tasks != [I2I]:
        raise PipelineError(f"{where}: task names must be unique, with exactly one image->image task, named {I2I!r}")
    skip_fields = tuple(str(v).casefold() for v in raw.get("skip_field_values", ()))
    return TaskTable(depth, tuple(raw["skip_prompt_values"]), tuple(tasks), skip_fields)


def benchmark_tasks(table: TaskTable) -> list[Task]:
    """The public benchmark's tasks, in table order."""
    return [task for task in table.tasks if task.benchmark]


@lru_cache(maxsize=1)
def load_task_table() -> TaskTable:
    """The package's task table."""
    return parse_task_table(yaml.safe_load(TASKS_FILE.read_text(encoding="utf-8")), str(TASKS_FILE))
