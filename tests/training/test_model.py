"""The retrieval heads' fused embedding: unit length, a blend of frozen and learned similarity; dropout only while
training."""

import pytest
import torch
import torch.nn.functional as F

from pipelines.training.model import ModelSpec, RetrievalHeads


def spec(**kw):
    base = dict(image_dim=8, text_dim=8, dim=4, head="mlp", fusion=True, attr_classes={"neckline": ["round", "v_neck"]})
    return ModelSpec(**{**base, **kw})


def test_fused_similarity_is_the_weighted_blend_of_frozen_and_projected_cosines():
    torch.manual_seed(0)
    model = RetrievalHeads(spec())
    with torch.no_grad():
        model.fusion_logit.fill_(1.0)
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    w = torch.sigmoid(torch.tensor(1.0))
    head = lambda x: model.image_head(model._standardise(x, "image"))  # noqa: E731
    expected = w * F.cosine_similarity(a, b) + (1 - w) * F.cosine_similarity(head(a), head(b))
    got = (model.embed_image(a) * model.embed_image(b)).sum(1)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(model.embed_image(a).norm(dim=1), torch.ones(3), atol=1e-6)
    assert model.embedding_dim == 12


def test_heads_read_keys_standardised_with_the_given_statistics():
    model = RetrievalHeads(spec())
    keys = torch.randn(50, 8) + 5.0  # a large shared direction, like untrained CLIP keys
    model.set_input_statistics(keys, keys)
    standardised = model._standardise(keys, "image")
    assert torch.allclose(standardised.mean(dim=0), torch.zeros(8), atol=1e-5)
    assert torch.allclose(standardised.std(dim=0), torch.ones(8), atol=1e-4)
    assert "image_mean" in model.state_dict() and "text_scale" in model.state_dict()


def test_forward_gives_attribute_logits_per_class_and_no_fusion_means_projection_only():
    model = RetrievalHeads(spec(fusion=False, head="linear"))
    out = model(torch.randn(5, 8), torch.randn(5, 8))
    assert out.image.shape == (5, 4) and out.attr_logits["neckline"].shape == (5, 2)
    assert model.fusion_weight is None


def test_fusion_needs_one_space_for_image_and_text_keys():
    with pytest.raises(ValueError, match="fusion"):
        RetrievalHeads(spec(text_dim=6))


@pytest.mark.parametrize(
    "head, weights", [("mlp", {"image_head.0.weight", "image_head.2.weight"}), ("linear", {"image_head.weight"})]
)
def test_dropout_acts_in_training_mode_only_and_keeps_the_weights_keys(head, weights):
    torch.manual_seed(0)
    model = RetrievalHeads(spec(head=head, dropout=0.5))
    plain = RetrievalHeads(spec(head=head))  # dropout 0
    # dropout adds no weights: the keys are those of heads without it, so any checkpoint loads into either
    assert list(model.state_dict()) == list(plain.state_dict()) and weights <= set(model.state_dict())
    plain.load_state_dict(model.state_dict())
    keys = torch.randn(16, 8)
    model.train()
    assert not torch.equal(model.embed_image(keys), model.embed_image(keys))  # a fresh mask each pass
    assert not torch.equal(model.embed_text(keys), plain.eval().embed_text(keys))
    model.eval()
    with torch.no_grad():
        for side in ("embed_image", "embed_text"):
            assert torch.equal(getattr(model, side)(keys), getattr(plain, side)(keys)), side
            assert torch.equal(getattr(model, side)(keys), getattr(model, side)(keys)), side
