"""Each loss against a hand computation on tiny tensors."""

import math

import pytest
import torch

from pipelines.training.losses import IGNORE_INDEX, AttributeLoss, PairMarginLoss, SymmetricInfoNCELoss


def test_info_nce_matches_hand_computation():
    image = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    text = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    # logits / T=0.5: rows [[1.2, 0], [1.6, 2]]
    i2t = (-math.log(math.exp(1.2) / (math.exp(1.2) + 1)) - math.log(math.exp(2) / (math.exp(1.6) + math.exp(2)))) / 2
    t2i = (-math.log(math.exp(1.2) / (math.exp(1.2) + math.exp(1.6))) - math.log(math.exp(2) / (1 + math.exp(2)))) / 2
    loss = SymmetricInfoNCELoss(temperature=0.5)(image, text)
    assert loss.item() == pytest.approx((i2t + t2i) / 2, rel=1e-6)


def test_pair_loss_pulls_positives_and_hinges_negatives_at_the_margin():
    anchor = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    other = torch.tensor([[0.6, 0.8], [0.6, 0.8], [0.0, 1.0]])  # cos 0.6, 0.6, 0.0
    label = torch.tensor([1, 0, 0])
    loss = PairMarginLoss(margin=0.2)(anchor, other, label)
    # positive: 1 - 0.6 = 0.4; negative at 0.6: 0.6 - 0.2 = 0.4; negative at 0.0: below margin, 0
    assert loss.item() == pytest.approx((0.4 + 0.4 + 0.0) / 3, rel=1e-6)
    assert PairMarginLoss(0.2)(anchor[:0], other[:0], label[:0]).item() == 0.0


def test_attribute_loss_weights_attributes_and_ignores_unknown():
    logits = {
        "neckline": torch.tensor([[2.0, 0.0], [0.0, 0.0]]),
        "color": torch.tensor([[0.0, 0.0, 0.0]]).repeat(2, 1),
    }
    labels = {"neckline": torch.tensor([0, IGNORE_INDEX]), "color": torch.tensor([1, 2])}
    neck = -math.log(math.exp(2) / (math.exp(2) + 1))  # only the known row counts
    color = math.log(3)
    loss = AttributeLoss({"neckline": 2.0})(logits, labels)
    assert loss.item() == pytest.approx((2.0 * neck + 1.0 * color) / 3.0, rel=1e-6)


def test_attribute_loss_skips_an_all_unknown_attribute_instead_of_nan():
    logits = {"neckline": torch.zeros(2, 2), "color": torch.zeros(2, 4)}
    labels = {"neckline": torch.tensor([IGNORE_INDEX, IGNORE_INDEX]), "color": torch.tensor([0, 1])}
    assert AttributeLoss({"neckline": 2.0})(logits, labels).item() == pytest.approx(math.log(4))
    labels["color"] = torch.tensor([IGNORE_INDEX, IGNORE_INDEX])
    assert AttributeLoss({})(logits, labels).item() == 0.0
