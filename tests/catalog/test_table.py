"""Parsing Myntra styles.csv and H&M articles.csv strictly, with the known repairs, and writing them back."""

import csv

import pandas as pd
import pytest

from pipelines.catalog.formats import catalog_format
from pipelines.catalog.table import CatalogError, parse_catalog_table, write_catalog_table

MYNTRA = catalog_format("myntra")
HM = catalog_format("hm")
MYNTRA_HEADER = ",".join(MYNTRA.columns)


def parse_myntra(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_catalog_table(data, MYNTRA, "cat/styles.csv")


def test_extra_comma_is_joined_back_into_the_name_and_counted(myntra_csv):
    table = parse_myntra(myntra_csv)
    assert table.ids == ["15970", "3413", "21379", "39386", "59263"]
    assert table.rows[1][-1] == "Myntra Men's Yes, its all about me White T-shirt"
    assert table.rows[1][:9] == ["3413", "Men", "Apparel", "Topwear", "Tshirts", "White", "Summer", "2011", "Casual"]
    assert table.repaired_lines == [3]
    assert table.lines == [2, 3, 4, 5, 6]


def test_na_is_a_value_and_empty_fields_stay_empty(myntra_csv):
    table = parse_myntra(myntra_csv)
    assert table.rows[2][5] == "NA" and table.rows[2][8] == "NA"
    assert table.rows[3][7] == ""


def test_two_extra_commas_are_both_kept():
    text = MYNTRA_HEADER + "\n1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,A, B, C Shirt\n"
    table = parse_myntra(text)
    assert table.rows[0][-1] == "A, B, C Shirt" and table.repaired_lines == [2]


def test_written_csv_quotes_the_repaired_name_and_keeps_clean_lines_byte_identical(myntra_csv, tmp_path):
    table = parse_myntra(myntra_csv)
    out = tmp_path / "styles.csv"
    write_catalog_table(table, range(len(table.rows)), out)
    lines = out.read_text(encoding="utf-8").split("\n")
    original = myntra_csv.split("\n")
    assert (
        lines[2] == "3413,Men,Apparel,Topwear,Tshirts,White,Summer,2011,Casual,"
        '"Myntra Men\'s Yes, its all about me White T-shirt"'
    )
    assert [lines[i] for i in (0, 1, 3, 4, 5)] == [original[i] for i in (0, 1, 3, 4, 5)]
    again = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert again.loc[1, "productDisplayName"] == "Myntra Men's Yes, its all about me White T-shirt"
    assert again.loc[2, "baseColour"] == "NA" and again.loc[3, "year"] == ""


def test_written_csv_keeps_only_the_chosen_rows_in_order(myntra_csv, tmp_path):
    table = parse_myntra(myntra_csv)
    out = tmp_path / "styles.csv"
    write_catalog_table(table, [0, 4], out)
    assert [row[0] for row in csv.reader(out.open(encoding="utf-8"))] == ["id", "15970", "59263"]


def test_short_line_names_the_file_and_line(myntra_csv):
    text = myntra_csv + "77,Men,Apparel,Topwear,Shirts\n"
    with pytest.raises(CatalogError, match=r"cat/styles\.csv: line 7 has 5 fields, expected 10"):
        parse_myntra(text)


def test_missing_column_names_the_file_and_column(myntra_csv):
    text = myntra_csv.replace("baseColour,", "", 1)
    with pytest.raises(CatalogError, match=r"cat/styles\.csv: missing required column 'baseColour'"):
        parse_myntra(text)


def test_columns_in_another_order_are_an_error(myntra_csv):
    text = myntra_csv.replace("gender,masterCategory", "masterCategory,gender", 1)
    with pytest.raises(CatalogError, match="another order"):
        parse_myntra(text)


def test_non_utf8_names_the_file_byte_and_line(myntra_csv):
    data = myntra_csv.replace("Titan", "Tit\u00e1n").encode("latin-1")
    offset = data.index(b"\xe1")
    with pytest.raises(
        CatalogError, match=rf"cat/styles\.csv: not UTF-8 text \(byte 0xe1 at byte offset {offset}, line 6\)"
    ):
        parse_myntra(data)


def test_duplicate_ids_name_both_lines(myntra_csv):
    text = myntra_csv + "15970,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Another Shirt\n"
    with pytest.raises(CatalogError, match=r"cat/styles\.csv: duplicate id 15970 on lines 2 and 7"):
        parse_myntra(text)


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "12a", "", " 12"])
def test_an_id_that_is_not_digits_is_an_error(myntra_csv, bad_id):
    text = myntra_csv.replace("59263,", f"{bad_id},", 1)
    with pytest.raises(CatalogError, match=r"line 6: id must be digits only"):
        parse_myntra(text)


def test_header_only_is_an_empty_catalog():
    with pytest.raises(CatalogError, match="the catalog is empty"):
        parse_myntra(MYNTRA_HEADER + "\n")
    with pytest.raises(CatalogError, match="the file is empty"):
        parse_myntra("")


def test_blank_lines_and_a_bom_are_ignored(myntra_csv):
    table = parse_myntra("\ufeff" + myntra_csv + "\n\n")
    assert len(table.rows) == 5 and table.lines[-1] == 6


def test_hm_ids_keep_their_leading_zero_and_quoted_commas(hm_csv):
    table = parse_catalog_table(hm_csv.encode(), HM, "hm/articles.csv")
    assert table.ids == ["0108775015", "0123173001", "0130035001"]
    assert table.rows[1][21] == "Womens Nightwear, Socks & Tigh"
    assert table.rows[1][-1] == ""  # empty detail_desc
    assert table.classes == ["Vest top", "Leggings/Tights", "Umbrella"]
    assert table.padded_ids == 0 and table.repaired_lines == []


def test_hm_id_that_lost_its_leading_zero_gets_it_back(hm_csv, tmp_path):
    text = hm_csv.replace("\n0123173001,", "\n123173001,")
    table = parse_catalog_table(text.encode(), HM, "hm/articles.csv")
    assert table.ids[1] == "0123173001" and table.padded_ids == 1
    out = tmp_path / "articles.csv"
    write_catalog_table(table, range(3), out)
    assert out.read_text(encoding="utf-8") == hm_csv


def test_hm_id_of_the_wrong_width_is_an_error(hm_csv):
    text = hm_csv.replace("\n0123173001,", "\n23173001,")
    with pytest.raises(CatalogError, match=r"hm/articles\.csv: line 3: article_id must have 10 digits, got '23173001'"):
        parse_catalog_table(text.encode(), HM, "hm/articles.csv")


def test_hm_extra_field_is_an_error_not_a_repair(hm_csv):
    text = hm_csv.replace("Umbrella with a telescopic handle.", "Umbrella, with a telescopic handle.")
    with pytest.raises(CatalogError, match=r"line 4 has 26 fields, expected 25; quote values"):
        parse_catalog_table(text.encode(), HM, "hm/articles.csv")


def test_broken_quoting_names_the_line(hm_csv):
    text = hm_csv + '0130035002,130035,"Black Umbrella\n'
    with pytest.raises(CatalogError, match=r"hm/articles\.csv: line 5 is not valid CSV"):
        parse_catalog_table(text.encode(), HM, "hm/articles.csv")
