"""The retrieval heads trained over frozen CLIP features: image/text projections, image-side attribute heads and a
learnable weight that fuses the frozen similarity with the learned one."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a RetrievalHeads before loading its weights (saved in checkpoints)."""

    image_dim: int
    text_dim: int
    dim: int
    head: str = "mlp"
    fusion: bool = True
    attr_classes: dict[str, list[str]] = field(default_factory=dict)
    # Training mode only, and weightless: a card or checkpoint without it rebuilds the same evaluation model.
    dropout: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class InputDropoutLinear(nn.Linear):
    """nn.Linear that drops its input features in training mode; its weights keep nn.Linear's keys."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float) -> None:
        super().__init__(in_dim, out_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input: Tensor) -> Tensor:
        result: Tensor = super().forward(self.dropout(input))
        return result


def projection_head(in_dim: int, out_dim: int, kind: str, dropout: float = 0.0) -> nn.Module:
    """A `linear` head drops its input, an `mlp` head its hidden activation (training mode only). The weights
    keep the keys of the heads without dropout (`weight`; `0.*` and `2.*`), so every checkpoint loads alike."""
    if kind == "linear":
        return InputDropoutLinear(in_dim, out_dim, dropout)
    if kind == "mlp":
        layers = [("0", nn.Linear(in_dim, in_dim)), ("1", nn.GELU()), ("dropout", nn.Dropout(dropout))]
        return nn.Sequential(OrderedDict([*layers, ("2", nn.Linear(in_dim, out_dim))]))
    raise ValueError(f"unknown head kind {kind!r} (expected linear or mlp)")


def _sqrt(x: Tensor) -> Tensor:
    """sqrt(x) as 1 / rsqrt(x), within one ulp of the exact root, 0 at 0. torch.sqrt goes to MKL's VML, which picks
    its kernel by CPU vendor whatever MKL_CBWR says (an Intel and an AMD machine round differently); rsqrt and
    reciprocal are ATen's own IEEE square root and division."""
    return torch.rsqrt(x).reciprocal()


@dataclass
class HeadsOutput:
    image: Tensor  # (B, d) L2-normalised retrieval embeddings
    text: Tensor  # (B, d)
    attr_logits: dict[str, Tensor]  # attribute -> (B, classes)


class RetrievalHeads(nn.Module):
    """Heads over frozen CLIP keys.

    The retrieval embedding of a frozen key k with projection p = head(k) is, with fusion weight
    w = sigmoid(fusion_logit),

        e = [sqrt(w) * k/|k|, sqrt(1 - w) * p/|p|]        (already unit length)

    so e_a . e_b = w cos(k_a, k_b) + (1 - w) cos(p_a, p_b): a learned blend of the frozen
    similarity and the trained one, and w = 1 is exactly the frozen baseline. Image and text share
    the same w. Without fusion, e = p/|p|. Attribute heads read the image projection p.
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        if spec.fusion and spec.image_dim != spec.text_dim:
            raise ValueError(
                f"fusion blends frozen image and text keys, which must share one space; got image dim "
                f"{spec.image_dim} and text dim {spec.text_dim} (set train.fusion: false)"
            )
        self.spec = spec
        self.image_head = projection_head(spec.image_dim, spec.dim, spec.head, spec.dropout)
        self.text_head = projection_head(spec.text_dim, spec.dim, spec.head, spec.dropout)
        self.attr_heads = nn.ModuleDict(
            {name: nn.Linear(spec.dim, len(classes)) for name, classes in spec.attr_classes.items()}
        )
        # Frozen CLIP keys share a large common direction (untrained backbones especially: neighbours
        # sit at cosine ~0.97), so the heads read keys standardised with train-split statistics.
        for side, dim in (("image", spec.image_dim), ("text", spec.text_dim)):
            self.register_buffer(f"{side}_mean", torch.zeros(dim))
            self.register_buffer(f"{side}_scale", torch.ones(dim))
        # logit 0 -> w = 0.5: start halfway between the frozen and the learned similarity
        self.fusion_logit = nn.Parameter(torch.zeros(())) if spec.fusion else None

    @property
    def embedding_dim(self) -> int:
        if self.spec.fusion:
            return self.spec.image_dim + self.spec.dim
        return self.spec.dim

    @property
    def fusion_weight(self) -> float | None:
        return None if self.fusion_logit is None else float(torch.sigmoid(self.fusion_logit.detach()))

    @torch.no_grad()
    def set_input_statistics(self, image_keys: Tensor, text_keys: Tensor) -> None:
        """Standardise the heads' inputs with these (train-split) keys' per-feature mean and std."""
        for side, keys in (("image", image_keys), ("text", text_keys)):
            keys = F.normalize(keys.float(), dim=-1)
            getattr(self, f"{side}_mean").copy_(keys.mean(dim=0))
            getattr(self, f"{side}_scale").copy_(1.0 / keys.std(dim=0).clamp_min(1e-6))

    def _standardise(self, keys: Tensor, side: str) -> Tensor:
        result: torch.Tensor = (F.normalize(keys, dim=-1) - getattr(self, f"{side}_mean")) * getattr(
            self, f"{side}_scale"
        )
        return result

    def _fuse(self, frozen: Tensor, projected: Tensor) -> Tensor:
        projected = F.normalize(projected, dim=-1)
        if self.fusion_logit is None:
            return projected
        w = torch.sigmoid(self.fusion_logit)
        return torch.cat([_sqrt(w) * F.normalize(frozen, dim=-1), _sqrt(1 - w) * projected], dim=-1)

    def embed_image(self, image_keys: Tensor) -> Tensor:
        return self._fuse(image_keys, self.image_head(self._standardise(image_keys, "image")))

    def image_outputs(self, image_keys: Tensor) -> tuple[Tensor, Tensor]:
        """(retrieval embeddings, projections) of image keys: one pass through the image head for both."""
        image_proj = self.image_head(self._standardise(image_keys, "image"))
        return self._fuse(image_keys, image_proj), image_proj

    def attribute_logits(self, image_proj: Tensor) -> dict[str, Tensor]:
        return {name: head(image_proj) for name, head in self.attr_heads.items()}

    def embed_text(self, text_keys: Tensor) -> Tensor:
        return self._fuse(text_keys, self.text_head(self._standardise(text_keys, "text")))

    def forward(self, image_keys: Tensor, text_keys: Tensor) -> HeadsOutput:
        image, image_proj = self.image_outputs(image_keys)
        return HeadsOutput(image=image, text=self.embed_text(text_keys), attr_logits=self.attribute_logits(image_proj))
