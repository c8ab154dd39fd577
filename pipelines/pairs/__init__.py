"""Training pairs: strong/medium/weak positives and hard/easy negatives from train items."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.pairs.pair_rules import NONE, POSITIVE_TYPES, TYPE_CODE, PairItems, classify_pairs, pair_keys
    from pipelines.pairs.pair_set import PAIR_COLUMNS, RULES, PairsResult, allocate, build_pairs, check_negatives

__getattr__, __all__ = lazy_exports(__name__, __file__)
