"""ClipEncoder: seeded weights, rebuild from a manifest, normalised features, and its errors."""

import copy
import logging

import huggingface_hub.constants
import numpy as np
import pytest
import torch

from pipelines.encoders import ClipEncoder, ModelConfig
from pipelines.errors import PipelineError
from pipelines.params import build

ARCH = "ViT-S-32"  # the smallest open_clip ViT; the text tower is what dominates build time


@pytest.fixture(scope="module")
def encoder():
    return ClipEncoder.from_config(build(ModelConfig, {}, "model"), seed=7, device="cpu")


def _same_weights(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_seeded_weights_rebuild_bit_for_bit_without_touching_global_rng(encoder, caplog):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with caplog.at_level(logging.WARNING, logger="pipelines.encoders.clip"):
        rebuilt = ClipEncoder.from_manifest(encoder.description, device="cpu")
    assert torch.equal(torch.rand(3), expected)  # the build used a forked RNG
    assert "UNTRAINED" in caplog.text
    assert _same_weights(encoder, rebuilt)
    assert encoder.description == {
        "arch": ARCH,
        "pretrained": "none",
        "untrained": True,
        "precision": "fp32",
        "seed": 7,
    }
    other = ClipEncoder.build(ARCH, "none", "fp32", "cpu", seed=8)
    assert not _same_weights(encoder, other)


def test_embeddings_are_l2_normalised_and_deterministic(encoder):
    pixels = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    images = encoder.encode_images(pixels)
    assert images.shape == (3, encoder.dim) == (3, 384) and images.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(encoder.encode_images(pixels[1:2]), images[1:2], atol=1e-5)
    texts = encoder.encode_texts(["a blue striped shirt", "black leather bag", "a blue striped shirt"], batch_size=2)
    assert texts.shape == (3, 384) and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(texts[0], texts[2], atol=1e-5)
    assert not np.allclose(texts[0], texts[1], atol=1e-3)
    assert encoder.encode_texts([]).shape == (0, 384)


def test_preprocess_is_open_clips_own_transform(encoder):
    from PIL import Image

    pixels = encoder.preprocess(Image.new("RGB", (32, 20), (255, 0, 0)))
    assert pixels.shape == (3, 224, 224)
    # Red through CLIP's normalisation: (1 - mean) / std on the red channel.
    assert pixels[0].mean().item() == pytest.approx((1 - 0.48145466) / 0.26862954, abs=1e-3)


def test_checkpoint_file_loads_the_same_weights(encoder, tmp_path):
    checkpoint = tmp_path / "vit_s_32.pt"
    torch.save(encoder.model.state_dict(), checkpoint)
    loaded = ClipEncoder.build(ARCH, str(checkpoint), "fp32", "cpu", seed=0)
    assert _same_weights(encoder, loaded)
    assert loaded.description["pretrained"] == str(checkpoint) and loaded.description["untrained"] is False
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(PipelineError, match="cannot load it as a ViT-S-32 checkpoint"):
        ClipEncoder.build(ARCH, str(checkpoint), "fp32", "cpu", seed=0)


def test_unknown_arch_lists_close_names():
    with pytest.raises(PipelineError, match=r"'ViT-S-33' is not an open_clip architecture \(close names: .*ViT-S-32"):
        ClipEncoder.build("ViT-S-33", "none", "fp32", "cpu", seed=0)


def test_tag_that_cannot_be_downloaded_points_to_a_checkpoint_path(monkeypatch, tmp_path):
    # Offline and with an empty cache, as on a machine without network: no retries, no cached weights.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(PipelineError) as error:
        ClipEncoder.build("ViT-B-32", "laion2b_s34b_b79k", "fp32", "cpu", seed=0)
    message = str(error.value)
    assert "'laion2b_s34b_b79k'" in message and "set model.pretrained to its local file path" in message
    assert "\n" not in message


def test_unknown_tag_and_missing_checkpoint():
    with pytest.raises(PipelineError, match=r"'laion9'.*open_clip tag for ViT-B-32.*openai"):
        ClipEncoder.build("ViT-B-32", "laion9", "fp32", "cpu", seed=0)
    with pytest.raises(PipelineError, match="checkpoint file 'weights/missing.pt' not found"):
        ClipEncoder.build(ARCH, "weights/missing.pt", "fp32", "cpu", seed=0)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_needs_cuda(precision):
    with pytest.raises(PipelineError, match=f"model.precision {precision} needs a CUDA device.*fp32 on CPU"):
        ClipEncoder.build(ARCH, "none", precision, "cpu", seed=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(PipelineError, match="runtime.device is 'cuda', but no CUDA device is available"):
        ClipEncoder.build(ARCH, "none", "fp32", "cuda", seed=0)


def test_from_manifest_needs_the_whole_description():
    with pytest.raises(PipelineError, match="lacks seed"):
        ClipEncoder.from_manifest({"arch": ARCH, "pretrained": "none", "untrained": True, "precision": "fp32"})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_on_cuda_stays_close_to_fp32(encoder, precision):
    half = ClipEncoder.build(ARCH, "none", precision, "cuda", seed=7)
    pixels = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    features = half.encode_images(pixels)
    assert features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    cosine = (features * encoder.encode_images(pixels)).sum(axis=1)
    assert cosine.min() > 0.99


def test_trimmed_text_keys_equal_the_full_context_forward(encoder):
    # Lengths from one token to past the 77-token context (truncated): each batch trims to its own longest.
    texts = ["", "red", "a navy blue slim fit cotton shirt with a round neck", "word " * 100, "x"] * 3
    assert encoder.trims_text
    tokens = encoder.tokenizer(texts[:3])
    assert int(tokens.argmax(dim=-1).max()) + 1 < tokens.shape[1]  # this batch really is shorter than the context
    for batch_size in (1, 3, 16):
        trimmed = encoder.encode_texts(texts, batch_size=batch_size)
        full = encoder.encode_texts(texts, batch_size=batch_size, trim=False)
        np.testing.assert_allclose(trimmed, full, atol=1e-5, rtol=0)
    # The reference is open_clip's own encode_text at the full context length.
    with torch.inference_mode():
        reference = torch.nn.functional.normalize(encoder.model.encode_text(encoder.tokenizer(texts)), dim=-1)
    np.testing.assert_allclose(encoder.encode_texts(texts, batch_size=4), reference.numpy(), atol=1e-5, rtol=0)


def test_text_towers_without_a_causal_mask_are_not_trimmed(encoder):
    def trims(**changes):
        model = copy.deepcopy(encoder.model)
        for name, value in changes.items():
            setattr(model, name, value)
        return ClipEncoder(model, encoder.preprocess, encoder.tokenizer, encoder.device, {}, encoder.dim).trims_text

    assert trims()
    assert not trims(attn_mask=torch.zeros_like(encoder.model.attn_mask))  # every position sees every other
    assert not trims(attn_mask=None)
    assert not trims(text_pool_type="last")
