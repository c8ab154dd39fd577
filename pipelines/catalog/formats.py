"""The catalog layouts ingest accepts (Myntra styles.csv, H&M articles.csv), read from formats.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

FORMATS_FILE = Path(__file__).with_name("formats.yaml")


@dataclass(frozen=True)
class KaggleInfo:
    kind: Literal["dataset", "competition"]
    default: str  # slug used when the source says just `kaggle`
    url: str  # page template with {slug}
    license: str


@dataclass(frozen=True)
class CatalogFormat:
    name: str  # "myntra" | "hm"
    csv: str  # file name of the table, e.g. "styles.csv"
    columns: tuple[str, ...]  # the exact header
    id_column: str
    id_width: int  # 0: plain integer of any length; >0: digits zero-padded to this width
    class_column: str  # strata of the stratified subsample
    image: str  # image path template relative to the CSV's folder
    repair_extra_fields: bool  # join surplus fields back into the last column
    kaggle: KaggleInfo
    local_license: str

    def image_file(self, item_id: str) -> str:
        """The posix path of an item's image relative to the catalog folder."""
        return self.image.format(id=item_id, id3=item_id[:3])


@cache
def _load() -> dict[str, Any]:
    formats: dict[str, Any] = yaml.safe_load(FORMATS_FILE.read_text(encoding="utf-8"))
    return formats


@cache
def catalog_format(name: str) -> CatalogFormat:
    """The layout called `name` ("myntra" or "hm")."""
    entry = dict(_load()[name])
    entry["columns"] = tuple(entry["columns"])
    entry["kaggle"] = KaggleInfo(**entry["kaggle"])
    return CatalogFormat(name=name, **entry)


def format_names() -> tuple[str, ...]:
    return tuple(name for name in _load() if name != "sample")


def sample_license() -> str:
    license_text: str = _load()["sample"]["license"]
    return license_text


def format_for_csv(csv_name: str) -> CatalogFormat | None:
    """The layout whose table is called `csv_name`, or None."""
    for name in format_names():
        if catalog_format(name).csv == csv_name:
            return catalog_format(name)
    return None
