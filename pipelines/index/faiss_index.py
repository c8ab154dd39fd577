"""FAISS indexes over the store's keys: choose a factory by size, build, tune search, search, save and reopen."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.index.config import IndexConfig
from pipelines.io import atomic_path, read_json, sha256_file, write_json_atomic
from pipelines.store import LazyRows, check_built_on, row_blocks, take_rows

if TYPE_CHECKING:
    from pipelines.store import Store

log = logging.getLogger(__name__)

METRIC = "inner_product"
# FAISS's own k-means warns below 39 training points per centroid (Clustering::min_points_per_centroid):
# fewer gives degenerate centroids, so we treat it as the minimum a factory needs.
MIN_POINTS_PER_CENTROID = 39
# First over-fetch of search_excluding_groups beyond k; rows still short of k are searched again
# with a doubled fetch until they fill up or the catalog runs out.
GROUP_MARGIN = 16
AUTO = "auto"  # index.factory: choose by catalog size (choose_index)
# choose_index's size bands, after FAISS's "Guidelines to choose an index": exact search while it is cheap, an
# HNSW graph while the full vectors fit comfortably, then IVF (HNSW coarse quantizer) over PQ codes.
EXACT_BELOW = 1_000
HNSW_BELOW = 100_000
HNSW_M = 32
PQ_SUBVECTOR_DIM = 8  # PQ with dim/8 bytes per vector: 48 bytes for 384-d keys, 64 for 512-d
KNOBS = ("ef_search", "nprobe")
ADD_BLOCK = 16_384  # vectors read or computed, and added, per index.add call


@dataclass(frozen=True)
class IndexChoice:
    factory: str  # the index-factory string
    reason: str  # why, for the log and the report
    estimated_bytes: int  # codes, graph links, ids and centroids, from the factory's layout (no build needed)


def choose_index(rows: int, dim: int, train_size: int) -> IndexChoice:
    """The factory for `rows` vectors of `dim` following FAISS's guidelines, with its estimated memory.

    Flat below EXACT_BELOW vectors; HNSW32 below HNSW_BELOW; above, IVF<nlist>_HNSW32,PQ<dim/8>np: nlist the
    power of two nearest below 4·sqrt(rows) (the guidelines' 4-16·sqrt(N)), lowered until `train_size`
    gives k-means its 39 points per list; HNSW32 again when `train_size` is too small to train PQ codebooks.
    The estimate counts what a search holds in memory.
    """
    vector_bytes = 4 * dim
    if rows < EXACT_BELOW:
        return IndexChoice("Flat", f"{rows} < {EXACT_BELOW} vectors: exact search", rows * vector_bytes)
    pq_training = MIN_POINTS_PER_CENTROID * 256  # 2^8 centroids per PQ subquantizer
    if rows < HNSW_BELOW or min(rows, train_size) < pq_training:
        # level 0 holds 2·M int32 links per vector; upper levels add ~1/M of that again
        links = int(2 * HNSW_M * 4 * (1 + 1 / HNSW_M))
        why = (
            f"{rows} < {HNSW_BELOW} vectors"
            if rows < HNSW_BELOW
            else f"train_size {train_size} < the {pq_training} vectors PQ codebooks train on"
        )
        return IndexChoice(f"HNSW{HNSW_M}", f"{why}: HNSW graph over full vectors", rows * (vector_bytes + links))
    nlist = 2 ** int(math.log2(4 * math.sqrt(rows)))
    while nlist > 1 and MIN_POINTS_PER_CENTROID * nlist > min(rows, train_size):
        nlist //= 2
    m = _pq_subquantizers(dim)
    coarse = nlist * (vector_bytes + 2 * HNSW_M * 4)  # centroids and their HNSW graph
    codebooks = 256 * vector_bytes  # 2^8 centroids per subquantizer, dim/m floats each: 256·dim floats in all
    codes = rows * (m + 8)  # one byte per subquantizer and an int64 id per vector in the inverted lists
    return IndexChoice(
        f"IVF{nlist}_HNSW{HNSW_M},PQ{m}np",  # np: no polysemous training (minutes at this size, unused by search)
        f"{rows} ≥ {HNSW_BELOW} vectors: IVF with an HNSW coarse quantizer over {m}-byte PQ codes",
        coarse + codebooks + codes,
    )


def _pq_subquantizers(dim: int) -> int:
    """The largest divisor of `dim` not above dim / PQ_SUBVECTOR_DIM (PQ needs whole subvectors)."""
    target = max(1, dim // PQ_SUBVECTOR_DIM)
    return next(m for m in range(target, 0, -1) if dim % m == 0)


@dataclass(frozen=True)
class BuiltIndex:
    index: faiss.Index  # every vector added, search knobs set
    factory: str  # the index-factory string it was built from ('auto' resolved)
    choice: IndexChoice | None  # choose_index's pick and estimate when index.factory is auto
    knobs: dict[str, int | None]  # the search knobs it holds (configure_search): None where it has no such knob


def build_searchable(vectors: np.ndarray | LazyRows, cfg: IndexConfig, seed: int) -> BuiltIndex:
    """The `index` params' index over `vectors`, ready to search: 'auto' resolved once (choose_index), built
    (training sample drawn with `seed`), then its search knobs set."""
    if not isinstance(vectors, LazyRows):
        vectors = as_rows(vectors, "vectors")
    rows, dim = vectors.shape
    choice = choose_index(rows, dim, cfg.train_size) if cfg.factory == AUTO else None
    factory = choice.factory if choice else cfg.factory
    index = build_index(vectors, factory, train_size=cfg.train_size, seed=seed)
    return BuiltIndex(index, factory, choice, configure_search(index, cfg.ef_search, cfg.nprobe))


def build_index(vectors: np.ndarray | LazyRows, factory: str, *, train_size: int, seed: int) -> faiss.Index:
    """Build an inner-product FAISS index from an index-factory string and add every vector (build_searchable
    resolves 'auto' and sets the search knobs).

    Vectors are read (a memory-mapped store array) or computed (LazyRows, e.g. a model's embeddings) and added
    ADD_BLOCK rows at a time, so the index is all this holds at the end. Indexes that need training (IVF, PQ,
    ...) are trained on a deterministic sample of `train_size` rows drawn with `seed`. A catalog too small to
    train the factory raises a PipelineError that says how many vectors it needs and suggests a factory that
    fits.
    """
    if not isinstance(vectors, LazyRows):
        vectors = as_rows(vectors, "vectors")
    rows, dim = vectors.shape
    if rows == 0:
        raise PipelineError("build_index: no vectors to index (the store has 0 rows)")
    lists = re.search(r"IVF([0-9]+)", factory)
    if lists:  # before index_factory, which allocates the lists' centroids: IVF99999999 would take the machine
        _check_training_size(factory, MIN_POINTS_PER_CENTROID * int(lists[1]), rows, dim, train_size)
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise PipelineError(
            f"index.factory {factory!r} is not a FAISS index-factory string for {dim}-d vectors "
            f"({_faiss_message(exc)}); try 'Flat', 'HNSW32' or 'IVF256,PQ32'"
        ) from None
    if not index.is_trained:
        _check_training_size(factory, training_vectors_needed(index), rows, dim, train_size)
        available = min(rows, train_size)
        sample = np.random.default_rng(seed).choice(rows, size=available, replace=False)
        sample.sort()  # contiguous reads from a memory-mapped store
        log.info("training %s on %d of %d vectors", factory, available, rows)
        index.train(take_rows(vectors, sample))
    with_ids = isinstance(faiss.downcast_index(index), (faiss.IndexIDMap, faiss.IndexIDMap2))
    for start, block in row_blocks(vectors, ADD_BLOCK):
        if with_ids:  # ids are store rows, as without IDMap
            index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
        else:
            index.add(block)
    return index


def _check_training_size(factory: str, needed: int, rows: int, dim: int, train_size: int) -> None:
    """A PipelineError when the training sample cannot train `factory`'s centroids, suggesting one that fits."""
    available = min(rows, train_size)
    if available < needed:
        limit = "index.train_size" if train_size < rows else "the store"
        raise PipelineError(
            f"index.factory {factory!r} needs at least {needed} training vectors "
            f"({MIN_POINTS_PER_CENTROID} per centroid), but {limit} gives {available}; "
            f"use {choose_index(rows, dim, train_size).factory!r} for {rows} vectors"
            + (" or raise index.train_size" if train_size < rows else "")
        )


def training_vectors_needed(index: faiss.Index) -> int:
    """Fewest training vectors for a usable index: 39 per centroid of its largest k-means (IVF or PQ)."""
    centroids = 1
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        centroids = max(centroids, ivf.nlist)
    pq = _product_quantizer(index if ivf is None else ivf)
    if pq is not None:
        centroids = max(centroids, pq.ksub)
    return MIN_POINTS_PER_CENTROID * centroids


def _product_quantizer(index: faiss.Index) -> faiss.ProductQuantizer | None:
    """The PQ of a (possibly wrapped) PQ or IVF-PQ index; None when it has none."""
    index = faiss.downcast_index(index)
    while not hasattr(index, "pq"):
        inner = getattr(index, "index", None) or getattr(index, "base_index", None)
        if inner is None:
            return None
        index = faiss.downcast_index(inner)
    result: faiss.ProductQuantizer | None = index.pq
    return result


def configure_search(index: faiss.Index, ef_search: int | None, nprobe: int | None) -> dict[str, int | None]:
    """Set the search-time knobs the index has, through faiss.ParameterSpace (which looks through
    IndexPreTransform, IDMap and refine wrappers); return the values it holds now, None where it has no
    such knob (or the knob was given as None).

    nprobe is capped at the number of inverted lists; an HNSW coarse quantizer gets an efSearch of at least
    nprobe so that it can return that many lists (that efSearch is the reported ef_search of an IVF index).
    """
    for name, value in (("index.ef_search", ef_search), ("index.nprobe", nprobe)):
        if value is not None and value < 1:
            raise PipelineError(f"{name} must be at least 1, got {value}")
    space = faiss.ParameterSpace()
    applied: dict[str, int | None] = dict.fromkeys(KNOBS)
    ivf = faiss.try_extract_index_ivf(index)
    if nprobe is not None and ivf is not None:
        probes = min(nprobe, ivf.nlist)
        applied["nprobe"] = probes
        space.set_index_parameter(index, "nprobe", probes)
    if ef_search is not None:
        if ivf is not None:  # the knob belongs to the coarse quantizer, when that is an HNSW graph
            value = max(ef_search, applied["nprobe"] or 1)
            if _try_set(space, index, "quantizer_efSearch", value):
                applied["ef_search"] = value
        elif _try_set(space, index, "efSearch", ef_search):
            applied["ef_search"] = ef_search
    return applied


def _try_set(space: faiss.ParameterSpace, index: faiss.Index, name: str, value: int) -> bool:
    """ParameterSpace raises for a parameter the index does not have: that is the 'no such knob' answer."""
    try:
        space.set_index_parameter(index, name, value)
    except RuntimeError:
        return False
    return True


def search(index: faiss.Index, queries: np.ndarray, k: int, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by inner product, in batches: scores float32 (Q, k) and ids int64 (Q, k).

    Where the index returns fewer than k neighbours the id is -1 and the score -inf.
    """
    queries = as_matrix(queries, "queries", dim=index.d)
    if k < 1:
        raise PipelineError(f"search: k must be at least 1, got {k}")
    if batch_size < 1:
        raise PipelineError(f"search: batch_size must be at least 1, got {batch_size}")
    scores = np.empty((len(queries), k), dtype=np.float32)
    ids = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), batch_size):
        stop = start + batch_size
        scores[start:stop], ids[start:stop] = index.search(queries[start:stop], k)
    scores[ids < 0] = -np.inf
    return scores, ids


def search_excluding_groups(
    index: faiss.Index,
    queries: np.ndarray,
    k: int,
    query_groups: np.ndarray,
    doc_groups: np.ndarray,
    batch_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k neighbours whose group differs from the query's group (e.g. other views of the same product).

    Over-fetches k + a margin and filters with numpy; the rows still short of k are searched
    again with a doubled fetch until they fill up or the whole catalog has been fetched.
    Returns (scores float32 (Q, k), ids int64 (Q, k)), padded with -inf / -1 when the
    catalog runs out of other groups.
    """
    queries = as_matrix(queries, "queries", dim=index.d)
    query_groups = np.asarray(query_groups)
    doc_groups = np.asarray(doc_groups)
    if query_groups.shape != (len(queries),):
        raise PipelineError(
            f"search_excluding_groups: query_groups has shape {query_groups.shape}, expected ({len(queries)},)"
        )
    if doc_groups.shape != (index.ntotal,):
        raise PipelineError(
            f"search_excluding_groups: doc_groups has shape {doc_groups.shape}, expected ({index.ntotal},) "
            "(one group per indexed vector)"
        )
    if k < 1:
        raise PipelineError(f"search_excluding_groups: k must be at least 1, got {k}")
    # One integer code per group, shared by queries and documents, so the filter is an integer compare.
    codes, _ = pd.factorize(np.concatenate([query_groups.astype(object), doc_groups.astype(object)]))
    query_codes, doc_codes = codes[: len(queries)], codes[len(queries) :]

    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(queries), batch_size):
        batch = np.arange(start, min(start + batch_size, len(queries)))
        fetch = min(index.ntotal, k + GROUP_MARGIN)
        pending = batch
        while len(pending):
            found_scores, found_ids = search(index, queries[pending], fetch, batch_size=len(pending))
            keep = (found_ids >= 0) & (doc_codes[np.maximum(found_ids, 0)] != query_codes[pending, None])
            counts = keep.sum(axis=1)
            # A stable sort on "not kept" moves kept hits to the front in their original rank order.
            order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
            taken = np.take_along_axis(keep, order, axis=1)
            scores[pending, : order.shape[1]] = np.where(
                taken, np.take_along_axis(found_scores, order, axis=1), -np.inf
            )
            ids[pending, : order.shape[1]] = np.where(taken, np.take_along_axis(found_ids, order, axis=1), -1)
            if fetch >= index.ntotal:
                break
            pending = pending[counts < k]
            fetch = min(index.ntotal, 2 * fetch)
    return scores, ids


def index_bytes(index: faiss.Index) -> int:
    """Size of the index as FAISS serialises it (vectors, codes, graph and lists included)."""
    return int(faiss.serialize_index(index).nbytes)


def save_index(
    index: faiss.Index,
    path: str | Path,
    store: Store,
    *,
    factory: str | None = None,
    knobs: Mapping[str, Any] | None = None,
) -> None:
    """Write `<name>.faiss` (atomically) and its sidecar `<name>.json` recording the store it was built on.

    `factory` is the index-factory string it was built from (default: the FAISS class name); `knobs` holds the
    search knobs configure_search returned (ef_search, nprobe; None where the index has none; other keys, as in
    a recall report, are ignored), which open_index applies again.
    """
    faiss_path, sidecar_path = _paths(path)
    if index.ntotal != store.rows:
        raise PipelineError(f"{faiss_path}: index holds {index.ntotal} vectors but the store has {store.rows} rows")
    knobs = {name: (knobs or {}).get(name) for name in KNOBS}
    sidecar = {
        "store_hash": store.store_hash,
        "factory": factory or type(faiss.downcast_index(index)).__name__,
        "metric": METRIC,
        "rows": int(index.ntotal),
        "dim": int(index.d),
        "ef_search": knobs["ef_search"],
        "nprobe": knobs["nprobe"],
    }
    with atomic_path(faiss_path) as tmp:
        faiss.write_index(index, str(tmp))
        sidecar["sha256"] = sha256_file(tmp)  # what open_index(verify=True) checks the file against
    write_json_atomic(sidecar, sidecar_path)


def open_index(path: str | Path, store: Store, *, verify: bool = False) -> faiss.Index:
    """Read an index saved by save_index, check that it was built on `store`, and apply its search knobs. With
    `verify`, the file's sha256 must be the one save_index recorded: a same-size edit of the vector block would
    otherwise read and serve wrong rankings."""
    faiss_path, sidecar_path = _paths(path)
    if not faiss_path.is_file():
        raise PipelineError(f"{faiss_path}: index file not found (run the build_index stage first)")
    if not sidecar_path.is_file():
        raise PipelineError(f"{sidecar_path}: sidecar not found; the index cannot be checked against the store")
    sidecar = read_json(sidecar_path)
    missing = [key for key in ("store_hash", "rows", "dim", "metric") if key not in sidecar]
    if missing:
        raise PipelineError(f"{sidecar_path}: missing key {missing[0]!r}")
    check_built_on(
        faiss_path,
        sidecar["store_hash"],
        store.store_hash,
        "rebuild the index (dvc repro build_index)",
        store=store.path,
    )
    if sidecar["rows"] != store.rows:
        raise PipelineError(f"{sidecar_path}: records {sidecar['rows']} rows but the store has {store.rows}")
    if sidecar["metric"] != METRIC:
        raise PipelineError(f"{sidecar_path}: metric {sidecar['metric']!r}, expected {METRIC!r}")
    if verify and sha256_file(faiss_path) != sidecar.get("sha256"):
        raise PipelineError(
            f"{faiss_path}: sha256 does not match the one {sidecar_path.name} records"
            + ("" if sidecar.get("sha256") else " (none: an index from before sidecars held it)")
            + "; `dvc checkout artifacts/index` or rebuild it (dvc repro build_index)"
        )
    try:
        index = faiss.read_index(str(faiss_path))
    except RuntimeError as exc:
        raise PipelineError(f"{faiss_path}: not a readable FAISS index ({_faiss_message(exc)})") from None
    if index.ntotal != sidecar["rows"] or index.d != sidecar["dim"]:
        raise PipelineError(
            f"{faiss_path}: holds {index.ntotal} vectors of dim {index.d}, but {sidecar_path.name} records "
            f"{sidecar['rows']} of dim {sidecar['dim']}"
        )
    configure_search(index, sidecar.get("ef_search"), sidecar.get("nprobe"))
    return index


def _paths(path: str | Path) -> tuple[Path, Path]:
    path = Path(path)
    return path.with_suffix(".faiss"), path.with_suffix(".json")


def as_matrix(array: np.ndarray, name: str, dim: int | None = None) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise PipelineError(f"{name} must be a 2-d array of vectors, got shape {array.shape}")
    if dim is not None and array.shape[1] != dim:
        raise PipelineError(f"{name} have dimension {array.shape[1]}, but the index holds {dim}-d vectors")
    return np.ascontiguousarray(array, dtype=np.float32)


def as_rows(array: np.ndarray, name: str) -> np.ndarray:
    """`array` as a 2-d array without a copy: a store's memory map stays one, so take_rows reads it from the file."""
    array = np.asanyarray(array)
    if array.ndim != 2:
        raise PipelineError(f"{name} must be a 2-d array of vectors, got shape {array.shape}")
    return array


def _faiss_message(exc: RuntimeError) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


__all__ = [
    "AUTO",
    "BuiltIndex",
    "IndexChoice",
    "build_index",
    "build_searchable",
    "choose_index",
    "configure_search",
    "index_bytes",
    "open_index",
    "save_index",
    "search",
    "search_excluding_groups",
    "training_vectors_needed",
]
