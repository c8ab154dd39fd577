"""Schema attributes per item: column values through the mapping tables, then rules, then `unknown`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.normalize.rules import RuleSet
from pipelines.normalize.tables import FormatSpec
from pipelines.schema import CONFIDENCE, FIELDS, UNKNOWN

# Category first: the other fields' rules are gated by it (rules.yaml `applies_to`).
_ORDER = ("category",) + tuple(f for f in FIELDS if f != "category")


@dataclass
class AttributeResult:
    frame: pd.DataFrame  # <field>, <field>_source, <field>_conf for every schema field, in FIELDS order
    unmapped: dict[str, Counter[str]] = field(default_factory=dict)  # "field:column" -> raw values no table lists


def item_texts(frame: pd.DataFrame, spec: FormatSpec) -> tuple[pd.Series, pd.Series]:
    """(title, desc) per item; desc is "" for formats without a description column."""
    title = frame[spec.title].astype(str)
    desc = frame[spec.desc].astype(str) if spec.desc else pd.Series("", index=frame.index)
    return title, desc


def map_attributes(frame: pd.DataFrame, spec: FormatSpec, rules: RuleSet | None) -> AttributeResult:
    """Resolve every schema field of every row: `field` (0.9), else `rule` (0.7), else `unknown` (0.1).

    `rules=None` turns rule extraction off (params `schema.rules: false`).
    """
    title, desc = item_texts(frame, spec)
    texts: dict[str, pd.Series] = {}
    if rules is not None:
        texts["title"] = _masked(title, rules)
        if spec.desc:
            texts["title_desc"] = _masked(title.str.cat(desc, sep=" . "), rules)
            heads = desc.map({d: rules.desc_head(d) for d in desc.unique()})
            texts["title_deschead"] = _masked(title.str.cat(heads, sep=" . "), rules)
        else:
            texts["title_desc"] = texts["title_deschead"] = texts["title"]
    out: dict[str, pd.Series] = {}
    unmapped: dict[str, Counter[str]] = {}
    for name in _ORDER:
        value = pd.Series(UNKNOWN, index=frame.index, dtype=object)
        source = pd.Series("unknown", index=frame.index, dtype=object)
        for src in spec.fields.get(name, ()):
            raw = frame[src.column].astype(str)
            looked = {r: src.table.lookup(r) for r in raw.unique()}
            canonical = raw.map({r: found for r, (_, found) in looked.items()})
            open_ = source.eq("unknown") & canonical.notna()
            value[open_] = canonical[open_]
            source[open_] = "field"
            if not src.partial:
                missing = [r for r, (known, _) in looked.items() if not known and r.strip()]
                if missing:
                    counts = raw[raw.isin(missing)].value_counts()
                    unmapped[f"{name}:{src.column}"] = Counter(
                        {str(value): int(count) for value, count in counts.items()}
                    )
        if rules is not None and name in rules.fields:
            field_rules = rules.fields[name]
            todo = source.eq("unknown")
            if field_rules.applies_to is not None:
                todo &= out["category"].map(field_rules.applies)
            pending = texts[field_rules.text][todo]
            found = {t: field_rules.extract(t) for t in pending.unique()}
            extracted = pending.map(found)
            hit = extracted[extracted.notna()].index
            value[hit] = extracted[hit]
            source[hit] = "rule"
        out[name] = value
        out[f"{name}_source"] = source
        out[f"{name}_conf"] = source.map(CONFIDENCE).astype(np.float32)
    columns = [c for f in FIELDS for c in (f, f"{f}_source", f"{f}_conf")]
    return AttributeResult(frame=pd.DataFrame(out, index=frame.index)[columns], unmapped=unmapped)


def _masked(texts: pd.Series, rules: RuleSet) -> pd.Series:
    unique = {t: rules.masked(t) for t in texts.unique()}
    return texts.map(unique)
