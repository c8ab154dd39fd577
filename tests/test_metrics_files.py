"""The files dvc.yaml declares under `metrics:`, as the committed reports/ hold them, stay a short headline:
at most 50 numeric or boolean values in all, and no float with more than 4 decimals.

These read the working tree, so they check whatever `dvc repro` last wrote: after a change to what a stage
writes, rerun the pipeline and commit its reports before expecting them to pass.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MAX_VALUES = 50
MAX_DECIMALS = 4


def declared_metrics() -> list[str]:
    return [str(path) for path in yaml.safe_load((REPO / "dvc.yaml").read_text()).get("metrics", [])]


def read_metrics(path: str):
    """The file's content with every JSON float as the Decimal of its literal, so 0.12345 keeps its 5 digits."""
    file = REPO / path
    if not file.is_file():
        pytest.fail(
            f"MISSING: {path} is declared under `metrics:` in dvc.yaml but the working tree has no such "
            "file; run `dvc repro` and commit the reports",
            pytrace=False,
        )
    text = file.read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal) if file.suffix == ".json" else yaml.safe_load(text)


def leaves(value, where: str = ""):
    """(dotted key, value) of every number and boolean, at any depth, as `dvc metrics show` flattens them."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from leaves(inner, f"{where}[{i}]")
    elif isinstance(value, (bool, int, float, Decimal)):
        yield where, value


def decimals(value) -> int:
    exponent = (value if isinstance(value, Decimal) else Decimal(repr(value))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def test_dvc_yaml_declares_metrics():
    assert declared_metrics(), "dvc.yaml has no top-level `metrics:` list"


@pytest.mark.parametrize("path", declared_metrics())
def test_metric_floats_have_at_most_four_decimals(path):
    long = [
        f"{key}={value}"
        for key, value in leaves(read_metrics(path))
        if isinstance(value, (float, Decimal)) and decimals(value) > MAX_DECIMALS
    ]
    assert not long, f"{path}: {len(long)} values with more than {MAX_DECIMALS} decimals, e.g. {long[:5]}"


def test_metrics_hold_at_most_fifty_values_in_all():
    missing = [path for path in declared_metrics() if not (REPO / path).is_file()]
    counts = {path: sum(1 for _ in leaves(read_metrics(path))) for path in declared_metrics() if path not in missing}
    assert sum(counts.values()) <= MAX_VALUES, (
        f"the files under `metrics:` hold {sum(counts.values())} numeric/boolean values (at most {MAX_VALUES}): "
        f"{counts}; move breakdowns, counts and intervals to plain reports"
    )
    if missing:
        pytest.fail(
            f"MISSING: {', '.join(missing)} declared under `metrics:` in dvc.yaml but absent (the others "
            f"hold {counts}); run `dvc repro` and commit the reports",
            pytrace=False,
        )


def test_the_checks_themselves():
    content = json.loads(
        '{"a": {"x": 0.1235, "y": 0.12345, "n": 3, "ok": true, "note": "s", "none": null}, "l": [1.5]}',
        parse_float=Decimal,
    )
    found = dict(leaves(content))
    assert list(found) == ["a.x", "a.y", "a.n", "a.ok", "l[0]"]
    assert [decimals(found[k]) for k in ("a.x", "a.y", "a.n", "l[0]")] == [4, 5, 0, 1]
    assert decimals(1e-05) == 5 and decimals(2.0) == 1 and decimals(16.6667) == 4
