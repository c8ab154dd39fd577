"""StoreWriter: block-by-block writing, completeness checks, and atomic replacement."""

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.store import create_store, open_store

MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}
DIMS = {"image_keys": 4, "text_keys": 4, "fact_values": 3}


def test_blocks_land_in_row_order(tmp_path):
    rng = np.random.default_rng(1)
    full = {name: rng.normal(size=(7, dim)).astype(np.float32) for name, dim in DIMS.items()}
    meta = pd.DataFrame({"item_id": list("abcdefg")})
    with create_store(tmp_path / "s", 7, DIMS) as writer:
        for name, array in full.items():
            for start in range(0, 7, 3):  # blocks of 3, 3, 1
                writer.append(name, array[start : start + 3])
            assert writer.rows_written(name) == 7
        manifest = writer.finish(meta, MODEL, "enc")
    store = open_store(tmp_path / "s")
    for name, array in full.items():
        np.testing.assert_array_equal(getattr(store, name), array)
    assert manifest == store.manifest


def test_incomplete_store_is_never_published(tmp_path):
    meta = pd.DataFrame({"item_id": list("abc")})
    with pytest.raises(PipelineError, match="text_keys: only 2 of 3 rows were written"):
        with create_store(tmp_path / "s", 3, DIMS) as writer:
            writer.append("image_keys", np.ones((3, 4)))
            writer.append("text_keys", np.ones((2, 4)))
            writer.append("fact_values", np.ones((3, 3)))
            writer.finish(meta, MODEL, "enc")
    with pytest.raises(RuntimeError, match="before finish"):
        with create_store(tmp_path / "s", 3, DIMS):
            pass
    assert not (tmp_path / "s").exists()
    assert list(tmp_path.iterdir()) == []


def test_block_shape_and_overflow_errors(tmp_path):
    with create_store(tmp_path / "s", 2, DIMS) as writer:
        with pytest.raises(PipelineError, match=r"fact_values: expected a block of shape \(n, 3\), got \(2, 4\)"):
            writer.append("fact_values", np.ones((2, 4)))
        writer.append("image_keys", np.ones((2, 4)))
        with pytest.raises(PipelineError, match="image_keys: 3 rows written, more than the store's 2"):
            writer.append("image_keys", np.ones((1, 4)))
        with pytest.raises(PipelineError, match="meta has 1 rows, the arrays have 2"):
            writer.append("text_keys", np.ones((2, 4)))
            writer.append("fact_values", np.ones((2, 3)))
            writer.finish(pd.DataFrame({"item_id": ["a"]}), MODEL, "enc")
        writer.finish(pd.DataFrame({"item_id": ["a", "b"]}), MODEL, "enc")
    assert open_store(tmp_path / "s").rows == 2
