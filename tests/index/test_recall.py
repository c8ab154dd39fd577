"""build_and_measure: the report reads the index it built, with recall against exact search per query modality,
and holds no timing."""

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.index import (
    build_and_measure,
    build_index,
    held_out_queries,
    index_reports,
    modality_queries,
    recall_by_modality,
)
from pipelines.index.config import IndexConfig
from pipelines.params import ParamsError, build

RECALLS = {"recall_at_10_image_queries", "recall_at_10_text_queries"}


def vectors(n=1500, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, dim))[rng.integers(16, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def pair(n=1500, dim=32, seed=0):
    """Image keys and text keys of the same items: the text side shares each item's cluster, offset by a gap."""
    image = vectors(n, dim, seed)
    rng = np.random.default_rng(seed + 100)
    text = image + 0.5 * rng.standard_normal((1, dim)) + 0.4 * rng.standard_normal((n, dim))
    return image, (text / np.linalg.norm(text, axis=1, keepdims=True)).astype(np.float32)


def measure(cfg, n=1500, seed=0):
    image, text = pair(n)
    queries = modality_queries({"image": image, "text": text}, cfg.eval_queries, seed)
    return build_and_measure(image, cfg, seed, queries)


def test_flat_report_is_exact_for_both_modalities():
    measured = measure(IndexConfig(factory="Flat", eval_queries=100))
    report = measured.report
    assert report["recall_at_10_image_queries"] == 1.0 and report["recall_at_10_text_queries"] == 1.0
    assert (report["factory"], report["auto"], report["rows"], report["dim"], report["eval_queries"]) == (
        "Flat",
        False,
        1500,
        32,
        100,
    )
    assert report["bytes_per_vector"] == pytest.approx(32 * 4, rel=0.05)  # float32 codes, small header
    assert (report["ef_search"], report["nprobe"]) == (None, None)  # a flat index has neither knob
    assert set(report) == RECALLS | {
        "factory",
        "auto",
        "rows",
        "dim",
        "eval_queries",
        "bytes_per_vector",
        "ef_search",
        "nprobe",
    }
    assert set(measured.timings) == {"build_s", "queries_per_s"}  # for the log, kept out of the report
    assert measured.timings["queries_per_s"] > 0 and measured.timings["build_s"] > 0  # both were measured
    assert measured.index.ntotal == 1500 and measured.estimated_bytes is None


def test_auto_picks_by_size_and_reports_the_estimate():
    measured = measure(IndexConfig(factory="auto", ef_search=64, eval_queries=100))
    assert (measured.report["factory"], measured.report["auto"]) == ("HNSW32", True)
    assert measured.estimated_bytes == pytest.approx(measured.report["bytes_per_vector"] * 1500, rel=0.25)


def test_the_report_is_the_same_on_every_run():
    cfg = IndexConfig(factory="HNSW16", ef_search=32, eval_queries=100)
    first, second = (measure(cfg, 800, seed=4) for _ in range(2))
    assert first.report == second.report  # timings may differ between the runs; the report may not
    assert first.report["recall_at_10_image_queries"] >= 0.9 and first.report["ef_search"] == 32


def test_a_compressed_index_loses_recall_for_both_modalities():
    image, text = pair(6000, 32, seed=1)
    queries = modality_queries({"image": image, "text": text}, 300, seed=2)
    report = build_and_measure(image, IndexConfig(factory="IVF32,PQ8x4", nprobe=4, eval_queries=300), 0, queries).report
    assert 0.1 < report["recall_at_10_image_queries"] < 0.9 and 0.1 < report["recall_at_10_text_queries"] < 0.9


def test_index_reports_split_the_headline_from_the_detail():
    cfg = IndexConfig(factory="Flat", eval_queries=50)
    measured = {"image": measure(cfg, 300), "text": measure(cfg, 300, seed=1)}
    headline, detail = index_reports(measured)
    assert headline == {name: dict.fromkeys(sorted(RECALLS), 1.0) for name in ("image", "text")}
    assert detail["text"] == measured["text"].report and detail["image"]["rows"] == 300
    assert not any(key.endswith("_s") for report in detail.values() for key in report)


def test_recall_by_modality_counts_misses():
    image, text = pair(400)
    index = build_index(image[:200], "Flat", train_size=200, seed=0)  # half the catalog missing from the index
    queries = modality_queries({"image": image, "text": text}, 100, seed=3)
    recall = recall_by_modality(index, image, queries)
    assert set(recall) == RECALLS and all(0.2 < value < 0.8 for value in recall.values())


def test_held_out_queries_are_near_but_not_equal_to_store_rows():
    x = vectors(200)
    queries = held_out_queries(x, 50, seed=1)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-5)
    best = (queries @ x.T).max(axis=1)
    assert (best < 0.999).all() and (best > 0.75).all()
    np.testing.assert_array_equal(queries, held_out_queries(x, 50, seed=1))


def test_too_small_for_the_factory():
    with pytest.raises(PipelineError, match="needs at least"):
        measure(IndexConfig(factory="IVF256,PQ8"), 500)


def test_config_validation():
    with pytest.raises(ParamsError, match="index.nprobe must be at least 1"):
        build(IndexConfig, {"nprobe": 0}, "index")
