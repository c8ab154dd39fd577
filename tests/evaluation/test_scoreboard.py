"""The scoreboard: pass, miss, no data, the paired interval, and the files a reviewer reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.evaluation import (
    Target,
    compute_scoreboard,
    metric_keys,
    missed,
    plan_verdict,
    scoreboard_detail,
    scoreboard_json,
    scoreboard_markdown,
)

# four i2i test queries: two cardigans (denim, leather), two tees (denim, unknown material)
PER_QUERY = pd.DataFrame(
    {
        "task": ["i2i"] * 4,
        "query": ["c1", "c2", "t1", "t2"],
        "row": [0, 1, 2, 3],
        "category": ["cardigans", "cardigans", "tees", "tees"],
        "material": ["denim", "leather", "denim", "unknown"],
        "baseline/category@10": [0.2, 0.4, 0.9, 0.9],
        "finetuned/category@10": [0.5, 0.5, 0.9, 0.8],
        "baseline/material@10": [0.1, 0.3, 0.5, np.nan],
        "finetuned/material@10": [0.2, 0.3, 0.6, np.nan],
    }
)


def score(targets, per_query=PER_QUERY):
    return compute_scoreboard(targets, per_query, resamples=300, seed=1)


def test_pass_miss_and_no_data():
    results = score(
        [
            Target("category@10", "category=cardigans", 10),  # +20 pts
            Target("material@10", "material=denim", 10),  # +10 pts exactly: passes (>=)
            Target("category@10", "all", 5),  # +7.5 pts
            Target("material@10", "category=tees", 50),  # +10 pts, short of 50
            Target("material@10", "material=leather", 1),  # +0 pts
            Target("material@10", "material=wool", 1),  # no query
        ]
    )
    by_name = {r.name: r for r in results}
    cardigans = by_name["category@10 [category=cardigans]"]
    assert (cardigans.status, cardigans.n, cardigans.delta) == ("pass", 2, pytest.approx(20.0))
    assert cardigans.baseline == pytest.approx(0.3) and cardigans.finetuned == pytest.approx(0.5)
    assert cardigans.delta_lo <= cardigans.delta <= cardigans.delta_hi
    # the paired interval over the two cardigans: per-query deltas are +30 and +10 points
    assert (cardigans.delta_lo, cardigans.delta_hi) == (pytest.approx(10.0), pytest.approx(30.0))
    assert by_name["material@10 [material=denim]"].status == "pass"
    assert by_name["category@10 [all]"].status == "pass" and by_name["category@10 [all]"].n == 4
    tees = by_name["material@10 [category=tees]"]
    assert (tees.status, tees.n) == ("miss", 1) and "short of the +50 pts target" in tees.note
    assert "interval includes 0" in by_name["material@10 [material=leather]"].note
    wool = by_name["material@10 [material=wool]"]
    assert (wool.status, wool.n, wool.delta) == ("no data", 0, None) and not wool.passed
    assert missed(results) == [
        "material@10 [category=tees]",
        "material@10 [material=leather]",
        "material@10 [material=wool] (no data)",
    ]

    board = scoreboard_json(results)
    assert list(board) == metric_keys(results)  # only the targets, in params order
    assert board["category@10 cardigans"] == {"baseline": 0.3, "finetuned": 0.5, "delta": 20.0, "pass": True}
    assert board["material@10 tees"] == {"baseline": 0.5, "finetuned": 0.6, "delta": 10.0, "pass": False}
    assert board["material@10 wool"] == {"baseline": None, "finetuned": None, "delta": None, "pass": False}
    detail = scoreboard_detail(results, untrained_backbone=True)
    assert detail["pass"] is False and detail["all_targets_met"] is False
    assert detail["passed"] == 3 and detail["targets_total"] == 6 and "positive gain" in detail["rule"]
    assert detail["untrained_backbone"] is True and "paired" in detail["interval"]
    assert detail["targets"]["material@10 wool"]["status"] == "no data"
    cardigans_detail = detail["targets"]["category@10 cardigans"]
    assert (cardigans_detail["n"], cardigans_detail["min_delta"], cardigans_detail["status"]) == (2, 10, "pass")
    assert (cardigans_detail["delta_lo"], cardigans_detail["delta_hi"]) == (pytest.approx(10.0), pytest.approx(30.0))
    assert "short of the +50 pts target" in detail["targets"]["material@10 tees"]["note"]
    md = scoreboard_markdown(results, untrained_backbone=True, graphic_patterns=["graphic", "printed"])
    assert "**Overall: FAIL** by the plan's success rule" in md and "backbone is untrained" in md
    assert "pattern is graphic or printed as having no category" in md
    assert "Graphic policy" not in scoreboard_markdown(results, untrained_backbone=True)
    assert "Targets met at their own thresholds: 3 of 6." in md
    assert "| category@10 | category=cardigans | 2 | 0.300 | 0.500 | +20.0 | [+10.0, +30.0] | +10 | pass |" in md
    assert "| material@10 | material=wool | 0 | – | – | – | – | +1 | no data |" in md


def test_a_delta_equal_to_the_target_passes_despite_float_error():
    # 0.3 - 0.2 is 0.09999999999999998: it must still meet a +10 pts target
    per_query = PER_QUERY.assign(
        **{"baseline/category@10": [0.2, 0.4, 0.2, 0.2], "finetuned/category@10": [0.5, 0.5, 0.3, 0.3]}
    )
    (tees,) = score([Target("category@10", "category=tees", 10)], per_query)
    assert (tees.status, tees.delta) == ("pass", 10.0)
    assert scoreboard_json([tees]) == {
        "category@10 tees": {"baseline": 0.2, "finetuned": 0.3, "delta": 10.0, "pass": True}
    }


def test_all_pass_and_no_warning_for_a_trained_backbone():
    results = score([Target("category@10", "category=cardigans", 10)])
    assert scoreboard_detail(results, untrained_backbone=False)["pass"] is True
    assert scoreboard_json(results)["category@10 cardigans"]["pass"] is True
    md = scoreboard_markdown(results, untrained_backbone=False)
    assert "**Overall: PASS**" in md and "untrained" not in md


def test_a_metric_or_slice_column_not_evaluated_is_an_error():
    with pytest.raises(PipelineError, match="neckline@10 .all.: evaluate's per-query scores have no 'i2i/neckline@10'"):
        score([Target("neckline@10", "all", 5)])
    with pytest.raises(PipelineError, match="have no 'gender' column"):
        score([Target("category@10", "gender=women", 5)])


def test_any_field_can_slice_a_metric():
    (denim,) = score([Target("category@10", "material=denim", 5)])  # cardigan c1 (+30) and tee t1 (+0)
    assert (denim.n, denim.baseline, denim.finetuned, denim.delta) == (2, pytest.approx(0.55), pytest.approx(0.7), 15.0)


def test_target_params_are_validated():
    with pytest.raises(ValueError, match="not a canonical material"):
        Target("material@10", "material=denimm", 10)
    with pytest.raises(ValueError, match="must be 'all' or '<field>=<value>'"):
        Target("material@10", "denim", 10)
    with pytest.raises(ValueError, match="must look like 'neckline@10'"):
        Target("Neckline at 10", "all", 5)


def test_a_headline_task_metric_can_be_a_target():
    title = pd.DataFrame(
        {
            "task": ["t2i_title"] * 3,
            "query": ["x", "y", "z"],
            "row": [0, 1, 2],
            "category": "tees",
            "material": "cotton",
            "baseline/recall@10": [0.0, 0.0, 1.0],
            "finetuned/recall@10": [1.0, 0.0, 1.0],
        }
    )
    per_query = pd.concat([PER_QUERY, title], ignore_index=True)
    (result,) = compute_scoreboard([Target("t2i_title/recall@10", "all", 30)], per_query, resamples=200, seed=1)
    assert (result.status, result.n, result.delta) == ("pass", 3, pytest.approx(100 / 3, abs=1e-3))
    assert result.delta_lo >= 0.0 and result.delta_hi == pytest.approx(100.0)


def test_the_scoreboard_does_not_import_torch():
    import subprocess
    import sys

    probe = "import sys, pipelines.evaluation.scoreboard; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_scoreboard_json_is_twenty_rounded_numbers_for_five_targets():
    # material@10 over its three known queries: baseline 1/6, fine-tuned 1/3 (0.166667 and 0.333333 at the
    # metrics files' 6 decimals), so +16.6666 points
    per_query = PER_QUERY.assign(
        **{"baseline/material@10": [0.1, 0.2, 0.2, np.nan], "finetuned/material@10": [0.2, 0.3, 0.5, np.nan]}
    )
    targets = [
        Target("category@10", "category=cardigans", 10),
        Target("category@10", "category=tees", 10),
        Target("material@10", "all", 10),
        Target("material@10", "material=denim", 10),
        Target("material@10", "material=wool", 1),
    ]
    board = scoreboard_json(compute_scoreboard(targets, per_query, resamples=50, seed=1))
    assert len(board) == 5 and all(
        list(entry) == ["baseline", "finetuned", "delta", "pass"] for entry in board.values()
    )
    leaves = [v for entry in board.values() for v in entry.values()]
    assert len([v for v in leaves if v is not None]) == 17  # wool has no data: three nulls and pass false
    assert board["material@10"] == {"baseline": 0.1667, "finetuned": 0.3333, "delta": 16.6666, "pass": True}
    assert board["material@10 denim"] == {"baseline": 0.15, "finetuned": 0.35, "delta": 20.0, "pass": True}
    floats = [v for v in leaves if isinstance(v, float)]
    assert all(round(v, 4) == v for v in floats)


def test_metric_keys_are_short_and_unambiguous():
    results = score(
        [
            Target("category@10", "all", 1),
            Target("category@10", "category=cardigans", 1),
            Target("material@10", "material=denim", 1),
            Target("category@10", "material=denim", 1),
        ]
    )
    assert metric_keys(results) == ["category@10", "category@10 cardigans", "material@10 denim", "category@10 denim"]
    same_value = score([Target("category@10", "category=tees", 1), Target("category@10", "material=denim", 1)])
    assert metric_keys(same_value) == ["category@10 tees", "category@10 denim"]


@pytest.mark.parametrize(
    ("targets", "verdict", "all_met"),
    [
        # the whole-set target meets +5; the slices gain (+20, +10 points) but one is short of its own +50
        (
            [
                ("category@10", "all", 5),
                ("category@10", "category=cardigans", 10),
                ("material@10", "material=denim", 50),
            ],
            True,
            False,
        ),
        # a slice with no gain (+0 points) fails the plan's rule, even at a threshold of 0 that it meets
        ([("category@10", "all", 5), ("material@10", "material=leather", 0)], False, True),
        # the whole-set target must meet its threshold: +7.5 is short of +8
        ([("category@10", "all", 8), ("category@10", "category=cardigans", 10)], False, False),
        # a slice with no data shows no gain
        ([("category@10", "all", 5), ("material@10", "material=wool", 0)], False, False),
    ],
)
def test_the_verdict_is_the_plans_rule_beside_all_targets_met(targets, verdict, all_met):
    results = score([Target(*t) for t in targets])
    assert plan_verdict(results) is verdict
    detail = scoreboard_detail(results, untrained_backbone=False)
    assert (detail["pass"], detail["all_targets_met"]) == (verdict, all_met)
