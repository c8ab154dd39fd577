"""The weakness gallery: worst queries first, results labelled with the attributes that missed, images inlined."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from pipelines.evaluation import ModelSpace, evaluate_models, select_queries
from pipelines.evaluation.gallery import render_gallery, worst_queries


def test_worst_queries_and_self_contained_html(tmp_path, catalog, baseline, table, cfg, index_cfg):
    for i, item in enumerate(catalog.meta["item_id"]):
        (tmp_path / "images").mkdir(exist_ok=True)
        Image.new("RGB", (40, 60), (40 * i, 0, 0)).save(tmp_path / "images" / f"{item}.jpg")
    (tmp_path / "images" / "c.jpg").write_bytes(b"")  # unreadable: a grey tile, not a crash
    moved = baseline.image_embeddings.copy()
    moved[[4, 5]] = moved[[5, 4]]
    finetuned = ModelSpace("finetuned", moved, baseline.map_text)
    per_query, runs = evaluate_models(
        [baseline, finetuned], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0
    )

    worst = worst_queries(per_query, "finetuned", ["category", "material"], 3, count=5)
    assert worst["query"].tolist() == ["q0"]  # e knows neither category nor material: not rankable
    assert worst["gallery_score"].item() == pytest.approx(np.mean([1 / 3, 2 / 3]))

    rows = per_query.loc[per_query["task"] == "i2i", "row"].to_numpy()
    page = render_gallery(
        worst,
        {n: r.image_neighbours for n, r in runs.items()},
        rows,
        catalog.meta,
        ["category", "material"],
        3,
        tmp_path,
        title="Weakness gallery",
    )
    assert page.startswith("<!doctype html>") and "src='http" not in page and "src='images" not in page
    assert len(re.findall(r"src='data:image/jpeg;base64,", page)) == 1 + 2 * 5 - 2  # two empty slots have no image
    assert "category: shirts" in page  # c is a shirt next to a tee query
    assert "material: denim" in page  # d is denim in the baseline's list
    assert page.count("(no result)") == 2
    # under the query: its per-model score for each attribute, named
    assert re.search(r"category@3: \d\.\d\d → \d\.\d\d; material@3: \d\.\d\d → \d\.\d\d", page)
    again = render_gallery(
        worst,
        {n: r.image_neighbours for n, r in runs.items()},
        rows,
        catalog.meta,
        ["category", "material"],
        3,
        tmp_path,
        title="Weakness gallery",
    )
    assert again == page
