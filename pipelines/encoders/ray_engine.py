"""The Ray Data engine of encode_kv: items as a dataset, images decoded in CPU tasks, the encoders in actor pools.

Only the encoding moves to the cluster; the driver (the `dvc repro` machine) reads the items, writes the same
memory-mapped store and manifest as the local engine, in row order, and DVC tracks it as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

import pipelines
from pipelines import numerics
from pipelines.encoders.clip import ClipEncoder, check_precision
from pipelines.encoders.device import resolve_device
from pipelines.encoders.facts import FactEncoder, fact_texts
from pipelines.encoders.images import ImageFileDataset, Transform
from pipelines.encoders.kv import KVReport, check_items, text_chunk, thread_count
from pipelines.encoders.texts import clip_texts
from pipelines.errors import PipelineError
from pipelines.store import create_store

log = logging.getLogger(__name__)

LOCAL = "local"  # ray.init's address for a Ray started for this process


@contextlib.contextmanager
def ray_session(address: str = "") -> Iterator[None]:
    """Use the Ray this process already joined, else join `address` (or RAY_ADDRESS), else start a local one.

    A Ray joined or started here is left again at the end; one joined before (e.g. by a test session) is kept.
    """
    import ray

    if ray.is_initialized():
        yield
        return
    target = address or os.environ.get("RAY_ADDRESS", "") or LOCAL
    try:
        ray.init(address=target, runtime_env=job_runtime_env(), log_to_driver=False, include_dashboard=False)
    except (ConnectionError, ValueError) as exc:
        raise PipelineError(
            f"runtime.ray_address {target!r}: cannot connect to a Ray cluster there ({exc}); "
            "leave it empty for a local Ray, or start the cluster first"
        ) from None
    log.info("Ray at %s: %s", target, ray.cluster_resources())
    try:
        yield
    finally:
        ray.shutdown()


def job_runtime_env() -> dict[str, Any]:
    """The Ray job's runtime environment: the workers import this `pipelines` package, shipped from the driver,
    whatever the nodes' own environments have installed, and start with its pinned numeric ISA, whatever the
    nodes' CPUs (pass it to ray.init when joining Ray yourself)."""
    return {"py_modules": [str(Path(pipelines.__file__).parent)], "env_vars": numerics.environment()}


def _decode_batch(batch: dict[str, np.ndarray], transform: Transform) -> dict[str, np.ndarray]:
    """A CPU task: decode and preprocess a batch of image files, as the local engine's loader workers do (a file
    that fails yields blank pixels and its error, which the driver raises as one PipelineError)."""
    files = ImageFileDataset(list(batch["path"]), transform)
    decoded = [files[index] for index in range(len(files))]
    return {
        "row": batch["row"],
        "pixels": np.stack([pixels.numpy() for pixels, _ in decoded]),
        "error": np.asarray([error for _, error in decoded], dtype=object),
    }


def _row_batches(rows: np.ndarray, batch_size: int) -> list[slice]:
    """Slices of `rows` (consecutive row numbers) cut where row // batch_size changes: the local engine's batches."""
    starts = np.flatnonzero(np.diff(rows // batch_size)) + 1
    bounds = [0, *starts.tolist(), len(rows)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _set_torch_threads(threads: int) -> None:
    """The local engine's thread count (0 = every core of this node): the same count gives the same bits, as
    some CPU kernels split a batch's rows differently with another count."""
    import torch

    torch.set_num_threads(thread_count(threads))


class ImageKeyActor:
    """An actor holding the frozen CLIP backbone: preprocessed pixels -> image keys."""

    def __init__(self, description: dict[str, Any], device: str, batch_size: int, threads: int) -> None:
        _set_torch_threads(threads)
        self.encoder = ClipEncoder.from_manifest(description, device)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        keys = [
            self.encoder.encode_images(torch.from_numpy(np.ascontiguousarray(batch["pixels"][part])))
            for part in _row_batches(batch["row"], self.batch_size)
        ]
        return {"row": batch["row"], "keys": np.concatenate(keys), "error": batch["error"]}


class TextKeyActor:
    """An actor holding the CLIP text tower and the sentence fact encoder: texts -> text keys and fact values."""

    def __init__(
        self,
        description: dict[str, Any],
        text_encoder: str,
        device: str,
        batch_size: int,
        text_batch_size: int,
        threads: int,
    ) -> None:
        _set_torch_threads(threads)
        self.encoder = ClipEncoder.from_manifest(description, device)
        self.facts = FactEncoder(text_encoder, device=str(self.encoder.device))
        self.batch_size = batch_size
        self.text_batch_size = text_batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["clip_text"]]
        text_keys = [
            self.encoder.encode_texts(texts[part], batch_size=self.batch_size)
            for part in _row_batches(batch["row"], self.batch_size)
        ]
        facts = self.facts.encode([str(text) for text in batch["fact_text"]], batch_size=self.text_batch_size)
        return {"row": batch["row"], "text_keys": np.concatenate(text_keys), "fact_values": facts}


def _dataset(frame: pd.DataFrame, block_rows: int) -> Any:  # a ray.data.Dataset (its batch types are loose)
    """A Ray dataset of `frame` in blocks of `block_rows` rows, so that batches of a divisor of it stay aligned."""
    import ray

    blocks = [frame.iloc[start : start + block_rows] for start in range(0, len(frame), block_rows)]
    return ray.data.from_pandas(blocks)


def _in_row_order(batches: Iterable[Any], first: int = 0) -> Iterator[dict[str, np.ndarray]]:
    """Yield the output batches, checking that their rows follow on from each other (the store is written in order)."""
    expected = first
    for batch in batches:
        rows = batch["row"]
        if len(rows) and (rows[0] != expected or np.any(np.diff(rows) != 1)):
            raise PipelineError(f"Ray returned rows out of order at row {expected} (found {int(rows[0])}…)")
        expected += len(rows)
        yield batch


def encode_kv_store_ray(
    items: pd.DataFrame,
    out_dir: str | Path,
    encoder: ClipEncoder,
    facts: FactEncoder,
    *,
    batch_size: int,
    text_batch_size: int,
    actors: int = 1,
    decoders: int = 2,
    threads: int = 0,
    device: str = "auto",
    address: str = "",
    params: dict[str, Any] | None = None,
    root: str | Path = ".",
) -> KVReport:
    """encode_kv_store on Ray Data: the same store, rows in the same order, keys equal to the local engine's.

    `encoder` and `facts` (built on the driver's CPU) give the model description, the preprocessing transform
    and the dims; `actors` actors build their own copies on `device` (one GPU each when it is CUDA), fed by up
    to `decoders` concurrent decoding tasks; each actor runs torch with `threads` threads (0 = every core of its
    node, as the local engine does: on a node shared by several actors set it to the cores per actor). Image paths are
    relative to `root` and must be readable at the same absolute path on every node.
    """
    import ray

    check_items(items, "items")
    rows = len(items)
    root = Path(root).resolve()
    images = pd.DataFrame({"row": np.arange(rows), "path": [str(root / p) for p in items["image_path"]]})
    texts = pd.DataFrame({"row": np.arange(rows), "clip_text": clip_texts(items), "fact_text": fact_texts(items)})
    chunk = text_chunk(text_batch_size)
    description = dict(encoder.description)
    dims = {"image_keys": encoder.dim, "text_keys": encoder.dim, "fact_values": facts.dim}

    with ray_session(address):
        gpus = 1 if device.startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0)) else 0
        # Ray gives each GPU actor one device, visible to it as its only CUDA device.
        actor_device = "cuda" if gpus else device
        check_precision(description["precision"], "cuda" if gpus else resolve_device(device).type)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        # Decoding runs in CPU tasks, at most `decoders` at a time. (Ray fuses a task map into the actors that
        # follow when its concurrency is unset or equals the pool size; decoding then runs inside the actors.)
        pixels = _dataset(images, batch_size * 8).map_batches(
            _decode_batch,
            fn_kwargs={"transform": encoder.preprocess},
            batch_size=batch_size,
            compute=ray.data.TaskPoolStrategy(size=decoders),
            num_cpus=1,
        )

        def encoder_pool(dataset: ray.data.Dataset, actor: type, batch: int, **kwargs: Any) -> ray.data.Dataset:
            """`actor` over `dataset` in a pool of `actors` replicas (one GPU each on CUDA)."""
            common = {"description": description, "device": actor_device, "batch_size": batch_size, "threads": threads}
            return dataset.map_batches(
                actor,
                fn_constructor_kwargs=common | kwargs,
                batch_size=batch,
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_gpus=gpus,
            )

        image_keys = encoder_pool(pixels, ImageKeyActor, batch_size)
        text_keys = encoder_pool(
            _dataset(texts, chunk), TextKeyActor, chunk, text_encoder=facts.name, text_batch_size=text_batch_size
        )
        with create_store(out_dir, rows, dims) as writer:
            start = time.perf_counter()
            with tqdm(total=rows, desc="image keys (ray)", unit="img", leave=False) as progress:
                for batch in _in_row_order(image_keys.iter_batches(batch_size=None, batch_format="numpy")):
                    failed = [error for error in batch["error"] if error]
                    if failed:
                        raise PipelineError(f"{failed[0]}; normalize should have dropped it (rerun normalize)")
                    writer.append("image_keys", batch["keys"])
                    progress.update(len(batch["row"]))
            images_per_s = rows / max(time.perf_counter() - start, 1e-9)
            start = time.perf_counter()
            with tqdm(total=rows, desc="text keys + fact values (ray)", unit="text", leave=False) as progress:
                for batch in _in_row_order(text_keys.iter_batches(batch_size=None, batch_format="numpy")):
                    writer.append("text_keys", batch["text_keys"])
                    writer.append("fact_values", batch["fact_values"])
                    progress.update(len(batch["row"]))
            texts_per_s = rows / max(time.perf_counter() - start, 1e-9)
            manifest = writer.finish(items, description, facts.name, params)
    return KVReport(rows, images_per_s, texts_per_s, texts_per_s, manifest)
