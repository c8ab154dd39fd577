"""The evaluate and scoreboard stages as DVC runs them: subprocesses in a temp repo, on a tiny store and a
model trained with the real training code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipelines.evaluation.report import DECIMALS
from pipelines.params import build
from pipelines.schema import FIELDS, RAW_FIELDS, raw_column
from pipelines.store import write_store
from pipelines.training import Trainer, export_model, prepare_training_data
from pipelines.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[2]
BACKBONE = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 42}
DIM = 384  # ViT-S-32's embedding width: prompts encoded by the real backbone must match the store's keys
CATEGORIES = ["tees", "tees", "tees", "cardigans", "shorts", "shirts"]
MATERIALS = ["cotton", "cotton", "denim", "unknown"]
NECKLINES = ["round", "v_neck", "unknown"]
OUTPUTS = [
    "reports/metrics.json",
    "reports/metrics_detail.json",
    "reports/metrics_ci.json",
    "reports/metrics_by_category.json",
    "reports/metrics_by_value.json",
    "reports/plots/recall_at_k.csv",
    "reports/plots/attribute_at_10.csv",
    "reports/gallery.html",
    "reports/leaderboard.md",
    "reports/benchmark_ground_truth.tsv",
]
SUB_CATEGORY = {"tees": "Topwear", "cardigans": "Topwear", "shirts": "Topwear", "shorts": "Bottomwear"}


def tiny_repo(root: Path, set_params, n: int = 90) -> None:
    rng = np.random.default_rng(0)
    category = rng.choice(CATEGORIES, n)
    material = rng.choice(MATERIALS, n)
    neckline = rng.choice(NECKLINES, n)
    group_split = rng.choice(["test", "train", "val"], n // 2 + 1, p=[0.35, 0.45, 0.2])
    meta = pd.DataFrame({"item_id": [f"{1000 + i}" for i in range(n)]})
    meta["image_path"] = [f"data/raw/images/{i}.jpg" for i in meta["item_id"]]
    meta["title"] = [f"{c} {m}" for c, m in zip(category, material, strict=True)]
    meta["desc"] = ""
    meta["group_key"] = [f"g{i // 2}" for i in range(n)]  # pairs of views; both views share a split below
    meta["split"] = group_split[np.arange(n) // 2]
    for field in FIELDS:
        meta[field] = "unknown"
        meta[f"{field}_source"] = "unknown"
        meta[f"{field}_conf"] = np.float32(0.1)
    meta["category"], meta["material"], meta["neckline"], meta["color"] = category, material, neckline, "blue"
    for name in RAW_FIELDS:  # the kept raw Myntra fields; season and usage left empty, as H&M leaves them
        meta[raw_column(name)] = ""
    meta[raw_column("masterCategory")] = "Apparel"
    meta[raw_column("subCategory")] = [SUB_CATEGORY[c] for c in category]
    meta[raw_column("articleType")] = category
    meta[raw_column("baseColour")] = "Blue"
    prototypes = {v: rng.normal(size=DIM) for v in {*CATEGORIES, *MATERIALS, *NECKLINES}}
    signal = np.stack(
        [prototypes[c] + prototypes[m] + prototypes[k] for c, m, k in zip(category, material, neckline, strict=True)]
    )
    image = rng.normal(size=(n, DIM)) * 2.0 + 0.3 * signal
    text = rng.normal(size=(n, DIM)) * 2.0 + 0.3 * signal
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    (root / "data/raw/images").mkdir(parents=True)
    for i, item in enumerate(meta["item_id"]):
        Image.new("RGB", (24, 24), (i * 2, 100, 200 - i)).save(root / "data/raw/images" / f"{item}.jpg")
    store = write_store(root / "artifacts/store", meta, image, text, rng.normal(size=(n, 8)), BACKBONE, "test-encoder")

    train = np.flatnonzero(meta["split"] == "train")
    a, b = rng.choice(train, 600), rng.choice(train, 600)
    label = (category[a] == category[b]).astype(np.int8)
    pairs = pd.DataFrame(
        {
            "anchor_id": meta["item_id"].to_numpy()[a],
            "other_id": meta["item_id"].to_numpy()[b],
            "pair_type": np.where(label == 1, "medium", "hard"),
            "label": label,
        }
    )
    cfg = build(
        TrainConfig,
        {"epochs": 2, "patience": 2, "batch_size": 32, "dim": 32, "attr_heads": ["category", "material", "neckline"]},
        "train",
    )
    data = prepare_training_data(store.meta, store.image_keys, store.text_keys, pairs, cfg.attr_heads)
    result = Trainer(
        data,
        cfg,
        seed=42,
        params_hash="stage-test",
        store_hash=store.store_hash,
        checkpoint_root=root / "artifacts/checkpoints",
    ).fit()
    export_model(result, store, root / "artifacts/model")
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text())
    set_params(root, {"eval.bootstrap": 200, "eval.gallery_queries": 4})


@pytest.fixture(scope="module")
def evaluated(run_stage, set_params, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    tiny_repo(root, set_params)
    done = run_stage("evaluate", root)
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.slow
def test_evaluate_writes_every_report(evaluated):
    root = evaluated
    meta = pd.read_parquet(root / "artifacts/store/meta.parquet")
    test = meta[meta["split"] == "test"]
    metrics = json.loads((root / "reports/metrics_detail.json").read_text())
    per_query = pd.read_parquet(root / "artifacts/eval/per_query.parquet")
    i2i = per_query[per_query["task"] == "i2i"]
    assert set(metrics) == {"baseline", "finetuned"}
    for model in ("baseline", "finetuned"):
        m = metrics[model]
        assert m["i2i/category@10_n"] == len(test)
        assert m["i2i/material@10_n"] == int((test["material"] != "unknown").sum())
        assert m["i2i/style@10_n"] == 0 and "i2i/style@10" not in m  # no query knows its style
        assert m["t2i_title/recall@1_n"] == len(test)
        assert m["t2i_category/p@10_n"] == test["category"].nunique()
        assert m["t2i_color/mrr_n"] == 1
        assert all(0.0 <= v <= 1.0 for k, v in m.items() if not k.endswith("_n"))
        # each headline number is the mean of its per-query scores (the table the scoreboard bootstraps)
        assert m["i2i/category@1"] == round(float(i2i[f"{model}/category@1"].mean()), DECIMALS)
        assert m["t2i_title/recall@1"] <= m["t2i_title/recall@10"]
    headline = json.loads((root / "reports/metrics.json").read_text())  # the DVC metric: five numbers per model
    for model in ("baseline", "finetuned"):
        m = metrics[model]
        known = [m[f"i2i/{a}@10"] for a in ("category", "color", "material", "neckline")]  # the others have no query
        fields = ["kagl_category", "kagl_sub_category", "kagl_fine_category", "kagl_colour"]  # season, usage: no query
        assert headline[model] == {
            "i2i/mean_attribute@10": round(sum(known) / 4, 4),
            "i2i/category@10": round(m["i2i/category@10"], 4),
            "t2i_title/recall@10": round(m["t2i_title/recall@10"], 4),
            "kagl_text_to_image/avg_recall": round(
                (m["kagl_text_to_image/recall@1"] + m["kagl_text_to_image/recall@10"]) / 2, 4
            ),
            "kagl_fields/mean_avg_p": pytest.approx(
                sum((m[f"{t}/p@1"] + m[f"{t}/p@10"]) / 2 for t in fields) / 4, abs=1e-4
            ),
        }
        # held out: one query per distinct text of the test split; the whole-catalog diagnostic asks every text
        assert m["kagl_text_to_image/recall@1_n"] == test["title"].nunique()
        assert m["kagl_text_to_image_catalog/recall@1_n"] == meta["title"].nunique()
        assert m["kagl_sub_category/p@1_n"] == test["raw_subCategory"].nunique() and m["kagl_category/p@1_n"] == 1
        assert m["kagl_season/p@1_n"] == 0 and "kagl_season/p@1" not in m
    leaderboard = (root / "reports/leaderboard.md").read_text()
    assert "## Text-To-Image" in leaderboard and "## Usage-To-Product" in leaderboard
    assert (
        "| **ours: finetuned** |" in leaderboard and "| ViT-B-16 laion2b_s34b_b88k (published) | 0.295 |" in leaderboard
    )
    assert "No queries: the test split has no such field" in leaderboard  # season and usage
    truth = pd.read_csv(root / "reports/benchmark_ground_truth.tsv", sep="\t", dtype={"relevant_items": str})
    sub = truth[truth["task"] == "kagl_sub_category"]
    assert sub["query"].tolist() == sorted(test["raw_subCategory"].unique()) and sub["relevant"].sum() == len(test)
    assert (truth["task"] == "kagl_text_to_image").sum() == test["title"].nunique()
    intervals = json.loads((root / "reports/metrics_ci.json").read_text())
    for key, value in metrics["finetuned"].items():
        if not key.endswith("_n"):
            assert intervals["finetuned"][key]["lo"] <= value <= intervals["finetuned"][key]["hi"]

    by_category = json.loads((root / "reports/metrics_by_category.json").read_text())
    assert set(by_category["baseline"]) == set(test["category"])
    cardigans = by_category["finetuned"]["cardigans"]
    assert cardigans["n"] == int((test["category"] == "cardigans").sum()) and 0 <= cardigans["category@10"] <= 1
    by_value = json.loads((root / "reports/metrics_by_value.json").read_text())
    denim = by_value["baseline"]["material=denim"]
    assert denim["n"] == int((test["material"] == "denim").sum()) and set(denim) == {
        "n",
        "material@1",
        "material@5",
        "material@10",
        "material@20",
    }

    with open(root / "reports/plots/recall_at_k.csv") as handle:
        curve = list(csv.DictReader(handle))
    assert [row["k"] for row in curve] == ["1", "5", "10", "20"]
    assert float(curve[2]["finetuned"]) == metrics["finetuned"]["i2i/category@10"]
    bars = pd.read_csv(root / "reports/plots/attribute_at_10.csv")
    assert list(bars.columns) == ["attribute", "model", "value"]
    assert bars["attribute"].tolist() == [a for a in ["category", "color", "material", "neckline"] for _ in range(2)]
    assert (
        bars.set_index(["attribute", "model"]).loc[("neckline", "finetuned"), "value"]
        == metrics["finetuned"]["i2i/neckline@10"]
    )
    gallery = (root / "reports/gallery.html").read_text()
    assert gallery.count("<tr>") == 1 + 4 and "data:image/jpeg;base64," in gallery

    per_query = pd.read_parquet(root / "artifacts/eval/per_query.parquet")
    assert (per_query["task"] == "i2i").sum() == len(test)
    run_card = json.loads((root / "artifacts/eval/run.json").read_text())
    assert run_card["untrained_backbone"] is True and run_card["finetuned"]["kind"] == "heads"


@pytest.mark.slow
def test_evaluate_is_deterministic(run_stage, evaluated, tmp_path):
    before = {path: (evaluated / path).read_bytes() for path in OUTPUTS}
    done = run_stage("evaluate", evaluated)
    assert done.returncode == 0, done.stderr
    for path, content in before.items():
        assert (evaluated / path).read_bytes() == content, path


@pytest.mark.slow
def test_scoreboard_on_the_evaluated_repo(set_params, run_stage, evaluated):
    root = evaluated
    done = run_stage("scoreboard", root)
    assert done.returncode == 0, done.stderr
    board = json.loads((root / "reports/scoreboard.json").read_text())  # the DVC metric: 4 values per target
    assert len(board) == 5 and all(
        list(entry) == ["baseline", "delta", "finetuned", "pass"] for entry in board.values()
    )
    # the tiny catalog has no leather
    assert board["material@10 leather"] == {"baseline": None, "delta": None, "finetuned": None, "pass": False}
    cardigans = board["category@10 cardigans"]
    by_category = json.loads((root / "reports/metrics_by_category.json").read_text())
    assert cardigans["baseline"] == round(by_category["baseline"]["cardigans"]["category@10"], 4)
    assert cardigans["finetuned"] == round(by_category["finetuned"]["cardigans"]["category@10"], 4)
    assert cardigans["delta"] == pytest.approx(100 * (cardigans["finetuned"] - cardigans["baseline"]), abs=0.01)
    assert cardigans["pass"] is (cardigans["delta"] >= 10)
    assert all(round(v, 4) == v for entry in board.values() for v in entry.values() if isinstance(v, float))
    detail = json.loads((root / "reports/scoreboard_detail.json").read_text())
    assert detail["untrained_backbone"] is True and detail["pass"] is False and detail["targets_total"] == 5
    assert detail["targets"]["material@10 leather"]["status"] == "no data"
    cardigans_detail = detail["targets"]["category@10 cardigans"]
    assert cardigans_detail["n"] == by_category["baseline"]["cardigans"]["category_n"]
    assert cardigans_detail["delta_lo"] <= cardigans_detail["delta"] <= cardigans_detail["delta_hi"]
    assert cardigans_detail["delta"] == cardigans["delta"]
    md = (root / "reports/scoreboard.md").read_text()
    assert "backbone is untrained" in md and "| material@10 | material=leather | 0 |" in md
    assert "Graphic policy: category@K reads an item whose pattern is graphic or printed" in md

    set_params(root, {"scoreboard.fail_on_miss": True})
    failed = run_stage("scoreboard", root)
    set_params(root, {"scoreboard.fail_on_miss": False})
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("error: scoreboard: ")
    assert "material@10 [material=leather] (no data)" in failed.stderr
    assert json.loads((root / "reports/scoreboard.json").read_text()) == board  # written before failing
    assert json.loads((root / "reports/scoreboard_detail.json").read_text()) == detail


def test_scoreboard_without_evaluate_outputs_is_one_clear_error(run_stage, tmp_path):
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    done = run_stage("scoreboard", tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: artifacts/eval/per_query.parquet: ") and done.stderr.count("\n") == 1
    assert "not found" in done.stderr and "evaluate stage" in done.stderr
