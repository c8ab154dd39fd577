"""The encode_kv pass: items -> CLIP image keys, CLIP text keys and fact values, streamed into a store."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pipelines.encoders.clip import ClipEncoder
from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.encoders.facts import FactEncoder, fact_texts
from pipelines.encoders.images import image_batches
from pipelines.encoders.texts import clip_texts
from pipelines.errors import PipelineError
from pipelines.schema import FIELDS
from pipelines.store import create_store

log = logging.getLogger(__name__)

ITEM_COLUMNS = ("item_id", "image_path", "title", "desc", "split", *FIELDS)
TEXT_CHUNK = 1024  # about this many texts per block written to the store: bounded memory at any catalog size


@dataclass(frozen=True)
class KVReport:
    rows: int
    images_per_s: float
    texts_per_s: float
    facts_per_s: float
    manifest: dict[str, Any]


def check_items(items: pd.DataFrame, where: str) -> None:
    """Raise a PipelineError naming the first missing column, a duplicate id, or an empty table."""
    missing = [column for column in ITEM_COLUMNS if column not in items.columns]
    if missing:
        raise PipelineError(f"{where}: missing column(s) {', '.join(missing)} (rerun normalize)")
    if items.empty:
        raise PipelineError(f"{where}: no items to encode")
    duplicated = items["item_id"].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise PipelineError(f"{where}: row {row} repeats item_id {items['item_id'].iloc[row]!r}")


def encode_image_keys(
    encoder: ClipEncoder,
    image_paths: Sequence[str | Path],
    sink: Callable[[np.ndarray], None],
    *,
    batch_size: int,
    workers: int,
    root: str | Path = ".",
) -> float:
    """Encode every image in order, handing each (B, dim) block to `sink`; return images/s.

    Decoding and open_clip's preprocessing run in `workers` DataLoader processes (one
    thread each), overlapped with the forward pass in the main process.
    """
    start = time.perf_counter()
    batches = image_batches(
        image_paths,
        encoder.preprocess,
        batch_size=batch_size,
        workers=workers,
        pin_memory=encoder.device.type == "cuda",
        root=root,
    )
    # The context closes (and clears) the bar on an error too, so the error gets a line of its own.
    with tqdm(total=len(image_paths), desc="image keys", unit="img", leave=False) as progress:
        for pixels in batches:
            sink(encoder.encode_images(pixels))
            progress.update(len(pixels))
    return len(image_paths) / max(time.perf_counter() - start, 1e-9)


def text_chunk(batch_size: int) -> int:
    """Texts per chunk: a whole number of batches, so batch k always holds rows [k*B, (k+1)*B) of the catalog
    (which the Ray engine reproduces, and which keeps each row's key independent of the chunking)."""
    return batch_size * max(1, round(TEXT_CHUNK / batch_size))


def thread_count(threads: int) -> int:
    """`runtime.encode.threads` as a count: 0 = one per core this process may run on."""
    return threads or len(os.sched_getaffinity(0))


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """Run the block with `threads` torch intra-op threads (0 = one per core), then restore the previous count."""
    previous = torch.get_num_threads()
    wanted = thread_count(threads)
    torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        torch.set_num_threads(previous)


def _encode_texts_in_chunks(
    texts: list[str],
    encode: Callable[[list[str]], np.ndarray],
    sink: Callable[[np.ndarray], None],
    desc: str,
    chunk_size: int,
) -> float:
    start = time.perf_counter()
    with tqdm(total=len(texts), desc=desc, unit="text", leave=False) as progress:
        for first in range(0, len(texts), chunk_size):
            chunk = texts[first : first + chunk_size]
            sink(encode(chunk))
            progress.update(len(chunk))
    return len(texts) / max(time.perf_counter() - start, 1e-9)


def store_params(model_cfg: ModelConfig, kv_cfg: KVConfig, seed: int) -> dict[str, Any]:
    """The params that shape the store's arrays, recorded in its manifest (runtime knobs are not among them)."""
    return {"seed": int(seed), "model": dataclasses.asdict(model_cfg), "kv": dataclasses.asdict(kv_cfg)}


def encode_kv_store(
    items: pd.DataFrame,
    out_dir: str | Path,
    encoder: ClipEncoder,
    facts: FactEncoder,
    *,
    batch_size: int,
    workers: int,
    text_batch_size: int,
    threads: int = 0,
    params: dict[str, Any] | None = None,
    root: str | Path = ".",
) -> KVReport:
    """Encode `items` (the normalized items table) into a store at `out_dir`, atomically.

    Image paths are relative to `root`. The thread budget: `workers` decoding processes of one
    thread each at a lower priority, and `threads` torch threads (0 = one per core) for the forward
    passes here. The manifest records the encoder's device-independent description and `params`;
    timings go only into the report, so equal inputs give equal bytes.
    """
    check_items(items, "items")
    dims = {"image_keys": encoder.dim, "text_keys": encoder.dim, "fact_values": facts.dim}
    with create_store(out_dir, len(items), dims) as writer, torch_threads(threads):
        images_per_s = encode_image_keys(
            encoder,
            items["image_path"].tolist(),
            lambda block: writer.append("image_keys", block),
            batch_size=batch_size,
            workers=workers,
            root=root,
        )
        texts_per_s = _encode_texts_in_chunks(
            clip_texts(items),
            lambda chunk: encoder.encode_texts(chunk, batch_size=batch_size),
            lambda block: writer.append("text_keys", block),
            "text keys",
            text_chunk(batch_size),
        )
        facts_per_s = _encode_texts_in_chunks(
            fact_texts(items),
            lambda chunk: facts.encode(chunk, batch_size=text_batch_size),
            lambda block: writer.append("fact_values", block),
            "fact values",
            text_chunk(text_batch_size),
        )
        manifest = writer.finish(items, encoder.description, facts.name, params)
    return KVReport(len(items), images_per_s, texts_per_s, facts_per_s, manifest)
