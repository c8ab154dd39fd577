"""Rule extraction: schema values read from item names and descriptions with the phrase tables of rules.yaml."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from pipelines.schema import FIELDS, UNKNOWN, vocabulary

RULES_FILE = Path(__file__).with_name("rules.yaml")
Pick = Literal["first_listed", "last_in_text", "single"]
_PICKS = ("first_listed", "last_in_text", "single")
# Categories whose items every field's rules may fill, whatever `applies_to` says: nothing is known.
_OPEN_CATEGORIES = frozenset({UNKNOWN, "other"})


def phrase_regex(phrase: str) -> str:
    """A rules.yaml phrase as a regex: a space matches spaces/hyphens, `_` an optional space/hyphen."""
    return phrase.replace(" ", r"[\s\-]+").replace("_", r"[\s\-]?")


def bounded(alternatives: list[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any phrase on word boundaries, longer phrases first."""
    body = "|".join(phrase_regex(p) for p in sorted(alternatives, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Unicode-normalised text with typographic quotes made plain, so phrases see one spelling."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2019", "'").replace("\u2018", "'")


@dataclass(frozen=True)
class FieldRules:
    field: str
    text: Literal["title", "title_desc", "title_deschead"]
    pick: Pick
    values: tuple[tuple[str, re.Pattern[str]], ...]  # (canonical value, pattern), in table order
    applies_to: frozenset[str] | None
    veto: re.Pattern[str] | None = None

    def extract(self, text: str) -> str | None:
        """The canonical value the (masked) text states, or None."""
        if self.veto is not None and self.veto.search(text):
            return None
        if self.pick == "first_listed":
            for value, pattern in self.values:
                if pattern.search(text):
                    return value
            return None
        if self.pick == "single":
            found = {value for value, pattern in self.values if pattern.search(text)}
            return found.pop() if len(found) == 1 else None
        best: tuple[int, int] | None = None
        chosen = None
        for value, pattern in self.values:
            for match in pattern.finditer(text):
                rank = (match.end(), match.end() - match.start())
                if best is None or rank > best:
                    best, chosen = rank, value
        return chosen

    def applies(self, category: str) -> bool:
        return self.applies_to is None or category in self.applies_to or category in _OPEN_CATEGORIES


@dataclass(frozen=True)
class RuleSet:
    mask: re.Pattern[str] | None
    desc_head_end: re.Pattern[str]
    fields: dict[str, FieldRules]
    group_key_colors: re.Pattern[str]
    view_suffixes: tuple[re.Pattern[str], ...]

    def masked(self, text: str) -> str:
        """The text with brand names and misleading phrases blanked out."""
        text = clean_text(text)
        return self.mask.sub(" | ", text) if self.mask is not None else text

    def desc_head(self, desc: str) -> str:
        """The description's words before its first clause boundary: where H&M names the garment."""
        return self.desc_head_end.split(clean_text(desc), maxsplit=1)[0].strip()


@cache
def load_rules(path: Path = RULES_FILE) -> RuleSet:
    """Compile rules.yaml, checking every value against the schema's canonical vocabulary."""
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    vocab = vocabulary()
    fields: dict[str, FieldRules] = {}
    for name, table in spec["fields"].items():
        if name not in FIELDS:
            raise RuntimeError(f"{path}: fields.{name} is not a schema field")
        if table.get("pick") not in _PICKS:
            raise RuntimeError(f"{path}: fields.{name}.pick must be one of {_PICKS}, got {table.get('pick')!r}")
        if table.get("text") not in ("title", "title_desc", "title_deschead"):
            raise RuntimeError(f"{path}: fields.{name}.text must be title, title_desc or title_deschead")
        allowed = set(vocab[name]) - {UNKNOWN}
        compiled = []
        for value, phrases in table["values"].items():
            if value not in allowed:
                raise RuntimeError(f"{path}: {value!r} is not a canonical {name} value")
            try:
                compiled.append((value, bounded([str(p) for p in phrases])))
            except re.error as exc:
                raise RuntimeError(f"{path}: fields.{name}.values.{value} has a bad pattern: {exc}") from None
        applies_to = table.get("applies_to")
        if applies_to is not None:
            bad = sorted(set(applies_to) - set(vocab["category"]))
            if bad:
                raise RuntimeError(f"{path}: fields.{name}.applies_to names unknown categories {bad}")
        fields[name] = FieldRules(
            field=name,
            text=table["text"],
            pick=table["pick"],
            values=tuple(compiled),
            applies_to=frozenset(applies_to) if applies_to is not None else None,
            veto=bounded([str(p) for p in table["veto"]]) if table.get("veto") else None,
        )
    mask = bounded([str(p) for p in spec.get("mask", [])]) if spec.get("mask") else None
    return RuleSet(
        mask=mask,
        desc_head_end=re.compile(spec["desc_head_end"], re.IGNORECASE),
        fields=fields,
        group_key_colors=_color_run_pattern(spec, fields.get("color")),
        view_suffixes=tuple(re.compile(rf"\s*(?:{p})\s*$", re.IGNORECASE) for p in spec["group_key"]["view_suffixes"]),
    )


def _color_run_pattern(spec: dict[str, Any], color_rules: FieldRules | None) -> re.Pattern[str]:
    """A run of colour words ("light blue & off-white", "gold-toned") for stripping from group keys."""
    if color_rules is None:
        raise RuntimeError(f"{RULES_FILE}: group keys need the colour phrases (fields.color)")
    phrases = [str(p) for values in spec["fields"]["color"]["values"].values() for p in values]
    phrases += ["multi", "multicolou?red", "multi_colou?red"]
    shades = "|".join(spec["group_key"]["shades"])
    suffixes = "|".join(spec["group_key"]["color_suffixes"])
    color = "|".join(phrase_regex(p) for p in sorted(phrases, key=len, reverse=True))
    one = rf"(?:(?:{shades})[\s\-]+)?(?:{color})(?:[\s\-]*(?:{suffixes}))?"
    return re.compile(rf"(?<![a-z0-9])(?:{one})(?:\s*(?:&|and|/|,|-|with)\s*(?:{one}))*(?![a-z0-9])", re.IGNORECASE)
