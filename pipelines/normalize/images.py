"""Image validation: every image is opened and fully decoded, in parallel; unreadable ones are reported."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image, ImageFile
from tqdm import tqdm

from pipelines.errors import PipelineError
from pipelines.workers import die_with_parent

log = logging.getLogger(__name__)

REASONS = ("missing", "empty", "undecodable")


@dataclass(frozen=True)
class ImageCheck:
    readable: list[bool]  # per image, in input order
    reasons: list[str]  # "" when readable, else "missing" | "empty" | "undecodable: <what Pillow said>"

    @property
    def total(self) -> int:
        return len(self.readable)

    @property
    def unreadable(self) -> int:
        return self.total - sum(self.readable)

    @property
    def share(self) -> float:
        return sum(self.readable) / self.total if self.total else 0.0

    def reason_counts(self) -> dict[str, int]:
        counts = {reason: 0 for reason in REASONS}
        for reason in self.reasons:
            if reason:
                counts[reason.split(":", 1)[0]] += 1
        return counts


def check_image(path: str) -> str:
    """ "" when the file decodes completely, else why not. Runs in worker processes."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return "missing"
    if size == 0:
        return "empty"
    try:
        with Image.open(path) as image:
            image.verify()  # structure and checksums; the object is unusable afterwards
        with Image.open(path) as image:
            image.load()  # every pixel: truncated data fails here (LOAD_TRUNCATED_IMAGES is False)
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for a corrupt file; all mean unreadable
        return f"undecodable: {type(exc).__name__}: {exc}"
    return ""


def check_images(paths: list[str], workers: int, chunk_size: int = 64) -> ImageCheck:
    """Decode every image with `workers` processes (in this process when workers is 1), which die with this one."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise PipelineError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True in this process, so truncated images would pass "
            "validation; leave it False (some import set it)"
        )
    if not paths:
        return ImageCheck(readable=[], reasons=[])
    chunk = max(1, min(chunk_size, len(paths) // (workers * 4) or 1))
    progress = partial(tqdm, total=len(paths), desc="decode images", unit="img", disable=len(paths) < 2000)
    if workers == 1:
        reasons = [check_image(p) for p in progress(paths)]
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            reasons = list(progress(pool.map(check_image, paths, chunksize=chunk)))
    return ImageCheck(readable=[not r for r in reasons], reasons=reasons)


def require_readable(check: ImageCheck, files: list[str], min_readable: float, where: Path, examples: int = 5) -> None:
    """Fail when fewer than `min_readable` of the images decode, naming the count, share and examples."""
    if check.total and check.share >= min_readable:
        if check.unreadable:
            log.warning("%d of %d images are unreadable and dropped", check.unreadable, check.total)
        return
    bad = [f"{f} ({r})" for f, r in zip(files, check.reasons, strict=True) if r][:examples]
    raise PipelineError(
        f"{where}: only {check.total - check.unreadable} of {check.total} images decode "
        f"({check.share:.2%}; data.min_readable is {min_readable:.2%}); {check.unreadable} unreadable, "
        f"e.g. {'; '.join(bad)}"
    )
