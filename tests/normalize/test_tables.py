"""The mapping tables: complete for the real files, canonical values only, deliberate choices pinned."""

from pathlib import Path

import pandas as pd
import pytest

from pipelines.errors import PipelineError
from pipelines.normalize.tables import fold, format_spec, load_value_table
from pipelines.schema import vocabulary

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="the real data samples (../shared/data) are absent")


def lookup(fmt: str, field: str, raw: str, source: int = 0):
    return format_spec(fmt).fields[field][source].table.lookup(raw)


@pytest.mark.parametrize(
    "fmt, field, raw, expected",
    [
        ("myntra", "color", "Navy Blue", "blue"),
        ("myntra", "color", "Off White", "white"),
        ("myntra", "color", "Grey Melange", "gray"),
        ("myntra", "color", "Maroon", "red"),
        ("myntra", "color", "Multi", None),
        ("myntra", "color", "NA", None),
        ("myntra", "category", "Tshirts", "tees"),
        ("myntra", "category", "Casual Shoes", "shoes"),
        ("myntra", "category", "Handbags", "bags"),
        ("myntra", "category", "Shrug", "cardigans"),
        ("myntra", "category", "Free Gifts", None),  # a promotion bucket: the name decides
        ("myntra", "category", "Lipstick", "beauty"),
        ("myntra", "style", "Smart Casual", "smart_casual"),
        ("myntra", "style", "NA", None),
        ("myntra", "gender", "Unisex", "unisex"),
        ("hm", "category", "Polo shirt", "tees"),
        ("hm", "category", "Vest top", "tops"),
        ("hm", "category", "Unknown", None),
        ("hm", "pattern", "Stripe", "striped"),
        ("hm", "pattern", "Check", "checked"),
        ("hm", "pattern", "Dot", "dotted"),
        ("hm", "pattern", "All over pattern", "printed"),
        ("hm", "pattern", "Melange", "solid"),
        ("hm", "pattern", "Denim", None),
        ("hm", "color", "Greenish Khaki", "green"),
    ],
)
def test_pinned_mappings(fmt, field, raw, expected):
    known, value = lookup(fmt, field, raw)
    assert known and value == expected


def test_lookup_folds_case_and_spaces_and_reports_unlisted_values():
    table = format_spec("myntra").fields["color"][0].table
    assert table.lookup("  navy   BLUE ") == (True, "blue")
    assert table.lookup("Ultraviolet") == (False, None)
    assert fold("Off\u00a0White") == "off white"


def test_hm_gender_section_refines_index_group():
    sources = format_spec("hm").fields["gender"]
    assert [s.column for s in sources] == ["section_name", "index_group_name"]
    assert sources[0].table.lookup("Young Girl") == (True, "girls")
    assert sources[0].partial and not sources[1].partial
    assert sources[1].table.lookup("Baby/Children") == (True, None)
    assert sources[1].table.lookup("Menswear") == (True, "men")


def test_every_table_value_is_canonical():
    vocab = vocabulary()
    for fmt in ("myntra", "hm"):
        for field, sources in format_spec(fmt).fields.items():
            allowed = set(vocab[field]) | ({"other"} if field == "category" else set())
            for source in sources:
                assert {v for v in source.table.values.values() if v} <= allowed, (fmt, field, source.column)


def test_a_non_canonical_table_value_is_refused(tmp_path):
    (tmp_path / "bad.csv").write_text("raw,value,note\nNavy Blue,navy,\n")
    with pytest.raises(RuntimeError, match="'navy' is not a canonical color value"):
        load_value_table("bad", "color", tmp_path)


def test_a_raw_value_listed_twice_differently_is_refused(tmp_path):
    (tmp_path / "dup.csv").write_text("raw,value,note\nTeal,blue,\nteal,green,\n")
    with pytest.raises(RuntimeError, match="listed twice"):
        load_value_table("dup", "color", tmp_path)


def test_unknown_format_is_one_clear_error():
    with pytest.raises(PipelineError, match="no field mapping for catalog format 'zalando'"):
        format_spec("zalando")


@needs_real
@pytest.mark.parametrize(
    "fmt, csv, columns",
    [
        ("myntra", "myntra-sample/styles.csv", ["articleType", "baseColour", "usage", "season", "gender"]),
        (
            "hm",
            "hm-sample/articles.csv",
            [
                "product_type_name",
                "colour_group_name",
                "perceived_colour_master_name",
                "graphical_appearance_name",
                "index_group_name",
                "garment_group_name",
            ],
        ),
    ],
)
def test_tables_cover_every_value_of_the_real_samples(fmt, csv, columns):
    frame = pd.read_csv(REAL / csv, dtype=str, keep_default_na=False)
    spec = format_spec(fmt)
    tables = {s.column: s.table for sources in spec.fields.values() for s in sources if not s.partial}
    for column in columns:
        unlisted = sorted(v for v in frame[column].unique() if not tables[column].lookup(v)[0])
        assert unlisted == [], f"{fmt}.{column} values no table lists: {unlisted}"
    if fmt == "myntra":
        assert frame["articleType"].nunique() == 141
        apparel = frame[frame["masterCategory"] == "Apparel"]["articleType"].unique()
        other = [a for a in apparel if tables["articleType"].lookup(a)[1] in ("other", None)]
        assert sorted(other) == ["Clothing Set", "Lehenga Choli", "Suspenders"]  # no canonical garment
    else:
        assert frame["product_type_name"].nunique() == 107
