"""evaluate_extraction's metrics on hand-made predictions: F1 with and without `unknown`, calibration, the hidden
truth, the failure taxonomy, the targets and the headline's size."""

from __future__ import annotations

import math

import pytest

from pipelines.extract.grammar import INVALID, Answer
from pipelines.extract.report import headline, render_report, targets
from pipelines.extract.scoring import ece, f1_scores, failure_kind, score_row
from pipelines.schema import FIELDS, vocabulary


def test_f1_with_unknown_as_a_class_is_accuracy_and_known_only_counts_unknown_as_a_miss():
    gold = ["red", "red", "blue", "unknown"]
    pred = ["red", "unknown", "red", "unknown"]
    micro, macro = f1_scores(pred, gold, known_only=False)
    assert micro == pytest.approx(2 / 4)
    # classes red (tp 1, fp 1, fn 1), blue (tp 0, fn 1), unknown (tp 1, fp 1): F1 1/2, 0, 2/3
    assert macro == pytest.approx((0.5 + 0 + 2 / 3) / 3)
    known_micro, known_macro = f1_scores(pred, gold, known_only=True)
    # known pairs: red/red tp; red->unknown fn only; blue->red fn (blue) and fp (red)
    assert known_micro == pytest.approx(2 * 1 / (2 * 1 + 1 + 2))
    assert known_macro == pytest.approx((2 / (2 + 1 + 1) + 0) / 2)


def test_ece_is_zero_when_confidence_matches_the_hit_rate_and_large_when_overconfident():
    assert ece([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert ece([0.95] * 4, [False] * 4) == pytest.approx(0.95)
    assert math.isnan(ece([], []))


def _answer(values, confidence=0.5, valid=True):
    full = dict.fromkeys(FIELDS, "unknown" if valid else INVALID) | values
    return Answer("{}", False, valid, valid, full, dict.fromkeys(FIELDS, confidence if valid else None))


def test_score_row_splits_by_source_and_scores_the_hidden_truth():
    labels = [dict.fromkeys(FIELDS, "unknown") | {"color": "red", "pattern": "striped"} for _ in range(2)]
    sources = [dict.fromkeys(FIELDS, "unknown") | {"color": "field", "pattern": "rule"} for _ in range(2)]
    truth = [dict.fromkeys(FIELDS, "unknown") | {"color": "red", "pattern": "striped", "neckline": "round"}] * 2
    answers = [
        _answer({"color": "red", "pattern": "solid", "neckline": "round"}),
        _answer({}, valid=False),
    ]
    s = score_row(answers, labels, sources, truth)
    assert s["json_valid_rate"] == 0.5 and s["fields"]["color"]["by_source"]["field"]["accuracy"] == 0.5
    assert s["fields"]["pattern"]["by_source"]["rule"]["accuracy"] == 0.0
    # the catalog left neckline unknown, the image shows round: the first answer saw it, the second did not
    assert s["fields"]["neckline"]["truth"] == {"hidden_items": 2, "hidden_accuracy": 0.5, "accuracy": 0.5}
    assert s["fields"]["neckline"]["accuracy"] == 0.0  # against the silver label `unknown`, the hit is a miss


def test_failure_taxonomy_names_each_kind():
    values = vocabulary()
    label = dict.fromkeys(FIELDS, "unknown") | {"color": "red", "pattern": "striped"}
    assert failure_kind(Answer("x", True), label, values) == ["invalid_json"]
    answer = _answer({"color": "blue", "pattern": "red", "neckline": "turquoise"})
    kinds = failure_kind(answer, label, values)
    assert kinds == ["confusion:color", "swapped_field:pattern", "outside_vocabulary:neckline"]
    assert failure_kind(_answer({"color": "red"}), label | {"pattern": "unknown"}, values) == []
    assert INVALID not in values["color"]


def test_targets_headline_and_report_on_made_up_scores():
    def row(micro, valid=1.0, truncated=0.0):
        fields = {f: {"accuracy": micro, "by_source": {"field": {"accuracy": micro, "items": 1}}} for f in FIELDS}
        gates = {"json_valid_rate": valid, "schema_pass_rate": valid, "truncation_rate": truncated}
        return gates | {"micro_f1": micro, "macro_f1": micro, "known_micro_f1": micro, "ece": 0.1, "fields": fields}

    scores = {"prior": row(0.40), "heads": row(0.70)}
    for v, micro in (("E0", 0.30), ("E1", 0.55), ("E2", 0.66)):
        for d in ("free", "constrained"):
            for p in ("image_only", "image_title"):
                scores[f"{v}-{d}-{p}"] = row(micro, valid=0.0 if v == "E0" and d == "free" else 1.0)
    verdicts = {v["target"].split(":")[0]: v["met"] for v in targets(scores, ["image_only", "image_title"])}
    assert list(verdicts.values()) == [True, True, True, True, True]
    scores["E2-constrained-image_only"] = scores["E2-free-image_only"] = row(0.55)
    scores["E1-constrained-image_only"] = scores["E1-free-image_only"] = row(0.55)
    met = [v["met"] for v in targets(scores, ["image_only", "image_title"])]
    assert met[3:] == [False, False]  # 0.55 < 0.40 + 0.20, and (known) 0.55 < 0.70 - 0.05
    assert len(headline(scores)) <= 15
    answers = [Answer("nope", True)] * 2
    labels = [dict.fromkeys(FIELDS, "unknown")] * 2
    text = render_report(scores, targets(scores, ["image_only"]), ["a", "b"], {"E0": answers}, labels, False)
    assert "invalid_json 2" in text and "| E2-constrained-image_only |" in text
