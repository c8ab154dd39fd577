"""Prototypes: normalised train means per known value, refinement on train items only, save/load."""

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.signals.config import RefineConfig
from pipelines.signals.prototypes import build_prototypes, load_prototypes, refine_prototypes, save_prototypes

KEYS = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], np.float32)


def test_prototype_is_normalised_train_mean_in_schema_order():
    values = pd.Series(["red", "black", "black", "unknown", "white"])
    train = np.array([True, True, True, True, False])  # the only white item is not train
    prototypes = build_prototypes(KEYS, values, train, "color")
    assert prototypes.concepts == ("black", "red")  # schema order; white has no train item
    np.testing.assert_allclose(prototypes.vectors[0], [0.0, np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    np.testing.assert_allclose(prototypes.vectors[1], [1.0, 0.0, 0.0], atol=1e-6)
    assert prototypes.codes(values).tolist() == [1, 0, 0, -1, -1]


def test_dimension_without_known_train_values_is_an_error():
    values = pd.Series(["unknown", "unknown", "round", "unknown", "unknown"])
    with pytest.raises(PipelineError, match="'neckline'.*none of the 2 train items"):
        build_prototypes(KEYS, values, np.array([1, 1, 0, 0, 0], bool), "neckline")


def _clusters(seed=0, n=120, dim=16):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, dim))
    codes = np.arange(n) % 3
    keys = centers[codes] + 1.5 * rng.standard_normal((n, dim))
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    return keys.astype(np.float32), codes


def _margin(prototypes, keys, codes):
    sims = keys @ prototypes.vectors.T
    own = sims[np.arange(len(codes)), codes]
    sims[np.arange(len(codes)), codes] = -np.inf
    return float(np.mean(own - sims.max(axis=1)))


def test_refinement_separates_concepts_and_is_seeded():
    keys, codes = _clusters()
    values = pd.Series(np.array(["black", "red", "blue"])[codes])
    base = build_prototypes(keys, values, np.ones(len(keys), bool), "color")
    codes = base.codes(values)
    cfg = RefineConfig(epochs=30, lr=0.05, margin=0.1, temperature=0.1, batch_size=32)
    refined = refine_prototypes(base, keys, codes, cfg, seed=3)
    assert refined.concepts == base.concepts
    np.testing.assert_allclose(np.linalg.norm(refined.vectors, axis=1), 1.0, rtol=1e-5)
    assert _margin(refined, keys, codes) > _margin(base, keys, codes) + 0.01
    np.testing.assert_array_equal(refine_prototypes(base, keys, codes, cfg, seed=3).vectors, refined.vectors)


def test_refinement_ignores_unlabelled_items():
    keys, codes = _clusters()
    values = pd.Series(np.array(["black", "red", "blue"])[codes])
    base = build_prototypes(keys, values, np.ones(len(keys), bool), "color")
    codes = base.codes(values)
    held_out = np.where(np.arange(len(codes)) < 60, codes, -1)  # e.g. val items get code -1
    cfg = RefineConfig(epochs=5, lr=0.05, batch_size=16)
    tampered = keys.copy()
    tampered[60:] = -tampered[60:]
    a = refine_prototypes(base, keys, held_out, cfg, seed=0)
    b = refine_prototypes(base, tampered, held_out, cfg, seed=0)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert refine_prototypes(base, keys, codes, RefineConfig(epochs=0), seed=0) is base


def test_save_and_load_round_trip_checks_store_hash(tmp_path):
    prototypes = {
        "color": build_prototypes(KEYS, pd.Series(["red", "black", "black", "red", "red"]), np.ones(5, bool), "color")
    }
    save_prototypes(prototypes, tmp_path / "prototypes.pt", "abc123")
    import torch

    payload = torch.load(tmp_path / "prototypes.pt", weights_only=True)
    assert payload["store_hash"] == "abc123"
    assert payload["color"]["concepts"] == ["black", "red"]
    loaded = load_prototypes(tmp_path / "prototypes.pt", "abc123")
    np.testing.assert_array_equal(loaded["color"].vectors, prototypes["color"].vectors)
    with pytest.raises(PipelineError, match="rerun export_signals"):
        load_prototypes(tmp_path / "prototypes.pt", "other")
