"""The `pairs` params section: how many training pairs of each type."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.schema import UNKNOWN, vocabulary

PAIR_TYPES = ("strong", "medium", "weak", "hard", "easy")


@dataclass(frozen=True)
class PairsConfig:
    n_pairs: int = 20000
    mix: dict[str, float] = field(
        default_factory=lambda: {"strong": 0.30, "medium": 0.20, "weak": 0.10, "hard": 0.30, "easy": 0.10}
    )
    graphic_patterns: list[str] = field(default_factory=lambda: ["graphic", "printed"])

    def __post_init__(self) -> None:
        if self.n_pairs < 1:
            raise ValueError(f"pairs.n_pairs must be at least 1, got {self.n_pairs}")
        patterns = vocabulary()["pattern"]
        bad = [name for name in self.graphic_patterns if name not in patterns or name == UNKNOWN]
        if bad:
            raise ValueError(f"pairs.graphic_patterns names {bad[0]!r}, which is not a canonical pattern value")
        if set(self.mix) != set(PAIR_TYPES):
            raise ValueError(f"pairs.mix must name exactly {', '.join(PAIR_TYPES)}, got {sorted(self.mix)}")
        if abs(sum(self.mix.values()) - 1.0) > 1e-6 or any(v < 0 for v in self.mix.values()):
            raise ValueError(f"pairs.mix shares must be non-negative and sum to 1, got {self.mix}")
