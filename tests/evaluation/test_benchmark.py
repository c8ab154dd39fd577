"""The public benchmark's tasks (text-to-image, field-to-product) on a five-item catalog whose rankings are known
by construction, with P@K, R@K and MRR computed by hand; held out (scope test) and over the whole catalog."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipelines.encoders.texts import clip_texts
from pipelines.errors import PipelineError
from pipelines.evaluation import (
    Catalog,
    ModelSpace,
    evaluate_models,
    identity,
    parse_task_table,
    select_queries,
)
from pipelines.evaluation.config import EvalConfig
from pipelines.evaluation.evaluator import field_queries, mix_documents, text_queries
from pipelines.evaluation.leaderboard import benchmark_ground_truth, benchmark_headline, leaderboard_markdown
from pipelines.evaluation.report import metric_table
from pipelines.index.config import IndexConfig
from pipelines.params import build
from pipelines.schema import RAW_FIELDS, raw_column


def on_circle(degrees) -> np.ndarray:
    radians = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


# item, image angle, title, text-key angle, raw subCategory
ITEMS = [
    ("a", 0, "red tee", 14, "Topwear"),
    ("b", 10, "red tee", 14, "Topwear"),  # a's identical-text twin: relevant to the "red tee" query too
    ("c", 20, "blue jeans", 32, "Bottomwear"),
    ("d", 30, "blue shirt", 22, "Topwear"),
    ("e", 40, "grey cap", 40, "NA"),  # NA says nothing: no query
]
VALUES = {"Topwear": 4, "Bottomwear": 28}  # where each raw value's CLIP text lands


@pytest.fixture
def catalog() -> Catalog:
    meta = pd.DataFrame(
        [(i, "test", f"g{i}", title) for i, _, title, _, _ in ITEMS],  # scope test asks all five
        columns=["item_id", "split", "group_key", "title"],
    )
    meta["desc"] = ""
    meta["image_path"] = "images/" + meta["item_id"] + ".jpg"
    for attribute in ("category", "material", "neckline", "pattern"):
        meta[attribute] = "unknown"
    for name in RAW_FIELDS:
        meta[raw_column(name)] = ""
    meta[raw_column("subCategory")] = [row[4] for row in ITEMS]
    return Catalog(meta, on_circle([row[3] for row in ITEMS]), lambda texts: on_circle([VALUES[t] for t in texts]))


@pytest.fixture
def table():
    return parse_task_table(
        {
            "depth": 10,
            "skip_prompt_values": [],
            "skip_field_values": ["", "NA"],
            "tasks": [
                {
                    "name": "i2i",
                    "query": "image",
                    "relevance": "attributes",
                    "exclude": "group",
                    "metrics": ["attribute@k"],
                },
                {
                    "name": "kagl_text_to_image",
                    "benchmark": "text-to-image",
                    "scope": "test",
                    "query": "text",
                    "relevance": "same_text",
                    "exclude": "none",
                    "depth": 10,
                    "metrics": ["recall@1", "recall@10", "mrr"],
                },
                {
                    "name": "kagl_sub_category",
                    "benchmark": "sub-category-to-product",
                    "scope": "test",
                    "query": "field",
                    "field": "subCategory",
                    "relevance": "value",
                    "exclude": "none",
                    "documents": "image+text",
                    "depth": 10,
                    "metrics": ["p@1", "p@10", "mrr"],
                },
            ],
        },
        "test table",
    )


def config(image_weight: float = 1.0, max_queries: int = 2000) -> EvalConfig:
    return build(
        EvalConfig,
        {
            "ks": [1, 2],
            "attributes": ["category", "material", "neckline"],
            "bootstrap": 50,
            "gallery_attributes": ["category"],
            "benchmark": {"image_weight": image_weight, "max_queries": max_queries},
        },
        "eval",
    )


INDEX = IndexConfig(factory="Flat", ef_search=16, nprobe=1, train_size=100)


def run(catalog, table, cfg, models=None):
    models = models or [ModelSpace("baseline", on_circle([row[1] for row in ITEMS]), identity)]
    return evaluate_models(models, catalog, select_queries(catalog.meta, 0, 0), table, cfg, INDEX, 0)


def test_text_to_image_counts_identical_texts_as_relevant(catalog, table):
    per_query, _ = run(catalog, table, config())
    t2i = per_query[per_query["task"] == "kagl_text_to_image"].set_index("query")
    assert list(t2i.index) == ["red tee", "blue jeans", "blue shirt", "grey cap"]  # distinct texts, catalog order
    assert t2i["row"].tolist() == [0, 2, 3, 4]
    scores = t2i[["baseline/recall@1", "baseline/recall@10", "baseline/mrr"]]
    # red tee from 14 deg: b, c, a, d, e; relevant {a, b}: R@1 = 1/2, R@10 = 2/2, first hit at rank 1
    assert scores.loc["red tee"].tolist() == pytest.approx([0.5, 1.0, 1.0])
    # blue jeans from 32 deg: d, e, c: R@1 = 0, R@10 = 1, MRR = 1/3
    assert scores.loc["blue jeans"].tolist() == pytest.approx([0.0, 1.0, 1 / 3])
    # blue shirt from 22 deg: c, d: MRR = 1/2; grey cap from 40 deg: e first
    assert scores.loc["blue shirt"].tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert scores.loc["grey cap"].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_field_to_product_queries_raw_values_against_image_text_documents(catalog, table):
    per_query, _ = run(catalog, table, config(image_weight=1.0))
    fields = per_query[per_query["task"] == "kagl_sub_category"].set_index("query")
    assert list(fields.index) == ["Bottomwear", "Topwear"]  # sorted, NA skipped
    scores = fields[["baseline/p@1", "baseline/p@10", "baseline/mrr"]]
    # Topwear from 4 deg: a, b, c, d, e; relevant a, b, d: P@1 = 1, P@10 = 3/10 (K stays the denominator)
    assert scores.loc["Topwear"].tolist() == pytest.approx([1.0, 0.3, 1.0])
    # Bottomwear from 28 deg: d, c, ...: P@1 = 0, P@10 = 1/10, MRR = 1/2
    assert scores.loc["Bottomwear"].tolist() == pytest.approx([0.0, 0.1, 0.5])


def test_the_text_side_moves_field_documents(catalog, table):
    # all text weight: documents are the text keys (a, b at 14, d at 22, c at 32, e at 40); Bottomwear from 28 deg
    # now finds c (32) before d (22): P@1 = 1
    per_query, _ = run(catalog, table, config(image_weight=0.0))
    fields = per_query[per_query["task"] == "kagl_sub_category"].set_index("query")
    assert fields.loc["Bottomwear", "baseline/p@1"] == 1.0


def test_mix_documents_is_the_benchmarks_weighted_normalised_sum():
    mixed = mix_documents(np.array([[2.0, 0.0]]), np.array([[0.0, 3.0]]), 0.9)
    assert mixed[0] == pytest.approx(np.array([0.9, 0.1]) / np.hypot(0.9, 0.1))


def test_query_sampling_is_seeded_deterministic_and_keeps_catalog_order(catalog):
    every = np.arange(len(catalog.meta))
    texts, rows = text_queries(catalog.meta, every, 2, seed=42, task="t")
    assert len(rows) == 2 and list(rows) == sorted(rows) and set(rows) <= {0, 2, 3, 4}
    assert list(texts) == [clip_texts(catalog.meta)[r] for r in rows]
    # the sample depends on the seed and on the task's name: other seeds or tasks draw other pairs of the four texts
    drawn = {
        tuple(text_queries(catalog.meta, every, 2, seed=seed, task=task)[1]) for seed in range(6) for task in ("t", "u")
    }
    assert len(drawn) > 1 and tuple(rows) in drawn
    values = field_queries(catalog.meta, every, "subCategory", ("", "na"), 1, seed=42, task="f")
    assert len(values) == 1 and values[0] in {"Topwear", "Bottomwear"}
    assert list(field_queries(catalog.meta, every, "subCategory", ("", "na"), 5, seed=42, task="f")) == [
        "Bottomwear",
        "Topwear",
    ]
    assert list(field_queries(catalog.meta, np.array([0, 1]), "subCategory", ("", "na"), 5, seed=42, task="f")) == [
        "Topwear"
    ]


def test_leaderboard_headline_and_ground_truth(catalog, table):
    cfg = config()
    per_query, _ = run(catalog, table, cfg)
    detail, _ = metric_table(per_query, ["baseline"], table, cfg, seed=0)
    headline = benchmark_headline(detail, table)["baseline"]
    # AvgRecall = mean(R@1, R@10) = mean(0.375, 1.0); AvgP = mean(P@1, P@10) = mean(0.5, 0.2), one field task
    assert headline == {"kagl_text_to_image/avg_recall": 0.6875, "kagl_fields/mean_avg_p": 0.35}
    markdown = leaderboard_markdown(
        detail,
        {"kagl_text_to_image": 4, "kagl_sub_category": 2},
        table,
        catalog="5 items",
        backbone="test",
        image_weight=0.9,
        max_queries=2000,
    )
    assert "| **ours: baseline** | 0.688 | 0.375 | 1.000 | 0.708 |" in markdown  # MRR (1 + 1/3 + 1/2 + 1) / 4
    assert "| **ours: baseline** | 0.350 | 0.500 | 0.200 | 0.750 |" in markdown
    assert "| ViT-B-16 laion2b_s34b_b88k (published) | 0.295 | 0.155 | 0.435 | 0.259 |" in markdown
    assert "| Marqo-FashionSigLIP (published) | 0.699 | 0.711 | 0.687 | 0.756 |" in markdown
    assert "| **ours: baseline** | 0.688 | 0.350 |" in markdown  # the average row
    assert "4 held-out queries (item text); documents: image of the test split, exact search." in markdown
    assert "whatever `index.factory` says" in markdown
    truth = benchmark_ground_truth(per_query, catalog.meta, table)
    assert truth.values.tolist() == [
        ["kagl_text_to_image", "red tee", 2, "a b"],
        ["kagl_text_to_image", "blue jeans", 1, "c"],
        ["kagl_text_to_image", "blue shirt", 1, "d"],
        ["kagl_text_to_image", "grey cap", 1, "e"],
        ["kagl_sub_category", "Bottomwear", 1, "raw_subCategory == Bottomwear (test split)"],
        ["kagl_sub_category", "Topwear", 3, "raw_subCategory == Topwear (test split)"],
    ]


def test_a_catalog_without_the_raw_field_is_named(catalog, table):
    meta = catalog.meta.drop(columns=[raw_column("subCategory")])
    with pytest.raises(PipelineError, match="raw_subCategory"):
        run(Catalog(meta, catalog.text_keys, catalog.encode_prompts), table, config())


def test_held_out_tasks_ask_and_count_only_the_test_split_while_the_diagnostic_asks_everything(catalog, table):
    meta = catalog.meta.assign(split=["test", "test", "train", "test", "train"])  # c and e trained on
    held_out = Catalog(meta, catalog.text_keys, catalog.encode_prompts)
    diagnostic = dataclasses.replace(table.tasks[1], name="kagl_text_to_image_catalog", benchmark=None, scope="catalog")
    both = dataclasses.replace(table, tasks=(*table.tasks, diagnostic))
    per_query, runs = run(held_out, both, config())
    t2i = per_query[per_query["task"] == "kagl_text_to_image"].set_index("query")
    assert list(t2i.index) == ["red tee", "blue shirt"]  # the test items' distinct texts
    assert (meta["split"].to_numpy()[t2i["row"]] == "test").all()
    # red tee from 14 deg over the test images a (0), b (10), d (30): b, a, d; relevant a, b
    assert t2i.loc["red tee", ["baseline/recall@1", "baseline/recall@10", "baseline/mrr"]].tolist() == [0.5, 1.0, 1.0]
    rankings = runs["baseline"].rankings
    assert set(rankings["kagl_text_to_image"].ravel()) == {0, 1, 3}  # documents: the test split alone
    assert set(rankings["kagl_sub_category"].ravel()) == {0, 1, 3}
    fields = per_query[per_query["task"] == "kagl_sub_category"].set_index("query")
    assert list(fields.index) == ["Topwear"]  # Bottomwear is only on a train item
    assert fields.loc["Topwear", "baseline/p@10"] == pytest.approx(0.3)  # a, b, d of three test documents
    whole = per_query[per_query["task"] == "kagl_text_to_image_catalog"]
    assert whole["query"].tolist() == ["red tee", "blue jeans", "blue shirt", "grey cap"]
    assert set(rankings["kagl_text_to_image_catalog"].ravel()) == {0, 1, 2, 3, 4}


def test_a_benchmark_task_must_be_held_out(table):
    rows = [dataclasses.asdict(task) for task in table.tasks]
    rows[1]["scope"] = "catalog"  # the text-to-image benchmark task asked over the whole catalog
    with pytest.raises(PipelineError, match="needs scope test"):
        parse_task_table({"depth": 10, "skip_prompt_values": [], "tasks": rows}, "t")
