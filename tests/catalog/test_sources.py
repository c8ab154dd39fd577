"""Parsing `data.source` into a catalog source, and the error that lists the accepted forms."""

from pathlib import Path

import pytest

from pipelines.catalog.sources import CatalogSource, SourceError, parse_source


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("sample", CatalogSource("sample", "sample")),
        (
            "myntra:../shared/data/myntra-sample",
            CatalogSource("myntra:../shared/data/myntra-sample", "myntra", path=Path("../shared/data/myntra-sample")),
        ),
        (
            "myntra:/data/fashion-product-images-small.zip",
            CatalogSource(
                "myntra:/data/fashion-product-images-small.zip",
                "myntra",
                path=Path("/data/fashion-product-images-small.zip"),
            ),
        ),
        ("hm:data/hm", CatalogSource("hm:data/hm", "hm", path=Path("data/hm"))),
        (
            "myntra:kaggle:paramaggarwal/fashion-product-images-dataset",
            CatalogSource(
                "myntra:kaggle:paramaggarwal/fashion-product-images-dataset",
                "myntra",
                kaggle="paramaggarwal/fashion-product-images-dataset",
            ),
        ),
        (
            "myntra:kaggle",
            CatalogSource("myntra:kaggle", "myntra", kaggle="paramaggarwal/fashion-product-images-small"),
        ),
        (
            "hm:kaggle:h-and-m-personalized-fashion-recommendations",
            CatalogSource(
                "hm:kaggle:h-and-m-personalized-fashion-recommendations",
                "hm",
                kaggle="h-and-m-personalized-fashion-recommendations",
            ),
        ),
        ("hm:kaggle", CatalogSource("hm:kaggle", "hm", kaggle="h-and-m-personalized-fashion-recommendations")),
    ],
)
def test_accepted_forms(spec, expected):
    assert parse_source(spec) == expected


def test_home_is_expanded_in_paths():
    assert parse_source("hm:~/hm").path == Path.home() / "hm"


@pytest.mark.parametrize("spec", ["foo:bar", "deepfashion:/data", "Sample", "/data/styles.csv", ""])
def test_unknown_scheme_lists_the_accepted_forms(spec):
    with pytest.raises(SourceError) as info:
        parse_source(spec)
    message = str(info.value)
    assert f"data.source {spec!r} is not an accepted form" in message
    for form in (
        "sample",
        "myntra:<folder or zip>",
        "myntra:kaggle[:<owner>/<dataset>]",
        "hm:<folder or zip>",
        "hm:kaggle[:<competition>]",
    ):
        assert form in message


def test_scheme_without_a_path_is_an_error():
    with pytest.raises(SourceError, match="names no folder, zip or kaggle slug after 'myntra:'"):
        parse_source("myntra:")


@pytest.mark.parametrize(
    "spec, expected",
    [("myntra:kaggle:fashion-product-images-small", "<owner>/<dataset>"), ("hm:kaggle:h&m/comp", "<competition>")],
)
def test_malformed_kaggle_slug_is_an_error(spec, expected):
    with pytest.raises(SourceError, match=f"is named {expected}"):
        parse_source(spec)


def test_bare_format_reads_the_tracked_catalog_path():
    assert parse_source("hm", "data/hm") == CatalogSource("hm", "hm", path=Path("data/hm"))


def test_a_local_source_must_name_the_path_dvc_tracks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_source("myntra:cat", str(tmp_path / "cat")).path == Path("cat")  # the same folder, spelled two ways
    with pytest.raises(SourceError, match="'other'.*data.catalog.*'cat'.*set data.catalog: other"):
        parse_source("myntra:other", "cat")


def test_sample_and_kaggle_sources_ignore_the_tracked_path():
    default = "pipelines/catalog/sample_catalog.yaml"
    assert parse_source("sample", default).kind == "sample"
    assert parse_source("myntra:kaggle", default).kaggle == "paramaggarwal/fashion-product-images-small"
