"""Drawing an item of the sample catalog (pipelines/catalog/sample/garments) and writing the catalog folder."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from pipelines.catalog.sample.garments import encode_jpeg, render_garment
from pipelines.catalog.sample.item import HEADER, SampleItem, SampleReport
from pipelines.catalog.sample.plan import check_args, plan_sample_catalog, sample_tables, summarize
from pipelines.errors import PipelineError
from pipelines.io import atomic_path

log = logging.getLogger(__name__)


def generate_sample_catalog(out_dir: Path, items: int, image_size: int, seed: int) -> SampleReport:
    """Write `out_dir/styles.csv` and `out_dir/images/<id>.jpg` like a Kaggle Myntra download; same seed, same bytes.

    `items` is the number of CSV rows (one image each, multi-view products included). Images are
    written first and styles.csv last, atomically, so an interrupted run leaves no styles.csv.
    """
    check_args(items, seed, image_size)
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    if (out_dir / "styles.csv").exists() or (images_dir.is_dir() and any(images_dir.iterdir())):
        raise PipelineError(
            f"{out_dir}: expected an empty folder for the sample catalog, found an existing styles.csv or images/"
        )
    images_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_sample_catalog(items, seed)
    log.info("sample catalog: drawing %d images of %d px (seed %d)", items, image_size, seed)
    for item in tqdm(plan, desc="sample images", unit="img", disable=None, leave=False):
        if item.image == "missing":
            continue
        path = images_dir / f"{item.id}.jpg"
        if item.image == "zero_byte":
            path.write_bytes(b"")
            continue
        data = encode_jpeg(render_item(item, image_size, seed))
        if item.image == "truncated":
            cut = np.random.default_rng([seed, 4, item.id]).uniform(0.35, 0.7)
            data = data[: int(len(data) * cut)]
        path.write_bytes(data)
    text = "\n".join([",".join(HEADER)] + [item.line for item in plan]) + "\n"
    with atomic_path(out_dir / "styles.csv") as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    report = summarize(plan)
    log.info(
        "sample catalog: %d rows, %d products, %d multi-view groups, %d malformed rows, "
        "%d missing / %d zero-byte / %d truncated images",
        report.rows,
        report.products,
        report.multi_view_groups,
        report.malformed_rows,
        len(report.missing_images),
        len(report.zero_byte_images),
        len(report.truncated_images),
    )
    return report


def render_item(item: SampleItem, image_size: int, seed: int) -> Image.Image:
    """Draw one view of an item (pipelines/catalog/sample/garments): what generate_sample_catalog encodes for it."""
    return render_garment(item, image_size, seed, sample_tables())
