"""The mapping tables as data: raw catalog values -> canonical schema values, per catalog format."""

from __future__ import annotations

import csv
import dataclasses
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.errors import PipelineError
from pipelines.schema import FIELDS, RAW_FIELDS, UNKNOWN, vocabulary

PACKAGE_DIR = Path(__file__).parent
TABLES_DIR = PACKAGE_DIR / "tables"
FIELDS_FILE = PACKAGE_DIR / "fields.yaml"


def fold(value: str) -> str:
    """The lookup form of a raw value: Unicode-normalised, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@dataclass(frozen=True)
class ValueTable:
    """One CSV table `raw,value,note`: an empty value means "known raw value that says nothing"."""

    name: str
    field: str
    values: dict[str, str | None]  # folded raw value -> canonical value or None

    def lookup(self, raw: str) -> tuple[bool, str | None]:
        """(known, canonical): known is False for a raw value the table does not list."""
        key = fold(raw)
        if key not in self.values:
            return False, None
        return True, self.values[key]


@dataclass(frozen=True)
class FieldSource:
    column: str
    table: ValueTable
    partial: bool = False  # a refining table: unlisted raw values are expected, not "unmapped"


@dataclass(frozen=True)
class FormatSpec:
    """How one catalog format's columns feed the schema (fields.yaml)."""

    name: str
    item_id: str
    title: str
    desc: str | None
    group_key: str  # a column name, or "name" for keys derived from the title
    fields: dict[str, tuple[FieldSource, ...]]
    raw: dict[str, str] = dataclasses.field(default_factory=dict)  # RAW_FIELDS name -> this format's column

    @property
    def required_columns(self) -> list[str]:
        columns = [self.item_id, self.title]
        if self.desc:
            columns.append(self.desc)
        if self.group_key != "name":
            columns.append(self.group_key)
        for sources in self.fields.values():
            columns.extend(source.column for source in sources)
        columns.extend(self.raw.values())
        return list(dict.fromkeys(columns))


def load_value_table(name: str, field: str, directory: Path = TABLES_DIR) -> ValueTable:
    """Read `<directory>/<name>.csv`, checking every value against the field's canonical vocabulary."""
    path = directory / f"{name}.csv"
    allowed = set(vocabulary()[field]) - {UNKNOWN}
    if field == "category":
        allowed.add("other")
    values: dict[str, str | None] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or header[:2] != ["raw", "value"]:
            raise RuntimeError(f"{path}: header must start with raw,value, got {header}")
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise RuntimeError(f"{path} line {line}: expected {len(header)} fields, got {len(row)}")
            raw, value = row[0], row[1].strip()
            if value and value not in allowed:
                raise RuntimeError(
                    f"{path} line {line}: {value!r} is not a canonical {field} value "
                    f"(allowed: {', '.join(sorted(allowed))})"
                )
            key = fold(raw)
            if key in values and values[key] != (value or None):
                raise RuntimeError(f"{path} line {line}: {raw!r} is listed twice with different values")
            values[key] = value or None
    return ValueTable(name=name, field=field, values=values)


@cache
def format_spec(name: str) -> FormatSpec:
    """The field sources of catalog format `name` ("myntra", "hm"), tables loaded and checked."""
    specs = yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8"))
    if name not in specs:
        raise PipelineError(
            f"normalize has no field mapping for catalog format {name!r} (known: {', '.join(sorted(specs))})"
        )
    spec = specs[name]
    fields: dict[str, tuple[FieldSource, ...]] = {}
    for field_name, sources in spec.get("fields", {}).items():
        if field_name not in FIELDS:
            raise RuntimeError(f"{FIELDS_FILE}: {name}.fields.{field_name} is not a schema field")
        fields[field_name] = tuple(
            FieldSource(
                column=source["column"],
                table=load_value_table(source["table"], field_name),
                partial=bool(source.get("partial", False)),
            )
            for source in sources
        )
    raw = dict(spec.get("raw") or {})
    unknown = sorted(set(raw) - set(RAW_FIELDS))
    if unknown:
        raise RuntimeError(f"{FIELDS_FILE}: {name}.raw.{unknown[0]} is not a kept raw field ({', '.join(RAW_FIELDS)})")
    return FormatSpec(
        name=name,
        item_id=spec["item_id"],
        title=spec["title"],
        desc=spec.get("desc"),
        group_key=spec["group_key"],
        fields=fields,
        raw=raw,
    )
