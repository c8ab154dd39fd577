"""`python -m stages.encode_kv` on a dozen drawn 32-px items: a valid store, or one clear error and no output."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image, ImageDraw

from pipelines.schema import FIELDS
from pipelines.store import open_store

REPO = Path(__file__).resolve().parents[2]
COLOURS = ["red", "navy", "green", "white"]


def make_repo(root: Path, n: int = 12) -> pd.DataFrame:
    """A working copy holding params.yaml and data/processed/items.parquet with n drawn images."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["runtime"].update(device="cpu", encode={"batch_size": 4, "workers": 1, "text_batch_size": 64})
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "data/raw/images").mkdir(parents=True)
    (root / "data/processed").mkdir(parents=True)
    rows = []
    for i in range(n):
        colour = COLOURS[i % len(COLOURS)]
        image = Image.new("RGB", (32, 32), "grey")
        ImageDraw.Draw(image).ellipse([4, 2 + i % 5, 27, 30], fill=colour)
        image.save(root / f"data/raw/images/{i}.jpg")
        row = {
            "item_id": str(1000 + i),
            "image_path": f"data/raw/images/{i}.jpg",
            "title": f"{colour} dress {i}",
            "desc": "",
            "group_key": f"g{i}",
            "split": ["train", "val", "test"][i % 3],
        }
        for field in FIELDS:
            row.update({field: "unknown", f"{field}_source": "unknown", f"{field}_conf": np.float32(0.1)})
        row.update(category="dresses", category_source="field", category_conf=np.float32(0.9))
        rows.append(row)
    items = pd.DataFrame(rows)
    items.to_parquet(root / "data/processed/items.parquet", index=False)
    return items


def test_stage_writes_a_valid_store(run_stage, tmp_path):
    items = make_repo(tmp_path)
    result = run_stage("encode_kv", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "UNTRAINED" in result.stderr and "images/s" in result.stderr
    store = open_store(tmp_path / "artifacts/store")
    assert store.rows == 12 and store.image_keys.shape == (12, 384) and store.fact_values.shape == (12, 384)
    pd.testing.assert_frame_equal(store.meta, items)
    assert store.manifest["model"] == {
        "arch": "ViT-S-32",
        "pretrained": "none",
        "untrained": True,
        "precision": "fp32",
        "seed": 42,
    }
    np.testing.assert_allclose(np.linalg.norm(store.image_keys, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(store.text_keys, axis=1), 1.0, atol=1e-5)
    # Identical fact texts ("category: dresses") give identical values.
    np.testing.assert_allclose(store.fact_values, np.repeat(store.fact_values[:1], 12, axis=0), atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == ["store"]


@pytest.mark.slow
def test_same_params_give_identical_bytes(run_stage, tmp_path):
    make_repo(tmp_path)
    assert run_stage("encode_kv", tmp_path).returncode == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "artifacts/store").iterdir()}
    shutil.rmtree(tmp_path / "artifacts")
    assert run_stage("encode_kv", tmp_path).returncode == 0
    second = {p.name: p.read_bytes() for p in (tmp_path / "artifacts/store").iterdir()}
    assert first == second


@pytest.mark.slow
def test_ray_engine_writes_the_local_engines_store(run_stage, tmp_path, ray_local):
    local, remote = tmp_path / "local", tmp_path / "ray"
    for folder in (local, remote):
        folder.mkdir()
        make_repo(folder)
    params = yaml.safe_load((remote / "params.yaml").read_text())
    params["runtime"]["engine"] = "ray"
    (remote / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_stage("encode_kv", local).returncode == 0
    # RAY_ADDRESS points the stage at the tests' shared Ray instead of a Ray of its own.
    address = ray_local.get_runtime_context().gcs_address
    result = run_stage("encode_kv", remote, env={"RAY_ADDRESS": address})
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Ray at {address}" in result.stderr
    files = sorted(p.name for p in (local / "artifacts/store").iterdir())
    assert files == sorted(p.name for p in (remote / "artifacts/store").iterdir())
    for name in files:  # the arrays, meta.parquet and the manifest with its hashes: byte for byte
        assert (local / "artifacts/store" / name).read_bytes() == (remote / "artifacts/store" / name).read_bytes(), name


def test_corrupt_image_is_one_error_line_and_no_store(run_stage, tmp_path):
    make_repo(tmp_path, n=6)
    (tmp_path / "data/raw/images/4.jpg").write_bytes(b"")
    result = run_stage("encode_kv", tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "data/raw/images/4.jpg: cannot decode image" in errors[0], result.stderr
    assert not (tmp_path / "artifacts/store").exists()


def test_missing_items_is_one_error_line(run_stage, tmp_path):
    make_repo(tmp_path, n=1)
    (tmp_path / "data/processed/items.parquet").unlink()
    result = run_stage("encode_kv", tmp_path)
    assert result.returncode == 1
    assert "error: data/processed/items.parquet: file not found (run the normalize stage first)" in result.stderr
