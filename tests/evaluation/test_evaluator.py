"""The generic evaluator on a catalog whose neighbour lists are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.evaluation import Catalog, ModelSpace, evaluate_models, identity, prompt_text, select_queries


def rows_of(per_query: pd.DataFrame, task: str) -> pd.DataFrame:
    return per_query[per_query["task"] == task].set_index("query")


def test_attribute_at_k_skips_unknown_queries_and_counts_unknown_results_as_misses(
    catalog, baseline, table, cfg, index_cfg
):
    per_query, runs = evaluate_models([baseline], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0)
    i2i = rows_of(per_query, "i2i")
    assert list(i2i.index) == ["q0", "e"]
    # q0's results with its own group (q0, a) removed: b (tees, cotton, unknown), c (shirts, cotton, round), d, e
    assert i2i.loc["q0", "baseline/category@1"] == 1.0
    assert i2i.loc["q0", "baseline/category@2"] == 0.5
    assert i2i.loc["q0", "baseline/category@3"] == pytest.approx(2 / 3)
    assert i2i.loc["q0", "baseline/material@3"] == pytest.approx(2 / 3)
    assert i2i.loc["q0", "baseline/neckline@1"] == 0.0  # b's neckline is unknown: a miss
    assert i2i.loc["q0", "baseline/neckline@2"] == 0.5
    # e's category and material are unknown: skipped, not scored as zero
    assert np.isnan(i2i.loc["e", "baseline/category@1"]) and np.isnan(i2i.loc["e", "baseline/material@3"])
    # e's results: d (v_neck), c (round), b (unknown)
    assert i2i.loc["e", "baseline/neckline@1"] == 1.0
    assert i2i.loc["e", "baseline/neckline@3"] == pytest.approx(1 / 3)
    item = {name: i for i, name in enumerate(catalog.meta["item_id"])}
    assert runs["baseline"].image_neighbours[0, :4].tolist() == [item[x] for x in "bcde"]
    assert runs["baseline"].image_neighbours[0, 4] == -1  # only four other-group items exist


def test_the_graphic_policy_makes_a_graphic_items_category_no_evidence(catalog, baseline, table, cfg, index_cfg):
    """A graphic or printed item is pattern-only evidence: as a result it is no category hit, and as a query it
    has no category score; the other attributes read it as before."""
    meta = catalog.meta.assign(pattern=["solid", "solid", "graphic", "solid", "solid", "solid"])  # b is graphic
    graphic = Catalog(meta, catalog.text_keys, catalog.encode_prompts)
    per_query, _ = evaluate_models([baseline], graphic, select_queries(meta, 0, 0), table, cfg, index_cfg, 0)
    q0 = rows_of(per_query, "i2i").loc["q0"]
    # q0's results: b (tees, but graphic: a miss), c (shirts), d (tees)
    assert q0["baseline/category@1"] == 0.0 and q0["baseline/category@3"] == pytest.approx(1 / 3)
    assert q0["baseline/material@1"] == 1.0  # b's cotton still counts
    meta = meta.assign(pattern=["printed", "solid", "solid", "solid", "solid", "solid"])  # q0 itself is printed
    printed = Catalog(meta, catalog.text_keys, catalog.encode_prompts)
    per_query, _ = evaluate_models([baseline], printed, select_queries(meta, 0, 0), table, cfg, index_cfg, 0)
    q0 = rows_of(per_query, "i2i").loc["q0"]
    assert np.isnan(q0["baseline/category@1"]) and q0["baseline/material@1"] == 1.0


def test_title_queries_keep_the_item_itself_but_not_its_other_views(catalog, baseline, table, cfg, index_cfg):
    per_query, _ = evaluate_models([baseline], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0)
    title = rows_of(per_query, "t2i_title")
    # q0's title sits on b: b first, q0 second; `a` (same group, nearer than q0) is removed
    assert title.loc["q0", ["baseline/recall@1", "baseline/recall@10", "baseline/mrr"]].tolist() == [0.0, 1.0, 0.5]
    assert title.loc["e", ["baseline/recall@1", "baseline/mrr"]].tolist() == [1.0, 1.0]


def test_prompt_tasks_use_values_present_in_the_test_split(catalog, baseline, table, cfg, index_cfg):
    per_query, _ = evaluate_models([baseline], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0)
    category = rows_of(per_query, "t2i_category")
    assert list(category.index) == ["tees"]  # e's category is unknown: no prompt for it
    # from 2 degrees: a, q0, b (tees), c (shirts), d (tees), e (unknown); P@10 keeps 10 as its denominator
    assert category.loc["tees", ["baseline/p@1", "baseline/p@10", "baseline/mrr"]].tolist() == pytest.approx(
        [1.0, 0.4, 1.0]
    )
    color = rows_of(per_query, "t2i_color")
    assert list(color.index) == ["blue", "red"]
    # blue from 29 degrees: d (blue), c (red): P@1 = 1; red from 39 degrees: e (red) first
    assert color.loc["blue", "baseline/p@1"] == 1.0 and color.loc["red", "baseline/mrr"] == 1.0


def test_models_share_queries_and_the_fine_tuned_map_is_applied_to_text(catalog, baseline, table, cfg, index_cfg):
    # a "fine-tuned" model that rotates every vector by 90 degrees, text included: rankings are unchanged
    rotation = np.array([[0, 1], [-1, 0]], dtype=np.float32)
    rotated = ModelSpace("finetuned", baseline.image_embeddings @ rotation, lambda text: text @ rotation)
    per_query, _ = evaluate_models(
        [baseline, rotated], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0
    )
    metrics = [c.split("/", 1)[1] for c in per_query.columns if c.startswith("baseline/")]
    pd.testing.assert_frame_equal(
        per_query[[f"baseline/{m}" for m in metrics]].set_axis(metrics, axis=1),
        per_query[[f"finetuned/{m}" for m in metrics]].set_axis(metrics, axis=1),
    )


def test_a_text_map_of_the_wrong_width_is_a_clear_error(catalog, baseline, table, cfg, index_cfg):
    broken = ModelSpace("finetuned", baseline.image_embeddings, lambda text: np.zeros((len(text), 3), np.float32))
    with pytest.raises(PipelineError, match="finetuned: t2i_title text queries map to shape"):
        evaluate_models([broken], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0)


def test_query_selection_is_the_test_split_capped_deterministically():
    meta = pd.DataFrame({"split": ["test", "train"] * 50})
    assert select_queries(meta, 0, 1).tolist() == list(range(0, 100, 2))
    capped = select_queries(meta, 10, 1)
    assert len(capped) == 10 and (np.diff(capped) > 0).all() and (capped % 2 == 0).all()
    assert capped.tolist() == select_queries(meta, 10, 1).tolist()
    with pytest.raises(PipelineError, match="no test-split items"):
        select_queries(pd.DataFrame({"split": ["train"]}), 0, 1)


def test_prompt_text_reads_underscores_as_spaces():
    assert prompt_text("a photo of {value} clothing", "v_neck") == "a photo of v neck clothing"


def test_a_model_computed_block_by_block_scores_exactly_as_its_whole_matrix(
    monkeypatch, catalog, baseline, table, cfg, index_cfg
):
    from pipelines.index import faiss_index
    from pipelines.store import LazyRows

    queries = select_queries(catalog.meta, 0, 0)
    whole, _ = evaluate_models([baseline], catalog, queries, table, cfg, index_cfg, 0)
    monkeypatch.setattr(faiss_index, "ADD_BLOCK", 2)  # the index and the image+text documents in three blocks
    asked = []
    images = baseline.image_embeddings
    lazy = ModelSpace("baseline", LazyRows(images.shape, lambda rows: asked.append(rows) or images[rows]), identity)
    blocks, _ = evaluate_models([lazy], catalog, queries, table, cfg, index_cfg, 0)
    pd.testing.assert_frame_equal(blocks, whole)
    assert max(len(rows) for rows in asked) <= 2  # never the whole catalog at once
