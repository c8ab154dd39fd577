"""FAISS indexes over the store's keys (inner product), with the store hash recorded beside each index."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.index.evaluate import (
        MeasuredIndex,
        build_and_measure,
        held_out_queries,
        index_reports,
        queries_per_second,
    )
    from pipelines.index.faiss_index import (
        build_index,
        configure_search,
        exact_neighbours,
        index_bytes,
        open_index,
        recall_at_k,
        save_index,
        search,
        search_excluding_groups,
        search_params,
        suggest_factory,
        training_vectors_needed,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
