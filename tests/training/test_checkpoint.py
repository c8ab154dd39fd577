"""Checkpoints: the run key, atomic save/load, clear errors on unreadable files."""

import pytest
import torch

from pipelines.errors import PipelineError
from pipelines.training.checkpoint import load_checkpoint, params_hash, save_checkpoint


def test_params_hash_keys_on_params_seed_and_inputs():
    base = params_hash({"lr": 1e-3}, 42, "store", "pairs")
    assert base == params_hash({"lr": 1e-3}, 42, "store", "pairs")
    others = {
        params_hash({"lr": 3e-4}, 42, "store", "pairs"),
        params_hash({"lr": 1e-3}, 1, "store", "pairs"),
        params_hash({"lr": 1e-3}, 42, "other", "pairs"),
        params_hash({"lr": 1e-3}, 42, "store", "other"),
    }
    assert base not in others and len(others) == 4


def test_save_and_load_round_trip(tmp_path):
    state = {"epoch": 3, "model": {"w": torch.arange(4.0)}, "log": [{"epoch": 1}]}
    save_checkpoint(state, tmp_path / "run" / "last.pt")
    back = load_checkpoint(tmp_path / "run" / "last.pt")
    assert back["epoch"] == 3 and torch.equal(back["model"]["w"], torch.arange(4.0))
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["last.pt"]  # no temp file left


def test_unreadable_or_foreign_checkpoints_are_clear_errors(tmp_path):
    (tmp_path / "torn.pt").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(PipelineError, match="torn.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "torn.pt")
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(PipelineError, match="not a train checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(PipelineError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
