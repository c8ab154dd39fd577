"""Ingesting a catalog into the raw layout (+ manifest.json) and reading it back for normalize."""

import json
import zipfile

import pytest

from pipelines.catalog.config import SampleConfig
from pipelines.catalog.raw import RawCatalog, ingest_catalog, read_raw_catalog
from pipelines.catalog.sources import parse_source
from pipelines.catalog.table import CatalogError
from pipelines.errors import PipelineError

SMALL_SAMPLE = SampleConfig(items=60, image_size=32)


def ingest(spec, out, max_items=0, seed=42):
    out.mkdir()
    return ingest_catalog(parse_source(spec), out, max_items=max_items, seed=seed, sample=SMALL_SAMPLE)


def test_myntra_folder_is_ingested_with_repairs_and_drops_counted(tmp_path, make_myntra):
    root = make_myntra(tmp_path / "myntra", missing=("39386",))
    out = tmp_path / "raw"
    manifest = ingest(f"myntra:{root}", out)
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert {
        k: manifest[k]
        for k in (
            "source",
            "format",
            "csv",
            "rows",
            "images",
            "repaired_rows",
            "repaired_lines",
            "dropped",
            "max_items",
            "seed",
            "subsampled_from",
        )
    } == {
        "source": f"myntra:{root}",
        "format": "myntra",
        "csv": "styles.csv",
        "rows": 4,
        "images": 4,
        "repaired_rows": 1,
        "repaired_lines": [3],
        "dropped": {"missing_image": 1},
        "max_items": 0,
        "seed": 42,
        "subsampled_from": None,
    }
    assert manifest["dropped_ids"] == {"missing_image": ["39386"]}
    assert "dataset you downloaded" in manifest["license"]
    assert sorted(p.name for p in (out / "images").iterdir()) == ["15970.jpg", "21379.jpg", "3413.jpg", "59263.jpg"]
    assert (out / "images" / "3413.jpg").read_bytes() == b"jpeg-of-3413"

    raw = read_raw_catalog(out)
    assert isinstance(raw, RawCatalog) and raw.format == "myntra" and raw.manifest == manifest
    assert list(raw.frame.columns) == [
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
        "image_file",
    ]
    assert raw.frame["id"].tolist() == ["15970", "3413", "21379", "59263"]
    assert raw.frame.loc[1, "productDisplayName"] == "Myntra Men's Yes, its all about me White T-shirt"
    assert raw.frame.loc[2, "baseColour"] == "NA" and raw.frame.loc[2, "usage"] == "NA"
    assert raw.frame["image_file"].tolist() == [
        "images/15970.jpg",
        "images/3413.jpg",
        "images/21379.jpg",
        "images/59263.jpg",
    ]


def test_hm_zip_is_ingested_with_ids_as_strings(tmp_path, hm_dir):
    archive = tmp_path / "h-and-m-personalized-fashion-recommendations.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(hm_dir.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(hm_dir).as_posix())
        zf.writestr("transactions_train.csv", "t_dat,customer_id,article_id\n")
    out = tmp_path / "raw"
    manifest = ingest(f"hm:{archive}", out)
    assert (manifest["format"], manifest["csv"], manifest["rows"], manifest["dropped"]) == (
        "hm",
        "articles.csv",
        3,
        {"missing_image": 0},
    )
    assert (out / "articles.csv").read_bytes() == (hm_dir / "articles.csv").read_bytes()
    assert not (out / "transactions_train.csv").exists()
    raw = read_raw_catalog(out)
    assert raw.frame["article_id"].tolist() == ["0108775015", "0123173001", "0130035001"]
    assert (
        raw.frame.loc[1, "section_name"] == "Womens Nightwear, Socks & Tigh" and raw.frame.loc[1, "detail_desc"] == ""
    )
    assert raw.frame["image_file"].tolist() == [
        "images/010/0108775015.jpg",
        "images/012/0123173001.jpg",
        "images/013/0130035001.jpg",
    ]
    assert all((out / f).read_bytes() == f"jpeg-of-{f[-14:-4]}".encode() for f in raw.frame["image_file"])


def test_max_items_keeps_a_stratified_subsample_in_catalog_order(tmp_path, make_myntra):
    lines = [
        ",".join(
            [
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
        )
    ]
    kinds = ["Tshirts"] * 30 + ["Shorts"] * 2 + ["Jeans"] * 8
    lines += [f"{100 + i},Men,Apparel,Topwear,{kind},Blue,Fall,2012,Casual,Item {i}" for i, kind in enumerate(kinds)]
    root = make_myntra(tmp_path / "m", "\n".join(lines) + "\n")
    first = ingest(f"myntra:{root}", tmp_path / "raw1", max_items=10, seed=3)
    ingest(f"myntra:{root}", tmp_path / "raw2", max_items=10, seed=3)
    assert (first["rows"], first["subsampled_from"], first["max_items"]) == (10, 40, 10)
    assert (tmp_path / "raw1" / "styles.csv").read_bytes() == (tmp_path / "raw2" / "styles.csv").read_bytes()
    frame = read_raw_catalog(tmp_path / "raw1").frame
    assert frame["articleType"].value_counts().to_dict() == {"Tshirts": 5, "Jeans": 3, "Shorts": 2}
    assert frame["id"].astype(int).is_monotonic_increasing
    assert len(list((tmp_path / "raw1" / "images").iterdir())) == 10


def test_no_image_at_all_is_an_empty_catalog(tmp_path, make_myntra, myntra_csv):
    ids = tuple(line.split(",")[0] for line in myntra_csv.splitlines()[1:])
    root = make_myntra(tmp_path / "m", missing=ids)
    with pytest.raises(CatalogError, match=r"styles\.csv: none of its 5 rows has an image .*the catalog is empty"):
        ingest(f"myntra:{root}", tmp_path / "raw")


def test_sample_source_goes_through_the_myntra_reader(tmp_path):
    out = tmp_path / "raw"
    manifest = ingest("sample", out)
    assert (manifest["source"], manifest["format"], manifest["license"]) == (
        "sample",
        "myntra",
        "generated, no license restrictions",
    )
    generated = manifest["generated"]  # the generator's own counts of the warts it wrote
    assert manifest["dropped"] == {"missing_image": len(generated["missing_images"])}
    assert set(manifest["dropped_ids"]["missing_image"]) == set(map(str, generated["missing_images"]))
    assert manifest["repaired_rows"] == generated["malformed_rows"]
    assert manifest["rows"] == manifest["images"] == 60 - len(generated["missing_images"])
    raw = read_raw_catalog(out)
    assert len(raw.frame) == manifest["rows"]
    assert all((out / f).is_file() for f in raw.frame["image_file"])
    names = raw.frame.set_index("id")["productDisplayName"]
    repaired = [str(i) for i in generated["malformed_ids"] if str(i) in names.index]
    assert repaired and all("," in names[i] for i in repaired)


def test_read_raw_catalog_checks_what_it_reads(tmp_path, myntra_dir):
    with pytest.raises(PipelineError, match=r"manifest\.json: file not found"):
        read_raw_catalog(tmp_path)
    out = tmp_path / "raw"
    ingest(f"myntra:{myntra_dir}", out)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "rows": 9}))
    with pytest.raises(PipelineError, match=r"styles\.csv: holds 5 rows but .*manifest\.json says 9"):
        read_raw_catalog(out)
    (out / "manifest.json").write_text(json.dumps({**manifest, "format": "deepfashion"}))
    with pytest.raises(PipelineError, match=r"'format' must be one of myntra, hm, got 'deepfashion'"):
        read_raw_catalog(out)
