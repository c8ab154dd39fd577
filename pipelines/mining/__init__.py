"""Hard-negative mining from the baseline image index."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "attribute_codes": ["UNKNOWN_CODE", "category_codes", "encode_attributes", "require_columns"],
        "negatives": [
            "NEGATIVE_COLUMNS",
            "MiningResult",
            "NeighbourSearch",
            "mine_hard_negatives",
            "positive_reference",
            "select_anchors",
            "signal_codes",
        ],
    },
)
