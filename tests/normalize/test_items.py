"""normalize_catalog end to end on tiny catalogs: the items table, the profile, and every bad-input error."""

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.normalize import ITEM_COLUMNS, SchemaConfig, normalize_catalog, render_profile_markdown

SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}
NAMES = [
    "Roadster Men Striped Denim Shirt",
    "Nike Women Round Neck T-shirt",
    "Puma Men Slim Fit Track Pants",
    "Baggit Women Handbag",
    "Fila Men Polo T-shirt",
    "Only Women Floral Dress",
    "Levis Men Jeans",
    "Arrow Men Checked Shirt",
    "W Women Printed Kurta",
    "Jockey Men Briefs",
]


@pytest.fixture
def catalog(tmp_path, monkeypatch, make_myntra, make_image):
    """40 items (10 products in 4 colours) under data/raw of a temporary working directory."""
    monkeypatch.chdir(tmp_path)
    colours = ["Black", "Navy Blue", "White", "Red"]
    rows = [
        {
            "id": str(100 + i),
            "productDisplayName": NAMES[i % 10]
            .replace(" Men ", f" Men {colours[i // 10]} ")
            .replace(" Women ", f" Women {colours[i // 10]} "),
            "baseColour": colours[i // 10],
        }
        for i in range(40)
    ]
    frame = make_myntra(rows)
    for f in frame["image_file"]:
        make_image(tmp_path / "data" / "raw" / f)
    return frame


def run(frame, **kw):
    args = dict(csv_name="styles.csv", schema=SchemaConfig(), splits=SPLITS, min_readable=0.9, workers=1, seed=42)
    args.update(kw)
    return normalize_catalog("myntra", frame, "data/raw", **args)


def test_items_table_matches_the_contract(catalog):
    result = run(catalog)
    items = result.items
    assert list(items.columns) == ITEM_COLUMNS
    assert items["item_id"].tolist() == catalog["id"].tolist()  # catalog order
    assert items.loc[0, "image_path"] == "data/raw/images/100.jpg"
    assert items.loc[0, ["title", "desc", "group_key"]].tolist() == [
        "Roadster Men Black Striped Denim Shirt",
        "",
        "myntra:roadster men striped denim shirt",
    ]
    assert items.groupby("group_key")["split"].nunique().max() == 1
    assert set(items["split"]) == {"train", "val", "test"}
    assert items["category_conf"].dtype == np.float32
    assert all(
        items[c].dtype == object or str(items[c].dtype).startswith("str")
        for c in ITEM_COLUMNS
        if not c.endswith("_conf")
    )
    assert items.loc[0, ["pattern", "material", "color"]].tolist() == ["striped", "denim", "black"]
    profile = result.profile
    assert (profile["rows"], profile["items"], profile["unreadable"], profile["groups"]) == (40, 40, 0, 10)
    assert sum(profile["split_items"].values()) == 40
    assert profile["unknown_share"]["color"] == 0.0 and profile["unknown_share"]["sleeve_length"] == 1.0
    assert profile["sources"]["pattern"] == {"field": 0, "rule": 16, "unknown": 24}


def test_unreadable_images_are_dropped_and_counted(catalog, tmp_path):
    (tmp_path / "data/raw/images/101.jpg").write_bytes(b"")
    (tmp_path / "data/raw/images/102.jpg").unlink()
    result = run(catalog)
    assert len(result.items) == 38 and "101" not in set(result.items["item_id"])
    assert result.profile["unreadable"] == 2 and result.profile["readable_share"] == 0.95
    assert result.profile["unreadable_reasons"] == {"missing": 1, "empty": 1, "undecodable": 0}
    markdown = render_profile_markdown(result.profile, result.details, source="sample")
    assert "| images/101.jpg | empty |" in markdown and "| category |" in markdown


def test_same_input_gives_identical_bytes(catalog, tmp_path):
    run(catalog).items.to_parquet(tmp_path / "a.parquet", index=False)
    run(catalog, workers=2).items.to_parquet(tmp_path / "b.parquet", index=False)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_too_few_readable_images_fail(catalog, tmp_path):
    for i in range(5):
        (tmp_path / f"data/raw/images/{110 + i}.jpg").write_bytes(b"")
    with pytest.raises(
        PipelineError, match=r"data/raw: only 35 of 40 images decode \(87.50%.*images/110.jpg \(empty\)"
    ):
        run(catalog)


def test_missing_required_column_names_file_and_column(catalog):
    with pytest.raises(PipelineError, match=r"data/raw/styles.csv: missing required column 'baseColour'"):
        run(catalog.drop(columns=["baseColour"]))


def test_empty_catalog(catalog):
    with pytest.raises(PipelineError, match=r"data/raw/styles.csv: the catalog has no rows"):
        run(catalog.iloc[:0])


def test_duplicate_and_blank_ids_name_the_rows(catalog):
    duplicated = catalog.copy()
    duplicated.loc[5, "id"] = "103"
    with pytest.raises(PipelineError, match=r"styles.csv: id '103' appears in rows 4 and 6"):
        run(duplicated)
    blank = catalog.copy()
    blank.loc[7, "id"] = " "
    with pytest.raises(PipelineError, match=r"styles.csv: row 8 has an empty 'id'"):
        run(blank)


def test_a_catalog_too_small_for_the_splits(catalog):
    with pytest.raises(PipelineError, match=r"split '\w+' got no items: the catalog has only 1 product groups"):
        run(catalog.iloc[[0, 10]])


def test_schema_rules_off(catalog):
    items = run(catalog, schema=SchemaConfig(rules=False)).items
    assert set(items["pattern_source"]) == {"unknown"} and set(items["color_source"]) == {"field"}


def test_raw_myntra_fields_are_kept_beside_the_schema(catalog):
    catalog.loc[1, "usage"] = " NA "
    catalog.loc[2, "season"] = ""
    items = run(catalog).items
    raw = ["raw_masterCategory", "raw_subCategory", "raw_articleType", "raw_baseColour", "raw_season", "raw_usage"]
    assert ITEM_COLUMNS[-6:] == raw
    assert items.loc[0, raw].tolist() == ["Apparel", "Topwear", "Tshirts", "Black", "Summer", "Casual"]
    assert items.loc[1, "raw_usage"] == "NA" and items.loc[2, "raw_season"] == ""  # verbatim, trimmed


def test_hm_maps_its_own_columns_onto_the_kept_raw_fields(make_hm):
    from pipelines.normalize.items import raw_fields
    from pipelines.normalize.tables import format_spec

    frame = make_hm(
        [
            {
                "article_id": "0108775015",
                "product_group_name": "Garment Upper body",
                "product_type_name": "Vest top",
                "colour_group_name": "Black",
                "index_group_name": "Ladieswear",
            }
        ]
    )
    spec = format_spec("hm")
    assert {"product_group_name", "index_group_name"} <= set(spec.required_columns)
    raw = raw_fields(frame, spec.raw)
    assert raw.iloc[0].to_dict() == {
        "raw_masterCategory": "Ladieswear",
        "raw_subCategory": "Garment Upper body",
        "raw_articleType": "Vest top",
        "raw_baseColour": "Black",
        "raw_season": "",
        "raw_usage": "",
    }
