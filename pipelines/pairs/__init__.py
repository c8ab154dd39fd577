"""Training pairs: strong/medium/weak positives and hard/easy negatives from train items."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "pair_set": ["PAIR_COLUMNS", "RULES", "PairsResult", "allocate", "build_pairs", "check_negatives"],
        "pair_rules": ["NONE", "POSITIVE_TYPES", "TYPE_CODE", "PairItems", "classify_pairs", "pair_keys"],
    },
)
