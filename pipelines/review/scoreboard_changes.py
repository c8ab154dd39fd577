"""The scoreboard of two revisions target by target, and whether each target's delta moved beyond noise.

The rule: a delta moved beyond noise when each revision's delta lies strictly outside the other revision's
95% interval (scoreboard_detail.json: paired bootstrap over the target's queries). With one interval known,
the other delta must lie outside it; with none, there is no verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NOISE_RULE = (
    "a target's delta moved **beyond noise** when each revision's delta lies outside the other revision's "
    "95% interval (paired bootstrap over the target's queries, `scoreboard_detail.json`); with only one "
    "interval known, the other delta must lie outside it; with none, there is no verdict"
)

UP, DOWN, WITHIN = "up, beyond noise", "down, beyond noise", "within noise"
NO_INTERVAL, NO_DATA, NEW, REMOVED = "no interval", "no data", "new target", "target removed"


@dataclass(frozen=True)
class TargetResult:
    """One target at one revision: metric values (0..1), delta and its interval (points), verdict."""

    baseline: float | None = None
    finetuned: float | None = None
    delta: float | None = None
    delta_lo: float | None = None
    delta_hi: float | None = None
    n: int | None = None
    passed: bool | None = None
    status: str | None = None
    identity: str = ""  # `metric|slice` where the file says so: a target keeps it when its key is renamed

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.delta_lo is None or self.delta_hi is None:
            return None
        return self.delta_lo, self.delta_hi


@dataclass(frozen=True)
class TargetChange:
    target: str
    base: TargetResult | None
    head: TargetResult | None
    movement: str
    renamed_from: str | None = None  # the base's key, where the same target had another key there


@dataclass(frozen=True)
class Verdict:
    """The scoreboard's overall line: targets met out of all, and whether all of them pass."""

    passed: int
    total: int
    overall: bool | None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _target_rows(document: Any) -> dict[str, Mapping[str, Any]]:
    """Target rows of a scoreboard file: `{"targets": {...}}` (the detail, older headline files) or flat."""
    if not isinstance(document, Mapping):
        return {}
    rows = document["targets"] if isinstance(document.get("targets"), Mapping) else document
    return {name: row for name, row in rows.items() if isinstance(row, Mapping)}


def target_results(board: Mapping[str, Any] | None, detail: Mapping[str, Any] | None) -> dict[str, TargetResult]:
    """Targets from scoreboard_detail.json (with intervals) where present, else from scoreboard.json."""
    headline, detailed = _target_rows(board), _target_rows(detail)
    results: dict[str, TargetResult] = {}
    for name in [*headline, *(key for key in detailed if key not in headline)]:
        row = {**headline.get(name, {}), **detailed.get(name, {})}
        passed = row.get("pass")
        metric, slice_name = row.get("metric"), row.get("slice")
        results[name] = TargetResult(
            baseline=_number(row.get("baseline")),
            finetuned=_number(row.get("finetuned")),
            delta=_number(row.get("delta")),
            delta_lo=_number(row.get("delta_lo")),
            delta_hi=_number(row.get("delta_hi")),
            n=row["n"] if isinstance(row.get("n"), int) and not isinstance(row.get("n"), bool) else None,
            passed=passed if isinstance(passed, bool) else None,
            status=row.get("status") or (None if passed is None else ("pass" if passed else "miss")),
            identity=f"{metric}|{slice_name}" if metric and slice_name else name,
        )
    return results


def overall_verdict(board: Mapping[str, Any] | None, detail: Mapping[str, Any] | None) -> Verdict | None:
    """The overall pass and count of the detail (or of an older headline file that held them), else counted."""
    for document in (detail, board):
        if isinstance(document, Mapping) and isinstance(document.get("pass"), bool) and "targets" in document:
            total = document.get("targets_total", len(_target_rows(document)))
            return Verdict(int(document.get("passed", 0)), int(total), document["pass"])
    rows = _target_rows(board)
    if not rows:
        return None
    passed = sum(row.get("pass") is True for row in rows.values())
    return Verdict(passed, len(rows), passed == len(rows))


def _outside(delta: float, interval: tuple[float, float]) -> bool:
    low, high = interval
    return delta < low or delta > high


def movement(base: TargetResult | None, head: TargetResult | None) -> str:
    """Whether the target's delta moved beyond noise from base to head (see NOISE_RULE)."""
    if base is None:
        return NEW
    if head is None:
        return REMOVED
    if base.delta is None or head.delta is None:
        return NO_DATA
    checks = []
    if base.interval is not None:
        checks.append(_outside(head.delta, base.interval))
    if head.interval is not None:
        checks.append(_outside(base.delta, head.interval))
    if not checks:
        return NO_INTERVAL
    if all(checks):
        return UP if head.delta > base.delta else DOWN
    return WITHIN


def compare_targets(base: Mapping[str, TargetResult], head: Mapping[str, TargetResult]) -> list[TargetChange]:
    """One row per target of either revision, matched by metric and slice (else by key): head's order first."""
    base_by_identity = {result.identity: name for name, result in base.items()}
    changes, matched = [], set()
    for name, result in head.items():
        base_name = base_by_identity.get(result.identity, name if name in base else None)
        before = base.get(base_name) if base_name is not None else None
        matched.add(base_name)
        changes.append(
            TargetChange(
                name, before, result, movement(before, result), base_name if base_name not in (None, name) else None
            )
        )
    changes += [
        TargetChange(name, result, None, movement(result, None)) for name, result in base.items() if name not in matched
    ]
    return changes
