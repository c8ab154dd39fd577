"""Schema attributes as integer codes (-1 = unknown), so item-to-item comparisons are array operations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.schema import UNKNOWN, vocabulary

UNKNOWN_CODE = -1
# "other" is the category of items the schema could not place; two such items do not share a category,
# so category-based rules (hard negatives, medium/weak positives, easy negatives) treat it as unknown.
UNPLACED_CATEGORIES = ("other",)


def encode_attributes(frame: pd.DataFrame, fields: Sequence[str], where: str) -> np.ndarray:
    """(rows, len(fields)) int16 codes into each field's canonical vocabulary; `unknown` is -1.

    `where` names the file in error messages. A value that is neither canonical nor `unknown`
    raises a PipelineError naming the row, the field and the value.
    """
    vocab = vocabulary()
    codes = np.empty((len(frame), len(fields)), dtype=np.int16)
    for column, name in enumerate(fields):
        if name not in frame.columns:
            raise PipelineError(f"{where}: missing column {name!r}")
        values = frame[name].astype("string").fillna(UNKNOWN)
        known = [value for value in vocab[name] if value != UNKNOWN]
        field_codes = pd.Index(known).get_indexer(pd.Index(values))
        bad = (field_codes < 0) & (values != UNKNOWN).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise PipelineError(
                f"{where}: row {row} has {name}={values.iloc[row]!r}, which is neither a canonical {name} "
                f"value nor {UNKNOWN!r}"
            )
        codes[:, column] = field_codes
    return codes


def category_codes(frame: pd.DataFrame, where: str) -> np.ndarray:
    """Category codes for category-based matching: unknown and unplaced ("other") categories are -1."""
    codes = encode_attributes(frame, ["category"], where)[:, 0]
    unplaced = frame["category"].isin(UNPLACED_CATEGORIES).to_numpy()
    return np.where(unplaced, UNKNOWN_CODE, codes).astype(np.int16)
