"""What a review found, side by side for BASE and HEAD: the data the markdown report is written from."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.review.metric_changes import MetricChange
from pipelines.review.params_changes import ParamChange
from pipelines.review.plot_images import PlotImage
from pipelines.review.revisions import Side
from pipelines.review.scoreboard_changes import TargetChange, Verdict
from pipelines.review.slice_changes import SliceChange


@dataclass(frozen=True)
class SliceSettings:
    """Which score the slice tables rank: `model`'s `<field>@k`, slices with at least `min_queries` queries."""

    model: str = "finetuned"
    k: int = 10
    min_queries: int = 10
    top: int = 5


@dataclass
class Review:
    base: Side
    head: Side
    params: list[ParamChange] = field(default_factory=list)
    targets: list[TargetChange] = field(default_factory=list)
    base_verdict: Verdict | None = None
    head_verdict: Verdict | None = None
    metrics: list[MetricChange] = field(default_factory=list)
    slices: SliceSettings = field(default_factory=SliceSettings)
    regressions: list[SliceChange] = field(default_factory=list)
    gains: list[SliceChange] = field(default_factory=list)
    slices_compared: int = 0
    plots: list[PlotImage] = field(default_factory=list)
    artifact_url: str | None = None
    # per section: what was absent or skipped, in words
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)
