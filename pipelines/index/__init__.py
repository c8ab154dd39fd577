"""FAISS indexes over the store's keys (inner product), with the store hash recorded beside each index."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "evaluate": ["MeasuredIndex", "build_and_measure", "held_out_queries", "index_reports", "queries_per_second"],
        "faiss_index": [
            "build_index",
            "configure_search",
            "exact_neighbours",
            "index_bytes",
            "open_index",
            "recall_at_k",
            "save_index",
            "search",
            "search_excluding_groups",
            "search_params",
            "suggest_factory",
            "training_vectors_needed",
        ],
    },
)
