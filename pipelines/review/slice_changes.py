"""The largest regressions and gains by slice (category, attribute value) in attribute@K between two revisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SliceScore:
    """One model's mean `metric` over the queries of `slice` at one revision, and how many queries that is."""

    slice: str  # `category=cardigans`, `material=denim`
    metric: str  # `material@10`
    value: float
    n: int


@dataclass(frozen=True)
class SliceChange:
    base: SliceScore
    head: SliceScore

    @property
    def slice(self) -> str:
        return self.head.slice

    @property
    def metric(self) -> str:
        return self.head.metric

    @property
    def change(self) -> float:
        """In points (x100), as the scoreboard's deltas."""
        return (self.head.value - self.base.value) * 100


def _score(slice_name: str, metric: str, value: Any, n: Any) -> SliceScore | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not isinstance(n, int):
        return None
    return SliceScore(slice_name, metric, float(value), n)


def slice_scores(
    by_category: Mapping[str, Any] | None, by_value: Mapping[str, Any] | None, model: str = "finetuned", k: int = 10
) -> dict[tuple[str, str], SliceScore]:
    """Every (slice, `<field>@k`) score of `model` in metrics_by_category.json and metrics_by_value.json.

    by_category: {model: {category: {"<field>@K": mean, "<field>_n": queries, "n": queries}}};
    by_value: {model: {"<field>=<value>": {"<field>@K": mean, "n": queries}}}. A score both files hold
    (the category's own category@K) is kept once.
    """
    scores: dict[tuple[str, str], SliceScore] = {}
    suffix = f"@{k}"
    for category, row in ((by_category or {}).get(model) or {}).items():
        for key, value in (row or {}).items():
            if key.endswith(suffix):
                field = key[: -len(suffix)]
                score = _score(f"category={category}", key, value, row.get(f"{field}_n", row.get("n")))
                if score:
                    scores[(score.slice, score.metric)] = score
    for slice_name, row in ((by_value or {}).get(model) or {}).items():
        field = slice_name.split("=", 1)[0]
        score = _score(slice_name, f"{field}{suffix}", (row or {}).get(f"{field}{suffix}"), (row or {}).get("n"))
        if score:
            scores[(score.slice, score.metric)] = score
    return scores


def slice_changes(
    base: Mapping[tuple[str, str], SliceScore], head: Mapping[tuple[str, str], SliceScore], min_queries: int
) -> list[SliceChange]:
    """Slices both revisions score with at least `min_queries` queries on each side, sorted by change."""
    changes = [
        SliceChange(base[key], score)
        for key, score in head.items()
        if key in base and min(base[key].n, score.n) >= min_queries
    ]
    return sorted(changes, key=lambda change: (change.change, change.slice, change.metric))


def regressions(changes: list[SliceChange], limit: int) -> list[SliceChange]:
    """The `limit` largest drops, largest first (only slices that dropped)."""
    return [change for change in changes if change.change < 0][:limit]


def gains(changes: list[SliceChange], limit: int) -> list[SliceChange]:
    """The `limit` largest rises, largest first (only slices that rose)."""
    rising = sorted(changes, key=lambda change: (-change.change, change.slice, change.metric))
    return [change for change in rising if change.change > 0][:limit]
