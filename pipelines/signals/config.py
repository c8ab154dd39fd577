"""The `signals` params section: prototype concept signals and their gating."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.params import at_least, positive
from pipelines.schema import check_fields

DEFAULT_DIMS = ["category", "color", "pattern", "material", "neckline", "sleeve_length"]


@dataclass(frozen=True)
class RefineConfig:
    epochs: int = 0
    lr: float = 0.01
    margin: float = 0.1
    temperature: float = 0.07
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ValueError(f"signals.refine.epochs must be 0 or more, got {self.epochs}")
        positive("signals.refine", lr=self.lr, temperature=self.temperature, batch_size=self.batch_size)
        if self.margin < 0:
            raise ValueError(f"signals.refine.margin must be 0 or more, got {self.margin}")


@dataclass(frozen=True)
class SignalsConfig:
    dims: list[str] = field(default_factory=lambda: list(DEFAULT_DIMS))
    normalize: Literal["zscore", "none"] = "zscore"
    temperature: float = 1.0
    threshold: float = 0.75
    fallback_delta: float = 0.05
    top_k: int = 2
    budget: int = 3
    merge: Literal["fair", "priority"] = "fair"
    priority: list[str] = field(
        default_factory=lambda: ["category", "neckline", "material", "pattern", "sleeve_length", "color"]
    )
    refine: RefineConfig = field(default_factory=RefineConfig)

    def __post_init__(self) -> None:
        check_fields(self.dims, "signals.dims")
        check_fields(self.priority, "signals.priority")
        if not set(self.dims) <= set(self.priority):
            raise ValueError(
                f"signals.priority must rank every dimension of signals.dims, "
                f"missing {sorted(set(self.dims) - set(self.priority))}"
            )
        at_least("signals", 1, top_k=self.top_k, budget=self.budget)
        if not self.dims:
            raise ValueError("signals.dims must name at least one field")
        if len(set(self.dims)) != len(self.dims) or len(set(self.priority)) != len(self.priority):
            raise ValueError("signals.dims and signals.priority must not repeat a field")
        if self.temperature <= 0:
            raise ValueError(f"signals.temperature must be positive, got {self.temperature}")
        if not 0 < self.threshold <= 1 or not 0 <= self.fallback_delta < self.threshold:
            raise ValueError(
                f"signals.threshold must be in (0, 1] and signals.fallback_delta in [0, threshold), "
                f"got {self.threshold} and {self.fallback_delta}"
            )
