"""FAISS indexes over the store's keys (inner product), with the store hash recorded beside each index."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.index.exact import exact_neighbours, one_thread
    from pipelines.index.faiss_index import (
        AUTO,
        BuiltIndex,
        IndexChoice,
        build_index,
        build_searchable,
        choose_index,
        configure_search,
        index_bytes,
        open_index,
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
        recall_at_k,
        recall_by_modality,
        recall_key,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
