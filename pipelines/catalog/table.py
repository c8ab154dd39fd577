"""The catalog table (Myntra styles.csv, H&M articles.csv): strict parsing, the known repairs, and writing back."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.catalog.formats import CatalogFormat
from pipelines.errors import PipelineError

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"^[0-9]+$")
_BOM = "\ufeff"


class CatalogError(PipelineError):
    """The catalog's table or images break the layout ingest expects."""


@dataclass(frozen=True)
class CatalogTable:
    """A parsed table: every value a str exactly as in the file ("NA" and "" included)."""

    where: str  # the file, as named in messages
    fmt: CatalogFormat
    rows: list[list[str]]  # one list of values per item, in `fmt.columns` order, file order
    lines: list[int]  # 1-based line (header = 1) where each row starts
    repaired_lines: list[int]  # lines whose surplus fields were joined back into the last column
    padded_ids: int  # ids given back their leading zero

    @property
    def ids(self) -> list[str]:
        i = self.fmt.columns.index(self.fmt.id_column)
        return [row[i] for row in self.rows]

    @property
    def classes(self) -> list[str]:
        i = self.fmt.columns.index(self.fmt.class_column)
        return [row[i] for row in self.rows]


def parse_catalog_table(data: bytes, fmt: CatalogFormat, where: str) -> CatalogTable:
    """Parse the bytes of a catalog table; any deviation from `fmt` is a CatalogError naming file and line.

    Everything is read as str, so a literal "NA" is a value and an empty field stays "". For Myntra, a
    line with more fields than the header has an unquoted comma in productDisplayName (the last
    column): the surplus fields are joined back into it with "," and the line is counted. Fewer fields
    are an error either way, as are more fields in a format that quotes properly (H&M).
    """
    text = _decode(data, where)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _read_header(reader, fmt, where)
    width = len(header)
    id_index = header.index(fmt.id_column)

    rows: list[list[str]] = []
    lines: list[int] = []
    repaired: list[int] = []
    seen: dict[str, int] = {}
    padded = 0
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CatalogError(f"{where}: line {line} is not valid CSV ({exc})") from None
        start, line = line, reader.line_num + 1
        if not record:  # a blank line carries no item
            continue
        if len(record) < width:
            raise CatalogError(
                f"{where}: line {start} has {len(record)} fields, expected {width} ({', '.join(header)})"
            )
        if len(record) > width:
            if not fmt.repair_extra_fields:
                raise CatalogError(
                    f"{where}: line {start} has {len(record)} fields, expected {width}; "
                    f"quote values that contain commas"
                )
            record = record[: width - 1] + [",".join(record[width - 1 :])]
            repaired.append(start)
        item_id, was_padded = _check_id(record[id_index], fmt, where, start)
        record[id_index] = item_id
        padded += was_padded
        if item_id in seen:
            raise CatalogError(f"{where}: duplicate {fmt.id_column} {item_id} on lines {seen[item_id]} and {start}")
        seen[item_id] = start
        rows.append(record)
        lines.append(start)

    if not rows:
        raise CatalogError(f"{where}: the catalog is empty (a header but no rows)")
    if repaired:
        log.warning("%s: repaired %d line(s) with an unquoted comma in %s", where, len(repaired), header[-1])
    if padded:
        log.warning("%s: gave %d %s value(s) back their leading zero", where, padded, fmt.id_column)
    return CatalogTable(where=where, fmt=fmt, rows=rows, lines=lines, repaired_lines=repaired, padded_ids=padded)


def _decode(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CatalogError(
            f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset {exc.start}, line {line}); "
            f"re-save the file as UTF-8"
        ) from None
    return text[1:] if text.startswith(_BOM) else text


def _read_header(reader: Iterable[list[str]], fmt: CatalogFormat, where: str) -> list[str]:
    try:
        header = next(iter(reader), None)
    except csv.Error as exc:
        raise CatalogError(f"{where}: line 1 (the header) is not valid CSV ({exc})") from None
    if not header:
        raise CatalogError(f"{where}: the file is empty; expected the header {','.join(fmt.columns)}")
    missing = [c for c in fmt.columns if c not in header]
    if missing:
        raise CatalogError(
            f"{where}: missing required column {missing[0]!r}"
            + (f" (and {', '.join(missing[1:])})" if missing[1:] else "")
            + f"; the header must be {','.join(fmt.columns)}"
        )
    if tuple(header) != fmt.columns:
        extra = [c for c in header if c not in fmt.columns]
        found = f"unexpected column {extra[0]!r}" if extra else "the columns in another order"
        raise CatalogError(f"{where}: header has {found}; expected exactly {','.join(fmt.columns)}")
    return header


def _check_id(value: str, fmt: CatalogFormat, where: str, line: int) -> tuple[str, bool]:
    """Validate an id (digits only, so it can never turn an image path into `../...`)."""
    if not _DIGITS.match(value):
        raise CatalogError(f"{where}: line {line}: {fmt.id_column} must be digits only, got {value!r}")
    if not fmt.id_width or len(value) == fmt.id_width:
        return value, False
    # H&M ids all start with a zero that a pandas round trip (read without dtype=str) strips:
    # "0108775015" comes back as 108775015. Nine digits are that case, so the zero is put back.
    if len(value) == fmt.id_width - 1:
        return value.zfill(fmt.id_width), True
    raise CatalogError(f"{where}: line {line}: {fmt.id_column} must have {fmt.id_width} digits, got {value!r}")


def write_catalog_table(table: CatalogTable, keep: Iterable[int], path: Path) -> None:
    """Write the header and the rows at positions `keep` as valid CSV (minimal quoting, LF endings).

    For a well-formed Kaggle file this reproduces the original bytes of every kept line; a repaired
    name gets quoted, because it now holds the comma that broke it.
    """
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.fmt.columns)
        writer.writerows(table.rows[i] for i in keep)
