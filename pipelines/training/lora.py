"""LoRA (peft) on the open_clip vision tower: the retrieval heads' image side computed from pixels, not cached keys."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import peft
import torch
import torch.nn.functional as F
from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict
from torch import Tensor, nn

from pipelines.encoders import ClipEncoder, ImageFileDataset
from pipelines.errors import PipelineError
from pipelines.store import Store

log = logging.getLogger(__name__)


def add_lora(visual: nn.Module, lora: Mapping[str, Any]) -> nn.Module:
    """Freeze `visual` and inject LoRA adapters into the modules named by `lora["targets"]`.

    A target matches a module whose dotted name is the target or ends with `.target`. In
    open_clip's ViT, `attn` is an nn.MultiheadAttention (peft adapts its in_proj and out_proj
    together) and `c_fc`/`c_proj` are the MLP linears of every block.
    """
    names = [name for name, _ in visual.named_modules() if name]
    for target in lora["targets"]:
        if not any(name == target or name.endswith(f".{target}") for name in names):
            leaves = sorted({name.rsplit(".", 1)[-1] for name in names if not name.rsplit(".", 1)[-1].isdigit()})
            raise PipelineError(
                f"train.lora.targets names {target!r}, but the vision tower has no module of that name "
                f"(module names: {', '.join(leaves)})"
            )
    visual.requires_grad_(False)
    config = peft.LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=list(lora["targets"]),
    )
    visual = peft.inject_adapter_in_model(config, visual)
    trainable = sum(p.numel() for p in visual.parameters() if p.requires_grad)
    log.info("LoRA r=%d on %s: %d trainable adapter parameters", lora["r"], ", ".join(lora["targets"]), trainable)
    return visual


class LoraImageFeatures:
    """Image features of store rows through the LoRA-adapted vision tower (decoding the image files)."""

    kind = "lora"

    def __init__(
        self, encoder: ClipEncoder, lora: Mapping[str, Any], image_paths: Sequence[str], root: str | Path = "."
    ) -> None:
        self.encoder = encoder
        self.device = encoder.device
        self.visual = add_lora(encoder.model.visual, lora)
        self.images = ImageFileDataset(list(image_paths), encoder.preprocess, root)

    @classmethod
    def for_store(
        cls, store: Store, lora: Mapping[str, Any], device: str | torch.device = "auto", root: str | Path = "."
    ) -> LoraImageFeatures:
        """Rebuild the store's backbone (same weights) and adapt it; image paths are relative to `root`."""
        if "image_path" not in store.meta:
            raise PipelineError(f"{store.path}/meta.parquet: no 'image_path' column, which the LoRA path decodes")
        encoder = ClipEncoder.from_manifest(store.model, device=str(device))
        return cls(encoder, lora, store.meta["image_path"].astype(str).tolist(), root)

    def pixels(self, rows: np.ndarray) -> Tensor:
        batch = []
        for row in rows:
            pixels, error = self.images[int(row)]
            if error:
                raise PipelineError(f"{error}; normalize should have dropped it (rerun normalize)")
            batch.append(pixels)
        return torch.stack(batch).to(self.device)

    def features(self, rows: np.ndarray) -> Tensor:
        return F.normalize(self.visual(self.pixels(rows)).float(), dim=-1)

    @torch.no_grad()
    def encode_rows(self, store: Store, rows: np.ndarray, batch_size: int = 64) -> Tensor:
        return torch.cat([self.features(rows[s : s + batch_size]) for s in range(0, len(rows), batch_size)])

    def trainable(self) -> list[nn.Parameter]:
        return [p for p in self.visual.parameters() if p.requires_grad]

    def train(self, mode: bool = True) -> None:
        self.visual.train(mode)

    def state(self) -> dict[str, Any]:
        return {k: v.detach().cpu() for k, v in get_peft_model_state_dict(self.visual).items()}

    def load_state(self, state: dict[str, Any] | None) -> None:
        if not state:
            raise PipelineError("the checkpoint holds no LoRA adapter weights")
        result = set_peft_model_state_dict(self.visual, state)
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise PipelineError(
                f"the checkpoint's LoRA adapter does not fit this backbone (unexpected keys, e.g. {unexpected[0]})"
            )
