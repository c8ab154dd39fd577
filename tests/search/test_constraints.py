"""Constraint parsing: the schema's vocabularies with synonyms and plurals, negation, several values per field."""

import pytest

from pipelines.rerank.queries import display
from pipelines.schema import FIELDS, UNKNOWN, vocabulary
from pipelines.search.constraints import parse_query


def parsed(text):
    return parse_query(text).constraints


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("black tees", {"category": ("tees",), "color": ("black",)}),
        ("Navy Blue shirt", {"category": ("shirts",), "color": ("blue",)}),  # colors.csv synonym, singular
        ("maroon dresses", {"category": ("dresses",), "color": ("red",)}),
        ("grey melange sweatshirts", {"category": ("sweatshirts",), "color": ("gray",)}),
        ("t-shirts with long sleeves", {"category": ("tees",), "sleeve_length": ("long",)}),  # not "shirts"
        ("women v-neck tops", {"category": ("tops",), "gender": ("women",), "neckline": ("v_neck",)}),
        ("blue jeans", {"category": ("jeans",), "color": ("blue",)}),  # jeans: the category, not also a material
        ("red or blue dresses", {"category": ("dresses",), "color": ("red", "blue")}),
        ("kids shoes", {"category": ("shoes",), "gender": ("boys", "girls")}),
        ("Tshirts", {"category": ("tees",)}),  # category_myntra.csv's raw value
        # rules.yaml's mask: a brand is not a colour
        ("Do U Speak Green Women Pink T-shirt", {"category": ("tees",), "color": ("pink",), "gender": ("women",)}),
    ],
)
def test_wanted_values(text, wanted):
    constraints = parsed(text)
    assert constraints.wanted == wanted
    assert constraints.excluded == {}


@pytest.mark.parametrize(
    ("text", "wanted", "excluded"),
    [
        ("not black", {}, {"color": ("black",)}),
        ("no prints", {}, {"pattern": ("printed",)}),
        ("without sleeves", {}, {"sleeve_length": ("short", "three_quarter", "long")}),
        ("black tees, not striped", {"category": ("tees",), "color": ("black",)}, {"pattern": ("striped",)}),
        ("no black or white tees", {"category": ("tees",)}, {"color": ("black", "white")}),
        ("non-black jeans", {"category": ("jeans",)}, {"color": ("black",)}),
        ("dresses, anything but pink", {"category": ("dresses",)}, {"color": ("pink",)}),
        ("no floral prints", {}, {"pattern": ("floral", "printed")}),
        ("red tops, not in black", {"category": ("tops",), "color": ("red",)}, {"color": ("black",)}),
        ("no black, white or gray tees", {"category": ("tees",)}, {"color": ("black", "white", "gray")}),
    ],
)
def test_negation_is_an_exclusion(text, wanted, excluded):
    constraints = parsed(text)
    assert constraints.wanted == wanted
    assert constraints.excluded == excluded


def test_the_clip_text_drops_negated_phrases():
    query = parse_query("Navy blue shirts, not striped")
    assert query.clip_text == "navy blue shirts"
    assert parse_query("no prints").clip_text == ""
    assert parse_query("black tees").clip_text == "black tees"


def test_free_text_without_vocabulary_has_no_constraints():
    constraints = parse_query("something nice for a wedding").constraints
    assert not constraints
    assert constraints.to_dict() == {"constraints": {}, "excluded": {}}


def test_to_dict_lists_several_values():
    assert parsed("red or blue dresses, not striped").to_dict() == {
        "constraints": {"category": "dresses", "color": ["red", "blue"]},
        "excluded": {"pattern": ["striped"]},
    }


@pytest.mark.parametrize("field", FIELDS)
def test_every_canonical_value_parses_from_its_display_name(field):
    for value in vocabulary()[field]:
        if value in (UNKNOWN, "other"):
            continue
        wanted = parsed(display(field, value)).wanted
        assert value in wanted.get(field, ()), f"{display(field, value)!r} parsed as {wanted}, expected {field}={value}"
