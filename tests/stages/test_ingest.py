"""`python -m stages.ingest` end to end: the sample, the real Myntra and H&M samples, failures that leave nothing."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from pipelines.catalog import read_raw_catalog

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"  # ../shared/data beside the repo
needs_real = pytest.mark.skipif(not REAL_DATA.is_dir(), reason="the real data samples (../shared/data) are absent")


def leftovers(workdir: Path) -> list[str]:
    """Anything in data/ besides a finished raw/ (temporary folders of a failed run)."""
    return (
        sorted(p.name for p in (workdir / "data").iterdir() if p.name != "raw") if (workdir / "data").exists() else []
    )


def manifest(workdir: Path) -> dict:
    return json.loads((workdir / "data" / "raw" / "manifest.json").read_text())


def test_sample_source(run_stage, tmp_path):
    result = run_stage(
        "ingest", tmp_path, {"seed": 42, "data": {"source": "sample", "sample": {"items": 60, "image_size": 32}}}
    )
    assert result.returncode == 0, result.stderr
    m = manifest(tmp_path)
    assert (m["source"], m["format"], m["csv"], m["seed"]) == ("sample", "myntra", "styles.csv", 42)
    assert m["rows"] == m["images"] == 60 - m["dropped"]["missing_image"]
    raw = read_raw_catalog(tmp_path / "data" / "raw")
    assert sorted(raw.frame["image_file"]) == sorted(
        f"images/{p.name}" for p in (tmp_path / "data" / "raw" / "images").iterdir()
    )
    assert leftovers(tmp_path) == []


@needs_real
def test_real_myntra_sample_subsampled(run_stage, tmp_path):
    result = run_stage(
        "ingest",
        tmp_path,
        {
            "seed": 7,
            "data": {
                "source": f"myntra:{REAL_DATA / 'myntra-sample'}",
                "catalog": str(REAL_DATA / "myntra-sample"),
                "max_items": 150,
            },
        },
    )
    assert result.returncode == 0, result.stderr
    m = manifest(tmp_path)
    assert (m["rows"], m["images"], m["subsampled_from"], m["repaired_rows"], m["dropped"]) == (
        150,
        150,
        5000,
        0,
        {"missing_image": 0},
    )
    raw_dir = tmp_path / "data" / "raw"
    original = (REAL_DATA / "myntra-sample" / "styles.csv").read_text().splitlines()
    written = (raw_dir / "styles.csv").read_text().splitlines()
    assert written[0] == original[0]
    positions = [original.index(line) for line in written[1:]]  # every row byte-identical, catalog order kept
    assert positions == sorted(positions)
    frame = read_raw_catalog(raw_dir).frame
    # 141 article types in 150 rows: the floor keeps every type at least once
    assert frame["articleType"].nunique() == 141
    sample_id = frame["id"].iloc[0]
    assert (raw_dir / "images" / f"{sample_id}.jpg").read_bytes() == (
        REAL_DATA / "myntra-sample" / "images" / f"{sample_id}.jpg"
    ).read_bytes()


@needs_real
def test_real_hm_rows_then_a_failing_run_keeps_the_previous_output(run_stage, tmp_path):
    source = REAL_DATA / "hm-sample"
    with open(source / "articles.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[:31]  # header + 30 articles
    catalog = tmp_path / "hm"
    (catalog / "images").mkdir(parents=True)
    with open(catalog / "articles.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    for row in rows[1:]:
        (catalog / "images" / row[0][:3]).mkdir(exist_ok=True)
        shutil.copyfile(
            source / "images" / row[0][:3] / f"{row[0]}.jpg", catalog / "images" / row[0][:3] / f"{row[0]}.jpg"
        )

    work = tmp_path / "work"
    work.mkdir()
    result = run_stage("ingest", work, {"seed": 42, "data": {"source": "hm", "catalog": str(catalog)}})
    assert result.returncode == 0, result.stderr
    first = manifest(work)
    assert (first["format"], first["rows"], first["images"], first["dropped"]) == ("hm", 30, 30, {"missing_image": 0})
    assert (work / "data/raw/articles.csv").read_bytes() == (catalog / "articles.csv").read_bytes()
    frame = read_raw_catalog(work / "data/raw").frame
    assert frame["article_id"].tolist() == [row[0] for row in rows[1:]]
    assert all(len(i) == 10 and i.startswith("0") for i in frame["article_id"])

    # A duplicate article id: one error line naming file and lines; the previous data/raw stays as it was.
    with open(catalog / "articles.csv", "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerow(rows[5])
    result = run_stage("ingest", work, {"seed": 42, "data": {"source": "hm", "catalog": str(catalog)}})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {catalog / 'articles.csv'}: ") and result.stderr.count("\n") == 1
    assert f"duplicate article_id {rows[5][0]}" in result.stderr and "lines 6 and 32" in result.stderr
    assert manifest(work) == first and leftovers(work) == []


@pytest.mark.parametrize(
    "source, phrases",
    [
        ("foo:bar", ["params.yaml", "data.source 'foo:bar'", "sample, myntra:"]),
        (
            "myntra:kaggle:paramaggarwal/fashion-product-images-small",
            ["paramaggarwal/fashion-product-images-small", "no Kaggle credentials", "kaggle.json"],
        ),
    ],
)
def test_bad_source_is_one_line_and_leaves_no_output(run_stage, tmp_path, source, phrases):
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "KAGGLE_CONFIG_DIR": str(home / "kaggle")}
    result = run_stage("ingest", tmp_path, {"seed": 42, "data": {"source": source}}, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert all(phrase in result.stderr for phrase in phrases), result.stderr
    assert not (tmp_path / "data" / "raw").exists() and leftovers(tmp_path) == []
