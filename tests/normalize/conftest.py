"""Tiny catalogs for the normalize tests: a few rows in the real column layouts, images drawn on the fly."""

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

MYNTRA_COLUMNS = [
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
]
HM_COLUMNS = [
    "article_id",
    "product_code",
    "prod_name",
    "product_type_no",
    "product_type_name",
    "product_group_name",
    "graphical_appearance_no",
    "graphical_appearance_name",
    "colour_group_code",
    "colour_group_name",
    "perceived_colour_value_id",
    "perceived_colour_value_name",
    "perceived_colour_master_id",
    "perceived_colour_master_name",
    "department_no",
    "department_name",
    "index_code",
    "index_name",
    "index_group_no",
    "index_group_name",
    "section_no",
    "section_name",
    "garment_group_no",
    "garment_group_name",
    "detail_desc",
]


def myntra_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows with only the interesting columns given; the rest get plausible values; image_file added."""
    base = {
        "gender": "Men",
        "masterCategory": "Apparel",
        "subCategory": "Topwear",
        "articleType": "Tshirts",
        "baseColour": "Black",
        "season": "Summer",
        "year": "2012",
        "usage": "Casual",
        "productDisplayName": "Puma Men Black T-shirt",
    }
    frame = pd.DataFrame([{**base, **row} for row in rows], columns=MYNTRA_COLUMNS).astype(str)
    frame["image_file"] = "images/" + frame["id"] + ".jpg"
    return frame


def hm_frame(rows: list[dict]) -> pd.DataFrame:
    base = {c: "" for c in HM_COLUMNS}
    base.update(
        {
            "product_type_name": "T-shirt",
            "graphical_appearance_name": "Solid",
            "colour_group_name": "Black",
            "perceived_colour_master_name": "Black",
            "index_group_name": "Ladieswear",
            "section_name": "Womens Everyday Basics",
            "garment_group_name": "Jersey Basic",
            "prod_name": "Tee",
            "detail_desc": "T-shirt in cotton jersey.",
        }
    )
    frame = pd.DataFrame([{**base, **row} for row in rows], columns=HM_COLUMNS).astype(str)
    frame["image_file"] = "images/" + frame["article_id"].str[:3] + "/" + frame["article_id"] + ".jpg"
    return frame


def write_image(path: Path, color=(200, 30, 30), size=(24, 32)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="JPEG", quality=90)
    return path


def write_truncated(path: Path) -> Path:
    write_image(path, size=(64, 64))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def make_myntra():
    return myntra_frame


@pytest.fixture
def make_hm():
    return hm_frame


@pytest.fixture
def make_image():
    return write_image


@pytest.fixture
def make_truncated():
    return write_truncated
