"""Checkpoints: the params hash that keys a run, atomic save, and load with clear errors."""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipelines.closure import files_hash, stage_files
from pipelines.errors import PipelineError
from pipelines.io import sha256_file, write_torch_atomic

FORMAT_VERSION = 1
LAST, BEST = "last.pt", "best.pt"


def params_hash(
    train: dict[str, Any], seed: int, store_hash: str, pairs_hash: str, extra: dict[str, Any] | None = None
) -> str:
    """Key of a training run: the `train` section, the seed and the exact inputs (store and pairs).

    Two runs with equal hashes compute the same thing, so one may resume the other.
    """
    payload = {"train": train, "seed": seed, "store_hash": store_hash, "pairs_hash": pairs_hash, **(extra or {})}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def run_hash(train: dict[str, Any], seed: int, store_hash: str, pairs: Path, signals: Path | None = None) -> str:
    """`params_hash` of a run over these inputs: the pairs file's bytes, the training code and, when the run
    reads signals, the signals file's bytes."""
    extra = {"code": training_code_hash()}
    if signals is not None:
        extra["signals"] = sha256_file(signals)
    return params_hash(train, seed, store_hash, sha256_file(pairs), extra=extra)


def training_code_hash() -> str:
    """Fingerprint of every project file the train stage loads (the set its DVC deps declare):
    a checkpoint written by other code is never resumed."""
    return files_hash(stage_files("stages.train"))


def rng_state(device: torch.device) -> dict[str, Any]:
    """The generators training draws from (dropout masks: torch's generator of the device the heads run on)."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Set the generators `rng_state` saved; the states go back to the CPU, where torch reads them, as
    `load_checkpoint` maps every tensor onto the training device."""
    torch.set_rng_state(state["torch"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """torch.save through a temp file renamed onto `path`: a kill never leaves a torn checkpoint.

    The state is saved in its canonical form (`canonical`), so a resumed run writes the same bytes as an
    uninterrupted one."""
    write_torch_atomic(canonical({"format_version": FORMAT_VERSION, **state}), path)


def canonical(obj: Any) -> Any:
    """`obj` rebuilt so its pickle depends only on its values, not on which equal objects are one object.

    Pickle writes an object seen before as a back-reference: a run's optimizer keys ('lr', 'weight_decay') are
    one interned string each, while a resumed run's come from unpickling, a fresh string per dict, so the two
    pickles differed by a few hundred bytes with every value equal. Strings are interned and containers rebuilt
    fresh (dict, OrderedDict, list, tuple), so equal values pickle alike; tensors and arrays pass through.
    """
    if isinstance(obj, str):
        return sys.intern(obj)
    if type(obj) is dict:
        return {canonical(key): canonical(value) for key, value in obj.items()}
    if isinstance(obj, OrderedDict):  # a module's state_dict: keep its type and its `_metadata` (versions)
        rebuilt = type(obj)((canonical(key), canonical(value)) for key, value in obj.items())
        if hasattr(obj, "_metadata"):
            setattr(rebuilt, "_metadata", canonical(obj._metadata))  # noqa: B010 (OrderedDict declares no such field)
        return rebuilt
    if isinstance(obj, list):
        return [canonical(item) for item in obj]
    if type(obj) is tuple:  # not a namedtuple: rebuilding one needs its own type
        return tuple(canonical(item) for item in obj)
    return obj


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: checkpoint not found")
    try:
        # our own files: they hold numpy RNG state and plain dicts, not only tensors
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # torch raises several types for truncated or foreign files
        raise PipelineError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise PipelineError(f"{path}: not a train checkpoint of format {FORMAT_VERSION}")
    return state
