"""The `mining` params section: hard negatives from the baseline index."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.params import at_least
from pipelines.schema import check_fields


@dataclass(frozen=True)
class MiningConfig:
    k: int = 50
    max_anchors: int = 20000
    target_attrs: list[str] = field(
        default_factory=lambda: ["material", "neckline", "pattern", "sleeve_length", "color"]
    )
    use_signals: bool = True
    max_similarity: float = 0.995
    relative_margin: float = 0.05
    per_anchor: int = 5

    def __post_init__(self) -> None:
        check_fields(self.target_attrs, "mining.target_attrs")
        at_least("mining", 1, k=self.k, per_anchor=self.per_anchor, max_anchors=self.max_anchors)
        if not self.target_attrs or len(set(self.target_attrs)) != len(self.target_attrs):
            raise ValueError(f"mining.target_attrs must list distinct attributes, got {self.target_attrs}")
        if "category" in self.target_attrs:
            raise ValueError("mining.target_attrs must not include 'category': a hard negative shares the category")
        if self.per_anchor > self.k:
            raise ValueError(f"mining.per_anchor ({self.per_anchor}) cannot exceed mining.k ({self.k})")
        if not 0.0 <= self.relative_margin < 1.0:
            raise ValueError(f"mining.relative_margin must be in [0, 1), got {self.relative_margin}")
        if not -1.0 < self.max_similarity <= 1.0:
            raise ValueError(
                f"mining.max_similarity must be in (-1, 1] (inner product of unit vectors), got {self.max_similarity}"
            )
