"""The headline, the full metric table, breakdowns and plot data from the per-query table."""

from __future__ import annotations

import pytest

from pipelines.evaluation import ModelSpace, evaluate_models, select_queries
from pipelines.evaluation.report import attribute_bars, by_category, by_value, headline, metric_table, recall_curve


@pytest.fixture
def evaluated(catalog, baseline, table, cfg, index_cfg):
    # "fine-tuned": e moves next to q0's neighbours and d moves away from them
    moved = baseline.image_embeddings.copy()
    moved[[4, 5]] = moved[[5, 4]]
    finetuned = ModelSpace("finetuned", moved, baseline.map_text)
    per_query, _ = evaluate_models(
        [baseline, finetuned], catalog, select_queries(catalog.meta, 0, 0), table, cfg, index_cfg, 0
    )
    return per_query


def test_metric_table_keys_values_counts_and_intervals(evaluated, table, cfg):
    metrics, intervals = metric_table(evaluated, ["baseline", "finetuned"], table, cfg, seed=3)
    base = metrics["baseline"]
    assert base["i2i/category@1"] == 1.0 and base["i2i/category@1_n"] == 1  # e (unknown category) is skipped
    assert base["i2i/neckline@1"] == 0.5 and base["i2i/neckline@1_n"] == 2
    assert base["t2i_title/mrr"] == pytest.approx(0.75) and base["t2i_title/mrr_n"] == 2
    assert base["t2i_color/p@1_n"] == 2 and base["t2i_category/p@10_n"] == 1
    assert set(metrics["finetuned"]) == set(base)
    assert all(isinstance(v, (int, float)) for v in base.values())  # shallow: every leaf is a number
    interval = intervals["baseline"]["i2i/neckline@1"]
    assert interval["lo"] <= 0.5 <= interval["hi"] and interval == {"lo": 0.0, "hi": 1.0}
    assert set(intervals["baseline"]) == {k for k in base if not k.endswith("_n")}
    assert metric_table(evaluated, ["baseline", "finetuned"], table, cfg, seed=3) == (metrics, intervals)


def test_headline_is_three_overall_numbers_per_model(evaluated, table, cfg):
    detail, _ = metric_table(evaluated, ["baseline", "finetuned"], table, cfg, seed=3)
    metrics = headline(detail, cfg)
    # eval.ks stops at 3 here, so the image->image numbers use K=3; the title task reports recall@10
    # baseline attribute@3: category 2/3, material 2/3, neckline 1/3 -> mean 5/9
    assert metrics == {
        "baseline": {"i2i/mean_attribute@3": 0.5556, "i2i/category@3": 0.6667, "t2i_title/recall@10": 1.0},
        "finetuned": {"i2i/mean_attribute@3": 0.4444, "i2i/category@3": 0.3333, "t2i_title/recall@10": 1.0},
    }
    assert metrics["finetuned"]["i2i/category@3"] == round(detail["finetuned"]["i2i/category@3"], 4)


def test_headline_leaves_out_what_has_no_query(cfg):
    detail = {
        "baseline": {
            "i2i/category@3": 0.123456,
            "i2i/category@3_n": 4,
            "i2i/material@3_n": 0,
            "i2i/neckline@3": 0.5,
            "i2i/neckline@3_n": 2,
        }
    }
    # material has no query: the mean is over category and neckline; no title task: no recall key
    assert headline(detail, cfg) == {"baseline": {"i2i/mean_attribute@3": 0.3117, "i2i/category@3": 0.1235}}
    assert headline({"baseline": {"i2i/material@3_n": 0}}, cfg) == {"baseline": {}}


def test_breakdown_per_category_and_per_value(evaluated, cfg):
    categories = by_category(evaluated, ["baseline", "finetuned"], cfg)
    assert list(categories["baseline"]) == ["tees"]  # e's unknown category is not a slice
    tees = categories["baseline"]["tees"]
    assert tees["n"] == 1 and tees["category_n"] == 1 and tees["category@2"] == 0.5 and tees["neckline@2"] == 0.5
    values = by_value(evaluated, ["baseline", "finetuned"], cfg)
    assert set(values["baseline"]) == {"category=tees", "material=cotton", "neckline=round", "neckline=v_neck"}
    assert values["baseline"]["neckline=v_neck"] == {
        "n": 1,
        "neckline@1": 1.0,
        "neckline@2": 0.5,
        "neckline@3": pytest.approx(1 / 3, abs=1e-6),
    }
    # fine-tuned: d (tees, denim, v_neck) swapped places with e (unknown, unknown, v_neck):
    # q0's third result loses a tee
    assert values["finetuned"]["category=tees"]["category@3"] == pytest.approx(1 / 3, abs=1e-6)
    assert values["baseline"]["category=tees"]["category@3"] == pytest.approx(2 / 3, abs=1e-6)


def test_plot_frames(evaluated, table, cfg):
    metrics, _ = metric_table(evaluated, ["baseline", "finetuned"], table, cfg, seed=3)
    curve = recall_curve(metrics, cfg)
    assert list(curve.columns) == ["k", "baseline", "finetuned"] and curve["k"].tolist() == [1, 2, 3]
    assert curve["baseline"].tolist() == [metrics["baseline"][f"i2i/category@{k}"] for k in (1, 2, 3)]
    bars = attribute_bars(metrics, cfg)  # eval.ks stops at 3 here, so the bars use K=3
    assert list(bars.columns) == ["attribute", "model", "value"] and len(bars) == 6
    row = bars[(bars["attribute"] == "material") & (bars["model"] == "finetuned")]
    assert row["value"].item() == metrics["finetuned"]["i2i/material@3"]
