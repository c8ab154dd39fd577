"""The `train` params section: the protocol model, its losses, sampler and optional LoRA."""
from __future__ import annotations

from pipelines.schema import check_fields
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_HEADS = ["category", "color", "pattern", "material", "neckline", "sleeve_length"]


@dataclass(frozen=True)
class SamplerConfig:
    weak_categories: list[str] = field(default_factory=lambda: ["cardigans", "shorts"])
    weak_category_boost: float = 3.0
    rare_materials: list[str] = field(default_factory=lambda: ["denim", "leather"])
    rare_material_boost: float = 3.0
    neckline_known_boost: float = 2.0
    dominant_cap: float = 0.3


@dataclass(frozen=True)
class LoraConfig:
    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    targets: list[str] = field(default_factory=lambda: ["qkv", "out_proj", "c_fc", "c_proj"])
    image_size: int = 0


@dataclass(frozen=True)
class TrainConfig:
    head: Literal["linear", "mlp"] = "mlp"
    dim: int = 256
    fusion: bool = True
    attr_heads: list[str] = field(default_factory=lambda: list(DEFAULT_HEADS))
    use_signals: bool = False
    contrastive_weight: float = 1.0
    pair_weight: float = 0.5
    pair_margin: float = 0.2
    attr_weight: float = 0.3
    attr_weights: dict[str, float] = field(default_factory=lambda: {"neckline": 2.0})
    temperature: float = 0.07
    lr: float = 1e-3
    weight_decay: float = 0.01
    epochs: int = 15
    batch_size: int = 128
    patience: int = 4
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)

    def __post_init__(self) -> None:
        check_fields(self.attr_heads, "train.attr_heads")
        check_fields(list(self.attr_weights), "train.attr_weights")
        if self.epochs < 1 or self.batch_size < 2 or self.dim < 1:
            raise ValueError("train.epochs must be at least 1, train.batch_size at least 2, train.dim at least 1")
