"""The key/value store: open it validated against its manifest, or write a small one in one call."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.io import read_json, read_parquet, sha256_file
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

READ_BLOCK = 16_384  # rows per block of a scan (row_blocks) and per LazyRows computation: 24 MiB of 384-d keys
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


@dataclass(frozen=True)
class Store:
    """An opened, validated store; row i of every array is row i of `meta`."""

    path: Path
    manifest: dict[str, Any]
    meta: pd.DataFrame
    image_keys: np.ndarray  # (N, D) float32, memory-mapped read-only
    text_keys: np.ndarray  # (N, D)
    fact_values: np.ndarray  # (N, F)

    @property
    def store_hash(self) -> str:
        result: str = self.manifest["store_hash"]
        return result

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])

    @property
    def model(self) -> dict[str, Any]:
        """The backbone description: arch, pretrained, untrained, precision, seed."""
        return dict(self.manifest["model"])


class StoreError(PipelineError):
    """A store is missing, incomplete, or does not match its manifest."""


def open_store(path: str | Path, expected_model: Mapping[str, Any] | None = None, *, verify: bool = False) -> Store:
    """Open the store at `path`, checking its structure against its manifest.

    Checks, each failure naming the file: manifest present and well-formed, the store hash equal to
    the hash of the manifest's `files` entry, every listed file present, each array's `.npy` header
    (dtype float32, 2-D, rows and width as the manifest says) and its file size equal to header plus
    data (a truncated or extended file fails here), meta rows equal to the manifest's rows. These
    read headers and meta only, so opening costs the same at any catalog size. Content hashes (a
    full read of every file) are checked only with `verify=True` or `python -m pipelines.store
    verify <dir>`: DVC already checks its outs. With `expected_model` (e.g. a ClipEncoder's
    `description`), every key it gives must match the manifest's model; `seed` is only compared
    when the backbone is untrained, since it does not change pretrained weights.
    """
    path = Path(path)
    if not path.is_dir():
        raise StoreError(f"{path}: store folder not found (run the encode_kv stage first)")
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise StoreError(f"{manifest_path}: manifest missing, so the store is incomplete (rerun encode_kv)")
    manifest = read_json(manifest_path)
    _check_manifest(manifest, manifest_path)
    if files_hash(manifest["files"]) != manifest["store_hash"]:
        raise StoreError(f"{manifest_path}: store_hash does not match the hash of its 'files' entry")
    for name in manifest["files"]:
        if not (path / name).is_file():
            raise StoreError(f"{path / name}: file listed in {MANIFEST_FILE} is missing (rerun encode_kv)")
    if verify:
        verify_files(path, manifest)

    rows = manifest["rows"]
    arrays = {name: _open_array(path / f"{name}.npy", rows, manifest["dims"][name]) for name in ARRAYS}
    if arrays["image_keys"].shape[1] != arrays["text_keys"].shape[1]:
        raise StoreError(
            f"{path}: image_keys.npy ({arrays['image_keys'].shape[1]}) and text_keys.npy "
            f"({arrays['text_keys'].shape[1]}) must share the CLIP dimension"
        )
    meta_file = path / META_FILE
    try:
        meta = read_parquet(meta_file, "the encode_kv stage")
    except PipelineError as exc:
        raise StoreError(str(exc)) from None
    if len(meta) != rows:
        raise StoreError(f"{meta_file}: {len(meta)} rows, but {MANIFEST_FILE} says {rows}")

    if expected_model is not None:
        check_expected_model(manifest["model"], expected_model, manifest_path)
    return Store(path=path, manifest=manifest, meta=meta, **arrays)


def verify_store(path: str | Path) -> Store:
    """Open the store at `path` and check every file's content against the sha256 in its manifest."""
    return open_store(path, verify=True)


def verify_files(path: Path, manifest: Mapping[str, Any]) -> None:
    """Hash every file the manifest lists, in full, and raise a StoreError naming the first that differs."""
    for name, recorded in manifest["files"].items():
        file = path / name
        actual = sha256_file(file)
        if actual != recorded:
            raise StoreError(
                f"{file}: sha256 {actual[:12]}... does not match {recorded[:12]}... recorded in "
                f"{MANIFEST_FILE} (the file changed after the store was written; rerun encode_kv)"
            )
    log.info("%s: every file matches its sha256 in %s", path, MANIFEST_FILE)


def _open_array(file: Path, rows: int, dim: int) -> np.ndarray:
    """Memory-map one store array read-only after checking its header and its size in bytes."""
    try:
        with open(file, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = HEADER_READERS.get(version)
            if read_header is None:
                raise ValueError(f".npy format version {version} (this code reads 1.0 and 2.0)")
            shape, fortran_order, dtype = read_header(handle)
            data_offset = handle.tell()
    except (ValueError, OSError) as exc:
        raise StoreError(f"{file}: not a readable .npy array ({exc})") from None
    if dtype != np.dtype(DTYPE):
        raise StoreError(f"{file}: dtype {dtype}, expected {DTYPE} as the manifest says")
    if len(shape) != 2 or fortran_order:
        raise StoreError(f"{file}: expected a 2-D row-major array, found shape {shape}")
    if shape[0] != rows:
        raise StoreError(f"{file}: {shape[0]} rows, but {MANIFEST_FILE} says {rows}")
    if shape[1] != dim:
        raise StoreError(f"{file}: dimension {shape[1]}, but {MANIFEST_FILE} says {file.stem} has {dim}")
    expected = data_offset + shape[0] * shape[1] * dtype.itemsize
    size = file.stat().st_size
    if size != expected:
        raise StoreError(
            f"{file}: {size} bytes, but a ({rows}, {dim}) {DTYPE} array takes {expected} "
            f"(the file was truncated or changed after the store was written; rerun encode_kv)"
        )
    result: np.ndarray = np.load(file, mmap_mode="r", allow_pickle=False)
    return result


def check_expected_model(actual: Mapping[str, Any], expected: Mapping[str, Any], where: Path | str) -> None:
    """Raise when the store's model differs from the one the caller will use with it."""
    for key, value in expected.items():
        if key == "seed" and not (expected.get("untrained") or actual.get("untrained")):
            continue
        if key not in actual or actual[key] != value:
            raise StoreError(
                f"{where}: the store was encoded with model {key}={actual.get(key)!r}, but the caller expects "
                f"{key}={value!r} (rerun encode_kv with the same model params, or use the matching store)"
            )


def check_built_on(
    artifact: Path | str,
    recorded: object,
    store_hash: str,
    remedy: str,
    *,
    store: Path | str | None = None,
    action: str = "built",
) -> None:
    """Raise when an artifact built from a store (an index, prototypes, a model) records another store's hash.

    `recorded` is the store hash the artifact saved (None or anything else when it saved none), `remedy`
    the command that rebuilds it, `store` the folder named in the message, `action` how it was made from
    the store ("built", "trained").
    """
    if recorded == store_hash:
        return
    where = f"{store} has store hash" if store is not None else "the store has hash"
    raise PipelineError(
        f"{artifact} was {action} on store {str(recorded)[:12]}…, but {where} {store_hash[:12]}…; {remedy}"
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


@dataclass(frozen=True)
class LazyRows:
    """A (rows, dim) float32 matrix computed on demand: `compute(rows)` gives the vectors of those row ids (sorted,
    no repeats), e.g. a model's embeddings of store rows. Indexes and scans take it a block at a time, so the whole
    matrix is never held."""

    shape: tuple[int, int]
    compute: Callable[[np.ndarray], np.ndarray]

    def __len__(self) -> int:
        return self.shape[0]


def take_rows(vectors: np.ndarray | LazyRows, rows: np.ndarray) -> np.ndarray:
    """A float32 (len(rows), dim) copy of `vectors[rows]`, rows in the order given.

    A whole memory-mapped store array is read with plain file reads, one per run of consecutive rows, straight
    into the result: its pages go to the page cache, not into this process's resident memory, so a scan over a
    million-row store costs one block of memory, not the file. LazyRows compute the sorted distinct rows,
    READ_BLOCK at a time, so a computation's temporaries stay one block whatever is asked.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(vectors, LazyRows):
        wanted, inverse = np.unique(rows, return_inverse=True)
        computed = np.empty((len(wanted), vectors.shape[1]), dtype=np.float32)
        for start in range(0, len(wanted), READ_BLOCK):
            computed[start : start + READ_BLOCK] = vectors.compute(wanted[start : start + READ_BLOCK])
        return computed if len(wanted) == len(rows) and np.array_equal(wanted, rows) else computed[inverse]
    mapped = _whole_file_map(vectors)
    if mapped is None or len(rows) == 0:
        return np.asarray(np.asarray(vectors)[rows], dtype=np.float32)
    if rows.min() < 0 or rows.max() >= len(vectors):
        raise IndexError(f"row ids must lie in [0, {len(vectors)}), got {rows.min()}..{rows.max()}")
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    in_order = np.array_equal(order, np.arange(len(rows)))
    out = np.empty((len(rows), vectors.shape[1]), dtype=np.float32)
    target = out if in_order else np.empty_like(out)
    row_bytes = vectors.shape[1] * vectors.itemsize
    breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
    with open(str(mapped.filename), "rb") as handle:
        for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)], strict=True):
            handle.seek(mapped.offset + int(ordered[start]) * row_bytes)
            view = target[start:stop].data.cast("B")
            while view.nbytes:  # readinto may return short counts
                read = handle.readinto(view)
                if not read:
                    raise StoreError(f"{mapped.filename}: ended before row {int(ordered[stop - 1])} (file truncated?)")
                view = view[read:]
    if not in_order:
        out[order] = target
    return out


def row_blocks(vectors: np.ndarray | LazyRows, block: int = READ_BLOCK) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float32 block) over all rows of `vectors`, `block` rows at a time (see take_rows)."""
    for start in range(0, len(vectors), block):
        yield start, take_rows(vectors, np.arange(start, min(start + block, len(vectors))))


def _whole_file_map(vectors: object) -> np.memmap | None:
    """`vectors` when it is a float32 row-major memory map of a whole .npy file (as open_store maps them), not a
    view into part of one; else None."""
    if (
        isinstance(vectors, np.memmap)
        and vectors.filename is not None
        and vectors.dtype == np.float32
        and vectors.ndim == 2
        and vectors.flags.c_contiguous
        and vectors.offset + vectors.nbytes == os.path.getsize(vectors.filename)
    ):
        return vectors
    return None


def write_store(
    path: str | Path,
    meta: pd.DataFrame,
    image_keys: np.ndarray,
    text_keys: np.ndarray,
    fact_values: np.ndarray,
    model: Mapping[str, Any],
    text_encoder: str,
    params: Mapping[str, Any] | None = None,
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


__all__ = [
    "MODEL_KEYS",
    "READ_BLOCK",
    "LazyRows",
    "Store",
    "StoreError",
    "check_built_on",
    "check_expected_model",
    "open_store",
    "row_blocks",
    "take_rows",
    "verify_store",
    "write_store",
]
