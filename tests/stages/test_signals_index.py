"""The export_signals and build_index stages, run as DVC runs them, in a temporary repository."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from pipelines.index import open_index, search
from pipelines.schema import FIELDS, UNKNOWN
from pipelines.signals import active_signal_labels
from pipelines.store import open_store, write_store

REPO = Path(__file__).resolve().parents[2]
MODEL = {"arch": "test", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}
COLORS = ["black", "red", "blue"]
CATEGORIES = ["tees", "shirts"]


def tiny_store(path, n=120, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    color, category = np.arange(n) % 3, (np.arange(n) // 3) % 2
    centres = rng.standard_normal((5, dim))
    keys = centres[color] + centres[3 + category] + 0.3 * rng.standard_normal((n, dim))
    keys = (keys / np.linalg.norm(keys, axis=1, keepdims=True)).astype(np.float32)
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i:03d}" for i in range(n)],
            "image_path": "",
            "title": "",
            "desc": "",
            "group_key": [f"g{i // 2}" for i in range(n)],
            "split": np.where(np.arange(n) % 5 == 0, "val", np.where(np.arange(n) % 5 == 1, "test", "train")),
        }
    )
    for field in FIELDS:
        meta[field], meta[f"{field}_source"], meta[f"{field}_conf"] = UNKNOWN, "unknown", np.float32(0.1)
    meta["color"] = np.array(COLORS)[color]
    meta["category"] = np.where(np.arange(n) % 10 == 9, UNKNOWN, np.array(CATEGORIES)[category])
    return write_store(path, meta, keys, keys[::-1].copy(), np.zeros((n, 4), np.float32), MODEL, "test")


@pytest.fixture
def repo(tmp_path):
    tiny_store(tmp_path / "artifacts" / "store")
    return tmp_path


SIGNALS = {"dims": ["category", "color"], "priority": ["category", "color"]}
INDEX = {"factory": "HNSW16", "ef_search": 32, "eval_queries": 50}
# A key that names a duration or a rate: build_s, queries_per_s, elapsed, ...
TIMING_KEY = re.compile(r"(^|_)(s|ms|sec|seconds|per_s|time|timing|elapsed|duration)$")


def test_export_signals_stage(run_stage, repo):
    result = run_stage("export_signals", repo, {"seed": 3, "signals": SIGNALS})
    assert result.returncode == 0, result.stderr
    store = open_store(repo / "artifacts" / "store")
    prototypes = torch.load(repo / "artifacts/signals/prototypes.pt", weights_only=True)
    assert prototypes["store_hash"] == store.store_hash
    assert prototypes["color"]["concepts"] == COLORS and tuple(prototypes["color"]["prototypes"].shape) == (3, 16)
    signals = pd.read_parquet(repo / "artifacts/signals/signals.parquet")
    assert len(signals) == 120 * 4
    report = json.loads((repo / "reports/signals.json").read_text())
    assert report["items"] == 120
    assert report["color"]["top1_accuracy"] == 1.0 and report["color"]["val_known"] == 24
    floats = [v for dim in ("category", "color") for v in report[dim].values() if isinstance(v, float)]
    assert floats and all(round(v, 4) == v for v in floats + [report["coverage_any"], report["mean_active_per_item"]])
    assert 0 < report["color"]["coverage"] <= 1 and 0 < report["category"]["coverage"] <= 1
    labels = active_signal_labels(signals, ["category", "color"])
    covered = labels["color"] != UNKNOWN
    assert (labels.loc[covered, "color"] == store.meta.set_index("item_id").loc[labels.index[covered], "color"]).all()


def test_export_signals_bad_dimension_leaves_no_output(run_stage, repo):
    result = run_stage("export_signals", repo, {"signals": {"dims": ["color", "neckline"]}})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: signals.dims names 'neckline', but none of the 72 train items has a known neckline value; "
        "drop it from signals.dims"
    )
    assert not (repo / "artifacts" / "signals").exists() and not (repo / "reports").exists()


def test_build_index_stage(run_stage, repo):
    result = run_stage("build_index", repo, {"seed": 3, "index": INDEX})
    assert result.returncode == 0, result.stderr
    store = open_store(repo / "artifacts" / "store")
    headline = json.loads((repo / "reports/index.json").read_text())
    recalls = {"recall_at_10_image_queries", "recall_at_10_text_queries"}  # per query modality
    assert set(headline) == {"image", "text"} and all(set(v) == recalls for v in headline.values())
    assert all(value >= 0.9 for v in headline.values() for value in v.values())
    detail = json.loads((repo / "reports/index_detail.json").read_text())
    assert detail["image"] == {
        "factory": "HNSW16",
        "auto": False,
        "rows": 120,
        "dim": 16,
        "eval_queries": 50,
        "ef_search": 32,
        "nprobe": None,
        **headline["image"],
        "bytes_per_vector": detail["image"]["bytes_per_vector"],
    }
    assert detail["image"]["bytes_per_vector"] > 16 * 4  # float32 codes plus the HNSW links
    image = open_index(repo / "artifacts/index/image.faiss", store)
    np.testing.assert_array_equal(search(image, store.image_keys[:3], 1)[1][:, 0], [0, 1, 2])
    text = open_index(repo / "artifacts/index/text.faiss", store)
    assert search(text, store.text_keys[:1], 1)[1][0, 0] == 0

    tiny_store(repo / "artifacts" / "store", seed=1)  # the store changes under the index
    with pytest.raises(Exception, match="was built on store"):
        open_index(repo / "artifacts/index/image.faiss", open_store(repo / "artifacts" / "store"))


def build_index_outs(root: Path) -> dict[str, bytes]:
    """Every file under build_index's outs as dvc.yaml declares them, by path relative to `root`."""
    declared = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["build_index"]["outs"]
    paths = [root / (out if isinstance(out, str) else next(iter(out))) for out in declared]
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    return {str(f.relative_to(root)): f.read_bytes() for f in files}


def timing_keys(value, where: str = "") -> list[str]:
    """Dotted paths of every key, at any depth, that names a duration or a rate."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if TIMING_KEY.search(key):
                found.append(where + key)
            found += timing_keys(inner, f"{where}{key}.")
    elif isinstance(value, list):
        for inner in value:
            found += timing_keys(inner, where)
    return found


def test_build_index_outs_carry_no_timings_and_a_rerun_is_byte_identical(run_stage, repo):
    assert run_stage("build_index", repo, {"seed": 3, "index": INDEX}).returncode == 0
    first = build_index_outs(repo)
    assert {
        "reports/index.json",
        "reports/index_detail.json",
        "artifacts/index/image.faiss",
        "artifacts/index/image.json",
        "artifacts/index/text.faiss",
        "artifacts/index/text.json",
    } <= set(first)
    for path in (p for p in first if p.endswith(".json")):
        assert timing_keys(json.loads(first[path])) == [], path
    assert timing_keys({"build_s": 1, "x": {"queries_per_s": 2}, "eval_queries": 3, "rows": 4}) == [
        "build_s",
        "x.queries_per_s",
    ]

    again = run_stage("build_index", repo, {"seed": 3, "index": INDEX})
    assert again.returncode == 0, again.stderr
    assert "queries/s" in again.stderr and "built in" in again.stderr  # the timings are logged instead
    second = build_index_outs(repo)
    assert set(second) == set(first)
    for path, content in first.items():
        assert second[path] == content, f"{path} differs between two runs on the same inputs"


def test_build_index_factory_too_big_leaves_no_output(run_stage, repo):
    result = run_stage("build_index", repo, {"index": INDEX | {"factory": "IVF256,Flat", "text": False}})
    assert result.returncode == 1
    assert "needs at least 9984 training vectors" in result.stderr and "'Flat' for 120 vectors" in result.stderr
    assert not (repo / "artifacts" / "index").exists() and not (repo / "reports").exists()
