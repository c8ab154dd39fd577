"""Image decoding and preprocessing in DataLoader workers, overlapped with the model's forward pass."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from pipelines.errors import PipelineError
from pipelines.workers import die_with_parent

Transform = Callable[[Image.Image], torch.Tensor]  # open_clip's preprocessing: PIL image -> pixels


def load_rgb(path: str | Path) -> Image.Image:
    """Decode an image file fully and convert it to RGB; a PipelineError names the file otherwise."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PipelineError(f"{path}: cannot decode image ({exc})") from None


class ImageFileDataset(Dataset[tuple[torch.Tensor, str]]):
    """Item i = (preprocessed pixels, error message) for image file `paths[i]` under `root`.

    A file that fails to decode yields a blank image and its error message, so the error
    reaches the main process as data and is raised there as one clean PipelineError
    (an exception raised inside a worker arrives wrapped in a traceback dump).
    """

    def __init__(self, paths: Sequence[str | Path], transform: Transform, root: str | Path = ".") -> None:
        self.paths = [Path(root) / p for p in paths]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        path = self.paths[index]
        try:
            image = load_rgb(path)
        except PipelineError as exc:
            return self.transform(Image.new("RGB", (8, 8))), str(exc)
        return self.transform(image), ""


DECODE_NICENESS = 10  # decoding workers yield the cores to the forward pass and fill its idle moments


def _start_decoder(parent: int, _worker_id: int) -> None:
    # A killed stage takes its decoders with it (they would otherwise decode their prefetched batches for nobody).
    die_with_parent(parent)
    # A DataLoader worker runs torch with one thread already; lowering its priority keeps it from
    # preempting the forward pass's threads, while the prefetch queue keeps the next batches ready.
    os.nice(DECODE_NICENESS)


def image_loader(
    paths: Sequence[str | Path],
    transform: Transform,
    *,
    batch_size: int,
    workers: int,
    pin_memory: bool = False,
    root: str | Path = ".",
) -> DataLoader[tuple[torch.Tensor, str]]:
    """An in-order DataLoader over ImageFileDataset: batches of (pixels, errors), decoded by `workers`
    processes at a lower priority than the caller (or in the caller with 0), which die when the caller does."""
    return DataLoader(
        ImageFileDataset(paths, transform, root),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
        worker_init_fn=functools.partial(_start_decoder, os.getpid()) if workers > 0 else None,
        in_order=True,
    )


def image_batches(paths: Sequence[str | Path], transform: Transform, **loader_options: Any) -> Iterator[torch.Tensor]:
    """Yield preprocessed batches in the order of `paths` (options as image_loader's); raise a PipelineError
    naming the first unreadable file."""
    for pixels, errors in image_loader(paths, transform, **loader_options):
        for error in errors:
            if error:
                raise PipelineError(f"{error}; normalize should have dropped it (rerun normalize)")
        yield pixels
