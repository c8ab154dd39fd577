"""Which params changed between two revisions: params.yaml as dotted leaf keys, the names `dvc params diff` uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.review.revisions import ABSENT


@dataclass(frozen=True)
class ParamChange:
    key: str
    old: Any
    new: Any


def flatten(tree: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """Nested mappings to `a.b.c` keys; lists and scalars are leaves, as DVC tracks them."""
    leaves: dict[str, Any] = {}
    for key, value in (tree or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            leaves.update(flatten(value, f"{name}."))
        else:
            leaves[name] = value
    return leaves


def param_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[ParamChange]:
    """Every leaf whose value differs, is new or was removed, sorted by key."""
    old_leaves, new_leaves = flatten(old), flatten(new)
    changes = []
    for key in sorted(old_leaves.keys() | new_leaves.keys()):
        before, after = old_leaves.get(key, ABSENT), new_leaves.get(key, ABSENT)
        if before is ABSENT or after is ABSENT or before != after:
            changes.append(ParamChange(key, before, after))
    return changes
