"""FAISS indexes over the store's keys (inner product), with the store hash recorded beside each index."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.index.faiss_index import (
        AUTO,
        IndexChoice,
        build_index,
        choose_index,
        configure_search,
        exact_neighbours,
        index_bytes,
        one_thread,
        open_index,
        recall_at_k,
        resolve_factory,
        save_index,
        search,
        search_excluding_groups,
        training_vectors_needed,
    )
    from pipelines.index.recall import (
        MeasuredIndex,
        build_and_measure,
        held_out_queries,
        index_reports,
        modality_queries,
        queries_per_second,
        recall_by_modality,
        recall_key,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
