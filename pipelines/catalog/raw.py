"""The raw catalog (`data/raw/`): ingest writes it in the original Kaggle layout, normalize reads it back."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.catalog.config import SampleConfig
from pipelines.catalog.formats import CatalogFormat, catalog_format, format_names, sample_license
from pipelines.catalog.kaggle import download_kaggle
from pipelines.catalog.location import CatalogFiles, locate_catalog
from pipelines.catalog.sources import CatalogSource
from pipelines.catalog.subsample import stratified_subsample
from pipelines.catalog.table import CatalogError, parse_catalog_table, write_catalog_table
from pipelines.errors import PipelineError
from pipelines.io import read_json, write_json_atomic

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
MAX_LISTED_IDS = 100  # dropped ids listed in the manifest per reason (the counts are always complete)


@dataclass(frozen=True)
class RawCatalog:
    """An ingested catalog: `frame` holds every original column as str, plus `image_file`."""

    format: str  # "myntra" | "hm"
    frame: pd.DataFrame  # image_file: posix path relative to the raw folder, e.g. images/1234.jpg
    manifest: dict[str, Any]


def ingest_catalog(
    source: CatalogSource, out_dir: Path, *, max_items: int, seed: int, sample: SampleConfig
) -> dict[str, Any]:
    """Write `source` into the empty folder `out_dir` in its original layout, plus manifest.json.

    Rows whose image is missing are dropped and counted; `max_items` > 0 keeps a stratified,
    seeded subsample. Returns the manifest.
    """
    started = time.perf_counter()
    if source.kind == "sample":
        # Imported here: only the sample source needs the generator (and its image drawing).
        from pipelines.catalog.sample import generate_sample_catalog

        with tempfile.TemporaryDirectory(prefix="sample-catalog-") as tmp:
            report = generate_sample_catalog(Path(tmp), items=sample.items, image_size=sample.image_size, seed=seed)
            fmt = catalog_format("myntra")
            # The generated catalog carries the real file's warts, so it goes through the same reader.
            manifest = _ingest(locate_catalog(Path(tmp), fmt), fmt, out_dir, max_items=max_items, seed=seed)
        manifest["generated"] = report.to_dict()
        license_text = sample_license()
    else:
        fmt = catalog_format(source.kind)
        if source.kaggle is not None:
            location = download_kaggle(fmt, source.kaggle)
            page = fmt.kaggle.url.format(slug=source.kaggle)
            license_text = f"{fmt.kaggle.license}; source: Kaggle {fmt.kaggle.kind} {source.kaggle} ({page})"
        else:
            assert source.path is not None  # parse_source sets a path or a Kaggle slug
            location = source.path
            license_text = fmt.local_license
        manifest = _ingest(locate_catalog(location, fmt), fmt, out_dir, max_items=max_items, seed=seed)
    manifest.update(source=source.spec, license=license_text)
    write_json_atomic(manifest, out_dir / MANIFEST_FILE)
    log.info(
        "ingested %s: %d rows, %d images, %d repaired, dropped %s%s in %.1f s",
        source.spec,
        manifest["rows"],
        manifest["images"],
        manifest["repaired_rows"],
        manifest["dropped"],
        f", subsampled from {manifest['subsampled_from']}" if manifest["subsampled_from"] else "",
        time.perf_counter() - started,
    )
    return manifest


def _ingest(files: CatalogFiles, fmt: CatalogFormat, out_dir: Path, *, max_items: int, seed: int) -> dict[str, Any]:
    table = parse_catalog_table(files.read_table(), fmt, files.table_where)
    ids = table.ids
    images = [fmt.image_file(item_id) for item_id in ids]
    present = files.find_images(images, table.lines)
    kept = [i for i, ok in enumerate(present) if ok]
    missing = [ids[i] for i, ok in enumerate(present) if not ok]
    if not kept:
        raise CatalogError(
            f"{files.table_where}: none of its {len(ids)} rows has an image in {files.where} "
            f"(expected e.g. {images[0]}); the catalog is empty"
        )
    if missing:
        log.warning("%d rows have no image and are dropped (e.g. %s)", len(missing), ", ".join(missing[:5]))
    classes = table.classes  # a property that builds the whole list: read it once, not per row
    chosen = stratified_subsample([classes[i] for i in kept], max_items, seed)
    keep = [kept[i] for i in chosen]
    write_catalog_table(table, keep, out_dir / fmt.csv)
    files.copy_images([images[i] for i in keep], out_dir)
    return {
        "format": fmt.name,
        "csv": fmt.csv,
        "rows": len(keep),
        "images": len(keep),
        "repaired_rows": len(table.repaired_lines),
        "repaired_lines": table.repaired_lines,
        "padded_ids": table.padded_ids,
        "dropped": {"missing_image": len(missing)},
        "dropped_ids": {"missing_image": missing[:MAX_LISTED_IDS]},
        "max_items": max_items,
        "subsampled_from": len(kept) if len(keep) < len(kept) else None,
        "seed": seed,
    }


def read_raw_catalog(raw_dir: Path | str) -> RawCatalog:
    """Read an ingested catalog back: every column as str ("NA" and "" stay strings), plus `image_file`."""
    raw_dir = Path(raw_dir)
    manifest = read_json(raw_dir / MANIFEST_FILE)
    name = manifest.get("format") if isinstance(manifest, dict) else None
    if name not in format_names():
        raise PipelineError(
            f"{raw_dir / MANIFEST_FILE}: 'format' must be one of {', '.join(format_names())}, got {name!r}"
        )
    fmt = catalog_format(name)
    table = raw_dir / fmt.csv
    if not table.is_file():
        raise PipelineError(f"{table}: file not found (rerun the ingest stage)")
    try:
        frame = pd.read_csv(table, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{table}: not a readable catalog table ({exc}); rerun the ingest stage") from None
    if tuple(frame.columns) != fmt.columns:
        raise PipelineError(f"{table}: header is {','.join(frame.columns)}, expected {','.join(fmt.columns)}")
    if len(frame) != manifest.get("rows"):
        raise PipelineError(
            f"{table}: holds {len(frame)} rows but {raw_dir / MANIFEST_FILE} says {manifest.get('rows')}; "
            f"rerun the ingest stage"
        )
    frame["image_file"] = [fmt.image_file(item_id) for item_id in frame[fmt.id_column]]
    return RawCatalog(format=name, frame=frame, manifest=manifest)
