"""The `data` params section: which catalog to ingest, and how much of it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SampleConfig:
    items: int = 2000
    image_size: int = 128

    def __post_init__(self) -> None:
        if self.items < 20:
            raise ValueError(f"data.sample.items must be at least 20, got {self.items}")
        if not 16 <= self.image_size <= 1024:
            raise ValueError(f"data.sample.image_size must be 16..1024, got {self.image_size}")


@dataclass(frozen=True)
class DataConfig:
    source: str = "sample"
    # The path DVC tracks as ingest's input: the local folder or zip data.source reads; otherwise the sample
    # generator's table (for `sample`, and for Kaggle downloads, which DVC cannot see).
    catalog: str = "pipelines/catalog/sample_catalog.yaml"
    max_items: int = 0
    sample: SampleConfig = field(default_factory=SampleConfig)
    min_readable: float = 0.99
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.7, "val": 0.15, "test": 0.15})

    def __post_init__(self) -> None:
        if self.max_items < 0:
            raise ValueError(f"data.max_items must be 0 (all) or positive, got {self.max_items}")
        if not 0.0 < self.min_readable <= 1.0:
            raise ValueError(f"data.min_readable must be in (0, 1], got {self.min_readable}")
        if set(self.splits) != {"train", "val", "test"}:
            raise ValueError(f"data.splits must name exactly train, val and test, got {sorted(self.splits)}")
        if any(v <= 0 for v in self.splits.values()) or abs(sum(self.splits.values()) - 1.0) > 1e-6:
            raise ValueError(f"data.splits fractions must be positive and sum to 1, got {self.splits}")
