"""The `signals` params section: prototype concept signals and their gating."""
from __future__ import annotations

from pipelines.schema import check_fields
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_DIMS = ["category", "color", "pattern", "material", "neckline", "sleeve_length"]


@dataclass(frozen=True)
class RefineConfig:
    epochs: int = 0
    lr: float = 0.01
    margin: float = 0.1
    temperature: float = 0.07


@dataclass(frozen=True)
class SignalsConfig:
    dims: list[str] = field(default_factory=lambda: list(DEFAULT_DIMS))
    normalize: Literal["zscore", "none"] = "zscore"
    temperature: float = 1.0
    threshold: float = 0.75
    fallback_delta: float = 0.05
    top_k: int = 2
    budget: int = 3
    priority: list[str] = field(
        default_factory=lambda: ["category", "neckline", "material", "pattern", "sleeve_length", "color"]
    )
    refine: RefineConfig = field(default_factory=RefineConfig)

    def __post_init__(self) -> None:
        check_fields(self.dims, "signals.dims")
        check_fields(self.priority, "signals.priority")
        if not set(self.dims) <= set(self.priority):
            raise ValueError(f"signals.priority must rank every dimension of signals.dims, missing {sorted(set(self.dims) - set(self.priority))}")
        if self.top_k < 1 or self.budget < 1:
            raise ValueError("signals.top_k and signals.budget must be at least 1")
