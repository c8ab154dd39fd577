"""FAISS indexes over the store's keys (inner product), with the store hash recorded beside each index."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.index.exact import exact_neighbours as exact_neighbours, one_thread as one_thread
    from pipelines.index.faiss_index import (
        AUTO as AUTO,
        BuiltIndex as BuiltIndex,
        IndexChoice as IndexChoice,
        build_index as build_index,
        build_searchable as build_searchable,
        choose_index as choose_index,
        configure_search as configure_search,
        index_bytes as index_bytes,
        open_index as open_index,
        save_index as save_index,
        search as search,
        search_excluding_groups as search_excluding_groups,
        training_vectors_needed as training_vectors_needed,
    )
    from pipelines.index.recall import (
        MeasuredIndex as MeasuredIndex,
        build_and_measure as build_and_measure,
        held_out_queries as held_out_queries,
        index_reports as index_reports,
        modality_queries as modality_queries,
        queries_per_second as queries_per_second,
        recall_at_k as recall_at_k,
        recall_by_modality as recall_by_modality,
        recall_key as recall_key,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
