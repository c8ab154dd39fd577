"""The `extract` params section: the attribute extractor's SFT data (build_sft)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.params import at_least

PromptVariant = Literal["image_only", "image_title"]


@dataclass(frozen=True)
class ExtractConfig:
    # One record per item and variant: `image_only` shows the model the image alone (it must see the attributes);
    # `image_title` adds the title and description, from which five fields' labels were drawn by rules (it can copy).
    prompt_variants: list[PromptVariant] = field(default_factory=lambda: ["image_only", "image_title"])
    # The least share of targets that must pass the JSON Schema, else build_sft fails naming the first bad row.
    min_schema_pass: float = 0.99

    def __post_init__(self) -> None:
        if not self.prompt_variants or len(set(self.prompt_variants)) != len(self.prompt_variants):
            raise ValueError(f"extract.prompt_variants must name each variant once, got {self.prompt_variants!r}")
        at_least("extract", 0.0, min_schema_pass=self.min_schema_pass)
        if self.min_schema_pass > 1:
            raise ValueError(f"extract.min_schema_pass must be at most 1, got {self.min_schema_pass!r}")
