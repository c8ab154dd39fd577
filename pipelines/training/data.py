"""Training inputs from the store: split rows, attribute labels with their classes, the mined pairs as row indices."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.schema import UNKNOWN, vocabulary
from pipelines.training.losses import IGNORE_INDEX

log = logging.getLogger(__name__)

PAIR_COLUMNS = ("anchor_id", "other_id", "label")


@dataclass
class AttributeLabels:
    classes: dict[str, list[str]]  # attribute -> class names (index = label id), from the train split
    labels: dict[str, np.ndarray]  # attribute -> (N,) int64 over every store row, IGNORE_INDEX when unknown


@dataclass
class PairSet:
    anchor: np.ndarray  # (P,) store row of the anchor
    other: np.ndarray  # (P,) store row of the other item
    label: np.ndarray  # (P,) float32, 1 positive / 0 negative

    def __len__(self) -> int:
        return len(self.anchor)


@dataclass
class TrainingData:
    meta: pd.DataFrame  # the store's meta (row i = store row i)
    image_keys: np.ndarray  # (N, D) frozen image features
    text_keys: np.ndarray  # (N, D) frozen CLIP text features of title + desc
    train_rows: np.ndarray  # store rows of the train split
    val_rows: np.ndarray  # store rows of the val split
    attributes: AttributeLabels
    pairs: PairSet
    text_groups: np.ndarray  # (N,) int: rows with identical title + desc share a group (a retrieval hit)
    product_groups: np.ndarray  # (N,) int codes of group_key: image->image search skips the query's own product


def split_rows(meta: pd.DataFrame, split: str, where: str) -> np.ndarray:
    if "split" not in meta:
        raise PipelineError(f"{where}: meta has no 'split' column (expected train/val/test per row)")
    rows = np.flatnonzero((meta["split"] == split).to_numpy())
    if len(rows) == 0:
        counts = meta["split"].value_counts().to_dict()
        raise PipelineError(
            f"{where}: no rows in the {split!r} split (splits found: {counts}); training needs train and val rows"
        )
    return rows


def attribute_labels(
    meta: pd.DataFrame,
    attrs: list[str],
    train_rows: np.ndarray,
    where: str,
    pseudo: pd.DataFrame | None = None,
) -> AttributeLabels:
    """Encode each attribute column as class ids; classes are the known values of the train split.

    With `pseudo` (index item_id, a column per attribute, from active signals) an `unknown` value is
    replaced by the item's pseudo-label when it names a train class. Values never seen in training
    (e.g. only in val) are ignored like `unknown`.
    """
    classes, labels = {}, {}
    for attr in attrs:
        if attr not in meta:
            raise PipelineError(f"{where}: meta has no column {attr!r} named in train.attr_heads")
        values = meta[attr].astype(str)
        if pseudo is not None and attr in pseudo:
            # train rows only: val keeps its ground truth, so validation and early stopping never grade against signals
            filled = meta["item_id"].map(pseudo[attr]).fillna(UNKNOWN).astype(str)
            is_train = np.zeros(len(meta), dtype=bool)
            is_train[train_rows] = True
            values = values.where((values != UNKNOWN) | ~is_train, filled)
        seen = set(values.iloc[train_rows]) - {UNKNOWN}
        if not seen:
            raise PipelineError(
                f"{where}: attribute {attr!r} has no known value in the train split (every row is "
                f"'unknown'), so its head has an empty class set; drop it from train.attr_heads"
            )
        order = [v for v in vocabulary().get(attr, ()) if v in seen] + sorted(seen - set(vocabulary().get(attr, ())))
        index = {v: i for i, v in enumerate(order)}
        labels[attr] = values.map(index).fillna(IGNORE_INDEX).astype(np.int64).to_numpy()
        classes[attr] = order
        if len(order) == 1:
            log.warning(
                "attribute %s has a single known class (%s) in the train split; its head learns nothing", attr, order[0]
            )
    return AttributeLabels(classes, labels)


def pair_indices(pairs: pd.DataFrame, meta: pd.DataFrame, train_rows: np.ndarray, where: str) -> PairSet:
    """Map pair item ids to store rows; every id must be a train-split item of this store."""
    missing_cols = [c for c in PAIR_COLUMNS if c not in pairs]
    if missing_cols:
        raise PipelineError(f"{where}: missing column {missing_cols[0]!r} (expected {', '.join(PAIR_COLUMNS)})")
    row_of = pd.Series(np.arange(len(meta)), index=meta["item_id"].astype(str))
    anchor = pairs["anchor_id"].astype(str).map(row_of)
    other = pairs["other_id"].astype(str).map(row_of)
    bad = anchor.isna() | other.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        item = pairs["anchor_id"].iloc[i] if pd.isna(anchor.iloc[i]) else pairs["other_id"].iloc[i]
        raise PipelineError(
            f"{where}: row {i} names item {item!r}, which is not in the store ({int(bad.sum())} of "
            f"{len(pairs)} pairs name missing items); rebuild the pairs from this store's items"
        )
    anchor_rows, other_rows = anchor.to_numpy(np.int64), other.to_numpy(np.int64)
    in_train = np.zeros(len(meta), bool)
    in_train[train_rows] = True
    leak = ~(in_train[anchor_rows] & in_train[other_rows])
    if leak.any():
        i = int(np.flatnonzero(leak)[0])
        raise PipelineError(
            f"{where}: row {i} pairs {pairs['anchor_id'].iloc[i]!r} with {pairs['other_id'].iloc[i]!r}, but pairs "
            f"must name train-split items only ({int(leak.sum())} pairs do not)"
        )
    label = pd.to_numeric(pairs["label"], errors="coerce")
    if not label.isin([0, 1]).all():
        i = int(np.flatnonzero(~label.isin([0, 1]).to_numpy())[0])
        raise PipelineError(
            f"{where}: row {i} has label {pairs['label'].iloc[i]!r}; expected 1 (positive) or 0 (negative)"
        )
    return PairSet(anchor_rows, other_rows, label.to_numpy(np.float32))


def text_groups(meta: pd.DataFrame) -> np.ndarray:
    """Rows whose title + desc are identical get one group: retrieving any of their texts is a hit."""
    desc = meta["desc"].astype(str) if "desc" in meta else ""
    codes, _ = pd.factorize(meta["title"].astype(str) + "\x00" + desc)
    return codes.astype(np.int64)


def prepare_training_data(
    meta: pd.DataFrame,
    image_keys: np.ndarray,
    text_keys: np.ndarray,
    pairs: pd.DataFrame,
    attrs: list[str],
    *,
    where_store: str = "store",
    where_pairs: str = "pairs",
    pseudo: pd.DataFrame | None = None,
) -> TrainingData:
    if "group_key" not in meta:
        raise PipelineError(f"{where_store}: meta has no 'group_key' column (rerun encode_kv on a current items table)")
    train_rows = split_rows(meta, "train", where_store)
    val_rows = split_rows(meta, "val", where_store)
    return TrainingData(
        meta=meta,
        image_keys=image_keys,
        text_keys=text_keys,
        train_rows=train_rows,
        val_rows=val_rows,
        attributes=attribute_labels(meta, attrs, train_rows, where_store, pseudo),
        pairs=pair_indices(pairs, meta, train_rows, where_pairs),
        text_groups=text_groups(meta),
        product_groups=pd.factorize(meta["group_key"].astype(str))[0].astype(np.int64),
    )
