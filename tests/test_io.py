"""Atomic writers leave either the complete new output or the old one, never a half-written file."""

import hashlib
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.io import (
    atomic_dir,
    atomic_path,
    read_json,
    read_parquet,
    sha256_file,
    write_json_atomic,
    write_parquet_atomic,
    write_torch_atomic,
)


def test_json_is_sorted_and_stable(tmp_path):
    path = tmp_path / "out" / "m.json"
    write_json_atomic({"b": 1, "a": {"d": 2, "c": 3}}, path)
    first = path.read_bytes()
    write_json_atomic({"a": {"c": 3, "d": 2}, "b": 1}, path)
    assert path.read_bytes() == first
    assert list(json.loads(first)) == ["a", "b"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "m.json"
    write_json_atomic({"v": 1}, path)
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("crash")
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_atomic_dir_replaces_whole_folder_only_on_success(tmp_path):
    target = tmp_path / "store"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "b.txt").write_text("new")
            raise ValueError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_a_killed_writers_temporaries_are_swept_by_the_next_write_and_a_live_ones_kept(tmp_path):
    """kill -9 mid-write leaves `.<name>.<pid>.*.tmp` (a file, or a folder for atomic_dir); the next atomic write
    of the same output removes those of dead processes, and never another live writer's."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    (tmp_path / f".store.{dead_pid}.x1y2.tmp").mkdir()
    (tmp_path / f".store.{dead_pid}.x1y2.tmp" / "image_keys.npy").write_bytes(b"half")
    (tmp_path / f".m.json.{dead_pid}.abcd.tmp").write_text("partial")
    live = tmp_path / f".store.{os.getppid()}.live.tmp"  # the test runner's parent: alive
    live.mkdir()
    with atomic_dir(tmp_path / "store") as tmp:
        (tmp / "a.txt").write_text("new")
    write_json_atomic({"v": 1}, tmp_path / "m.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["store", "m.json", live.name])


def test_parquet_round_trip_and_hash(tmp_path):
    frame = pd.DataFrame({"item_id": ["1", "2"], "x": [0.5, 1.5]})
    path = tmp_path / "items.parquet"
    write_parquet_atomic(frame, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(PipelineError, match="missing.json: file not found"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PipelineError, match="bad.json: not valid JSON"):
        read_json(tmp_path / "bad.json")


def test_torch_files_are_byte_identical_for_equal_objects(tmp_path):
    import torch

    state = {"weights": torch.arange(6.0).reshape(2, 3), "epoch": 3}
    write_torch_atomic(state, tmp_path / "a.pt")
    write_torch_atomic(state, tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert torch.equal(torch.load(tmp_path / "a.pt")["weights"], state["weights"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "b.pt"]  # no temp file left behind


def test_read_parquet_errors_name_the_file_and_its_writer(tmp_path):
    with pytest.raises(PipelineError, match=r"missing.parquet: file not found \(run the evaluate stage first\)"):
        read_parquet(tmp_path / "missing.parquet", "the evaluate stage")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(PipelineError, match="bad.parquet: not a readable parquet file"):
        read_parquet(tmp_path / "bad.parquet")
