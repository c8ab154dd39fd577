"""Hard-negative mining from the baseline image index."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.mining.attribute_codes import (
        UNKNOWN_CODE as UNKNOWN_CODE,
        category_codes as category_codes,
        encode_attributes as encode_attributes,
    )
    from pipelines.mining.negatives import (
        NEGATIVE_COLUMNS as NEGATIVE_COLUMNS,
        MiningResult as MiningResult,
        NeighbourSearch as NeighbourSearch,
        index_neighbours as index_neighbours,
        mine_hard_negatives as mine_hard_negatives,
        positive_reference as positive_reference,
        select_anchors as select_anchors,
        signal_codes as signal_codes,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
