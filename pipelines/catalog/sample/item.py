"""A row of the sample catalog (`SampleItem`: what styles.csv says and what its image shows) and the report of
what the generator wrote (`SampleReport`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pipelines.catalog.formats import catalog_format

HEADER = catalog_format("myntra").columns  # the sample is a Kaggle Myntra download: its exact header
COLUMN = {name: i for i, name in enumerate(HEADER)}
IMAGE_STATES = ("ok", "missing", "zero_byte", "truncated")


@dataclass(frozen=True)
class SampleItem:
    """One row of the sample catalog: what styles.csv says, what the image shows, and the image's fate."""

    id: int
    product: int  # rows with the same product are views of one article (same name)
    view: int  # 0 for the first image of a product
    fields: tuple[str, ...]  # the CSV values in HEADER order, as written (NA / empty warts included)
    truth: Mapping[str, str]  # schema field -> canonical value the pixels show (`unknown`: not applicable)
    article_type: str  # the true articleType (also fields[4])
    base_colour: str  # the true Myntra colour drawn (fields[5] may say NA)
    image: str  # ok | missing | zero_byte | truncated
    malformed: bool  # the name holds an unquoted comma, so the line has 11 fields

    @property
    def line(self) -> str:
        """The styles.csv line, unquoted as in the real file (malformed rows really are malformed)."""
        return ",".join(self.fields)

    @property
    def name(self) -> str:
        return self.fields[COLUMN["productDisplayName"]]


@dataclass(frozen=True)
class SampleReport:
    """What the generator wrote, warts counted, for ingest's manifest."""

    rows: int
    products: int
    images: int  # image files written (zero-byte and truncated included)
    malformed_rows: int
    malformed_ids: tuple[int, ...]
    na_values: Mapping[str, int]  # column -> rows with a literal NA
    empty_fields: Mapping[str, int]  # column -> rows with an empty value
    missing_images: tuple[int, ...]  # ids whose image file was not written
    zero_byte_images: tuple[int, ...]
    truncated_images: tuple[int, ...]
    multi_view_groups: int  # products drawn more than once
    multi_view_rows: int  # rows belonging to those products
    article_types: Mapping[str, int]  # articleType -> rows

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, sorted mappings)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
            elif isinstance(value, Mapping):
                out[key] = dict(sorted(value.items()))
        return out
