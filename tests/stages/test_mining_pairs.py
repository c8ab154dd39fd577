"""The mine_negatives and build_pairs stages, run as DVC runs them, on a tiny store + index + signals."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from pipelines.errors import PipelineError
from pipelines.index import build_index, save_index
from pipelines.schema import FIELDS, UNKNOWN
from pipelines.store import write_store
from stages import build_pairs, mine_negatives

MODEL = {"arch": "test", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}
PARAMS = {"seed": 5, "mining": {"k": 10, "per_anchor": 3}, "pairs": {"n_pairs": 120}}
VALUES = {
    "category": ["tees", "shirts", "jeans"],
    "material": ["cotton", "denim", UNKNOWN],
    "neckline": ["round", "v_neck", UNKNOWN],
    "pattern": ["solid", "striped", "graphic"],
    "color": ["blue", "red"],
    "style": ["casual", "sports"],
}


def tiny_catalog(root, n=90, dim=16, seed=0):
    """Items in multi-view pairs (split by group), keys clustered by category and colour, a signals table."""
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i:03d}" for i in range(n)],
            "image_path": "",
            "title": "",
            "desc": "",
            "group_key": [f"g{i // 2}" for i in range(n)],
        }
    )
    meta["split"] = np.select([(np.arange(n) // 2) % 5 == 0, (np.arange(n) // 2) % 5 == 1], ["val", "test"], "train")
    for field in FIELDS:
        meta[field], meta[f"{field}_source"], meta[f"{field}_conf"] = UNKNOWN, "unknown", np.float32(0.1)
    for field, values in VALUES.items():
        meta[field] = rng.choice(values, n)
        meta[f"{field}_source"] = np.where(meta[field] == UNKNOWN, "unknown", "field")
    centres = {field: rng.standard_normal((len(VALUES[field]), dim)) for field in ("category", "color")}
    keys = sum(centres[f][pd.Index(VALUES[f]).get_indexer(meta[f])] for f in centres)
    keys = keys + 0.4 * rng.standard_normal((n, dim))
    keys = (keys / np.linalg.norm(keys, axis=1, keepdims=True)).astype(np.float32)
    store = write_store(root / "artifacts/store", meta, keys, keys, np.zeros((n, 4), np.float32), MODEL, "test")
    save_index(
        build_index(keys, "Flat", train_size=n, seed=0), root / "artifacts/index/image.faiss", store, factory="Flat"
    )
    (root / "data/processed").mkdir(parents=True)
    meta.to_parquet(root / "data/processed/items.parquet", index=False)
    # One active material signal per item whose material is unknown: denim.
    unknown = meta.loc[meta["material"] == UNKNOWN, "item_id"]
    (root / "artifacts/signals").mkdir(parents=True)
    pd.DataFrame(
        {"item_id": unknown, "dim": "material", "concept": "denim", "score": np.float32(0.9), "rank": 1, "active": True}
    ).to_parquet(root / "artifacts/signals/signals.parquet", index=False)
    return meta


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A tiny repository after the two stages' mains ran in it (in-process; the CLI runs are the slow test)."""
    root = tmp_path_factory.mktemp("repo")
    meta = tiny_catalog(root)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    here = os.getcwd()
    os.chdir(root)
    try:
        mine_negatives.main()
        build_pairs.main()
    finally:
        os.chdir(here)
    return root, meta


def test_mined_negatives_follow_the_rules(repo):
    root, meta = repo
    negatives = pd.read_parquet(root / "artifacts/mining/hard_negatives.parquet")
    assert list(negatives.columns) == ["anchor_id", "negative_id", "rank", "similarity", "differs", "from_signals"]
    assert len(negatives) > 0
    items = meta.set_index("item_id")
    a, b = items.loc[negatives["anchor_id"]], items.loc[negatives["negative_id"]]
    assert (a["split"].to_numpy() == "train").all() and (b["split"].to_numpy() == "train").all()
    assert (a["category"].to_numpy() == b["category"].to_numpy()).all()
    assert (a["group_key"].to_numpy() != b["group_key"].to_numpy()).all()
    assert (negatives.groupby("anchor_id").size() <= 3).all() and (negatives["rank"] <= 10).all()
    for row, first, second in zip(negatives.itertuples(), a.itertuples(), b.itertuples(), strict=True):
        for attr in row.differs.split(","):
            if attr in row.from_signals.split(","):  # filled from the denim signal on one side
                assert attr == "material" and {first.material, second.material} == {UNKNOWN, "cotton"}
            else:
                assert getattr(first, attr) != getattr(second, attr) and UNKNOWN not in (
                    getattr(first, attr),
                    getattr(second, attr),
                )
    report = json.loads((root / "reports/mining.json").read_text())
    assert report["negatives"] == len(negatives) and report["anchors"] == int((meta["split"] == "train").sum())
    assert report["signal_share"] > 0


def test_pairs_follow_the_rules(repo):
    root, meta = repo
    items = meta.set_index("item_id")
    negatives = pd.read_parquet(root / "artifacts/mining/hard_negatives.parquet")
    pairs = pd.read_parquet(root / "artifacts/pairs/pairs.parquet")
    stats = json.loads((root / "reports/pairs_stats.json").read_text())
    assert stats["pairs"] == len(pairs) and sum(stats["count"].values()) == len(pairs)
    assert set(items.loc[pd.concat([pairs["anchor_id"], pairs["other_id"]]), "split"]) == {"train"}
    assert len({frozenset(p) for p in zip(pairs["anchor_id"], pairs["other_id"], strict=True)}) == len(pairs)
    assert stats["count"]["strong"] == int((meta["split"] == "train").sum()) // 2  # every train group is a pair
    hard = pairs[pairs["pair_type"] == "hard"]
    mined_pairs = {frozenset(p) for p in zip(negatives["anchor_id"], negatives["negative_id"], strict=True)}
    assert {frozenset(p) for p in zip(hard["anchor_id"], hard["other_id"], strict=True)} <= mined_pairs
    for name, count in stats["count"].items():
        short = stats["target"][name] - count
        assert stats["shortfall"][name] == short >= 0
        assert (name in stats["short_reason"]) == (short > 0), name  # a reason exactly when a type falls short


def test_same_inputs_give_the_same_bytes(repo, monkeypatch):
    root, _ = repo
    files = [
        root / "artifacts/mining/hard_negatives.parquet",
        root / "artifacts/pairs/pairs.parquet",
        root / "reports/mining.json",
        root / "reports/pairs_stats.json",
    ]
    before = [digest(path) for path in files]
    monkeypatch.chdir(root)  # the stages' mains in-process: the CLI path is covered by the runs above
    mine_negatives.main()
    build_pairs.main()
    assert [digest(path) for path in files] == before


@pytest.mark.slow  # each `python -m stages.*` pays the full package import (open_clip, torch): ~10-30 s here
def test_stages_as_dvc_runs_them_and_bad_negatives_keep_the_good_pairs(run_stage, repo, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(repo[0], root)
    outputs = [
        root / "artifacts/mining/hard_negatives.parquet",
        root / "artifacts/pairs/pairs.parquet",
        root / "reports/mining.json",
        root / "reports/pairs_stats.json",
    ]
    in_process = [digest(path) for path in outputs]
    for stage in ("mine_negatives", "build_pairs"):
        result = run_stage(stage, root, PARAMS)
        assert result.returncode == 0, result.stderr
    assert [digest(path) for path in outputs] == in_process

    negatives = pd.read_parquet(outputs[0])
    negatives.loc[0, "negative_id"] = "ghost"
    negatives.to_parquet(outputs[0], index=False)
    result = run_stage("build_pairs", root, PARAMS)
    assert result.returncode == 1
    assert (
        result.stderr.startswith("error: artifacts/mining/hard_negatives.parquet: row 0")
        and result.stderr.count("\n") == 1
    )
    assert "negative_id 'ghost'" in result.stderr and "rerun mine_negatives" in result.stderr
    assert [digest(path) for path in outputs[1:]] == in_process[1:]  # the good pairs and reports stay


def test_missing_signals_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    tiny_catalog(tmp_path, n=30)
    (tmp_path / "artifacts/signals/signals.parquet").unlink()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        PipelineError,
        match=r"signals.parquet: not found.*export_signals.*mining.use_signals: false",
    ):
        mine_negatives.main()
    assert not (tmp_path / "artifacts/mining").exists() and not (tmp_path / "reports/mining.json").exists()
