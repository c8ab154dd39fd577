"""Finding the table and images of a local catalog in a folder (however Kaggle nested it) or a zip."""

import os
import zipfile

import pytest

from pipelines.catalog.formats import catalog_format
from pipelines.catalog.location import DirectoryCatalog, ZipCatalog, locate_catalog
from pipelines.catalog.table import CatalogError

MYNTRA = catalog_format("myntra")
HM = catalog_format("hm")


def zip_folder(folder, archive, prefix=""):
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def test_kaggle_nesting_is_found(tmp_path, make_myntra, myntra_csv):
    make_myntra(tmp_path / "fashion-product-images-small" / "myntradataset")
    catalog = locate_catalog(tmp_path, MYNTRA)
    assert isinstance(catalog, DirectoryCatalog)
    assert catalog.root == tmp_path / "fashion-product-images-small" / "myntradataset"
    assert catalog.read_table() == myntra_csv.encode()


def test_the_shallowest_table_with_images_wins(tmp_path, make_myntra):
    make_myntra(tmp_path)
    make_myntra(tmp_path / "myntradataset")
    (tmp_path / "fashion-dataset").mkdir()
    (tmp_path / "fashion-dataset" / "styles.csv").write_text("no images beside me")
    assert locate_catalog(tmp_path, MYNTRA).root == tmp_path


def test_the_table_file_itself_is_accepted(myntra_dir):
    assert locate_catalog(myntra_dir / "styles.csv", MYNTRA).root == myntra_dir


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match=rf"data.source: {tmp_path}/nope does not exist"):
        locate_catalog(tmp_path / "nope", MYNTRA)


def test_table_without_images_is_an_error(tmp_path, myntra_csv):
    (tmp_path / "styles.csv").write_text(myntra_csv)
    with pytest.raises(CatalogError, match=r"styles\.csv: no images/ folder beside it"):
        locate_catalog(tmp_path, MYNTRA)


def test_the_wrong_scheme_gets_a_hint(hm_dir):
    with pytest.raises(
        CatalogError, match=rf"no styles\.csv found in {hm_dir}.*found .*articles\.csv, use data.source hm:"
    ):
        locate_catalog(hm_dir, MYNTRA)


def test_missing_images_are_reported_not_fatal(tmp_path, make_myntra):
    root = make_myntra(tmp_path / "m", missing=("21379",))
    catalog = locate_catalog(root, MYNTRA)
    images = ["images/15970.jpg", "images/21379.jpg", "images/3413.jpg"]
    assert catalog.find_images(images, [2, 4, 3]) == [True, False, True]


def test_an_image_symlinked_outside_the_catalog_is_an_error(tmp_path, myntra_dir):
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"not yours")
    os.remove(myntra_dir / "images" / "3413.jpg")
    os.symlink(outside, myntra_dir / "images" / "3413.jpg")
    catalog = locate_catalog(myntra_dir, MYNTRA)
    with pytest.raises(
        CatalogError,
        match=rf"styles\.csv: line 3: .*images/3413\.jpg.*{outside}.*outside the catalog",
    ):
        catalog.find_images(["images/15970.jpg", "images/3413.jpg"], [2, 3])


def test_directory_copy_is_a_plain_copy(tmp_path, hm_dir):
    catalog = locate_catalog(hm_dir, HM)
    out = tmp_path / "out"
    out.mkdir()
    catalog.copy_images(["images/010/0108775015.jpg", "images/013/0130035001.jpg"], out)
    copied = out / "images" / "010" / "0108775015.jpg"
    assert copied.read_bytes() == b"jpeg-of-0108775015"
    assert not copied.is_symlink() and os.stat(copied).st_ino != os.stat(hm_dir / "images/010/0108775015.jpg").st_ino
    assert sorted(p.name for p in (out / "images").rglob("*.jpg")) == ["0108775015.jpg", "0130035001.jpg"]


def test_zip_with_kaggle_nesting_is_read_in_place(tmp_path, myntra_dir, myntra_csv):
    archive = zip_folder(myntra_dir, tmp_path / "fashion-product-images-small.zip", prefix="myntradataset/")
    catalog = locate_catalog(archive, MYNTRA)
    assert isinstance(catalog, ZipCatalog) and catalog.prefix == "myntradataset/"
    assert catalog.read_table() == myntra_csv.encode()
    assert catalog.find_images(["images/15970.jpg", "images/1.jpg"], [2, 3]) == [True, False]
    out = tmp_path / "out"
    catalog.copy_images(["images/15970.jpg", "images/3413.jpg"], out)
    assert (out / "images" / "3413.jpg").read_bytes() == b"jpeg-of-3413"
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["15970.jpg", "3413.jpg"]


def test_zip_without_the_table_is_an_error(tmp_path, hm_dir):
    archive = zip_folder(hm_dir, tmp_path / "h-and-m.zip")
    with pytest.raises(CatalogError, match=r"h-and-m\.zip: the zip holds no styles\.csv"):
        locate_catalog(archive, MYNTRA)


def test_corrupt_zip_member_names_the_member(tmp_path, myntra_dir):
    archive = zip_folder(myntra_dir, tmp_path / "m.zip")
    data = bytearray(archive.read_bytes())
    at = data.index(b"jpeg-of-3413")
    data[at : at + 4] = b"JPEG"  # the stored bytes no longer match the CRC
    archive.write_bytes(bytes(data))
    catalog = locate_catalog(archive, MYNTRA)
    with pytest.raises(CatalogError, match=r"m\.zip \(member images/3413\.jpg\): cannot extract image"):
        catalog.copy_images(["images/3413.jpg"], tmp_path / "out")
