"""Frozen-CLIP prompt features kept between evaluate runs: a sweep over train.* asks the same prompts every time."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.io import atomic_path

log = logging.getLogger(__name__)

# What the features depend on besides the store and the texts: the encoder's code and the libraries under it.
ENCODER_FILES = ("clip.py", "config.py", "device.py")  # beside this file
ENCODER_PACKAGES = ("open_clip_torch", "torch")

TextEncoder = Callable[[list[str]], np.ndarray]


class CachedPromptEncoder:
    """`texts -> (len, D) float32` through the store's frozen CLIP text tower, remembered on disk.

    The features of a list of prompts are a pure function of the backbone (named by the store's model
    description and hash: the store's keys come from the same weights), the device, the encoder's code and
    library versions, how the encoder batches them (`batching`: a batch's shape can change the last float bits,
    so evaluate's batched prompts and the search's one-at-a-time queries never share an entry), and the texts
    in order; the file name is a sha256 over all of them, so a change in any
    one is a miss. On a miss `make_encoder()` builds the encoder (importing open_clip and building the
    model is most of evaluate's start-up) and the features are written atomically for the next run. The
    folder is not a DVC out: like the training checkpoints it only saves time and never changes a result.
    """

    def __init__(
        self,
        folder: str | Path,
        model: dict[str, Any],
        store_hash: str,
        device: str,
        make_encoder: Callable[[], TextEncoder],
        *,
        batching: str = "batched",
    ) -> None:
        self.folder = Path(folder)
        self.context = {
            "model": model,
            "store_hash": store_hash,
            "device": device,
            "code": encoder_code_hash(),
            "batching": batching,
        }
        self.make_encoder = make_encoder
        self.encoder: TextEncoder | None = None
        self.hits = self.misses = 0

    def key(self, texts: Sequence[str]) -> str:
        payload = json.dumps({**self.context, "texts": list(texts)}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        path = self.folder / f"{self.key(texts)}.npy"
        cached = _load(path, len(texts))
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        if self.encoder is None:
            self.encoder = self.make_encoder()
        features = np.ascontiguousarray(self.encoder(list(texts)), dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, features, allow_pickle=False)
        return features


def encoder_code_hash() -> str:
    """sha256 over the encoder's source files and the versions of open_clip and torch."""
    digest = hashlib.sha256()
    folder = Path(__file__).resolve().parent
    for name in ENCODER_FILES:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    for package in ENCODER_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()


def _load(path: Path, rows: int) -> np.ndarray | None:
    """The cached features, or None when absent or unreadable (then they are computed again)."""
    if not path.is_file():
        return None
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.warning("prompt cache: %s is unreadable (%s); encoding again", path, exc)
        return None
    if features.dtype != np.float32 or features.ndim != 2 or len(features) != rows:
        log.warning(
            "prompt cache: %s holds %s %s, expected %d rows of float32", path, features.dtype, features.shape, rows
        )
        return None
    result: np.ndarray | None = features
    return result


__all__ = ["CachedPromptEncoder", "encoder_code_hash"]
