"""The headline metrics of two revisions side by side, keyed as `dvc metrics diff` names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.review.revisions import ABSENT


@dataclass(frozen=True)
class MetricChange:
    path: str
    key: str
    old: Any  # ABSENT when the key (or its file) is not at the base
    new: Any

    @property
    def change(self) -> float | None:
        if _is_number(self.old) and _is_number(self.new):
            result: float | None = self.new - self.old
            return result
        return None

    @property
    def changed(self) -> bool:
        return self.old is ABSENT or self.new is ABSENT or self.old != self.new


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metrics_paths(dvc_yaml: Mapping[str, Any] | None) -> list[str]:
    """The metrics files a dvc.yaml declares: the top-level `metrics:` list, then stage outs under `metrics:`."""
    if not dvc_yaml:
        return []
    paths = [entry for entry in dvc_yaml.get("metrics") or [] if isinstance(entry, str)]
    for stage in (dvc_yaml.get("stages") or {}).values():
        for entry in (stage or {}).get("metrics") or []:
            for path in [entry] if isinstance(entry, str) else list(entry) if isinstance(entry, Mapping) else []:
                if path not in paths:
                    paths.append(path)
    return paths


def flatten_metrics(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects to `a.b` keys, scalars only (numbers, booleans, strings, nulls)."""
    if not isinstance(tree, Mapping):
        return {}
    leaves: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            leaves.update(flatten_metrics(value, f"{name}."))
        elif value is None or isinstance(value, (int, float, str, bool)):
            leaves[name] = value
    return leaves


def metric_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[MetricChange]:
    """Every metric of either side per file (`old`/`new` map path -> parsed file, None when absent)."""
    rows = []
    for path in [*new, *(path for path in old if path not in new)]:
        before, after = flatten_metrics(old.get(path)), flatten_metrics(new.get(path))
        for key in [*after, *(key for key in before if key not in after)]:
            rows.append(MetricChange(path, key, before.get(key, ABSENT), after.get(key, ABSENT)))
    return rows
