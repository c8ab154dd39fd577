"""Tests for the built-in sample catalog generator (pipelines/catalog/sample)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.catalog.sample import (
    HEADER,
    SampleItem,
    generate_sample_catalog,
    plan_sample_catalog,
    render_item,
    sample_tables,
)
from pipelines.errors import PipelineError

MYNTRA_ARTICLE_TYPES = {
    "Tshirts",
    "Shirts",
    "Tops",
    "Dresses",
    "Skirts",
    "Jeans",
    "Trousers",
    "Shorts",
    "Jackets",
    "Sweaters",
    "Cardigans",
    "Casual Shoes",
    "Sports Shoes",
    "Formal Shoes",
    "Handbags",
}
# baseColour values that occur in the real Kaggle styles.csv
MYNTRA_COLOURS = {
    "Black",
    "White",
    "Off White",
    "Grey",
    "Charcoal",
    "Red",
    "Maroon",
    "Orange",
    "Yellow",
    "Mustard",
    "Green",
    "Olive",
    "Blue",
    "Navy Blue",
    "Purple",
    "Pink",
    "Brown",
    "Beige",
    "Cream",
    "Khaki",
    "Tan",
    "Multi",
}
MYNTRA_USAGES = {"Casual", "Formal", "Sports", "Smart Casual", "Party", "Ethnic", "Travel", "Home"}
MYNTRA_SEASONS = {"Summer", "Fall", "Winter", "Spring"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("sample") / "raw"
    report = generate_sample_catalog(out, items=400, image_size=32, seed=7)
    return out, report


@pytest.fixture(scope="module")
def big_plan() -> list[SampleItem]:
    return plan_sample_catalog(2000, seed=3)


def _lines(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text(encoding="utf-8").split("\n")[1:] if line]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate_sample_catalog(tmp_path / name, items=60, image_size=32, seed=seed)
        files = sorted(p.relative_to(tmp_path / name) for p in (tmp_path / name).rglob("*") if p.is_file())
        runs[name] = {str(p): (tmp_path / name / p).read_bytes() for p in files}
    assert runs["a"] == runs["b"]
    assert runs["a"]["styles.csv"] != runs["c"]["styles.csv"]
    assert len(runs["a"]) == 1 + sum(1 for k in runs["a"] if k.startswith("images/"))


def test_layout_header_ids_and_vocabulary(catalog: tuple[Path, object]) -> None:
    out, report = catalog
    raw = (out / "styles.csv").read_bytes()
    assert raw.startswith(
        b"id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n"
    )
    assert b"\r" not in raw and b'"' not in raw and raw.endswith(b"\n")
    rows = _lines(out / "styles.csv")
    assert len(rows) == report.rows == 400
    ids = [int(r[0]) for r in rows]
    assert len(set(ids)) == len(ids) and all(1_000 <= i < 100_000 for i in ids)
    assert {r[4] for r in rows} <= MYNTRA_ARTICLE_TYPES
    assert {r[5] for r in rows} - {"NA"} <= MYNTRA_COLOURS
    assert {r[6] for r in rows} - {""} <= MYNTRA_SEASONS
    assert {r[8] for r in rows} - {"NA", ""} <= MYNTRA_USAGES
    assert {r[7] for r in rows} - {""} <= {str(y) for y in range(2008, 2020)}
    on_disk = {int(p.stem) for p in (out / "images").glob("*.jpg")}
    assert on_disk == set(ids) - set(report.missing_images)
    assert report.images == len(on_disk)


def test_long_tail(big_plan: list[SampleItem]) -> None:
    counts = Counter(item.article_type for item in big_plan)
    share = {k: v / len(big_plan) for k, v in counts.items()}
    assert counts.most_common(1)[0][0] == "Tshirts" and 0.25 <= share["Tshirts"] <= 0.35
    for rare in ("Cardigans", "Shorts"):
        assert 30 <= counts[rare] and share[rare] <= 0.035, (rare, counts[rare])
    materials = Counter(item.truth["material"] for item in big_plan)
    assert materials["cotton"] > 3 * materials["denim"] > 0
    assert materials["cotton"] > 5 * materials["leather"] > 0
    assert set(counts) == set(sample_tables()["article_types"])


def test_warts_are_written_and_counted(catalog: tuple[Path, object]) -> None:
    out, report = catalog
    rows = _lines(out / "styles.csv")
    malformed = [r for r in rows if len(r) != len(HEADER)]
    assert malformed and all(len(r) == 11 for r in malformed)
    assert sorted(int(r[0]) for r in malformed) == list(report.malformed_ids)
    assert report.malformed_rows == len(malformed)
    slogans = sample_tables()["comma_slogans"]
    assert all(any(s in ",".join(r[9:]) for s in slogans) for r in malformed)
    good = [r for r in rows if len(r) == len(HEADER)]
    for column, index in (("usage", 8), ("baseColour", 5)):
        assert sum(r[index] == "NA" for r in good) == report.na_values[column] >= 1
    for column, index in (("season", 6), ("year", 7), ("usage", 8)):
        assert sum(r[index] == "" for r in good) == report.empty_fields[column] >= 1
    images = out / "images"
    assert report.missing_images and not any((images / f"{i}.jpg").exists() for i in report.missing_images)
    assert report.zero_byte_images and all((images / f"{i}.jpg").stat().st_size == 0 for i in report.zero_byte_images)
    assert report.truncated_images
    for item_id in report.truncated_images:
        with pytest.raises(OSError):
            with Image.open(images / f"{item_id}.jpg") as im:
                im.load()
    bad = set(report.zero_byte_images) | set(report.truncated_images)
    assert len(bad) <= 0.005 * report.rows
    for path in images.glob("*.jpg"):
        if int(path.stem) not in bad:
            with Image.open(path) as im:
                im.load()
                assert im.size == (32, 32) and im.mode == "RGB"
    json.dumps(report.to_dict())  # goes into ingest's manifest as is


def test_multi_view_products_share_name_and_attributes(big_plan: list[SampleItem]) -> None:
    groups: dict[int, list[SampleItem]] = {}
    for item in big_plan:
        groups.setdefault(item.product, []).append(item)
    multi = [g for g in groups.values() if len(g) > 1]
    assert 0.12 <= len(multi) / len(groups) <= 0.3
    assert max(len(g) for g in multi) == 3
    for group in multi:
        assert len({item.name for item in group if not item.malformed}) == 1
        assert len({tuple(sorted(item.truth.items())) for item in group}) == 1
        assert len({item.id for item in group}) == len(group)


def test_names_mention_some_attributes_and_never_lie(big_plan: list[SampleItem]) -> None:
    words = sample_tables()["name_words"]
    mentioned: Counter[str] = Counter()
    applicable: Counter[str] = Counter()
    for item in big_plan:
        for attr, phrases in words.items():
            if item.truth[attr] not in phrases:
                continue
            applicable[attr] += 1
            for value, value_phrases in phrases.items():
                if any(f" {p} " in f" {item.name} " for p in value_phrases):
                    assert value == item.truth[attr], (item.name, attr, item.truth[attr])
                    mentioned[attr] += value == item.truth[attr]
    for attr in ("material", "neckline", "sleeve_length", "fit"):
        assert 0.25 <= mentioned[attr] / applicable[attr] <= 0.75, attr
    assert "Roadster Men" in " ".join(item.name for item in big_plan)


def _garment(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.asarray(image, dtype=np.float32)
    background = pixels[1, 1]
    return pixels, np.abs(pixels - background).sum(axis=2) > 45


def _find(plan: list[SampleItem], **truth: str) -> SampleItem:
    article_type = truth.pop("article_type", None)
    return next(
        i
        for i in plan
        if all(i.truth[k] == v for k, v in truth.items()) and (article_type is None or i.article_type == article_type)
    )


def test_pixels_show_the_colour(big_plan: list[SampleItem]) -> None:
    red = _find(big_plan, category="tees", color="red", pattern="solid")
    pixels, mask = _garment(render_item(red, 64, seed=3))
    r, g, b = pixels[mask].mean(axis=0)
    assert r > g + 60 and r > b + 60
    blue = _find(big_plan, category="jeans", color="blue")
    pixels, mask = _garment(render_item(blue, 64, seed=3))
    r, g, b = pixels[mask].mean(axis=0)
    assert b > r + 30


def _centre(image: Image.Image, x0: float, x1: float) -> np.ndarray:
    luma = np.asarray(image.convert("L"), dtype=np.float32)
    s = luma.shape[0]
    return luma[int(0.4 * s) : int(0.7 * s), int(x0 * s) : int(x1 * s)]


def test_pixels_show_stripes_and_knit_ribs(big_plan: list[SampleItem]) -> None:
    def vertical_variation(item: SampleItem) -> float:
        return float(np.abs(np.diff(_centre(render_item(item, 96, seed=3), 0.4, 0.6), axis=0)).mean())

    def horizontal_variation(item: SampleItem) -> float:
        return float(np.abs(np.diff(_centre(render_item(item, 96, seed=3), 0.36, 0.46), axis=1)).mean())

    solid = _find(big_plan, article_type="Tshirts", pattern="solid", material="cotton")
    striped = _find(big_plan, article_type="Tshirts", pattern="striped")
    assert vertical_variation(striped) > 4 * vertical_variation(solid)
    knit = _find(big_plan, article_type="Sweaters", pattern="solid")
    assert horizontal_variation(knit) > 3 * horizontal_variation(solid)


def test_silhouettes_and_sleeves_differ(big_plan: list[SampleItem]) -> None:
    def extent(item: SampleItem, axis: int) -> int:
        _, mask = _garment(render_item(item, 64, seed=3))
        covered = np.flatnonzero(mask.any(axis=axis))
        return int(covered[-1] - covered[0])

    jeans, shorts = _find(big_plan, category="jeans"), _find(big_plan, category="shorts")
    assert extent(shorts, axis=1) < 0.6 * extent(jeans, axis=1)  # height
    long_top = _find(big_plan, category="tops", sleeve_length="long")
    sleeveless = _find(big_plan, category="tops", sleeve_length="sleeveless")
    assert extent(long_top, axis=0) > 1.3 * extent(sleeveless, axis=0)  # width


def test_views_of_one_product_are_not_identical(big_plan: list[SampleItem]) -> None:
    first, second = next(
        [i for i in big_plan if i.product == p]
        for p in range(len(big_plan))
        if sum(i.product == p for i in big_plan) > 1
    )[:2]
    a, b = (np.asarray(render_item(i, 64, seed=3), dtype=np.float32) for i in (first, second))
    assert np.abs(a - b).mean() > 2.0


def test_bad_arguments_and_non_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="items"):
        generate_sample_catalog(tmp_path / "a", items=5, image_size=32, seed=0)
    with pytest.raises(PipelineError, match="image_size"):
        generate_sample_catalog(tmp_path / "a", items=50, image_size=8, seed=0)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "styles.csv").write_text("old\n")
    with pytest.raises(PipelineError, match="empty folder"):
        generate_sample_catalog(tmp_path / "b", items=50, image_size=32, seed=0)
