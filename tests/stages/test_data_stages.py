"""`python -m stages.ingest` then `python -m stages.normalize` in a temporary folder: outputs, bytes, failures."""

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.normalize import ITEM_COLUMNS

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_real = pytest.mark.skipif(not REAL_DATA.is_dir(), reason="the real data samples (../shared/data) are absent")
pytestmark = pytest.mark.slow  # each test starts two or three stage processes (~6 s of imports each)
OUTPUTS = ("data/processed/items.parquet", "reports/data_profile.json", "reports/data_profile.md")


def ingest(run_stage, workdir: Path, data: dict, seed: int = 42) -> None:
    result = run_stage("ingest", workdir, {"seed": seed, "data": data, "runtime": {"normalize": {"workers": 2}}})
    assert result.returncode == 0, result.stderr


def ingest_and_normalize(run_stage, workdir: Path, data: dict, seed: int = 42) -> subprocess.CompletedProcess:
    ingest(run_stage, workdir, data, seed)
    return run_stage("normalize", workdir)


def test_sample_catalog_through_ingest_and_normalize(run_stage, tmp_path):
    result = ingest_and_normalize(
        run_stage, tmp_path, {"source": "sample", "sample": {"items": 80, "image_size": 32}, "min_readable": 0.9}
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "data/raw/manifest.json").read_text())
    items = pd.read_parquet(tmp_path / "data/processed/items.parquet")
    profile = json.loads((tmp_path / "reports/data_profile.json").read_text())
    assert list(items.columns) == ITEM_COLUMNS
    assert profile["rows"] == manifest["rows"] and profile["items"] == len(items)
    assert profile["items"] + profile["unreadable"] == manifest["rows"]
    assert all((tmp_path / p).is_file() for p in items["image_path"])
    assert items.groupby("group_key")["split"].nunique().max() == 1
    assert profile["split_items"] == items["split"].value_counts().reindex(["train", "val", "test"]).to_dict()
    assert "## Fields" in (tmp_path / "reports/data_profile.md").read_text()

    first = (tmp_path / OUTPUTS[0]).read_bytes()
    again = run_stage("normalize", tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / OUTPUTS[0]).read_bytes() == first  # same input and params: same bytes
    assert sorted(os.listdir(tmp_path / "data")) == ["processed", "raw"]
    assert sorted(os.listdir(tmp_path / "data/processed")) == ["items.parquet"]


@needs_real
def test_real_hm_subsample(run_stage, tmp_path):
    result = ingest_and_normalize(
        run_stage, tmp_path, {"source": "hm", "catalog": str(REAL_DATA / "hm-sample"), "max_items": 120}
    )
    assert result.returncode == 0, result.stderr
    items = pd.read_parquet(tmp_path / "data/processed/items.parquet")
    assert len(items) == 120 and items["item_id"].str.len().eq(10).all()
    assert items["group_key"].str.startswith("hm:").all()
    assert items["category_source"].eq("field").mean() > 0.95
    assert items["image_path"].str.match(r"data/raw/images/\d{3}/\d{10}\.jpg").all()


@needs_real
def test_unreadable_images_fail_with_one_line_and_no_output(run_stage, tmp_path):
    ingest(run_stage, tmp_path, {"source": "myntra", "catalog": str(REAL_DATA / "myntra-sample"), "max_items": 60})
    for path in sorted((tmp_path / "data/raw/images").iterdir())[:3]:
        path.write_bytes(path.read_bytes()[:100])  # truncated: 57 of 60 readable, below 0.99
    result = run_stage("normalize", tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: data/raw: only 57 of 60 images decode (95.00%")
    assert "Traceback" not in result.stderr
    assert not any((tmp_path / p).exists() for p in OUTPUTS)
    assert sorted(os.listdir(tmp_path / "data")) == ["raw"]
