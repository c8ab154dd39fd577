"""The key/value store: open it validated against its manifest, or write a small one in one call."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.io import read_json, sha256_file
from pipelines.store.writer import (
    ARRAYS,
    DTYPE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    META_FILE,
    MODEL_KEYS,
    STORE_FILES,
    check_model_description,
    create_store,
    files_hash,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Store:
    """An opened, validated store; row i of every array is row i of `meta`."""

    path: Path
    manifest: dict
    meta: pd.DataFrame
    image_keys: np.ndarray  # (N, D) float32, memory-mapped read-only
    text_keys: np.ndarray  # (N, D)
    fact_values: np.ndarray  # (N, F)

    @property
    def store_hash(self) -> str:
        return self.manifest["store_hash"]

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])

    @property
    def model(self) -> dict:
        """The backbone description: arch, pretrained, untrained, precision, seed."""
        return dict(self.manifest["model"])


class StoreError(PipelineError):
    """A store is missing, incomplete, or does not match its manifest."""


def open_store(path: str | Path, expected_model: Mapping | None = None) -> Store:
    """Open the store at `path`, checking every file against its manifest.

    Checks, each failure naming the file: manifest present and well-formed, every listed
    file present with the recorded sha256 (every file is hashed in full: no size/mtime
    shortcut), the store hash, array dtype float32, array and meta rows equal to the
    manifest's rows, array widths equal to the manifest's dims. With `expected_model`
    (e.g. a ClipEncoder's `description`), every key it gives must match the manifest's
    model; `seed` is only compared when the backbone is untrained, since it does not
    change pretrained weights.
    """
    path = Path(path)
    if not path.is_dir():
        raise StoreError(f"{path}: store folder not found (run the encode_kv stage first)")
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise StoreError(f"{manifest_path}: manifest missing, so the store is incomplete (rerun encode_kv)")
    manifest = read_json(manifest_path)
    _check_manifest(manifest, manifest_path)

    for name, recorded in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise StoreError(f"{file}: file listed in {MANIFEST_FILE} is missing (rerun encode_kv)")
        actual = sha256_file(file)
        if actual != recorded:
            raise StoreError(
                f"{file}: sha256 {actual[:12]}... does not match {recorded[:12]}... recorded in "
                f"{MANIFEST_FILE} (the file changed after the store was written; rerun encode_kv)"
            )
    if files_hash(manifest["files"]) != manifest["store_hash"]:
        raise StoreError(f"{manifest_path}: store_hash does not match the hash of its 'files' entry")

    rows = manifest["rows"]
    arrays = {}
    for name in ARRAYS:
        file = path / f"{name}.npy"
        try:
            array = np.load(file, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise StoreError(f"{file}: not a readable .npy array ({exc})") from None
        if array.dtype != np.dtype(DTYPE):
            raise StoreError(f"{file}: dtype {array.dtype}, expected {DTYPE} as the manifest says")
        if array.ndim != 2:
            raise StoreError(f"{file}: expected a 2-D array, found shape {array.shape}")
        if array.shape[0] != rows:
            raise StoreError(f"{file}: {array.shape[0]} rows, but {MANIFEST_FILE} says {rows}")
        if array.shape[1] != manifest["dims"][name]:
            raise StoreError(
                f"{file}: dimension {array.shape[1]}, but {MANIFEST_FILE} says {name} has {manifest['dims'][name]}"
            )
        arrays[name] = array
    if arrays["image_keys"].shape[1] != arrays["text_keys"].shape[1]:
        raise StoreError(
            f"{path}: image_keys.npy ({arrays['image_keys'].shape[1]}) and text_keys.npy "
            f"({arrays['text_keys'].shape[1]}) must share the CLIP dimension"
        )
    meta_file = path / META_FILE
    try:
        meta = pd.read_parquet(meta_file)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise StoreError(f"{meta_file}: not a readable parquet file ({exc})") from None
    if len(meta) != rows:
        raise StoreError(f"{meta_file}: {len(meta)} rows, but {MANIFEST_FILE} says {rows}")

    if expected_model is not None:
        check_expected_model(manifest["model"], expected_model, manifest_path)
    return Store(path=path, manifest=manifest, meta=meta, **arrays)


def check_expected_model(actual: Mapping, expected: Mapping, where: Path | str) -> None:
    """Raise when the store's model differs from the one the caller will use with it."""
    for key, value in expected.items():
        if key == "seed" and not (expected.get("untrained") or actual.get("untrained")):
            continue
        if key not in actual or actual[key] != value:
            raise StoreError(
                f"{where}: the store was encoded with model {key}={actual.get(key)!r}, but the caller expects "
                f"{key}={value!r} (rerun encode_kv with the same model params, or use the matching store)"
            )


def _check_manifest(manifest: object, where: Path) -> None:
    if not isinstance(manifest, dict):
        raise StoreError(f"{where}: expected a JSON object, found {type(manifest).__name__}")
    required = ("format_version", "rows", "model", "text_encoder", "dims", "dtype", "files", "store_hash")
    missing = [key for key in required if key not in manifest]
    if missing:
        raise StoreError(f"{where}: missing key(s) {', '.join(missing)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise StoreError(
            f"{where}: format_version {manifest['format_version']!r}, this code reads version {FORMAT_VERSION}"
        )
    if not isinstance(manifest["rows"], int) or isinstance(manifest["rows"], bool) or manifest["rows"] < 1:
        raise StoreError(f"{where}: 'rows' must be a positive whole number, got {manifest['rows']!r}")
    if manifest["dtype"] != DTYPE:
        raise StoreError(f"{where}: dtype {manifest['dtype']!r}, expected {DTYPE!r}")
    dims = manifest["dims"]
    if not isinstance(dims, dict) or set(dims) != set(ARRAYS):
        raise StoreError(f"{where}: 'dims' must name exactly {', '.join(ARRAYS)}, got {dims!r}")
    files = manifest["files"]
    if not isinstance(files, dict) or set(files) != set(STORE_FILES):
        found = ", ".join(sorted(files)) if isinstance(files, dict) else repr(files)
        raise StoreError(f"{where}: 'files' must list exactly {', '.join(STORE_FILES)}, got {found}")
    model = manifest["model"]
    try:
        check_model_description(model, str(where))
    except PipelineError as exc:
        raise StoreError(str(exc)) from None


def write_store(
    path: str | Path,
    meta: pd.DataFrame,
    image_keys: np.ndarray,
    text_keys: np.ndarray,
    fact_values: np.ndarray,
    model: Mapping,
    text_encoder: str,
    params: Mapping | None = None,
) -> Store:
    """Write a store from in-memory arrays atomically and return it opened (for tests and small stores).

    `model` needs the keys arch, pretrained, untrained, precision, seed. Arrays are cast to
    float32; rows of every array must equal the rows of `meta`.
    """
    arrays = {"image_keys": image_keys, "text_keys": text_keys, "fact_values": fact_values}
    shapes = {}
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.ndim != 2:
            raise StoreError(f"{name}: expected a 2-D array, got shape {array.shape}")
        if array.shape[0] != len(meta):
            raise StoreError(f"{name}: {array.shape[0]} rows, but meta has {len(meta)}")
        arrays[name] = array
        shapes[name] = array.shape[1]
    check_model_description(model, str(Path(path) / MANIFEST_FILE))
    with create_store(path, len(meta), shapes) as writer:
        for name, array in arrays.items():
            writer.append(name, array)
        writer.finish(meta, model, text_encoder, params)
    return open_store(path)


__all__ = ["MODEL_KEYS", "Store", "StoreError", "check_expected_model", "open_store", "write_store"]
