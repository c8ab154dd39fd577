"""The markdown writer: tables, value formats, the 200-line cap, and what a report says about absent files."""

from pipelines.review.findings import Review
from pipelines.review.markdown import MAX_LINES, cap_lines, param_value, render_report, table, value
from pipelines.review.params_changes import ParamChange
from pipelines.review.plot_images import PlotImage
from pipelines.review.revisions import ABSENT, Side
from pipelines.review.scoreboard_changes import UP, TargetChange, TargetResult, Verdict


def _review(**fields) -> Review:
    return Review(Side("main", "a" * 40), Side("workspace"), **fields)


def test_cap_lines_keeps_the_head_and_says_what_was_cut():
    assert cap_lines(["x"] * 5, 5) == ["x"] * 5
    capped = cap_lines([str(i) for i in range(300)], 200)
    assert len(capped) == 200 and capped[198] == "198"
    assert capped[-1] == "_… 101 more lines cut: the report is capped at 200 lines._"


def test_table_escapes_pipes_and_counts_rows_left_out():
    lines = table(["a", "b"], [["1", "x|y"], ["2", "z"], ["3", "w"]], max_rows=2, right=(0,))
    assert lines == ["| a | b |", "|---:|---|", "| 1 | x\\|y |", "| 2 | z |", "", "_… and 1 more rows not shown._"]


def test_values():
    assert [value(0.41281), value(ABSENT), value(None), value(True), value(14), value("miss")] == [
        "0.4128",
        "_absent_",
        "null",
        "true",
        "14",
        "`miss`",
    ]
    assert param_value(3e-05) == "`3e-05`" and param_value([1, 10]) == "`[1,10]`" and param_value(ABSENT) == "_absent_"


def test_a_huge_review_is_capped_at_200_lines():
    review = _review(
        params=[ParamChange(f"p{i}", i, i + 1) for i in range(30)],
        plots=[PlotImage(f"plot {i}", f"plots/p{i}.svg") for i in range(80)],
    )
    text = render_report(review)
    assert len(text.splitlines()) == MAX_LINES
    assert "_… and 5 more rows not shown._" in text  # params table: 25 rows at most
    assert text.splitlines()[-1].startswith("_… ") and text.endswith("\n")


def test_scoreboard_rows_show_both_revisions_and_the_rule():
    base = TargetResult(0.448, 0.590, 14.1379, 8.2672, 21.0345, 29, True, "pass", "material@10|material=denim")
    head = TargetResult(0.448, 0.700, 25.1724, 20.0, 30.0, 29, True, "pass", "material@10|material=denim")
    text = render_report(
        _review(
            targets=[TargetChange("material@10 denim", base, head, UP)],
            base_verdict=Verdict(2, 5, False),
            head_verdict=Verdict(5, 5, True),
        )
    )
    row = next(line for line in text.splitlines() if line.startswith("| `material@10 denim`"))
    assert row == (
        "| `material@10 denim` | 29 | 0.4480 | 0.5900 → 0.7000 | +14.1 [+8.3, +21.0] | +25.2 [+20.0, +30.0] "
        "| pass | **up, beyond noise** |"
    )
    assert (
        "- **Scoreboard:** FAIL (2 of 5) → PASS (5 of 5); targets moved beyond noise: 1 (`material@10 denim` up)"
        in text
    )
    assert "lies outside the other revision's 95% interval" in text


def test_absent_sections_and_notes_are_said_in_words():
    review = _review()
    review.note("scoreboard", "`reports/scoreboard_detail.json` is absent at BASE (main (aaaaaaa)): no intervals.")
    text = render_report(review)
    for line in (
        "No param changed.",
        "No scoreboard at either revision.",
        "No headline metric changed.",
        "No slice dropped.",
        "No slice rose.",
        "No plot rendered.",
        "> `reports/scoreboard_detail.json` is absent at BASE (main (aaaaaaa)): no intervals.",
    ):
        assert line in text.splitlines()


def test_with_an_artifact_url_images_are_listed_not_embedded():
    plots = [
        PlotImage("Learning rate", "plots/learning-rate.png"),
        PlotImage("Broken", None, ("not rendered: bad spec",)),
    ]
    text = render_report(_review(plots=plots, artifact_url="https://ci.example/runs/7"))
    assert "![" not in text
    assert "workflow artifact `review` of [this run](https://ci.example/runs/7)" in text
    assert (
        "- Learning rate: `plots/learning-rate.png`" in text
        and "- Broken: not rendered (not rendered: bad spec)" in text
    )
