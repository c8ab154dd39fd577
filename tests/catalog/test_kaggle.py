"""Kaggle downloads: the real `kaggle` client, offline, fails with one sentence; a cached download is reused."""

import os
import subprocess
import sys
import textwrap

import pytest

from pipelines.catalog.formats import catalog_format
from pipelines.catalog.kaggle import download_kaggle


def run_download(tmp_path, scheme, slug, **env):
    """Call download_kaggle in a fresh interpreter: the kaggle client reads HOME and its env at import."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from pipelines.catalog.formats import catalog_format
        from pipelines.catalog.kaggle import KaggleError, download_kaggle
        try:
            download_kaggle(catalog_format({scheme!r}), {slug!r}, Path({str(tmp_path / "cache")!r}))
        except KaggleError as exc:
            print("KaggleError:", exc)
    """)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    clean.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"), **env)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=clean, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_no_credentials_is_one_sentence_saying_what_to_do(tmp_path):
    out = run_download(tmp_path, "myntra", "paramaggarwal/fashion-product-images-small")
    assert out == (
        "KaggleError: cannot download https://www.kaggle.com/datasets/paramaggarwal/fashion-product-images-small: "
        "no Kaggle credentials found; put kaggle.json in ~/.kaggle (or set KAGGLE_USERNAME and KAGGLE_KEY, or "
        "KAGGLE_API_TOKEN), or download the dataset by hand and point data.source at the folder or zip "
        "(myntra:<path>)\n"
    )
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_no_network_is_one_sentence_and_leaves_no_partial_download(tmp_path):
    out = run_download(
        tmp_path, "hm", "h-and-m-personalized-fashion-recommendations", KAGGLE_USERNAME="someone", KAGGLE_KEY="0" * 32
    )
    if "Kaggle refused" in out:  # a machine with network reaches Kaggle, which rejects the fake key
        assert "(HTTP 401)" in out or "(HTTP 403)" in out
    else:
        assert out.startswith("KaggleError: cannot reach Kaggle")
        assert "h-and-m-personalized-fashion-recommendations" in out
        assert "point data.source at the folder or zip (hm:<path>)" in out
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_complete_cached_download_is_reused_without_the_network(tmp_path):
    folder = tmp_path / "paramaggarwal__fashion-product-images-small"
    folder.mkdir()
    (folder / "fashion-product-images-small.zip").write_bytes(b"PK")
    (folder / ".complete").write_text("fashion-product-images-small.zip\n")
    got = download_kaggle(catalog_format("myntra"), "paramaggarwal/fashion-product-images-small", tmp_path)
    assert got == folder / "fashion-product-images-small.zip"


@pytest.mark.parametrize("marker", [None, "gone.zip\n"])
def test_an_incomplete_cache_is_not_trusted(tmp_path, marker):
    folder = tmp_path / "cache" / "h-and-m-personalized-fashion-recommendations"
    folder.mkdir(parents=True)
    (folder / "h-and-m-personalized-fashion-recommendations.zip").write_bytes(b"PK")
    if marker:
        (folder / ".complete").write_text(marker)
    out = run_download(tmp_path, "hm", "h-and-m-personalized-fashion-recommendations")
    assert out.startswith("KaggleError: cannot download") and "no Kaggle credentials found" in out
