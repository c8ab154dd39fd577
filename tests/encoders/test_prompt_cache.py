"""CachedPromptEncoder: the second run reads what the first encoded; any change in its inputs is a miss."""

import numpy as np

from pipelines.encoders.prompt_cache import CachedPromptEncoder

MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 42}


class CountingEncoder:
    """A deterministic text encoder that counts how often it is built and called."""

    built = 0

    def __init__(self):
        CountingEncoder.built += 1
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        rng = np.random.default_rng([len(t) for t in texts])
        return rng.standard_normal((len(texts), 8)).astype(np.float32)


def make(folder, store_hash="s1", device="cpu"):
    return CachedPromptEncoder(folder, MODEL, store_hash, device, CountingEncoder)


def test_a_second_run_reads_the_cached_features_without_building_the_encoder(tmp_path):
    CountingEncoder.built = 0
    texts = ["a photo of red clothing", "a photo of denim clothing"]
    first = make(tmp_path)(texts)
    assert CountingEncoder.built == 1 and len(list(tmp_path.glob("*.npy"))) == 1
    second_encoder = make(tmp_path)
    second = second_encoder(texts)
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and CountingEncoder.built == 1  # the encoder was never built again
    assert (second_encoder.hits, second_encoder.misses) == (1, 0)


def test_texts_store_and_device_are_part_of_the_key(tmp_path):
    texts = ["a photo of red clothing"]
    base = make(tmp_path)
    keys = {
        base.key(texts),
        base.key(["a photo of blue clothing"]),
        base.key(texts + texts),
        make(tmp_path, store_hash="s2").key(texts),
        make(tmp_path, device="cuda:0").key(texts),
    }
    assert len(keys) == 5


def test_an_unreadable_or_wrong_cache_file_is_encoded_again(tmp_path):
    texts = ["a", "bb", "ccc"]
    encoder = make(tmp_path)
    expected = encoder(texts)
    path = tmp_path / f"{encoder.key(texts)}.npy"
    path.write_bytes(b"not a npy file")
    again = make(tmp_path)
    np.testing.assert_array_equal(again(texts), expected)
    assert again.misses == 1
    np.save(path, expected[:2])  # the wrong number of rows
    third = make(tmp_path)
    np.testing.assert_array_equal(third(texts), expected)
    assert third.misses == 1
