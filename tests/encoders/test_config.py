"""The `model` section: local weights must be the path DVC tracks as model.checkpoint."""

import pytest

from pipelines.encoders.config import ModelConfig
from pipelines.params import ParamsError, build


@pytest.mark.parametrize(
    "data, local",
    [
        ({}, None),
        ({"pretrained": "laion2b_s34b_b79k"}, None),
        ({"pretrained": "/models/vit.bin", "checkpoint": "/models/vit.bin"}, "/models/vit.bin"),
        ({"arch": "local-dir:/models/tiny", "checkpoint": "/models/tiny"}, "/models/tiny"),
    ],
)
def test_local_weights(data, local):
    assert build(ModelConfig, data, "model").local_weights() == local


@pytest.mark.parametrize(
    "data, key",
    [
        ({"pretrained": "/models/vit.bin"}, "model.pretrained"),
        ({"arch": "local-dir:/models/tiny"}, "model.arch"),
    ],
)
def test_untracked_local_weights_are_an_error_naming_the_fix(data, key):
    with pytest.raises(
        ParamsError,
        match=f"{key}.*model.checkpoint.*'pipelines/encoders/clip.py'.*set model.checkpoint",
    ):
        build(ModelConfig, data, "model")
