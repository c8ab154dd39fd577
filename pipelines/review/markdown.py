"""The review as markdown: a summary, small tables per section, the plot images beside it, at most 200 lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipelines.review.findings import Review
from pipelines.review.metric_changes import MetricChange
from pipelines.review.revisions import ABSENT
from pipelines.review.scoreboard_changes import DOWN, NOISE_RULE, UP, TargetChange, TargetResult, Verdict
from pipelines.review.slice_changes import SliceChange

MAX_LINES = 200
MAX_PARAM_ROWS = 25
MAX_METRIC_ROWS = 40
ARROW = " → "


def cap_lines(lines: Sequence[str], max_lines: int = MAX_LINES) -> list[str]:
    """At most `max_lines` lines; a longer report keeps its head and says how much was cut."""
    if len(lines) <= max_lines:
        return list(lines)
    kept = list(lines[: max_lines - 1])
    return kept + [f"_… {len(lines) - len(kept)} more lines cut: the report is capped at {max_lines} lines._"]


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], max_rows: int | None = None, right: Sequence[int] = ()
) -> list[str]:
    """A markdown table; rows past `max_rows` become one line saying how many were left out."""
    align = ["---:" if index in right else "---" for index in range(len(header))]
    shown = rows if max_rows is None else rows[:max_rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines += ["", f"_… and {len(rows) - len(shown)} more rows not shown._"]
    return lines


def value(x: Any, digits: int = 4) -> str:
    """A metric or param value as a cell: 4 decimals for floats, `absent` for a missing key."""
    if x is ABSENT:
        return "_absent_"
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    if isinstance(x, (list, dict)):
        text = json.dumps(x, separators=(",", ":"))
        return f"`{text if len(text) <= 60 else text[:57] + '...'}`"
    return f"`{x}`" if isinstance(x, str) else str(x)


def param_value(x: Any) -> str:
    """A param value as YAML/JSON would write it (a float keeps its precision), at most 60 characters."""
    if x is ABSENT:
        return "_absent_"
    text = json.dumps(x, separators=(",", ":"), ensure_ascii=False)
    return f"`{text if len(text) <= 60 else text[:57] + '...'}`"


def points(x: float | None) -> str:
    return "—" if x is None else f"{x:+.1f}"


def _pair(before: str, after: str) -> str:
    return before if before == after else f"{before}{ARROW}{after}"


def _delta(result: TargetResult | None) -> str:
    if result is None:
        return "—"
    if result.interval is None:
        return points(result.delta)
    return f"{points(result.delta)} [{points(result.delta_lo)}, {points(result.delta_hi)}]"


def _field(result: TargetResult | None, name: str) -> str:
    if result is None:
        return "—"
    x = getattr(result, name)
    return "—" if x is None else value(x)


def _result(result: TargetResult | None) -> str:
    return "—" if result is None else (result.status or "—")


def _verdict(verdict: Verdict | None) -> str:
    if verdict is None:
        return "no scoreboard"
    word = {True: "PASS", False: "FAIL", None: "no targets"}[verdict.overall]
    return f"{word} ({verdict.passed} of {verdict.total})"


def _target_row(change: TargetChange) -> list[str]:
    moved = f"**{change.movement}**" if change.movement in (UP, DOWN) else change.movement
    name = f"`{change.target}`" + (f" (BASE: `{change.renamed_from}`)" if change.renamed_from else "")
    return [
        name,
        _pair(_field(change.base, "n"), _field(change.head, "n")),
        _pair(_field(change.base, "baseline"), _field(change.head, "baseline")),
        _pair(_field(change.base, "finetuned"), _field(change.head, "finetuned")),
        _delta(change.base),
        _delta(change.head),
        _pair(_result(change.base), _result(change.head)),
        moved,
    ]


def _metric_row(change: MetricChange) -> list[str]:
    delta = change.change
    return [
        f"`{change.path}`",
        f"`{change.key}`",
        value(change.old),
        value(change.new),
        "new"
        if change.old is ABSENT
        else "removed"
        if change.new is ABSENT
        else "—"
        if delta is None
        else f"{delta:+.4f}",
    ]


def _slice_rows(changes: list[SliceChange]) -> list[list[str]]:
    return [
        [
            f"`{change.slice}`",
            f"`{change.metric}`",
            _pair(str(change.base.n), str(change.head.n)),
            value(change.base.value),
            value(change.head.value),
            points(change.change),
        ]
        for change in changes
    ]


def _notes(review: Review, section: str) -> list[str]:
    lines: list[str] = []
    for text in review.notes.get(section, []):
        lines += [">" if lines else "", f"> {text}"]  # one quote, a paragraph per note
    return lines


def _direction(change: TargetChange) -> str:
    return "up" if change.movement == UP else "down"


def _summary(review: Review) -> list[str]:
    moved = [change for change in review.targets if change.movement in (UP, DOWN)]
    changed_metrics = [change for change in review.metrics if change.changed]
    return [
        f"# Review: {review.head.label} against {review.base.label}",
        "",
        f"- **Scoreboard:** {_verdict(review.base_verdict)}{ARROW}{_verdict(review.head_verdict)}; "
        f"targets moved beyond noise: {len(moved)}"
        + (" (" + ", ".join(f"`{change.target}` {_direction(change)}" for change in moved) + ")" if moved else ""),
        f"- **Params changed:** {len(review.params)}; **headline metrics changed:** "
        f"{len(changed_metrics)} of {len(review.metrics)}",
        f"- BASE is `{review.base.label}`, HEAD is `{review.head.label}`"
        + (" (the working tree, files on disk)" if review.head.is_workspace else "")
        + "; results are read from git and the files on disk, nothing was rerun.",
        *_notes(review, "summary"),
    ]


def _params_section(review: Review) -> list[str]:
    lines = ["", "## Params changed", ""]
    if review.params:
        rows = [[f"`{change.key}`", param_value(change.old), param_value(change.new)] for change in review.params]
        lines += table(["param", "BASE", "HEAD"], rows, MAX_PARAM_ROWS)
    else:
        lines.append("No param changed.")
    return lines + _notes(review, "params")


def _scoreboard_section(review: Review) -> list[str]:
    lines = ["", "## Scoreboard", ""]
    if review.targets:
        header = [
            "target",
            "queries",
            "baseline",
            "fine-tuned",
            "delta BASE (pts) [95% CI]",
            "delta HEAD (pts) [95% CI]",
            "result",
            "moved",
        ]
        lines += table(header, [_target_row(change) for change in review.targets], right=(1, 2, 3))
        lines += ["", f"Values read `BASE → HEAD` where they differ. Rule: {NOISE_RULE}."]
    else:
        lines.append("No scoreboard at either revision.")
    return lines + _notes(review, "scoreboard")


def _metrics_section(review: Review) -> list[str]:
    lines = ["", "## Headline metrics (`dvc metrics diff`)", ""]
    # moved values first, then flips of non-numbers, then keys only one side has
    changed = sorted(
        (change for change in review.metrics if change.changed),
        key=lambda change: (change.change is None, change.new is ABSENT, change.old is ABSENT),
    )
    if changed:
        lines += table(
            ["file", "metric", "BASE", "HEAD", "change"],
            [_metric_row(change) for change in changed],
            MAX_METRIC_ROWS,
            right=(2, 3, 4),
        )
    else:
        lines.append("No headline metric changed.")
    unchanged = len(review.metrics) - len(changed)
    if unchanged:
        lines += ["", f"{unchanged} unchanged metrics not shown."]
    return lines + _notes(review, "metrics")


def _slices_section(review: Review) -> list[str]:
    settings = review.slices
    lines = [
        "",
        f"## Slices: {settings.model} `<attribute>@{settings.k}` by category and attribute value",
        "",
        f"Change in points (×100) from BASE to HEAD, over {review.slices_compared} slices with at least "
        f"{settings.min_queries} queries at both revisions (smaller slices are left out as noise); "
        f"top {settings.top} each.",
    ]
    header = ["slice", "metric", "queries", "BASE", "HEAD", "change (pts)"]
    for title, changes, empty in (
        ("Largest regressions", review.regressions, "No slice dropped."),
        ("Largest gains", review.gains, "No slice rose."),
    ):
        lines += ["", f"### {title}", ""]
        lines += table(header, _slice_rows(changes), right=(2, 3, 4, 5)) if changes else [empty]
    return lines + _notes(review, "slices")


def _plots_section(review: Review) -> list[str]:
    lines = ["", "## Plots (`dvc plots diff`, both revisions overlaid)", ""]
    if not review.plots:
        lines.append("No plot rendered.")
    if review.artifact_url and review.plots:
        lines += [
            f"The images are uploaded as the workflow artifact `review` of [this run]({review.artifact_url}) "
            "(a PR comment cannot embed local files):",
            "",
        ]
        for plot in review.plots:
            notes = f" ({'; '.join(plot.notes)})" if plot.notes else ""
            lines.append(f"- {plot.title}: {f'`{plot.file}`' if plot.file else 'not rendered'}{notes}")
    else:
        for plot in review.plots:
            lines += [f"### {plot.title}", ""]
            lines += [f"![{plot.title}]({plot.file})", ""] if plot.file else []
            lines += [f"> {note}" for note in plot.notes] + ([""] if plot.notes else [])
    return lines + _notes(review, "plots")


def render_report(review: Review) -> str:
    """The whole report, capped at MAX_LINES lines, with a trailing newline."""
    lines = [
        *_summary(review),
        *_params_section(review),
        *_scoreboard_section(review),
        *_metrics_section(review),
        *_slices_section(review),
        *_plots_section(review),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(cap_lines(lines)) + "\n"
