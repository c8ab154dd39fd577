"""The data profile: shallow metrics for `dvc metrics diff` and the markdown tables a reviewer reads."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from pipelines.normalize.images import REASONS, ImageCheck
from pipelines.normalize.splits import SPLITS
from pipelines.schema import FIELDS, UNKNOWN

TOP_VALUES = 5
EXAMPLES = 10


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def build_profile(
    items: pd.DataFrame, check: ImageCheck, files: list[str], unmapped: dict[str, Counter[str]], *, fmt: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, details): metrics are numbers at most three keys deep; details feed the markdown only."""
    n = len(items)
    groups = items.groupby("split")["group_key"].nunique()
    split_items = items["split"].value_counts()
    metrics = {
        "rows": check.total,
        "items": n,
        "unreadable": check.unreadable,
        "readable_share": _share(n, check.total),
        "groups": int(items["group_key"].nunique()),
        "split_items": {s: int(split_items.get(s, 0)) for s in SPLITS},
        "split_groups": {s: int(groups.get(s, 0)) for s in SPLITS},
        "unreadable_reasons": check.reason_counts(),
        "unknown_share": {f: _share(int(items[f].eq(UNKNOWN).sum()), n) for f in FIELDS},
        "sources": {
            f: {s: int(items[f"{f}_source"].eq(s).sum()) for s in ("field", "rule", "unknown")} for f in FIELDS
        },
        "top_values": {
            f: {str(v): int(c) for v, c in items[f].value_counts().head(TOP_VALUES).items()} for f in FIELDS
        },
        "unmapped_values": {
            f: sum(sum(c.values()) for k, c in unmapped.items() if k.split(":")[0] == f) for f in FIELDS
        },
    }
    details = {
        "format": fmt,
        "unreadable_examples": [(f, r) for f, r in zip(files, check.reasons, strict=True) if r][:EXAMPLES],
        "unmapped": {k: c.most_common(EXAMPLES) for k, c in sorted(unmapped.items())},
        "value_counts": {f: items[f].value_counts().head(12).to_dict() for f in FIELDS},
        "group_sizes": items["group_key"].value_counts().value_counts().sort_index().to_dict(),
    }
    return metrics, details


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def render_profile_markdown(metrics: dict[str, Any], details: dict[str, Any], source: str = "") -> str:
    """reports/data_profile.md: headline, splits, per-field coverage and top values, what was dropped."""
    n = metrics["items"]
    out = ["# Data profile", ""]
    out += _table(
        ["catalog", "rows", "items kept", "unreadable images", "readable share", "product groups"],
        [
            [
                f"{details['format']}" + (f" ({source})" if source else ""),
                metrics["rows"],
                n,
                metrics["unreadable"],
                f"{metrics['readable_share']:.2%}",
                metrics["groups"],
            ]
        ],
    )
    out += ["## Splits (by product group)", ""]
    out += _table(
        ["split", "items", "share of items", "groups"],
        [
            [s, metrics["split_items"][s], f"{_share(metrics['split_items'][s], n):.1%}", metrics["split_groups"][s]]
            for s in SPLITS
        ],
    )
    sizes = details["group_sizes"]
    out += ["Items per group: " + ", ".join(f"{size}: {count} groups" for size, count in sizes.items()), ""]
    out += [
        "## Fields",
        "",
        "Source `field` = a catalog column through the mapping tables (confidence 0.9); `rule` = a "
        "phrase in the name or description (0.7); `unknown` = nothing (0.1).",
        "",
    ]
    rows = []
    for f in FIELDS:
        src = metrics["sources"][f]
        rows.append(
            [
                f,
                src["field"],
                src["rule"],
                src["unknown"],
                f"{metrics['unknown_share'][f]:.1%}",
                ", ".join(f"{v} {c}" for v, c in details["value_counts"][f].items()),
            ]
        )
    out += _table(["field", "field", "rule", "unknown", "unknown share", "top values (count)"], rows)
    out += ["## Unreadable images", ""]
    if metrics["unreadable"]:
        reasons = metrics["unreadable_reasons"]
        out += [", ".join(f"{r}: {reasons[r]}" for r in REASONS), ""]
        out += _table(["image", "reason"], [list(pair) for pair in details["unreadable_examples"]])
    else:
        out += ["None: every image decoded.", ""]
    out += ["## Raw values no mapping table lists", ""]
    if details["unmapped"]:
        rows = [
            [key.split(":")[0], key.split(":")[1], value, count]
            for key, pairs in details["unmapped"].items()
            for value, count in pairs
        ]
        out += [
            "These fell through to the rules or `unknown`; add them to the tables in `pipelines/normalize/tables/`.",
            "",
        ]
        out += _table(["field", "column", "raw value", "items"], rows)
    else:
        out += ["None: the tables cover every raw value.", ""]
    return "\n".join(out)
