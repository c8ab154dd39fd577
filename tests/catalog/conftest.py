"""Tiny hand-written Myntra and H&M catalogs, with the warts of the real files."""

from __future__ import annotations

from pathlib import Path

import pytest

MYNTRA_HEADER = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName"
# Line 3 has the real file's unquoted comma (id 3413); line 4 literal NA; line 5 an empty year.
MYNTRA_CSV = (
    MYNTRA_HEADER + "\n"
    "15970,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt\n"
    "3413,Men,Apparel,Topwear,Tshirts,White,Summer,2011,Casual,Myntra Men's Yes, its all about me White T-shirt\n"
    "21379,Men,Apparel,Bottomwear,Track Pants,NA,Fall,2011,NA,Manchester United Men Solid Black Track Pants\n"
    "39386,Men,Apparel,Bottomwear,Jeans,Blue,Summer,,Casual,Peter England Men Party Blue Jeans\n"
    "59263,Women,Accessories,Watches,Watches,Silver,Winter,2016,Casual,Titan Women Silver Watch\n"
)

HM_HEADER = (
    "article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,"
    "graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,"
    "perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,"
    "perceived_colour_master_name,department_no,department_name,index_code,index_name,index_group_no,"
    "index_group_name,section_no,section_name,garment_group_no,garment_group_name,detail_desc"
)
HM_ROWS = [
    "0108775015,108775,Strap top,253,Vest top,Garment Upper body,1010016,Solid,9,Black,4,Dark,5,Black,1676,"
    "Jersey Basic,A,Ladieswear,1,Ladieswear,16,Womens Everyday Basics,1002,Jersey Basic,"
    "Jersey top with narrow shoulder straps.",
    "0123173001,123173,Control Top 50 den 1p Tights,273,Leggings/Tights,Garment Lower body,1010016,Solid,9,Black,4,"
    'Dark,5,Black,3608,Tights basic,B,Lingeries/Tights,1,Ladieswear,62,"Womens Nightwear, Socks & Tigh",1021,'
    "Socks and Tights,",
    "0130035001,130035,Black Umbrella,532,Umbrella,Items,1010016,Solid,9,Black,4,Dark,5,Black,3419,Other items,C,"
    "Ladies Accessories,1,Ladieswear,66,Womens Small accessories,1019,Accessories,Umbrella with a telescopic handle.",
]
HM_CSV = HM_HEADER + "\n" + "\n".join(HM_ROWS) + "\n"


def image_bytes(item_id: str) -> bytes:
    """Stand-in image content (ingest copies bytes and never decodes them); tests compare against it."""
    return f"jpeg-of-{item_id}".encode()


def write_myntra(root: Path, csv_text: str = MYNTRA_CSV, missing: tuple[str, ...] = ()) -> Path:
    """A Myntra folder: styles.csv and images/<id>.jpg for every id except `missing`."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "styles.csv").write_text(csv_text, encoding="utf-8")
    for line in csv_text.splitlines()[1:]:
        item_id = line.split(",", 1)[0]
        if line and item_id not in missing:
            (root / "images" / f"{item_id}.jpg").write_bytes(image_bytes(item_id))
    return root


def write_hm(root: Path, csv_text: str = HM_CSV) -> Path:
    """An H&M folder: articles.csv and images/<first 3>/<article_id>.jpg."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "articles.csv").write_text(csv_text, encoding="utf-8")
    for line in csv_text.splitlines()[1:]:
        item_id = line.split(",", 1)[0].zfill(10)
        (root / "images" / item_id[:3]).mkdir(exist_ok=True)
        (root / "images" / item_id[:3] / f"{item_id}.jpg").write_bytes(image_bytes(item_id))
    return root


@pytest.fixture
def myntra_csv() -> str:
    return MYNTRA_CSV


@pytest.fixture
def hm_csv() -> str:
    return HM_CSV


@pytest.fixture
def make_myntra():
    return write_myntra


@pytest.fixture
def make_hm():
    return write_hm


@pytest.fixture
def myntra_dir(tmp_path: Path) -> Path:
    return write_myntra(tmp_path / "myntra")


@pytest.fixture
def hm_dir(tmp_path: Path) -> Path:
    return write_hm(tmp_path / "hm")
