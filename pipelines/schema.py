"""The fixed attribute schema: field names and each field's canonical values (from schema.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

UNKNOWN = "unknown"
FIELDS = (
    "category",
    "color",
    "style",
    "season",
    "material",
    "pattern",
    "gender",
    "fit",
    "sleeve_length",
    "neckline",
)
# Raw catalog fields kept verbatim beside the schema (items.parquet columns `raw_<name>`, "" when the catalog
# lacks one): the public KAGL benchmark's query fields, named as Myntra names them; normalize/fields.yaml maps
# each format's own columns onto them.
RAW_FIELDS = ("masterCategory", "subCategory", "articleType", "baseColour", "season", "usage")
RAW_PREFIX = "raw_"
SOURCES = ("field", "rule", "signal", "unknown")
CONFIDENCE = {"field": 0.9, "rule": 0.7, "unknown": 0.1}


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[str, ...]]:
    """Canonical values per field, `unknown` included, in schema.yaml order."""
    table = yaml.safe_load((Path(__file__).with_name("schema.yaml")).read_text(encoding="utf-8"))
    if set(table) != set(FIELDS):
        raise RuntimeError(f"schema.yaml must define exactly {FIELDS}, got {sorted(table)}")
    return {name: tuple(table[name]) + (UNKNOWN,) for name in FIELDS}


def raw_column(name: str) -> str:
    """The items.parquet column that keeps raw field `name` (one of RAW_FIELDS)."""
    return f"{RAW_PREFIX}{name}"


def check_fields(names: list[str], where: str) -> None:
    """Raise a ValueError naming `where` when a listed attribute is not a schema field."""
    bad = [n for n in names if n not in FIELDS]
    if bad:
        raise ValueError(f"{where} names {bad[0]!r}, which is not a schema field (fields: {', '.join(FIELDS)})")
