"""The three training objectives, one small nn.Module each: the math in a pure function, the plumbing in forward."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = -100  # attribute label for `unknown` (or a value unseen in training): no gradient


def symmetric_info_nce(image: Tensor, text: Tensor, temperature: float) -> Tensor:
    """CLIP's loss: cross-entropy of image->text and text->image similarities, row i matching column i.

    `image` and `text` are (B, d) L2-normalised; every other row of the batch is a negative.
    """
    logits = image @ text.T / temperature
    targets = torch.arange(len(image), device=image.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def pair_margin_loss(anchor: Tensor, other: Tensor, label: Tensor, margin: float) -> Tensor:
    """Contrastive loss on cosine similarity of item pairs (L2-normalised rows).

    A positive pair (label 1) costs `1 - cos` (pulled towards identical); a negative pair (label 0)
    costs `max(0, cos - margin)` (pushed below the margin, free once it is there). Mean over pairs.
    """
    # F.cosine_embedding_loss computes the same, but through torch.sqrt, which MKL's VML computes with a kernel it
    # picks by CPU vendor whatever MKL_CBWR says; cosine_similarity's norms take ATen's IEEE square root.
    cos = F.cosine_similarity(anchor, other, dim=-1)
    return torch.where(label == 1, 1 - cos, (cos - margin).clamp_min(0)).mean()


def weighted_attribute_ce(logits: dict[str, Tensor], labels: dict[str, Tensor], weights: dict[str, float]) -> Tensor:
    """Weighted mean over attributes of each attribute's cross-entropy on its known labels.

    sum_a w_a * CE_a / sum_a w_a, over the attributes with at least one known label in the batch
    (an all-unknown batch contributes nothing instead of NaN). Weights default to 1.
    """
    total, weight_sum = None, 0.0
    for name, head_logits in logits.items():
        target = labels[name]
        if not bool((target != IGNORE_INDEX).any()):
            continue
        w = float(weights.get(name, 1.0))
        term = w * F.cross_entropy(head_logits, target, ignore_index=IGNORE_INDEX)
        total = term if total is None else total + term
        weight_sum += w
    if total is None or weight_sum == 0:
        reference = next(iter(logits.values()), None)
        return torch.zeros((), device=reference.device if reference is not None else None)
    return total / weight_sum


class SymmetricInfoNCELoss(nn.Module):
    """Image<->text InfoNCE with in-batch negatives at a fixed temperature (`train.temperature`)."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, image: Tensor, text: Tensor) -> Tensor:
        return symmetric_info_nce(image, text, self.temperature)


class PairMarginLoss(nn.Module):
    """Mined pairs: positives pulled together, hard/easy negatives pushed below `train.pair_margin` cosine."""

    def __init__(self, margin: float) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, anchor: Tensor, other: Tensor, label: Tensor) -> Tensor:
        if len(anchor) == 0:
            return anchor.new_zeros(())
        return pair_margin_loss(anchor, other, label, self.margin)


class AttributeLoss(nn.Module):
    """Cross-entropy per attribute head, `unknown` ignored, weighted per attribute (`train.attr_weights`)."""

    def __init__(self, weights: dict[str, float]) -> None:
        super().__init__()
        self.weights = dict(weights)

    def forward(self, logits: dict[str, Tensor], labels: dict[str, Tensor]) -> Tensor:
        return weighted_attribute_ce(logits, labels, self.weights)
