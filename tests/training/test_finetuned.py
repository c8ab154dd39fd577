"""Export to artifacts/model/ and load_finetuned back: same embeddings, clear errors on another store or model."""

import numpy as np
import pytest
import torch
from train_synthetic import small_run

from pipelines.errors import PipelineError
from pipelines.store import write_store
from pipelines.training.export import export_model
from pipelines.training.finetuned import load_finetuned

MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}


@pytest.fixture
def trained(tmp_path):
    trainer = small_run(tmp_path / "run", epochs=2)
    meta = trainer.data.meta
    store = write_store(
        tmp_path / "store",
        meta,
        trainer.data.image_keys,
        trainer.data.text_keys,
        np.zeros((len(meta), 4), np.float32),
        MODEL,
        "test",
    )
    trainer.store_hash = store.store_hash
    result = trainer.fit()
    card = export_model(result, store, tmp_path / "model")
    return trainer, store, card, tmp_path


def test_loaded_model_gives_the_trained_embeddings_for_every_store_row(trained):
    trainer, store, card, tmp = trained
    assert sorted(p.name for p in (tmp / "model").iterdir()) == ["best.pt", "last.pt", "model.json"]
    assert card["kind"] == "heads" and card["store_hash"] == store.store_hash and card["untrained"] is True
    model = load_finetuned(tmp / "model", store, device="cpu")
    # the trained architecture (dropout included, from the card's spec), in evaluation mode
    assert card["spec"]["dropout"] == trainer.cfg.dropout > 0 and model.model.spec == trainer.spec
    assert not any(module.training for module in model.model.modules())
    emb = model.image_embeddings(store)
    assert emb.shape == (store.rows, card["embedding_dim"]) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    best = torch.load(tmp / "model" / "best.pt", weights_only=False)
    trainer.model.load_state_dict(best["model"])
    with torch.no_grad():
        expected = trainer.model.eval().embed_image(torch.tensor(np.asarray(store.image_keys))).numpy()
        text = trainer.model.embed_text(torch.tensor(np.asarray(store.text_keys[:5]))).numpy()
    np.testing.assert_allclose(emb, expected, atol=1e-6)
    np.testing.assert_allclose(model.text_embeddings(store.text_keys[:5]), text, atol=1e-6)


def test_another_backbone_or_store_is_refused(trained):
    _, store, _, tmp = trained
    other_model = write_store(
        tmp / "other_model",
        store.meta,
        store.image_keys,
        store.text_keys,
        store.fact_values,
        {**MODEL, "seed": 1},
        "test",
    )
    with pytest.raises(PipelineError, match="trained on another backbone"):
        load_finetuned(tmp / "model", other_model, device="cpu")
    other_store = write_store(
        tmp / "other_store", store.meta, store.image_keys[:] * -1, store.text_keys, store.fact_values, MODEL, "test"
    )
    with pytest.raises(PipelineError, match="trained on store"):
        load_finetuned(tmp / "model", other_store, device="cpu")
    assert load_finetuned(tmp / "model", other_store, device="cpu", allow_other_store=True).info["kind"] == "heads"


def test_embeddings_computed_for_some_rows_are_the_rows_of_the_whole_matrix(trained, monkeypatch):
    from pipelines.store import take_rows
    from pipelines.training import finetuned

    _, store, _, tmp = trained
    model = load_finetuned(tmp / "model", store, device="cpu")
    whole = model.image_embeddings(store)
    lazy = model.image_vectors(store)
    assert lazy.shape == whole.shape
    rows = np.array([store.rows - 1, 0, 17, 17, 250])
    np.testing.assert_array_equal(take_rows(lazy, rows), whole[rows])
    monkeypatch.setattr(finetuned, "BATCH", 7)  # forward passes of 7 rows
    np.testing.assert_array_equal(model.image_embeddings(store), whole)


def test_the_load_side_imports_nothing_of_the_trainer():
    from pipelines.closure import stage_files

    trainer = {f"pipelines/training/{name}.py" for name in ("loop", "sampler", "losses", "data", "export")}
    for module in ("pipelines.training.finetuned", "stages.evaluate", "stages.rerank"):
        assert not trainer & set(stage_files(module)), module


def test_weights_that_changed_since_train_are_refused_before_they_load(trained):
    """Same size, other bytes: without the card's sha256 they would load and serve wrong embeddings."""
    _, store, _, tmp = trained
    best = tmp / "model" / "best.pt"
    data = bytearray(best.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = bytes(4096)  # a block of the weights zeroed, the size unchanged
    best.write_bytes(bytes(data))
    with pytest.raises(PipelineError, match=r"best.pt: sha256 .* does not match .* `dvc checkout artifacts/model`"):
        load_finetuned(tmp / "model", store, device="cpu")
