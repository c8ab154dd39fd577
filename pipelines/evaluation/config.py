"""The `eval` and `scoreboard` params sections."""
from __future__ import annotations

from pipelines.schema import check_fields
from dataclasses import dataclass, field

DEFAULT_ATTRIBUTES = [
    "category", "color", "pattern", "material", "neckline",
    "sleeve_length", "style", "season", "gender", "fit",
]


@dataclass(frozen=True)
class EvalConfig:
    ks: list[int] = field(default_factory=lambda: [1, 5, 10, 20])
    attributes: list[str] = field(default_factory=lambda: list(DEFAULT_ATTRIBUTES))
    prompt: str = "a photo of {value} clothing"
    bootstrap: int = 1000
    gallery_queries: int = 12
    max_queries: int = 0

    def __post_init__(self) -> None:
        check_fields(self.attributes, "eval.attributes")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"eval.ks must be positive cut-offs, got {self.ks}")


@dataclass(frozen=True)
class Target:
    metric: str
    slice: str = "all"
    min_delta: float = 0.0


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
