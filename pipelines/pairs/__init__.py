"""Training pairs: strong/medium/weak positives and hard/easy negatives from train items."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.pairs.pair_rules import (
        NONE as NONE,
        POSITIVE_TYPES as POSITIVE_TYPES,
        TYPE_CODE as TYPE_CODE,
        PairItems as PairItems,
        classify_pairs as classify_pairs,
        pair_keys as pair_keys,
    )
    from pipelines.pairs.pair_set import (
        PAIR_COLUMNS as PAIR_COLUMNS,
        RULES as RULES,
        PairsResult as PairsResult,
        allocate as allocate,
        build_pairs as build_pairs,
        check_negatives as check_negatives,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
