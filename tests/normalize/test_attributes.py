"""Field -> rule -> unknown resolution per item, with the source and confidence recorded."""

import numpy as np

from pipelines.normalize.attributes import map_attributes
from pipelines.normalize.rules import load_rules
from pipelines.normalize.tables import format_spec
from pipelines.schema import FIELDS


def test_myntra_fields_rules_and_unknowns(make_myntra):
    frame = make_myntra(
        [
            {
                "id": "1",
                "baseColour": "Navy Blue",
                "productDisplayName": "Roadster Men Navy Blue Striped Slim Fit Shirt",
                "articleType": "Shirts",
            },
            {"id": "2", "baseColour": "NA", "usage": "NA", "productDisplayName": "Nike Women Pink Round Neck T-shirt"},
            {
                "id": "3",
                "articleType": "Handbags",
                "productDisplayName": "Baggit Women Brown Handbag with shoulder straps",
            },
        ]
    )
    result = map_attributes(frame, format_spec("myntra"), load_rules())
    out = result.frame
    assert list(out.columns) == [c for f in FIELDS for c in (f, f"{f}_source", f"{f}_conf")]
    assert out.loc[0, ["category", "color", "pattern", "fit", "neckline"]].tolist() == [
        "shirts",
        "blue",
        "striped",
        "slim",
        "unknown",
    ]
    assert out.loc[0, ["color_source", "pattern_source", "neckline_source"]].tolist() == ["field", "rule", "unknown"]
    assert out.loc[0, ["color_conf", "pattern_conf", "neckline_conf"]].tolist() == [
        np.float32(0.9),
        np.float32(0.7),
        np.float32(0.1),
    ]
    assert out["color_conf"].dtype == np.float32
    # NA colour falls through to the name; NA usage has no rule match: unknown
    assert out.loc[1, ["color", "color_source", "style", "style_source", "neckline"]].tolist() == [
        "pink",
        "rule",
        "unknown",
        "unknown",
        "round",
    ]
    # a bag's "shoulder straps" is no sleeve length: sleeve rules only apply to upper-body garments
    assert out.loc[2, ["category", "sleeve_length", "sleeve_length_source"]].tolist() == ["bags", "unknown", "unknown"]
    assert result.unmapped == {}


def test_rules_off_leaves_only_field_values(make_myntra):
    frame = make_myntra([{"id": "1", "productDisplayName": "Roadster Men Striped Shirt"}])
    out = map_attributes(frame, format_spec("myntra"), None).frame
    assert out.loc[0, ["pattern", "pattern_source", "category_source"]].tolist() == ["unknown", "unknown", "field"]


def test_hm_sources_in_order_and_unmapped_values_counted(make_hm):
    frame = make_hm(
        [
            {
                "article_id": "0100000001",
                "colour_group_name": "Other",
                "perceived_colour_master_name": "Khaki green",
                "graphical_appearance_name": "Denim",
                "product_type_name": "Trousers",
                "index_group_name": "Baby/Children",
                "section_name": "Kids Girl",
                "detail_desc": "5-pocket jeans in washed stretch denim in a slim fit.",
            },
            {
                "article_id": "0100000002",
                "product_type_name": "Hoverboard",
                "prod_name": "Ultra Tee",
                "index_group_name": "Divided",
                "section_name": "Divided Collection",
            },
            {
                "article_id": "0100000003",
                "product_type_name": "Unknown",
                "garment_group_name": "Trousers Denim",
                "index_group_name": "Baby/Children",
                "section_name": "Kids Outerwear",
            },
        ]
    )
    result = map_attributes(frame, format_spec("hm"), load_rules())
    out = result.frame
    assert out.loc[0, ["color", "material", "material_source", "pattern", "gender", "fit"]].tolist() == [
        "green",
        "denim",
        "field",
        "unknown",
        "girls",
        "slim",
    ]
    assert out.loc[1, ["category", "category_source", "gender"]].tolist() == ["tees", "rule", "women"]
    assert out.loc[2, ["category", "category_source", "gender", "gender_source"]].tolist() == [
        "jeans",
        "field",
        "unknown",
        "unknown",
    ]
    assert dict(result.unmapped) == {"category:product_type_name": {"Hoverboard": 1}}
