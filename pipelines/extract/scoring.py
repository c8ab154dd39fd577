"""Scoring extraction rows on the eval split: format gates, field accuracy and F1, calibration, hidden truth.

Every row (a generative variant with a decoding and a prompt, or a classifier) gives per item an `Answer`: its
validity and, per field, a value (INVALID when the answer has none) and a confidence. Against the silver labels
(the catalog's fields and rules, `unknown` included):

- `micro_f1` counts `unknown` as a class over every (item, field) pair. With one label per pair, micro-F1 is the
  accuracy. `macro_f1` is each field's mean F1 over the classes its labels hold, averaged over the fields.
- `known_micro_f1` / `known_macro_f1` look only at pairs whose label is known: a prediction of `unknown` there is a
  miss (a false negative) without a false positive, any other wrong value is both.
- Per field: accuracy, F1s, and accuracy split by the label's source (field: the catalog said it; rule: a rule read
  it from the title, so a title-reading prompt can copy it).
- `ece`: expected calibration error of the stated confidences (10 equal-width bins) over pairs with a confidence.
- Hidden truth (the built-in sample's generator): per field, accuracy against what the image shows on the pairs the
  catalog left `unknown` whose truth is known — what an extractor adds — and on every pair with a known truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.extract.grammar import Answer
from pipelines.schema import FIELDS, UNKNOWN

DECIMALS = 4
BINS = 10


def f1_scores(pred: Sequence[str], gold: Sequence[str], *, known_only: bool) -> tuple[float, float]:
    """(micro-F1, macro-F1 over the gold classes); `known_only`: the pairs with a known label, `unknown` a miss."""
    pairs = [(p, g) for p, g in zip(pred, gold, strict=True) if not known_only or g != UNKNOWN]
    if not pairs:
        return float("nan"), float("nan")
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for p, g in pairs:
        if p == g:
            tp[g] += 1
            continue
        fn[g] += 1
        if not (known_only and p == UNKNOWN):
            fp[p] += 1
    classes = sorted({g for _, g in pairs})
    micro = _f1(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    macro = sum(_f1(tp[c], fp[c], fn[c]) for c in classes) / len(classes)
    return micro, macro


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp or fp or fn else 0.0


def accuracy(pred: Sequence[str], gold: Sequence[str]) -> float:
    return sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold) if gold else float("nan")


def ece(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Expected calibration error over BINS equal-width confidence bins."""
    if not confidences:
        return float("nan")
    bins: dict[int, list[tuple[float, bool]]] = {}
    for c, ok in zip(confidences, correct, strict=True):
        bins.setdefault(min(int(c * BINS), BINS - 1), []).append((c, ok))
    total = len(confidences)
    return sum(
        len(b) / total * abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) for b in bins.values()
    )


def score_row(
    answers: Sequence[Answer],
    labels: Sequence[Mapping[str, str]],
    sources: Sequence[Mapping[str, str]],
    truth: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """A row's metrics (see the module's docstring), rounded; `labels`, `sources`, `truth` per item, in order."""
    n = len(answers)
    out: dict[str, Any] = {
        "items": n,
        "json_valid_rate": sum(a.valid_json for a in answers) / n,
        "schema_pass_rate": sum(a.schema_pass for a in answers) / n,
        "truncation_rate": sum(a.truncated for a in answers) / n,
    }
    pred_all: list[str] = []
    gold_all: list[str] = []
    confidences: list[float] = []
    correct: list[bool] = []
    fields: dict[str, Any] = {}
    for name in FIELDS:
        pred = [a.values[name] for a in answers]
        gold = [label[name] for label in labels]
        pred_all += pred
        gold_all += gold
        micro, macro = f1_scores(pred, gold, known_only=False)
        known_micro, known_macro = f1_scores(pred, gold, known_only=True)
        by_source = {}
        for source in ("field", "rule"):
            rows = [i for i in range(n) if sources[i][name] == source]
            if rows:
                by_source[source] = {"accuracy": accuracy([pred[i] for i in rows], [gold[i] for i in rows])}
                by_source[source]["items"] = len(rows)
        fields[name] = {
            "accuracy": micro,
            "macro_f1": macro,
            "known_micro_f1": known_micro,
            "known_macro_f1": known_macro,
            "by_source": by_source,
        }
        for a, p, g in zip(answers, pred, gold, strict=True):
            if a.confidence[name] is not None:
                confidences.append(float(a.confidence[name]))  # type: ignore[arg-type]
                correct.append(p == g)
        if truth is not None:
            fields[name]["truth"] = truth_scores(pred, gold, [t[name] for t in truth])
    out["micro_f1"], out["macro_f1"] = accuracy(pred_all, gold_all), _mean(f["macro_f1"] for f in fields.values())
    out["known_micro_f1"] = f1_scores(pred_all, gold_all, known_only=True)[0]
    out["known_macro_f1"] = _mean(f["known_macro_f1"] for f in fields.values())
    out["ece"] = ece(confidences, correct)
    if truth is not None:
        hidden = [f["truth"]["hidden_accuracy"] for f in fields.values() if f["truth"]["hidden_items"]]
        out["hidden_accuracy"] = _mean(hidden)
    out["fields"] = fields
    result: dict[str, Any] = rounded(out)
    return result


def truth_scores(pred: Sequence[str], gold: Sequence[str], truth: Sequence[str]) -> dict[str, Any]:
    """A field's accuracy against the image's truth: on the pairs the catalog left unknown (hidden) and on all."""
    shown = [i for i, t in enumerate(truth) if t != UNKNOWN]
    hidden = [i for i in shown if gold[i] == UNKNOWN]
    return {
        "hidden_items": len(hidden),
        "hidden_accuracy": accuracy([pred[i] for i in hidden], [truth[i] for i in hidden]),
        "accuracy": accuracy([pred[i] for i in shown], [truth[i] for i in shown]),
    }


def _mean(values: Any) -> float:
    values = [v for v in values if v == v]  # NaN: no pair to score
    return sum(values) / len(values) if values else float("nan")


def rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if obj != obj else round(obj, DECIMALS)
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    return obj


def confusion(answers: Sequence[Answer], labels: Sequence[Mapping[str, str]], name: str) -> list[dict[str, str]]:
    """Rows for DVC's confusion template: one per item, the label and the prediction of field `name`."""
    return [{"actual": label[name], "predicted": a.values[name]} for a, label in zip(answers, labels, strict=True)]


def failure_kind(answer: Answer, label: Mapping[str, str], vocabulary: Mapping[str, Sequence[str]]) -> list[str]:
    """The failure taxonomy of one answer: `invalid_json`, or per wrong field `outside_vocabulary` (a value no field
    has), `swapped_field` (another field's value) or `confusion` (a wrong value of the right field)."""
    if not answer.valid_json:
        return ["invalid_json"]
    kinds = []
    for name in FIELDS:
        value = answer.values[name]
        if value == label[name]:
            continue
        if value in vocabulary[name]:
            kinds.append(f"confusion:{name}")
        elif any(value in values for values in vocabulary.values()):
            kinds.append(f"swapped_field:{name}")
        else:
            kinds.append(f"outside_vocabulary:{name}")
    return kinds
