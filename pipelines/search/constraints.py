"""Constraints from free text: the schema's own vocabularies (values, rule phrases, normalize tables), negation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.normalize.rules import bounded, clean_text, load_rules
from pipelines.normalize.tables import TABLES_DIR, load_value_table
from pipelines.schema import FIELDS, UNKNOWN, vocabulary

PHRASES_FILE = Path(__file__).with_name("query_phrases.yaml")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Constraints:
    """Wanted values per field (any of them satisfies the field) and excluded values per field."""

    wanted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.wanted or self.excluded)

    def to_dict(self) -> dict[str, Any]:
        """{"constraints": {field: value, or [values] when several}, "excluded": {field: [values]}}."""
        return {
            "constraints": {f: v[0] if len(v) == 1 else list(v) for f, v in self.wanted.items()},
            "excluded": {f: list(v) for f, v in self.excluded.items()},
        }


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # as typed
    constraints: Constraints
    clip_text: str  # the text the CLIP text tower reads: negated phrases removed (CLIP does not read "not")


@dataclass(frozen=True)
class Phrase:
    field: str
    values: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Vocabulary:
    phrases: tuple[Phrase, ...]
    mask: re.Pattern[str] | None  # rules.yaml's brands and misleading phrases ("do u speak green" is no colour)
    negation: re.Pattern[str]  # matches when a text ends in a negation cue (and an optional filler)
    joiner: re.Pattern[str]  # matches a text made only of joiners between two values


def _literal(raw: str) -> str:
    """A table's raw value as a phrase: regex characters escaped, words joined loosely, an optional plural."""
    words = clean_text(raw).casefold().split()
    return r"[\s\-]+".join(re.escape(w) for w in words) + "(?:s|es)?"


@cache
def load_vocabulary(phrases_file: Path = PHRASES_FILE) -> Vocabulary:
    """Every phrase that names a canonical value: the value itself (`v_neck` as "v neck", plurals), the phrases of
    normalize/rules.yaml, the raw values of the normalize tables (colors.csv: "navy blue" is blue) and the
    query-only phrases of query_phrases.yaml."""
    spec = yaml.safe_load(phrases_file.read_text(encoding="utf-8"))
    vocab = vocabulary()
    phrases: list[Phrase] = []
    for name in FIELDS:
        for value in vocab[name]:
            if value != UNKNOWN:
                phrases.append(Phrase(name, (value,), bounded([re.escape(value) + "(?:s|es)?"])))
    for name, rules in load_rules().fields.items():
        phrases.extend(Phrase(name, (value,), pattern) for value, pattern in rules.values)
    for table_file in sorted(TABLES_DIR.glob("*.csv")):
        found = next((f for f in FIELDS if table_file.stem.startswith(f)), None)
        if found is None and table_file.stem.startswith("colors"):
            found = "color"
        if found is None:
            continue
        name = found
        table = load_value_table(table_file.stem, name)
        phrases.extend(Phrase(name, (value,), bounded([_literal(raw)])) for raw, value in table.values.items() if value)
    for name, table in (spec.get("fields") or {}).items():
        if name not in FIELDS:
            raise RuntimeError(f"{phrases_file}: fields.{name} is not a schema field")
        for phrase, values in table.items():
            bad = sorted(set(values) - set(vocab[name]) - {UNKNOWN})
            if bad:
                raise RuntimeError(f"{phrases_file}: fields.{name}.{phrase}: {bad[0]!r} is not a canonical {name}")
            phrases.append(Phrase(name, tuple(values), bounded([str(phrase)])))
    negation = "|".join(sorted(re.escape(c).replace(r"\ ", " ").replace(" ", r"[\s\-]+") for c in spec["negation"]))
    fillers = "|".join(re.escape(f) for f in spec["fillers"])
    joiners = "|".join(re.escape(j) for j in spec["joiners"])
    return Vocabulary(
        phrases=tuple(phrases),
        mask=load_rules().mask,
        negation=re.compile(rf"(?:^|[^a-z0-9])(?:{negation})[\s\-]+(?:(?:{fillers})\s+)?$", re.IGNORECASE),
        joiner=re.compile(rf"^(?:\s|{joiners})*$", re.IGNORECASE),
    )


@dataclass(frozen=True)
class _Match:
    field: str
    values: tuple[str, ...]
    start: int
    end: int
    negated: bool = False


def parse_query(text: str, vocab: Vocabulary | None = None) -> ParsedQuery:
    """Read the constraints a free-text query states.

    Every phrase of every field is matched; where matches overlap the longest wins (ties: the schema's field
    order, so "jeans" is the category and not also a material). A value right after a negation cue is
    excluded, and so is a value of the same field joined to an excluded one ("no black or white").
    """
    vocab = vocab or load_vocabulary()
    folded = clean_text(text).casefold()
    # Brands are blanked to spaces of their length, so match offsets still index the text CLIP reads.
    masked = vocab.mask.sub(lambda m: " " * len(m.group()), folded) if vocab.mask is not None else folded
    found = [
        _Match(p.field, p.values, m.start(), m.end())
        for p in vocab.phrases
        for m in p.pattern.finditer(masked)
        if m.end() > m.start()
    ]
    order = {name: i for i, name in enumerate(FIELDS)}
    found.sort(key=lambda m: (-(m.end - m.start), order[m.field], m.start))
    taken: list[_Match] = []
    for match in found:
        if all(match.end <= t.start or match.start >= t.end for t in taken):
            taken.append(match)
    taken.sort(key=lambda m: m.start)
    resolved: list[_Match] = []
    for match in taken:
        negated = bool(vocab.negation.search(masked[: match.start]))
        previous = resolved[-1] if resolved else None
        if (
            not negated
            and previous is not None
            and previous.negated
            and previous.field == match.field
            and vocab.joiner.match(masked[previous.end : match.start])
        ):
            negated = True
        resolved.append(_Match(match.field, match.values, match.start, match.end, negated))
    wanted: dict[str, list[str]] = {}
    excluded: dict[str, list[str]] = {}
    for match in resolved:
        target = excluded if match.negated else wanted
        bucket = target.setdefault(match.field, [])
        bucket.extend(v for v in match.values if v not in bucket)
    for name, values in excluded.items():
        if name in wanted:
            wanted[name] = [v for v in wanted[name] if v not in values]
    constraints = Constraints(
        wanted={f: tuple(wanted[f]) for f in FIELDS if wanted.get(f)},
        excluded={f: tuple(excluded[f]) for f in FIELDS if excluded.get(f)},
    )
    return ParsedQuery(text=text, constraints=constraints, clip_text=_clip_text(folded, resolved, vocab))


def _clip_text(folded: str, matches: list[_Match], vocab: Vocabulary) -> str:
    """The query without its negated phrases and their cues: "black tees, not striped" -> "black tees,"."""
    keep, cursor = [], 0
    for match in matches:
        if not match.negated:
            continue
        head = folded[cursor : match.start]
        cue = vocab.negation.search(head)
        keep.append(head[: cue.start()] if cue else "")
        cursor = match.end
    keep.append(folded[cursor:])
    return _WHITESPACE.sub(" ", "".join(keep)).strip(" ,;/&")
