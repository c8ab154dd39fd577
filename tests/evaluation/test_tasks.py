"""The task table is data: the packaged one loads, and a bad row is named."""

from __future__ import annotations

import pytest

from pipelines.errors import PipelineError
from pipelines.evaluation import I2I, load_task_table, parse_task_table
from pipelines.evaluation.tasks import benchmark_tasks


def test_packaged_task_table():
    table = load_task_table()
    assert [t.name for t in table.tasks][:4] == [I2I, "t2i_title", "t2i_category", "t2i_color"]
    assert table.tasks[1].metrics == ("recall@1", "recall@10", "mrr") and table.tasks[1].exclude == "group_others"
    assert {t.attribute for t in table.tasks[2:4]} == {"category", "color"}


def test_packaged_benchmark_tasks_are_the_kagl_config():
    """marqo-ai/marqo-FashionCLIP configs/KAGL.json: text-to-image on images, six fields on 0.9 image + 0.1 text."""
    tasks = benchmark_tasks(load_task_table())
    assert [t.benchmark for t in tasks] == [
        "text-to-image",
        "category-to-product",
        "sub-category-to-product",
        "fine-category-to-product",
        "color-to-product",
        "season-to-product",
        "usage-to-product",
    ]
    assert [t.field for t in tasks[1:]] == [
        "masterCategory",
        "subCategory",
        "articleType",
        "baseColour",
        "season",
        "usage",
    ]
    assert tasks[0].documents == "image" and tasks[0].metrics == ("recall@1", "recall@10", "mrr")
    assert all(t.documents == "image+text" and t.metrics == ("p@1", "p@10", "mrr") for t in tasks[1:])
    assert {t.results(100) for t in tasks} == {10}
    assert load_task_table().skip_field_values == ("", "na", "nan", "none")


def _table(**task):
    row = {"name": "i2i", "query": "image", "relevance": "attributes", "exclude": "group", "metrics": ["attribute@k"]}
    return {"depth": 10, "skip_prompt_values": [], "tasks": [row, {**row, **task}]}


@pytest.mark.parametrize(
    "task, message",
    [
        (
            {
                "name": "t",
                "query": "prompt",
                "attribute": "color",
                "relevance": "value",
                "exclude": "none",
                "metrics": ["recall@5"],
            },
            "recall@K is only defined here for relevance same_text or self",
        ),
        (
            {
                "name": "t",
                "query": "field",
                "field": "colour",
                "relevance": "value",
                "exclude": "none",
                "metrics": ["mrr"],
            },
            "name a kept raw `field`",
        ),
        (
            {
                "name": "t",
                "query": "prompt",
                "attribute": "color",
                "field": "season",
                "relevance": "value",
                "exclude": "none",
                "metrics": ["mrr"],
            },
            "name a kept raw `field`",
        ),
        (
            {
                "name": "t",
                "query": "title",
                "relevance": "self",
                "exclude": "none",
                "documents": "image+text",
                "metrics": ["mrr"],
            },
            "image\\+text only for the benchmark",
        ),
        (
            {
                "name": "t",
                "query": "text",
                "relevance": "same_text",
                "exclude": "none",
                "depth": 5,
                "metrics": ["recall@10"],
            },
            "exceeds depth 5",
        ),
        (
            {"name": "t", "query": "text", "relevance": "value", "exclude": "none", "metrics": ["mrr"]},
            "takes relevance in",
        ),
        (
            {"name": "t", "query": "title", "relevance": "value", "exclude": "none", "metrics": ["mrr"]},
            "takes relevance in",
        ),
        (
            {
                "name": "t",
                "query": "prompt",
                "attribute": "colour",
                "relevance": "value",
                "exclude": "none",
                "metrics": ["mrr"],
            },
            "name a schema `attribute`",
        ),
        (
            {"name": "t", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["p@20"]},
            "exceeds depth 10",
        ),
        (
            {"name": "t", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["ndcg"]},
            "unsupported metric 'ndcg'",
        ),
        (
            {"name": "i2i", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["mrr"]},
            "names must be unique",
        ),
    ],
)
def test_bad_task_rows_are_named(task, message):
    with pytest.raises(PipelineError, match=message) as error:
        parse_task_table(_table(**task), "tasks.yaml")
    assert "tasks.yaml" in str(error.value)
