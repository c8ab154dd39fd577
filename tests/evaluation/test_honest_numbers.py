"""Numbers that cannot flatter: on a catalog with train, val and test product groups, the shipped task table asks
no headline query the heads trained on, the benchmark tasks rank by exact search whatever the index is, and
trec_eval's own code (pytrec_eval) scores evaluate's rankings to the same values."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest
import pytrec_eval

from pipelines.evaluation import Catalog, ModelSpace, evaluate_models, identity, load_task_table, select_queries
from pipelines.evaluation.config import EvalConfig
from pipelines.evaluation.evaluator import catalog_texts, mix_documents, scope_rows
from pipelines.evaluation.tasks import I2I
from pipelines.index.config import IndexConfig
from pipelines.params import build
from pipelines.schema import RAW_FIELDS, raw_column

DIM = 16
ATTRIBUTES = ["category", "color", "material", "neckline"]
CATEGORIES, COLORS = ["tees", "shirts", "dresses", "shorts"], ["red", "blue", "black"]


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def text_vector(text: str) -> np.ndarray:
    return unit(np.random.default_rng(zlib.crc32(text.encode())).normal(size=(1, DIM)))[0]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """600 items, two views per product; groups split 60/20/20; 80 distinct titles, so identical texts recur
    across products and splits; raw fields with a handful of values each."""
    rng = np.random.default_rng(7)
    n = 600
    groups = np.repeat(np.arange(n // 2), 2)
    split = np.array(["train", "train", "train", "val", "test"])[rng.integers(0, 5, size=n // 2)][groups]
    meta = pd.DataFrame({"item_id": [f"i{i:04d}" for i in range(n)], "group_key": [f"g{g}" for g in groups]})
    meta["split"] = split
    meta["title"] = np.array([f"title {t}" for t in range(80)], dtype=object)[rng.integers(0, 80, size=n // 2)][groups]
    meta["desc"] = ""
    meta["image_path"] = [f"images/{i}.jpg" for i in meta["item_id"]]
    meta["category"] = np.array(CATEGORIES, dtype=object)[rng.integers(0, 4, size=n // 2)][groups]
    meta["color"] = np.array(COLORS, dtype=object)[rng.integers(0, 3, size=n // 2)][groups]
    meta["material"] = np.array(["cotton", "denim", "unknown"], dtype=object)[rng.integers(0, 3, size=n)]
    meta["neckline"] = np.array(["round", "v_neck", "unknown"], dtype=object)[rng.integers(0, 3, size=n)]
    meta["pattern"] = np.array(["solid", "striped", "graphic"], dtype=object)[rng.integers(0, 3, size=n)]
    for i, field in enumerate(RAW_FIELDS):
        meta[raw_column(field)] = np.array([f"{field}{v}" for v in range(3 + i)], dtype=object)[
            rng.integers(0, 3 + i, size=n)
        ]
    texts = np.stack([text_vector(t) for t in catalog_texts(meta)])
    return Catalog(meta, texts, lambda prompts: np.stack([text_vector(p) for p in prompts]))


@pytest.fixture(scope="module")
def evaluated(catalog):
    rng = np.random.default_rng(3)
    # images near their own text, so text-to-image has something to find
    images = unit(catalog.text_keys + 0.8 * rng.normal(size=catalog.text_keys.shape))
    model = ModelSpace("baseline", images, identity)
    cfg = build(EvalConfig, {"ks": [1, 10], "attributes": ATTRIBUTES, "bootstrap": 10}, "eval")
    # an approximate index (IVF, one list probed of 8): exact tasks must not care
    index_cfg = IndexConfig(factory="IVF8,Flat", ef_search=16, nprobe=1, train_size=len(catalog.meta))
    table = load_task_table()
    per_query, runs = evaluate_models(
        [model], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, seed=0
    )
    return table, cfg, images, per_query, runs["baseline"]


def test_no_headline_query_comes_from_a_training_group(catalog, evaluated):
    table, _, _, per_query, run = evaluated
    meta = catalog.meta
    trained_groups = set(meta.loc[meta["split"] != "test", "group_key"])
    headline_tasks = [t for t in table.tasks if t.benchmark or t.name in (I2I, "t2i_title")]
    assert {t.name for t in headline_tasks} >= {I2I, "t2i_title", "kagl_text_to_image", "kagl_colour"}
    for task in headline_tasks:
        rows = per_query.loc[per_query["task"] == task.name, "row"].to_numpy()
        assert len(rows), task.name
        items = rows[rows >= 0]  # prompt and field queries are no item
        assert not set(meta["group_key"].to_numpy()[items]) & trained_groups, task.name
        if task.benchmark:  # held out on the document side too: nothing the heads trained on is ranked or counted
            assert task.scope == "test"
            ranked = run.rankings[task.name]
            assert not set(meta["group_key"].to_numpy()[ranked[ranked >= 0]]) & trained_groups, task.name


def test_every_benchmark_task_has_its_whole_catalog_diagnostic_off_the_leaderboard(evaluated):
    table = evaluated[0]
    diagnostics = {t.name: t for t in table.tasks if t.scope == "catalog" and t.exact}
    for task in (t for t in table.tasks if t.benchmark):
        twin = diagnostics[f"{task.name}_catalog"]
        assert (twin.query, twin.field, twin.documents, twin.metrics, twin.benchmark) == (
            task.query,
            task.field,
            task.documents,
            task.metrics,
            None,
        )


def exact_order(documents: np.ndarray, queries: np.ndarray, depth: int) -> np.ndarray:
    scores = queries.astype(np.float64) @ documents.astype(np.float64).T
    return np.argsort(-scores, axis=1, kind="stable")[:, :depth]


def test_benchmark_tasks_rank_by_exact_search_whatever_the_index(catalog, evaluated):
    table, cfg, images, per_query, run = evaluated
    meta = catalog.meta
    for task in (t for t in table.tasks if t.exact):
        scope = scope_rows(meta, task)
        asked = per_query[per_query["task"] == task.name]
        if task.query == "text":
            queries = catalog.text_keys[asked["row"].to_numpy()]
        else:
            queries = catalog.encode_prompts(asked["query"].astype(str).tolist())
        documents = images if task.documents == "image" else mix_documents(images, catalog.text_keys, 0.9)
        expected = scope[exact_order(documents[scope], queries, task.results(table.depth))]
        assert np.array_equal(run.rankings[task.name], expected), task.name


def test_trec_eval_scores_evaluates_rankings_alike(catalog, evaluated):
    """R@1, R@10 and MRR of text-to-image, P@1, P@10 and MRR of the field tasks, recomputed by trec_eval from the
    rankings evaluate produced and the relevance its ground truth states."""
    table, _, _, per_query, run = evaluated
    meta = catalog.meta
    texts = catalog_texts(meta)
    measures = {"recall_1", "recall_10", "P_1", "P_10", "recip_rank"}
    checked = 0
    for task in (t for t in table.tasks if t.exact):
        scope = scope_rows(meta, task)
        asked = per_query[per_query["task"] == task.name].reset_index(drop=True)
        qrels, ranked = {}, {}
        for q, row in asked.iterrows():
            if task.query == "text":
                relevant = scope[texts[scope] == texts[row["row"]]]
            else:
                relevant = scope[meta[raw_column(task.field)].to_numpy()[scope] == row["query"]]
            qrels[f"q{q}"] = {f"d{d}": 1 for d in relevant}
            ids = run.rankings[task.name][q]
            # trec_eval orders a run by score: descending scores keep evaluate's order
            ranked[f"q{q}"] = {f"d{d}": float(len(ids) - j) for j, d in enumerate(ids) if d >= 0}
        trec = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(ranked)
        names = {"recall@1": "recall_1", "recall@10": "recall_10", "p@1": "P_1", "p@10": "P_10", "mrr": "recip_rank"}
        for metric in task.metrics:
            ours = asked[f"baseline/{metric}"].to_numpy()
            theirs = np.array([trec[f"q{q}"][names[metric]] for q in range(len(asked))])
            assert ours == pytest.approx(theirs, abs=1e-12), (task.name, metric)
            checked += 1
    assert checked == 3 * 14  # 7 benchmark tasks and their 7 diagnostics, three metrics each
