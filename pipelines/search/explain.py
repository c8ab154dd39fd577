"""Constraint matching over the catalog's own fields: match/conflict counts, explanations, and their checks.

An item's field holds one canonical value, several (a multi-valued field: a list), or `unknown`. A wanted
field matches when the item holds one of the wanted values, conflicts when it holds only other known values,
and counts neither way when unknown (equal -> 1, unknown -> 0). An item holding an excluded value
conflicts. Explanations claim only what the item's own fields hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.schema import FIELDS, UNKNOWN, vocabulary
from pipelines.search.constraints import Constraints


def item_values(value: object) -> tuple[str, ...]:
    """The known values a field holds: one, several (list, tuple or array), or none (`unknown`, empty)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [str(v) for v in value]
    elif value is None or (isinstance(value, float) and np.isnan(value)):
        values = []
    else:
        values = [str(value)]
    return tuple(v for v in dict.fromkeys(values) if v and v != UNKNOWN)


@dataclass(frozen=True)
class Claim:
    field: str
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "value": self.value}


@dataclass(frozen=True)
class Judgement:
    """One item against one query's constraints."""

    explanation: tuple[Claim, ...]  # what the item holds that the query asked for (or did not exclude)
    conflicts: tuple[Claim, ...]  # the item's values that contradict a wanted field or are excluded
    matched: int  # wanted fields the item matches
    satisfied: bool  # every wanted field matched and nothing conflicts


def judge(attributes: Mapping[str, object], constraints: Constraints) -> Judgement:
    """Explain one item (its field -> value(s)) against the constraints."""
    explanation: list[Claim] = []
    conflicts: list[Claim] = []
    matched = 0
    for name, wanted in constraints.wanted.items():
        held = item_values(attributes.get(name))
        hits = [v for v in held if v in wanted]
        if hits:
            matched += 1
            explanation.extend(Claim(name, v) for v in hits)
        else:
            conflicts.extend(Claim(name, v) for v in held)
    for name, excluded in constraints.excluded.items():
        held = item_values(attributes.get(name))
        bad = [v for v in held if v in excluded]
        conflicts.extend(Claim(name, v) for v in bad)
        if held and not bad and name not in constraints.wanted:
            explanation.extend(Claim(name, v) for v in held)  # "no prints": this one is solid
    satisfied = matched == len(constraints.wanted) and not conflicts
    return Judgement(tuple(explanation), tuple(conflicts), matched, satisfied)


def claim_holds(claim: Claim, attributes: Mapping[str, object]) -> bool:
    """Faithfulness of one claim: the item's own field holds the claimed value."""
    return claim.value in item_values(attributes.get(claim.field))


class AttributeTable:
    """The catalog's fields as one bitmask per item and field (bit i = the field's i-th canonical value), so a
    candidate pool's match and conflict counts are a few vectorised operations at any catalog size."""

    def __init__(self, meta: pd.DataFrame, fields: Sequence[str] = FIELDS) -> None:
        missing = [f for f in fields if f not in meta.columns]
        if missing:
            raise PipelineError(f"catalog metadata lacks field column {missing[0]!r} (rerun normalize and encode_kv)")
        self.fields = tuple(fields)
        self.rows = len(meta)
        vocab = vocabulary()
        self.bits = {f: {v: i for i, v in enumerate(x for x in vocab[f] if x != UNKNOWN)} for f in self.fields}
        self.masks: dict[str, np.ndarray] = {}
        self.columns: dict[str, np.ndarray] = {}
        for name in self.fields:
            column = meta[name].to_numpy()
            self.columns[name] = column
            self.masks[name] = self._masks(name, column)
        self.frequency = {name: self._frequency(name) for name in self.fields}

    def _masks(self, name: str, column: np.ndarray) -> np.ndarray:
        bits = self.bits[name]
        if column.dtype != object or not any(isinstance(v, (list, tuple, np.ndarray)) for v in column[:1000]):
            codes = pd.Series(column).map(lambda v: (1 << bits[v]) if v in bits else 0)
            return codes.to_numpy(dtype=np.int64)
        out = np.zeros(len(column), dtype=np.int64)
        for row, value in enumerate(column):
            for v in item_values(value):
                out[row] |= 1 << bits[v] if v in bits else 0
        return out

    def _frequency(self, name: str) -> np.ndarray:
        """Per item: the catalog share of its (rarest) value of the field, 1.0 when unknown."""
        mask = self.masks[name]
        shares = {bit: float(((mask >> bit) & 1).mean()) for bit in self.bits[name].values()}
        out = np.ones(self.rows, dtype=np.float64)
        for bit, share in shares.items():
            has = ((mask >> bit) & 1).astype(bool)
            out[has] = np.minimum(out[has], share)
        return out

    def mask_of(self, name: str, values: Sequence[str]) -> int:
        bits = self.bits[name]
        return int(sum(1 << bits[v] for v in values if v in bits))

    def counts(self, rows: np.ndarray, constraints: Constraints) -> tuple[np.ndarray, np.ndarray]:
        """(matched wanted fields, conflicting fields) per row, as `judge` counts them."""
        matched = np.zeros(len(rows), dtype=np.int64)
        conflicts = np.zeros(len(rows), dtype=np.int64)
        for name, wanted in constraints.wanted.items():
            held = self.masks[name][rows]
            hit = (held & self.mask_of(name, wanted)) != 0
            matched += hit
            conflicts += (held != 0) & ~hit
        for name, excluded in constraints.excluded.items():
            conflicts += (self.masks[name][rows] & self.mask_of(name, excluded)) != 0
        return matched, conflicts

    def satisfying(self, constraints: Constraints) -> np.ndarray:
        """Boolean (N,): the items that match every wanted field and hold no excluded value."""
        ok = np.ones(self.rows, dtype=bool)
        for name, wanted in constraints.wanted.items():
            ok &= (self.masks[name] & self.mask_of(name, wanted)) != 0
        for name, excluded in constraints.excluded.items():
            ok &= (self.masks[name] & self.mask_of(name, excluded)) == 0
        return ok

    def attributes(self, row: int) -> dict[str, object]:
        """The item's known fields: a value, or a list for a multi-valued field; unknown fields left out."""
        out: dict[str, object] = {}
        for name in self.fields:
            held = item_values(self.columns[name][row])
            if held:
                out[name] = held[0] if len(held) == 1 else list(held)
        return out

    def long_tail(self, rows: np.ndarray) -> np.ndarray:
        """Per row in [0, 1]: how rare its attribute values are (1 - the mean catalog share of its known values)."""
        shares = np.stack([self.frequency[name][rows] for name in self.fields])
        known = shares < 1.0
        mean = np.where(known.any(axis=0), (shares * known).sum(axis=0) / np.maximum(known.sum(axis=0), 1), 1.0)
        return 1.0 - mean
