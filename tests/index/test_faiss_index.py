"""FAISS index helpers: the size-based choice, recall against exact search, group-excluding search, knobs
through ParameterSpace, save/open checks."""

import json

import faiss
import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.index import (
    build_index,
    build_searchable,
    choose_index,
    configure_search,
    exact_neighbours,
    index_bytes,
    open_index,
    recall_at_k,
    save_index,
    search,
    search_excluding_groups,
    training_vectors_needed,
)
from pipelines.index.config import IndexConfig
from pipelines.io import sha256_file

MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 0}


def unit_vectors(n: int, dim: int, seed: int = 0, clusters: int = 0) -> np.ndarray:
    """Random unit vectors; with `clusters`, drawn around that many random centres."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim))
    if clusters:
        centres = np.random.default_rng(1000 + clusters).standard_normal((clusters, dim))
        vectors = centres[rng.integers(clusters, size=n)] + 0.7 * vectors
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_flat_equals_exact_search():
    vectors = unit_vectors(500, 16, seed=1)
    queries = unit_vectors(40, 16, seed=2)
    scores, ids = search(build_index(vectors, "Flat", train_size=1000, seed=0), queries, 5)
    full = queries @ vectors.T
    expected = np.argsort(-full, axis=1)[:, :5]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), rtol=1e-5)
    assert scores.dtype == np.float32 and ids.dtype == np.int64


def test_exact_neighbours_are_the_same_on_any_number_of_faiss_threads():
    """Crowded keys (an untrained backbone's: every cosine near 1) hold near-ties; BLAS on two threads scores
    them in other last bits than on one, so ground truth computed on the default threads would swap them."""
    rng = np.random.default_rng(0)
    common = rng.standard_normal(384).astype(np.float32)
    vectors = (
        common + 0.05 * rng.standard_normal((2000, 384)).astype(np.float32) * np.linalg.norm(common) * 5 / 384**0.5
    )
    vectors = np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)
    before = faiss.omp_get_max_threads()
    try:
        found = []
        for threads in (1, 2):
            faiss.omp_set_num_threads(threads)
            found.append(exact_neighbours(vectors, vectors[:500], 10))
    finally:
        faiss.omp_set_num_threads(before)
    np.testing.assert_array_equal(found[0], found[1])


def test_recall_at_k_counts_shared_neighbours():
    truth = np.array([[1, 2, 3], [4, 5, -1]])
    found = np.array([[3, 9, 1], [5, 4, 7]])
    assert recall_at_k(found, truth) == pytest.approx(4 / 5)


def test_hnsw_recall_against_exact():
    vectors = unit_vectors(3000, 32, seed=3, clusters=20)
    queries = unit_vectors(200, 32, seed=4, clusters=20)
    index = build_index(vectors, "HNSW32", train_size=1000, seed=0)
    configure_search(index, ef_search=64, nprobe=1)
    recall = recall_at_k(search(index, queries, 10)[1], exact_neighbours(vectors, queries, 10))
    assert recall >= 0.9


def test_ivf_is_trained_on_a_seeded_sample_and_is_exact_with_all_lists():
    vectors = unit_vectors(2000, 16, seed=5, clusters=8)
    queries = unit_vectors(50, 16, seed=6, clusters=8)
    a = build_index(vectors, "IVF8,Flat", train_size=400, seed=7)
    b = build_index(vectors, "IVF8,Flat", train_size=400, seed=7)
    for index in (a, b):
        knobs = configure_search(index, ef_search=16, nprobe=8)
    assert knobs == {"ef_search": None, "nprobe": 8}  # a flat coarse quantizer has no efSearch
    np.testing.assert_array_equal(search(a, queries, 10)[1], exact_neighbours(vectors, queries, 10))
    np.testing.assert_array_equal(faiss.serialize_index(a), faiss.serialize_index(b))


def test_factory_too_big_for_the_data():
    with pytest.raises(PipelineError, match=r"'IVF256,Flat' needs at least 9984 training vectors.*gives 500.*'Flat'"):
        build_index(unit_vectors(500, 16), "IVF256,Flat", train_size=50000, seed=0)
    with pytest.raises(PipelineError, match=r"index.train_size gives 200.*raise index.train_size"):
        build_index(unit_vectors(2000, 16), "IVF16,Flat", train_size=200, seed=0)


def test_an_absurd_list_count_is_refused_before_faiss_allocates_its_centroids(monkeypatch):
    """IVF99999999 at 384-d would allocate 150 GB of centroids inside index_factory: refused from the string."""

    def allocate(*args):
        raise AssertionError("index_factory ran")

    monkeypatch.setattr(faiss, "index_factory", allocate)
    with pytest.raises(PipelineError, match=r"'IVF99999999,PQ3' needs at least 3899999961 training vectors"):
        build_index(unit_vectors(500, 384), "IVF99999999,PQ3", train_size=50000, seed=0)
    with pytest.raises(PipelineError, match=r"'OPQ16,IVF4096_HNSW32,PQ16' needs at least 159744"):
        build_index(unit_vectors(500, 384), "OPQ16,IVF4096_HNSW32,PQ16", train_size=50000, seed=0)


def test_bad_factory_string():
    with pytest.raises(PipelineError, match="'HNSWxx' is not a FAISS index-factory string"):
        build_index(unit_vectors(10, 8), "HNSWxx", train_size=10, seed=0)


def test_configure_search_looks_through_wrappers():
    vectors = unit_vectors(2000, 16, seed=8)
    wrapped = build_index(vectors, "PCA8,IVF4_HNSW8,Flat", train_size=2000, seed=0)
    assert configure_search(wrapped, ef_search=40, nprobe=3) == {"ef_search": 40, "nprobe": 3}
    ivf = faiss.extract_index_ivf(wrapped)
    assert ivf.nprobe == 3
    assert faiss.downcast_index(ivf.quantizer).hnsw.efSearch == 40
    # nprobe capped at nlist; the quantizer's efSearch at least nprobe
    assert configure_search(wrapped, ef_search=2, nprobe=99) == {"ef_search": 4, "nprobe": 4}
    assert ivf.nprobe == 4 and faiss.downcast_index(ivf.quantizer).hnsw.efSearch == 4
    idmap = build_index(vectors, "IDMap,HNSW16", train_size=10, seed=0)
    assert configure_search(idmap, ef_search=77, nprobe=1) == {"ef_search": 77, "nprobe": None}
    assert faiss.downcast_index(faiss.downcast_index(idmap).index).hnsw.efSearch == 77
    flat = build_index(vectors, "Flat", train_size=10, seed=0)
    assert configure_search(flat, ef_search=77, nprobe=5) == {"ef_search": None, "nprobe": None}
    with pytest.raises(PipelineError, match="index.nprobe must be at least 1, got 0"):
        configure_search(wrapped, ef_search=8, nprobe=0)


def test_choose_index_follows_the_size_bands():
    assert choose_index(500, 384, 50_000).factory == "Flat"
    small = choose_index(2_000, 384, 50_000)
    assert small.factory == "HNSW32" and small.estimated_bytes == 2_000 * (384 * 4 + 264)
    large = choose_index(1_000_000, 384, 50_000)
    # 4·sqrt(1M) = 4000 -> 2048 lists, lowered to 1024 so that 50,000 training vectors give 39 per list
    assert large.factory == "IVF1024_HNSW32,PQ48np"
    assert 1_000_000 * 56 < large.estimated_bytes < 1_000_000 * 60  # 48-byte codes + int64 ids, small extras
    assert choose_index(200_000, 512, 500_000).factory == "IVF1024_HNSW32,PQ64np"  # 4·sqrt(200k) ≈ 1789
    # 5,000 training vectors cannot train PQ's 256 centroids per subquantizer (9,984 needed): no compressed index
    assert choose_index(200_000, 384, 5_000).factory == "HNSW32"


def test_auto_factory_builds_what_choose_index_estimates():
    vectors = unit_vectors(120_000, 16, seed=15, clusters=30)
    choice = choose_index(len(vectors), 16, 10_000)
    assert choice.factory == "IVF256_HNSW32,PQ2np"  # 4·sqrt(120k) ≈ 1386 -> 1024, lowered to 256 by 10k/39
    built = build_searchable(vectors, IndexConfig(train_size=10_000), seed=0)
    index = built.index
    assert built.factory == choice.factory and built.choice == choice
    assert built.knobs == {"ef_search": 64, "nprobe": 16}  # the config's defaults, set on the built index
    assert faiss.extract_index_ivf(index).nlist == 256 and index.ntotal == len(vectors)
    assert training_vectors_needed(index) == 39 * 256
    assert abs(index_bytes(index) - choice.estimated_bytes) < 0.2 * choice.estimated_bytes


def brute_force_excluding(vectors, queries, k, query_groups, doc_groups):
    ids = np.full((len(queries), k), -1)
    for q in range(len(queries)):
        order = np.argsort(-(vectors @ queries[q]), kind="stable")
        order = order[doc_groups[order] != query_groups[q]][:k]
        ids[q, : len(order)] = order
    return ids


def test_search_excluding_groups_matches_brute_force():
    vectors = unit_vectors(600, 16, seed=9, clusters=5)
    doc_groups = np.array([f"g{g}" for g in np.random.default_rng(0).integers(0, 40, size=600)])  # ~15 per group
    queries = vectors[:100] + 0.01 * unit_vectors(100, 16, seed=10)
    query_groups = doc_groups[:100]
    index = build_index(vectors, "Flat", train_size=600, seed=0)
    scores, ids = search_excluding_groups(index, queries, 30, query_groups, doc_groups, batch_size=32)
    np.testing.assert_array_equal(ids, brute_force_excluding(vectors, queries, 30, query_groups, doc_groups))
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, ids, axis=1), rtol=1e-5)
    assert not (doc_groups[ids] == query_groups[:, None]).any()


def test_search_excluding_groups_pads_when_the_catalog_runs_out():
    vectors = unit_vectors(6, 8, seed=11)
    doc_groups = np.array([0, 0, 0, 0, 1, 2])
    index = build_index(vectors, "Flat", train_size=6, seed=0)
    scores, ids = search_excluding_groups(index, vectors[:2], 4, doc_groups[:2], doc_groups)
    assert [sorted(row[:2]) for row in ids.tolist()] == [[4, 5], [4, 5]]
    assert (ids[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()


def test_save_and_open_round_trip(tmp_path, make_store):
    vectors = unit_vectors(300, 16, seed=12)
    store = make_store(vectors)
    index = build_index(vectors, "HNSW16", train_size=300, seed=0)
    knobs = configure_search(index, 33, 4)
    save_index(index, tmp_path / "index" / "image.faiss", store, factory="HNSW16", knobs=knobs)
    sidecar = json.loads((tmp_path / "index" / "image.json").read_text())
    assert sidecar == {
        "store_hash": store.store_hash,
        "factory": "HNSW16",
        "metric": "inner_product",
        "rows": 300,
        "dim": 16,
        "ef_search": 33,
        "nprobe": None,
        "sha256": sha256_file(tmp_path / "index" / "image.faiss"),
    }  # an HNSW index has no nprobe
    reopened = open_index(tmp_path / "index" / "image.faiss", store, verify=True)
    assert faiss.downcast_index(reopened).hnsw.efSearch == 33
    np.testing.assert_array_equal(search(reopened, vectors[:5], 3)[1], search(index, vectors[:5], 3)[1])
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == ["image.faiss", "image.json"]


def test_open_index_rejects_another_store(tmp_path, make_store):
    vectors = unit_vectors(100, 8, seed=13)
    built_on = make_store(vectors, name="a")
    other = make_store(unit_vectors(100, 8, seed=14), name="b")
    save_index(build_index(vectors, "Flat", train_size=100, seed=0), tmp_path / "image.faiss", built_on)
    with pytest.raises(PipelineError, match=r"image.faiss was built on store .* but .*b has store hash"):
        open_index(tmp_path / "image.faiss", other)
    (tmp_path / "image.json").unlink()
    with pytest.raises(PipelineError, match="sidecar not found"):
        open_index(tmp_path / "image.faiss", built_on)


def test_a_same_size_edit_of_the_index_is_caught_when_verified(tmp_path, make_store):
    vectors = unit_vectors(200, 8, seed=15)
    store = make_store(vectors)
    save_index(build_index(vectors, "Flat", train_size=200, seed=0), tmp_path / "image.faiss", store)
    path = tmp_path / "image.faiss"
    data = bytearray(path.read_bytes())
    data[-2048:-1024] = bytes(1024)  # zeroed vectors: the sizes and the header still agree with the sidecar
    path.write_bytes(bytes(data))
    assert open_index(path, store).ntotal == 200  # unverified, it reads and would serve wrong neighbours
    with pytest.raises(PipelineError, match=r"image.faiss: sha256 does not match the one image.json records"):
        open_index(path, store, verify=True)


def test_save_index_rejects_row_mismatch(tmp_path, make_store):
    store = make_store(unit_vectors(50, 8))
    with pytest.raises(PipelineError, match="holds 40 vectors but the store has 50 rows"):
        save_index(build_index(unit_vectors(40, 8), "Flat", train_size=40, seed=0), tmp_path / "x.faiss", store)
    assert not (tmp_path / "x.faiss").exists()


def test_query_dimension_mismatch():
    index = build_index(unit_vectors(20, 8), "Flat", train_size=20, seed=0)
    with pytest.raises(PipelineError, match="queries have dimension 4, but the index holds 8-d vectors"):
        search(index, unit_vectors(3, 4), 2)


@pytest.mark.parametrize("factory", ["Flat", "IVF8,Flat"])
def test_an_index_built_block_by_block_from_computed_rows_is_the_one_built_from_the_matrix(monkeypatch, factory):
    from pipelines.index import exact, faiss_index
    from pipelines.store import LazyRows

    vectors = unit_vectors(2000, 16, seed=3, clusters=8)
    whole = faiss.serialize_index(build_index(vectors, factory, train_size=1000, seed=5))
    monkeypatch.setattr(faiss_index, "ADD_BLOCK", 300)  # seven blocks, the last one short
    monkeypatch.setattr(exact, "EXACT_BLOCK", 300)
    asked = []
    lazy = LazyRows(vectors.shape, lambda rows: asked.append(len(rows)) or vectors[rows])
    blocks = faiss.serialize_index(build_index(lazy, factory, train_size=1000, seed=5))
    np.testing.assert_array_equal(blocks, whole)
    assert max(asked) <= 1000 and sum(asked) == 2000 + (1000 if factory.startswith("IVF") else 0)
    np.testing.assert_array_equal(exact_neighbours(lazy, vectors[:7], 5), exact_neighbours(vectors, vectors[:7], 5))


def test_building_and_measuring_over_a_store_reads_it_without_mapping_it(tmp_path):
    import pandas as pd

    from pipelines.store import open_store, write_store

    def resident_file_mib() -> float:  # pages of mapped files resident in this process (Linux)
        with open("/proc/self/status", encoding="ascii") as status:
            return int(next(line for line in status if line.startswith("RssFile:")).split()[1]) / 1024

    rows = 100_000  # 51 MB of 128-d keys
    keys = unit_vectors(rows, 128, seed=4)
    meta = pd.DataFrame({"item_id": [f"i{k}" for k in range(rows)], "split": "train"})
    store = open_store(write_store(tmp_path / "s", meta, keys, keys, np.zeros((rows, 1)), MODEL, "test").path)
    build_index(unit_vectors(2000, 128), "IVF16,Flat", train_size=2000, seed=0)  # FAISS's own code paged in
    before = resident_file_mib()
    index = build_index(store.image_keys, "IVF16,Flat", train_size=2000, seed=0)
    truth = exact_neighbours(store.text_keys, keys[:20], 5)
    assert index.ntotal == rows and (truth[:, 0] == np.arange(20)).all()
    assert resident_file_mib() - before < 15
