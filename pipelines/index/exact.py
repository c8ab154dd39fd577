"""Exact search: the ground truth an index is measured against, exhaustive inner product block by block."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import faiss
import numpy as np

from pipelines.index.faiss_index import as_matrix, as_rows
from pipelines.store import LazyRows, row_blocks

EXACT_BLOCK = 16_384  # catalog rows read or computed, and scored, per faiss.knn call


def exact_neighbours(vectors: np.ndarray | LazyRows, queries: np.ndarray, k: int) -> np.ndarray:
    """Ground-truth ids (Q, k) by exhaustive inner-product search over `vectors` in blocks (faiss.knn per block,
    merged with faiss.ResultHeap), so a memory-mapped store is never copied whole.

    It runs on one thread: faiss.knn scores many queries with BLAS, whose last float bits follow the thread
    count, and near-ties then swap, so the recall an index report gives would follow runtime.index.threads."""
    if not isinstance(vectors, LazyRows):
        vectors = as_rows(vectors, "vectors")
    queries = as_matrix(queries, "queries", dim=vectors.shape[1])
    k = min(k, len(vectors))
    heap = faiss.ResultHeap(len(queries), k, keep_max=True)
    with one_thread():
        for start, block in row_blocks(vectors, EXACT_BLOCK):
            scores, ids = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
            heap.add_result(scores, np.where(ids >= 0, ids + start, -1))
    heap.finalize()
    return heap.I


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread inside the block: exact search scores many queries with BLAS, whose last float
    bits follow the thread count, so near-ties would swap with the machine's cores."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


__all__ = ["exact_neighbours", "one_thread"]
