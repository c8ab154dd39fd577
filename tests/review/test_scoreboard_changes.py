"""Scoreboard targets compared between revisions, and the beyond-noise rule on their deltas' intervals."""

from pipelines.review.scoreboard_changes import (
    DOWN,
    NEW,
    NO_DATA,
    NO_INTERVAL,
    REMOVED,
    UP,
    WITHIN,
    TargetResult,
    Verdict,
    compare_targets,
    movement,
    overall_verdict,
    target_results,
)

BOARD = {"neckline@10": {"baseline": 0.0824, "finetuned": 0.1099, "delta": 2.7472, "pass": False}}
DETAIL = {
    "pass": False,
    "passed": 0,
    "targets_total": 1,
    "targets": {
        "neckline@10": {
            "baseline": 0.082418,
            "finetuned": 0.10989,
            "delta": 2.7472,
            "delta_lo": 0.0,
            "delta_hi": 5.3874,
            "n": 91,
            "pass": False,
            "status": "miss",
            "metric": "neckline@10",
            "slice": "all",
        }
    },
}


def result(delta, lo=None, hi=None):
    return TargetResult(delta=delta, delta_lo=lo, delta_hi=hi)


def test_detail_adds_counts_and_intervals_to_the_headline_values():
    [(name, target)] = target_results(BOARD, DETAIL).items()
    assert name == "neckline@10"
    assert (target.baseline, target.delta, target.interval, target.n) == (0.082418, 2.7472, (0.0, 5.3874), 91)
    assert (target.passed, target.status, target.identity) == (False, "miss", "neckline@10|all")


def test_without_the_detail_the_headline_file_still_gives_values_and_verdict():
    target = target_results(BOARD, None)["neckline@10"]
    assert (target.finetuned, target.delta, target.interval, target.n, target.status) == (
        0.1099,
        2.7472,
        None,
        None,
        "miss",
    )
    assert overall_verdict(BOARD, None) == Verdict(0, 1, False)
    assert overall_verdict(BOARD, DETAIL) == Verdict(0, 1, False)
    assert overall_verdict(None, None) is None


def test_an_older_headline_file_that_held_the_targets_is_read_too():
    old = {
        "pass": True,
        "passed": 1,
        "targets": {"neckline@10 [all]": {**DETAIL["targets"]["neckline@10"], "pass": True}},
    }
    assert overall_verdict(old, None) == Verdict(1, 1, True)
    assert list(target_results(old, None)) == ["neckline@10 [all]"]


def test_beyond_noise_needs_each_delta_outside_the_others_interval():
    assert movement(result(2.7, 0.0, 5.4), result(9.0, 6.0, 12.0)) == UP
    assert movement(result(9.0, 6.0, 12.0), result(2.7, 0.0, 5.4)) == DOWN
    # the new delta is outside the base's interval, but the base's delta lies inside the new interval
    assert movement(result(2.7, 0.0, 5.4), result(6.0, 1.0, 11.0)) == WITHIN
    assert movement(result(2.7, 0.0, 5.4), result(3.5, 0.5, 6.5)) == WITHIN
    # the interval's ends count as inside
    assert movement(result(2.0, 0.0, 5.0), result(5.0, 5.0, 9.0)) == WITHIN


def test_with_one_interval_the_other_delta_must_lie_outside_it():
    assert movement(result(2.7), result(9.0, 6.0, 12.0)) == UP
    assert movement(result(2.7, 0.0, 5.4), result(4.0)) == WITHIN
    assert movement(result(2.7), result(9.0)) == NO_INTERVAL


def test_missing_targets_and_values():
    assert movement(None, result(1.0)) == NEW
    assert movement(result(1.0), None) == REMOVED
    assert movement(result(None), result(1.0, 0.0, 2.0)) == NO_DATA


def test_targets_match_by_metric_and_slice_when_their_key_was_renamed():
    old = {
        "targets": {
            "category@10 [category=shorts]": {
                "delta": 5.0,
                "delta_lo": 0.0,
                "delta_hi": 10.0,
                "metric": "category@10",
                "slice": "category=shorts",
            },
            "material@10 [material=wool]": {"delta": 1.0, "metric": "material@10", "slice": "material=wool"},
        }
    }
    new = {
        "targets": {
            "category@10 shorts": {
                "delta": 30.0,
                "delta_lo": 20.0,
                "delta_hi": 40.0,
                "metric": "category@10",
                "slice": "category=shorts",
            },
            "neckline@10": {"delta": 2.0},
        }
    }
    changes = compare_targets(target_results(None, old), target_results(None, new))
    assert [(c.target, c.renamed_from, c.movement) for c in changes] == [
        ("category@10 shorts", "category@10 [category=shorts]", UP),
        ("neckline@10", None, NEW),
        ("material@10 [material=wool]", None, REMOVED),
    ]
