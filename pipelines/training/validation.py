"""Validation retrieval on one split, measured as evaluate measures it, and the check that the store keys are finite."""

from __future__ import annotations

import faiss
import numpy as np

from pipelines.errors import PipelineError
from pipelines.evaluation.metrics import mean_attribute_at_k, ranked_metric, same_value
from pipelines.index.exact import one_thread
from pipelines.index.faiss_index import search, search_excluding_groups
from pipelines.store import row_blocks
from pipelines.training.data import TrainingData
from pipelines.training.losses import IGNORE_INDEX

VAL_K = 10


def validation_retrieval(
    image: np.ndarray,
    text: np.ndarray,
    labels: dict[str, np.ndarray],
    product_groups: np.ndarray,
    text_groups: np.ndarray,
) -> dict[str, float]:
    """Retrieval on one split, measured as evaluate measures it (pipelines/evaluation/metrics.py over exact FAISS
    neighbours): image->image attribute@10 among other products (`product_groups`), averaged over attributes
    (queries with an unknown value skipped, unknown results are misses), and image->text recall@1, where the
    nearest text must belong to the query's own text group (same title + desc)."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    text = np.ascontiguousarray(text, dtype=np.float32)
    if len(image) == 0:
        return {"val_recall_at_1": 0.0, "val_attr_at_10": 0.0}
    with one_thread():  # exact scores through BLAS: one thread, so near-ties never follow the core count
        _, neighbours = search_excluding_groups(_exact_index(image), image, VAL_K, product_groups, product_groups)
        _, nearest_text = search(_exact_index(text), image, 1)
    text_hits = same_value(nearest_text, text_groups, text_groups)
    return {
        "val_recall_at_1": float(ranked_metric("recall@1", text_hits).mean()),
        "val_attr_at_10": mean_attribute_at_k(neighbours, labels, VAL_K, IGNORE_INDEX),
    }


def check_finite_keys(data: TrainingData) -> None:
    """Raise, naming the first bad row, when a store key holds NaN or infinite values."""
    for name, keys in (("image_keys", data.image_keys), ("text_keys", data.text_keys)):
        bad = np.concatenate([~np.isfinite(block).all(axis=1) for _, block in row_blocks(keys)])
        if bad.any():
            raise PipelineError(
                f"store {name}: row {int(np.flatnonzero(bad)[0])} holds NaN or infinite values ({int(bad.sum())} rows)"
            )


def _exact_index(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index
