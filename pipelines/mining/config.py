"""The `mining` params section: hard negatives from the baseline index."""
from __future__ import annotations

from pipelines.schema import check_fields
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MiningConfig:
    k: int = 50
    max_anchors: int = 20000
    target_attrs: list[str] = field(
        default_factory=lambda: ["material", "neckline", "pattern", "sleeve_length", "color"]
    )
    use_signals: bool = True
    max_similarity: float = 0.98
    relative_margin: float = 0.05
    per_anchor: int = 5
    batch_size: int = 1024

    def __post_init__(self) -> None:
        check_fields(self.target_attrs, "mining.target_attrs")
        if self.k < 1 or self.per_anchor < 1 or self.max_anchors < 1:
            raise ValueError("mining.k, mining.per_anchor and mining.max_anchors must be at least 1")
