"""LoRA on the smallest open_clip ViT (random weights): one step moves the adapters only, and the adapter loads back."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from pipelines.encoders import ClipEncoder, ModelConfig
from pipelines.errors import PipelineError
from pipelines.params import build
from pipelines.store import write_store
from pipelines.training.config import TrainConfig
from pipelines.training.data import prepare_training_data
from pipelines.training.export import export_model
from pipelines.training.finetuned import load_finetuned
from pipelines.training.loop import Trainer
from pipelines.training.lora import LoraImageFeatures, add_lora

LORA = {"r": 2, "alpha": 4, "dropout": 0.0, "targets": ["attn", "c_fc", "c_proj"]}


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    colors = [(200, 30, 30), (30, 30, 200), (30, 160, 30)] * 2
    paths = []
    for i, color in enumerate(colors):
        path = root / f"{i}.jpg"
        Image.new("RGB", (32, 32), color).save(path)
        paths.append(str(path))
    encoder = ClipEncoder.from_config(ModelConfig(arch="ViT-S-32", pretrained="none"), seed=0, device="cpu")
    pixels = torch.stack([encoder.preprocess(Image.open(p)) for p in paths])
    image_keys = encoder.encode_images(pixels)
    text_keys = encoder.encode_texts([f"a {c} shirt" for c in ("red", "blue", "green")] * 2)
    meta = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(6)],
            "image_path": paths,
            "title": [f"t{i}" for i in range(6)],
            "desc": "",
            "group_key": [f"g{i}" for i in range(6)],
            "split": ["train"] * 4 + ["val"] * 2,
            "color": ["red", "blue", "green", "red", "blue", "green"],
        }
    )
    store = write_store(
        root / "store", meta, image_keys, text_keys, np.zeros((6, 4), np.float32), encoder.description, "test-encoder"
    )
    return store, root


def test_unknown_targets_are_named(tiny_store):
    encoder = ClipEncoder.from_manifest(tiny_store[0].model, device="cpu")
    with pytest.raises(PipelineError, match="'qkv'.*no module of that name.*c_fc"):
        add_lora(encoder.model.visual, {**LORA, "targets": ["qkv"]})


def test_one_step_trains_adapters_only_and_the_saved_adapter_loads_back(tiny_store, tmp_path):
    store, _ = tiny_store
    cfg = build(
        TrainConfig,
        {"epochs": 1, "batch_size": 4, "attr_heads": ["color"], "lr": 1e-2, "lora": {**LORA, "enabled": True}},
        "train",
    )
    pairs = pd.DataFrame({"anchor_id": ["i0"], "other_id": ["i3"], "label": [1]})
    data = prepare_training_data(store.meta, store.image_keys, store.text_keys, pairs, cfg.attr_heads)
    images = LoraImageFeatures.for_store(store, LORA, device="cpu")
    base_before = {n: p.detach().clone() for n, p in images.visual.named_parameters() if "lora_" not in n}
    adapters_before = {n: p.detach().clone() for n, p in images.visual.named_parameters() if "lora_" in n}
    assert adapters_before and all(not p.requires_grad for n, p in images.visual.named_parameters() if "lora_" not in n)
    trainer = Trainer(
        data,
        cfg,
        seed=0,
        params_hash="lora",
        store_hash=store.store_hash,
        checkpoint_root=tmp_path / "run",
        images=images,
        device="cpu",
        info={"lora": LORA},
    )
    result = trainer.fit()
    assert result.summary["kind"] == "lora" and len(result.log) == 1
    after = dict(images.visual.named_parameters())
    # peft merges the attention adapter into nn.MultiheadAttention's weights for each forward and
    # unmerges it after, which leaves float rounding (~1e-9) in the frozen weights, nothing more
    drift = max(float((after[n].detach() - p).abs().max()) for n, p in base_before.items())
    assert drift < 1e-6
    moved = {
        n for n, p in adapters_before.items() if "lora_B" in n and float((after[n].detach() - p).abs().max()) > 1e-4
    }
    assert (
        any(".attn." in n for n in moved) and any(".c_fc." in n for n in moved) and any(".c_proj." in n for n in moved)
    )

    export_model(result, store, tmp_path / "model")
    loaded = load_finetuned(tmp_path / "model", store, device="cpu")
    assert loaded.info["kind"] == "lora"
    trainer.model.eval()
    images.train(False)
    with torch.no_grad():
        expected = trainer.model.embed_image(images.encode_rows(store, np.arange(6))).numpy()
    np.testing.assert_allclose(loaded.image_embeddings(store), expected, atol=1e-5)
    assert (
        np.abs(expected - trainer.model.embed_image(torch.tensor(np.asarray(store.image_keys))).detach().numpy()).max()
        > 1e-4
    )
