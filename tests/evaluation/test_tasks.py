"""The task table is data: the packaged one loads, and a bad row is named."""
from __future__ import annotations

import pytest

from pipelines.errors import PipelineError
from pipelines.evaluation import I2I, load_task_table, parse_task_table


def test_packaged_task_table():
    table = load_task_table()
    assert [t.name for t in table.tasks] == [I2I, "t2i_title", "t2i_category", "t2i_color"]
    assert table.tasks[1].metrics == ("recall@1", "recall@10", "mrr") and table.tasks[1].exclude == "group_others"
    assert {t.attribute for t in table.tasks[2:]} == {"category", "color"}


def _table(**task):
    row = {"name": "i2i", "query": "image", "relevance": "attributes", "exclude": "group", "metrics": ["attribute@k"]}
    return {"depth": 10, "skip_prompt_values": [], "tasks": [row, {**row, **task}]}


@pytest.mark.parametrize("task, message", [
    ({"name": "t", "query": "prompt", "attribute": "color", "relevance": "value", "exclude": "none", "metrics": ["recall@5"]},
     "recall@K is only defined here for relevance 'self'"),
    ({"name": "t", "query": "title", "relevance": "value", "exclude": "none", "metrics": ["mrr"]}, "takes relevance in"),
    ({"name": "t", "query": "prompt", "attribute": "colour", "relevance": "value", "exclude": "none", "metrics": ["mrr"]},
     "name a schema `attribute`"),
    ({"name": "t", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["p@20"]}, "exceeds depth 10"),
    ({"name": "t", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["ndcg"]}, "unsupported metric 'ndcg'"),
    ({"name": "i2i", "query": "title", "relevance": "self", "exclude": "none", "metrics": ["mrr"]}, "names must be unique"),
])
def test_bad_task_rows_are_named(task, message):
    with pytest.raises(PipelineError, match=message) as error:
        parse_task_table(_table(**task), "tasks.yaml")
    assert "tasks.yaml" in str(error.value)
