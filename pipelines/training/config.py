"""The `train` params section: the retrieval heads, their losses, sampler and optional LoRA."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.params import at_least, positive
from pipelines.schema import check_fields

DEFAULT_HEADS = ["category", "color", "pattern", "material", "neckline", "sleeve_length"]


@dataclass(frozen=True)
class SamplerConfig:
    weak_categories: list[str] = field(default_factory=lambda: ["cardigans", "shorts"])
    weak_category_boost: float = 3.0
    rare_materials: list[str] = field(default_factory=lambda: ["denim", "leather"])
    rare_material_boost: float = 3.0
    neckline_known_boost: float = 2.0
    dominant_cap: float = 0.3

    def __post_init__(self) -> None:
        for name in ("weak_category_boost", "rare_material_boost", "neckline_known_boost"):
            if getattr(self, name) <= 0:
                raise ValueError(f"train.sampler.{name} must be positive, got {getattr(self, name)}")
        if not 0.0 < self.dominant_cap <= 1.0:
            raise ValueError(f"train.sampler.dominant_cap must be in (0, 1], got {self.dominant_cap}")


@dataclass(frozen=True)
class LoraConfig:
    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    # open_clip's ViT blocks hold an nn.MultiheadAttention `attn` (peft adapts its in_proj and out_proj
    # together) and an MLP `c_fc`/`c_proj`; peft ignores a LoRA put on `out_proj` alone.
    targets: list[str] = field(default_factory=lambda: ["attn", "c_fc", "c_proj"])

    def __post_init__(self) -> None:
        at_least("train.lora", 1, r=self.r, alpha=self.alpha)
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"train.lora.dropout must be in [0, 1), got {self.dropout}")
        if not self.targets:
            raise ValueError("train.lora.targets must name at least one module (e.g. attn, c_fc, c_proj)")
        if "out_proj" in self.targets:
            raise ValueError(
                "train.lora.targets names 'out_proj': inside nn.MultiheadAttention peft never calls it, so the "
                "adapter would be silently ignored; target 'attn' (adapts in_proj and out_proj together)"
            )


@dataclass(frozen=True)
class TrainConfig:
    head: Literal["linear", "mlp"] = "mlp"
    dim: int = 256
    fusion: bool = True
    dropout: float = 0.1  # in the projection heads, training mode only (evaluation sees every feature)
    attr_heads: list[str] = field(default_factory=lambda: list(DEFAULT_HEADS))
    use_signals: bool = False
    contrastive_weight: float = 0.2
    pair_weight: float = 1.0
    pair_margin: float = 0.2
    attr_weight: float = 1.0
    attr_weights: dict[str, float] = field(default_factory=lambda: {"neckline": 2.0})
    temperature: float = 0.07
    lr: float = 3e-3
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max global L2 norm of the trained parameters' gradients each step (0 = off)
    epochs: int = 30
    batch_size: int = 128
    pairs_per_step: int = 0  # 0 = every pair once per epoch, spread over the epoch's steps
    patience: int = 8
    # torch CPU threads (0 = torch's default). Part of the result: torch splits reductions by thread, so another
    # count changes the last float bits of the heads; one is also the fastest for these small heads on 2 cores.
    threads: int = 1
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)

    def __post_init__(self) -> None:
        check_fields(self.attr_heads, "train.attr_heads")
        check_fields(list(self.attr_weights), "train.attr_weights")
        at_least("train", 1, epochs=self.epochs, dim=self.dim)
        at_least("train", 2, batch_size=self.batch_size)
        for name in ("contrastive_weight", "pair_weight", "attr_weight", "weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be 0 or more, got {getattr(self, name)}")
        if any(w < 0 for w in self.attr_weights.values()):
            raise ValueError(f"train.attr_weights must all be 0 or more, got {self.attr_weights}")
        positive("train", temperature=self.temperature, lr=self.lr)
        if not -1.0 <= self.pair_margin <= 1.0:
            raise ValueError(f"train.pair_margin is a cosine and must be in [-1, 1], got {self.pair_margin}")
        at_least("train", 0, grad_clip=self.grad_clip)  # 0 = off
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"train.dropout must be in [0, 1), got {self.dropout}")
        at_least("train", 1, patience=self.patience)
        at_least("train", 0, pairs_per_step=self.pairs_per_step, threads=self.threads)
        if self.contrastive_weight + self.pair_weight + self.attr_weight == 0:
            raise ValueError("train.contrastive_weight, pair_weight and attr_weight are all 0: nothing to train")
