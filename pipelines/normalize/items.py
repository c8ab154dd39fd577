"""The normalize step as one function: a raw catalog frame in, the items table and its data profile out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from pipelines.errors import PipelineError
from pipelines.normalize.attributes import item_texts, map_attributes
from pipelines.normalize.config import SchemaConfig
from pipelines.normalize.images import check_images, require_readable
from pipelines.normalize.profile import build_profile
from pipelines.normalize.rules import load_rules
from pipelines.normalize.splits import assign_splits, check_splits, group_keys
from pipelines.normalize.tables import format_spec
from pipelines.schema import FIELDS, RAW_FIELDS, raw_column

log = logging.getLogger(__name__)

ITEM_COLUMNS = (
    ["item_id", "image_path", "title", "desc", "group_key", "split"]
    + [c for f in FIELDS for c in (f, f"{f}_source", f"{f}_conf")]
    + [raw_column(name) for name in RAW_FIELDS]
)


@dataclass(frozen=True)
class NormalizeResult:
    items: pd.DataFrame  # the items.parquet table (ITEM_COLUMNS), catalog order, readable images only
    profile: dict[str, Any]  # reports/data_profile.json (shallow metrics)
    details: dict[str, Any]  # what only the markdown shows: unreadable examples, unmapped raw values


def normalize_catalog(
    fmt: str,
    frame: pd.DataFrame,
    raw_dir: Path,
    *,
    csv_name: str,
    schema: SchemaConfig,
    splits: dict[str, float],
    min_readable: float,
    workers: int,
    seed: int,
) -> NormalizeResult:
    """Map a raw catalog (every column a str, plus `image_file`) to the canonical items table.

    `raw_dir` is the folder images are relative to, as the repository-relative path the items should
    name (e.g. `data/raw`); `csv_name` is the catalog file, for error messages.
    """
    where = Path(raw_dir) / csv_name
    spec = format_spec(fmt)
    check_catalog(frame, spec.required_columns + ["image_file"], spec.item_id, where)
    frame = frame.reset_index(drop=True)
    rules = load_rules()

    item_ids = frame[spec.item_id].astype(str).str.strip()
    files = frame["image_file"].astype(str).tolist()
    check = check_images([str(Path(raw_dir) / f) if f else "" for f in files], workers)
    require_readable(check, files, min_readable, Path(raw_dir))
    keep = pd.Series(check.readable, index=frame.index)
    frame, item_ids = frame[keep], item_ids[keep]

    title, desc = item_texts(frame, spec)
    attributes = map_attributes(frame, spec, rules if schema.rules else None)
    keys = group_keys(frame, spec, rules, item_ids)
    split = assign_splits(keys, splits, seed)
    check_splits(split, keys, splits)

    items = pd.DataFrame(
        {
            "item_id": item_ids,
            "image_path": [str(PurePosixPath(Path(raw_dir).as_posix()) / f) for f in frame["image_file"]],
            "title": title,
            "desc": desc,
            "group_key": keys,
            "split": split,
        }
    )
    items = pd.concat([items, attributes.frame, raw_fields(frame, spec.raw)], axis=1)[ITEM_COLUMNS].reset_index(
        drop=True
    )
    for column in ITEM_COLUMNS:
        if not column.endswith("_conf"):
            items[column] = items[column].astype(str)
    profile, details = build_profile(items, check, files, attributes.unmapped, fmt=fmt)
    log.info(
        "normalized %d items (%d unreadable images dropped) into %d groups: %s",
        len(items),
        check.unreadable,
        items["group_key"].nunique(),
        profile["split_items"],
    )
    return NormalizeResult(items=items, profile=profile, details=details)


def raw_fields(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The kept raw fields (`raw_<name>` for every RAW_FIELDS name): the mapped column's value, whitespace
    trimmed, or "" where the format has no such column."""
    return pd.DataFrame(
        {
            raw_column(name): frame[columns[name]].astype(str).str.strip() if name in columns else ""
            for name in RAW_FIELDS
        },
        index=frame.index,
    )


def check_catalog(frame: pd.DataFrame, required: list[str], id_column: str, where: Path) -> None:
    """One clear error for a catalog normalize cannot read: missing columns, no rows, bad ids."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PipelineError(
            f"{where}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"(found: {', '.join(map(str, frame.columns))})"
        )
    if frame.empty:
        raise PipelineError(f"{where}: the catalog has no rows (a header only); ingest a non-empty catalog")
    ids = frame[id_column].astype(str).str.strip().reset_index(drop=True)
    blank = ids.index[ids.eq("")]
    if len(blank):
        raise PipelineError(f"{where}: row {blank[0] + 1} has an empty {id_column!r}; every item needs an id")
    repeated = ids.duplicated(keep=False)
    if repeated.any():
        rows = ids.index[repeated]
        first = ids[rows[0]]
        same = ids.index[ids.eq(first)]
        raise PipelineError(
            f"{where}: {id_column} {first!r} appears in rows {same[0] + 1} and {same[1] + 1}; "
            f"item ids must be unique ({int(repeated.sum())} rows share an id)"
        )
