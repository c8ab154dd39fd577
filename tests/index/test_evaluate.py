"""build_and_measure: the report reads the index it built, with recall against exact search, and holds no timing."""

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.index import build_and_measure, held_out_queries, index_reports
from pipelines.index.config import IndexConfig
from pipelines.params import ParamsError, build


def vectors(n=1500, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, dim))[rng.integers(16, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_flat_report_is_exact():
    measured = build_and_measure(vectors(), IndexConfig(factory="Flat", eval_queries=100), seed=0)
    report = measured.report
    assert report["recall_at_10"] == 1.0
    assert (report["factory"], report["rows"], report["dim"], report["eval_queries"]) == ("Flat", 1500, 32, 100)
    assert report["bytes_per_vector"] == pytest.approx(32 * 4, rel=0.05)  # float32 codes, small header
    assert (report["ef_search"], report["nprobe"]) == (None, None)  # a flat index has neither knob
    assert set(report) == {
        "factory",
        "rows",
        "dim",
        "recall_at_10",
        "eval_queries",
        "bytes_per_vector",
        "ef_search",
        "nprobe",
    }
    assert set(measured.timings) == {"build_s", "queries_per_s"}  # for the log, kept out of the report
    assert measured.timings["queries_per_s"] > 0 and measured.timings["build_s"] > 0  # both were measured
    assert measured.index.ntotal == 1500


def test_the_report_is_the_same_on_every_run():
    cfg = IndexConfig(factory="HNSW16", ef_search=32, eval_queries=100)
    first, second = (build_and_measure(vectors(800), cfg, seed=4) for _ in range(2))
    assert first.report == second.report  # timings may differ between the runs; the report may not
    assert first.report["recall_at_10"] >= 0.9 and first.report["ef_search"] == 32


def test_index_reports_split_the_headline_from_the_detail():
    cfg = IndexConfig(factory="Flat", eval_queries=50)
    measured = {
        "image": build_and_measure(vectors(300), cfg, seed=0),
        "text": build_and_measure(vectors(300, seed=1), cfg, seed=0),
    }
    headline, detail = index_reports(measured)
    assert headline == {"image": {"recall_at_10": 1.0}, "text": {"recall_at_10": 1.0}}
    assert detail["text"] == measured["text"].report and detail["image"]["rows"] == 300
    assert not any(key.endswith("_s") for report in detail.values() for key in report)


def test_hnsw_report():
    report = build_and_measure(vectors(), IndexConfig(factory="HNSW32", ef_search=64, eval_queries=200), seed=0).report
    assert report["recall_at_10"] >= 0.9
    assert report["bytes_per_vector"] > 32 * 4  # the graph links cost extra
    assert report["ef_search"] == 64


def test_held_out_queries_are_near_but_not_equal_to_store_rows():
    x = vectors(200)
    queries = held_out_queries(x, 50, seed=1)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-5)
    best = (queries @ x.T).max(axis=1)
    assert (best < 0.999).all() and (best > 0.75).all()
    np.testing.assert_array_equal(queries, held_out_queries(x, 50, seed=1))


def test_too_small_for_the_factory():
    with pytest.raises(PipelineError, match="needs at least"):
        build_and_measure(vectors(500), IndexConfig(factory="IVF256,PQ8"), seed=0)


def test_config_validation():
    with pytest.raises(ParamsError, match="index.nprobe must be at least 1"):
        build(IndexConfig, {"nprobe": 0}, "index")
