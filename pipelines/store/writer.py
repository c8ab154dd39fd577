"""Writes a key/value store block by block into memory-mapped `.npy` files, then its meta and manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.format import open_memmap

from pipelines.errors import PipelineError
from pipelines.io import atomic_dir, sha256_file, write_json_atomic

FORMAT_VERSION = 1
ARRAYS = ("image_keys", "text_keys", "fact_values")
META_FILE = "meta.parquet"
MANIFEST_FILE = "manifest.json"
STORE_FILES = tuple(f"{name}.npy" for name in ARRAYS) + (META_FILE,)
DTYPE = "float32"
MODEL_KEYS = ("arch", "pretrained", "untrained", "precision", "seed")


def files_hash(files: Mapping[str, str]) -> str:
    """The store hash: sha256 over the manifest's `files` entry (file name -> content sha256)."""
    text = json.dumps(dict(files), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_model_description(model: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Return `model` as a plain dict, raising a PipelineError when a contract key is missing."""
    if not isinstance(model, Mapping):
        raise PipelineError(f"{where}: 'model' must be a mapping with keys {', '.join(MODEL_KEYS)}, got {model!r}")
    missing = [key for key in MODEL_KEYS if key not in model]
    if missing:
        raise PipelineError(
            f"{where}: the model description lacks {', '.join(missing)} "
            f"(expected keys {', '.join(MODEL_KEYS)}, found {', '.join(sorted(model)) or 'none'})"
        )
    if not isinstance(model["untrained"], bool):
        raise PipelineError(f"{where}: model 'untrained' must be true or false, got {model['untrained']!r}")
    return dict(model)


class StoreWriter:
    """Fills the three arrays of a store in row order, one block at a time.

    Each block is written through a short-lived memory map that is closed at once, so
    the pages never accumulate in this process and peak memory does not
    grow with the catalog. `finish` writes `meta.parquet` and, last, `manifest.json`.
    """

    def __init__(self, folder: Path, rows: int, dims: Mapping[str, int]) -> None:
        if set(dims) != set(ARRAYS):
            raise ValueError(f"store dims must name exactly {ARRAYS}, got {sorted(dims)}")
        if rows < 1:
            raise PipelineError(f"a store needs at least one row, got {rows}")
        self.folder = Path(folder)
        self.rows = int(rows)
        self.dims = {name: int(dims[name]) for name in ARRAYS}
        self.finished = False
        self._next = {name: 0 for name in ARRAYS}
        for name in ARRAYS:
            if self.dims[name] < 1:
                raise ValueError(f"store dim of {name} must be positive, got {self.dims[name]}")
            array = open_memmap(self._path(name), mode="w+", dtype=DTYPE, shape=(self.rows, self.dims[name]))
            array.flush()
            del array

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.npy"

    def rows_written(self, name: str) -> int:
        return self._next[name]

    def append(self, name: str, block: np.ndarray) -> None:
        """Write the next rows of array `name` (blocks arrive in row order)."""
        if name not in self._next:
            raise ValueError(f"unknown store array {name!r} (arrays: {', '.join(ARRAYS)})")
        block = np.asarray(block)
        start = self._next[name]
        if block.ndim != 2 or block.shape[1] != self.dims[name]:
            raise PipelineError(
                f"{name}: expected a block of shape (n, {self.dims[name]}), got {block.shape} at row {start}"
            )
        stop = start + block.shape[0]
        if stop > self.rows:
            raise PipelineError(f"{name}: {stop} rows written, more than the store's {self.rows}")
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            bad = start + int(np.flatnonzero(~finite)[0])
            raise PipelineError(f"{name}: row {bad} holds NaN or infinite values (the encoder produced them)")
        # Unmapping a shared map keeps the rows in the page cache without a synchronous msync
        # per block; the hash in finish() reads them back through the same cache.
        array = open_memmap(self._path(name), mode="r+")
        array[start:stop] = block.astype(DTYPE, copy=False)
        del array
        self._next[name] = stop

    def finish(
        self,
        meta: pd.DataFrame,
        model: Mapping[str, Any],
        text_encoder: str,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write meta.parquet and manifest.json once every array is full; return the manifest."""
        for name in ARRAYS:
            if self._next[name] != self.rows:
                raise PipelineError(f"{name}: only {self._next[name]} of {self.rows} rows were written")
        if len(meta) != self.rows:
            raise PipelineError(f"{META_FILE}: meta has {len(meta)} rows, the arrays have {self.rows}")
        model = check_model_description(model, MANIFEST_FILE)
        meta.reset_index(drop=True).to_parquet(self.folder / META_FILE, index=False)
        files = {name: sha256_file(self.folder / name) for name in STORE_FILES}
        manifest = {
            "format_version": FORMAT_VERSION,
            "rows": self.rows,
            "model": model,
            "text_encoder": str(text_encoder),
            "dims": dict(self.dims),
            "dtype": DTYPE,
            "files": files,
            "store_hash": files_hash(files),
        }
        if params is not None:
            manifest["params"] = dict(params)
        write_json_atomic(manifest, self.folder / MANIFEST_FILE)
        self.finished = True
        return manifest


@contextlib.contextmanager
def create_store(path: str | Path, rows: int, dims: Mapping[str, int]) -> Iterator[StoreWriter]:
    """Yield a StoreWriter over a temporary folder that replaces `path` only when finished.

    A failure inside the block, or a block that ends without `finish()`, leaves the old
    store (or nothing) at `path`, never a partial one.
    """
    with atomic_dir(path) as tmp:
        writer = StoreWriter(tmp, rows, dims)
        yield writer
        if not writer.finished:
            raise RuntimeError(f"{path}: the store writer was closed before finish() wrote the manifest")
