"""The `eval` and `scoreboard` params sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.params import at_least
from pipelines.schema import FIELDS, UNKNOWN, check_fields, vocabulary

DEFAULT_ATTRIBUTES = [
    "category",
    "color",
    "pattern",
    "material",
    "neckline",
    "sleeve_length",
    "style",
    "season",
    "gender",
    "fit",
]

# `neckline@10` (image->image attribute@K) or `<task>/<metric>` (any key of metrics_detail.json).
_ATTRIBUTE_METRIC = re.compile(r"^(?P<attribute>[a-z_]+)@(?P<k>[1-9][0-9]*)$")
_TASK_METRIC = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+(@[1-9][0-9]*)?$")


@dataclass(frozen=True)
class BenchmarkConfig:
    """The public KAGL benchmark's terms (Marqo's fashion eval): query sampling and document mix."""

    max_queries: int = 2000  # per task: a seeded sample of the distinct texts / field values beyond this
    image_weight: float = 0.9  # image+text documents: normalize(w * image + (1 - w) * text)

    def __post_init__(self) -> None:
        if self.max_queries < 1:
            raise ValueError(f"eval.benchmark.max_queries must be at least 1, got {self.max_queries}")
        if not 0.0 <= self.image_weight <= 1.0:
            raise ValueError(f"eval.benchmark.image_weight must lie in [0, 1], got {self.image_weight}")


@dataclass(frozen=True)
class EvalConfig:
    ks: list[int] = field(default_factory=lambda: [1, 5, 10, 20])
    attributes: list[str] = field(default_factory=lambda: list(DEFAULT_ATTRIBUTES))
    prompt: str = "a photo of {value} clothing"
    bootstrap: int = 1000
    gallery_queries: int = 12
    gallery_attributes: list[str] = field(default_factory=lambda: ["category", "material", "neckline"])
    max_queries: int = 0
    # The graphic policy in the category metrics: items with these patterns are no category evidence (pairs
    # applies the same policy to training pairs through pairs.graphic_patterns).
    graphic_patterns: list[str] = field(default_factory=lambda: ["graphic", "printed"])
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)

    def __post_init__(self) -> None:
        check_fields(self.attributes, "eval.attributes")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"eval.ks must be positive cut-offs, got {self.ks}")
        if len(set(self.ks)) != len(self.ks):
            raise ValueError(f"eval.ks must not repeat a cut-off, got {self.ks}")
        if "{value}" not in self.prompt:
            raise ValueError(f"eval.prompt must contain '{{value}}', got {self.prompt!r}")
        if self.bootstrap < 1:
            raise ValueError(f"eval.bootstrap must be at least 1 resample, got {self.bootstrap}")
        at_least("eval", 0, gallery_queries=self.gallery_queries, max_queries=self.max_queries)
        patterns = vocabulary()["pattern"]
        bad = [name for name in self.graphic_patterns if name not in patterns or name == UNKNOWN]
        if bad:
            raise ValueError(f"eval.graphic_patterns names {bad[0]!r}, which is not a canonical pattern value")
        missing = [a for a in self.gallery_attributes if a not in self.attributes]
        if not self.gallery_attributes or missing:
            raise ValueError(
                f"eval.gallery_attributes must be a non-empty subset of eval.attributes, got {self.gallery_attributes}"
            )


@dataclass(frozen=True)
class Target:
    metric: str
    slice: str = "all"
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        attribute_metric = _ATTRIBUTE_METRIC.match(self.metric)
        if attribute_metric:
            check_fields([attribute_metric["attribute"]], f"scoreboard target metric {self.metric!r}")
        elif not _TASK_METRIC.match(self.metric):
            raise ValueError(
                f"scoreboard target metric {self.metric!r} must look like 'neckline@10' (image->image "
                "attribute@K) or '<task>/<metric>' (a key of reports/metrics_detail.json, e.g. 't2i_title/recall@10')"
            )
        if self.slice != "all":
            attribute, _, value = self.slice.partition("=")
            if attribute not in FIELDS or not value:
                raise ValueError(
                    f"scoreboard target slice {self.slice!r} must be 'all' or '<field>=<value>' "
                    f"(fields: {', '.join(FIELDS)})"
                )
            if value not in vocabulary()[attribute]:
                raise ValueError(
                    f"scoreboard target slice {self.slice!r}: {value!r} is not a canonical {attribute} "
                    f"(values: {', '.join(vocabulary()[attribute])})"
                )
            if not attribute_metric:
                raise ValueError(
                    f"scoreboard target {self.metric!r} on slice {self.slice!r}: only image->image "
                    "attribute metrics (e.g. 'material@10') are broken down by slice"
                )

    @property
    def name(self) -> str:
        """How reports and error messages name the target, e.g. `material@10 [material=denim]`."""
        return f"{self.metric} [{self.slice}]"


@dataclass(frozen=True)
class ScoreboardConfig:
    fail_on_miss: bool = False
    targets: list[Target] = field(
        default_factory=lambda: [
            Target("neckline@10", "all", 5),
            Target("category@10", "category=cardigans", 10),
            Target("category@10", "category=shorts", 10),
            Target("material@10", "material=denim", 10),
            Target("material@10", "material=leather", 10),
        ]
    )

    def __post_init__(self) -> None:
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ValueError(f"scoreboard.targets lists a target twice: {names}")
