"""Hard-negative mining: baseline neighbours that share the anchor's category but differ on a target attribute."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.index.faiss_index import search_excluding_groups
from pipelines.io import require_columns
from pipelines.mining.attribute_codes import (
    UNKNOWN_CODE,
    category_codes,
    encode_attributes,
)
from pipelines.mining.config import MiningConfig
from pipelines.schema import UNKNOWN
from pipelines.store import take_rows

log = logging.getLogger(__name__)

NEGATIVE_COLUMNS = ("anchor_id", "negative_id", "rank", "similarity", "differs", "from_signals")
# Neighbours are fetched from the whole baseline index and then filtered to train items (see
# mine_hard_negatives); the fetch is k / (train share), widened by this factor plus a constant so
# that the usual anchor still ends with k train neighbours after the split filter.
FETCH_SLACK = 1.25
FETCH_EXTRA = 8

# (queries (Q, D), k, query group keys (Q,)) -> (scores (Q, k), store row ids (Q, k), -1 padded):
# the k nearest store rows outside each query's own group, best first.
NeighbourSearch = Callable[[np.ndarray, int, np.ndarray], tuple[np.ndarray, np.ndarray]]


def index_neighbours(index: faiss.Index, doc_groups: np.ndarray, batch_size: int) -> NeighbourSearch:
    """The NeighbourSearch of a FAISS index over the store rows whose group keys are `doc_groups`."""
    doc_groups = np.asarray(doc_groups).astype(str)

    def neighbours(queries: np.ndarray, k: int, query_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return search_excluding_groups(
            index, queries, k, np.asarray(query_groups).astype(str), doc_groups, batch_size=batch_size
        )

    return neighbours


@dataclass(frozen=True)
class MiningResult:
    negatives: pd.DataFrame  # NEGATIVE_COLUMNS, ordered by anchor then rank
    report: dict[str, Any]  # shallow metrics for reports/mining.json


def select_anchors(eligible: np.ndarray, max_anchors: int, seed: int) -> np.ndarray:
    """Row ids of the anchors: every eligible row, or a seeded sample of `max_anchors` of them (sorted)."""
    rows = np.flatnonzero(eligible)
    if len(rows) > max_anchors:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_anchors, replace=False))
    return rows


def signal_codes(labels: pd.DataFrame | None, item_ids: pd.Series, attrs: Sequence[str], where: str) -> np.ndarray:
    """Active signal labels as (rows, attrs) codes aligned with `item_ids`; -1 where no active signal.

    `labels` is active_signal_labels' frame (index item_id, one column per dim). Attributes it
    has no column for, and items it does not list, get -1.
    """
    codes = np.full((len(item_ids), len(attrs)), UNKNOWN_CODE, dtype=np.int16)
    if labels is None:
        return codes
    stray = ~labels.index.isin(item_ids)
    if stray.any():
        raise PipelineError(
            f"{where}: item {labels.index[stray][0]!r} has signals but is not in the store "
            "(the signals were exported from another store; rerun export_signals)"
        )
    present = [name for name in attrs if name in labels.columns]
    if present:
        aligned = labels[present].reindex(item_ids.to_numpy()).fillna(UNKNOWN).reset_index(drop=True)
        encoded = encode_attributes(aligned, present, where)
        for column, name in enumerate(present):
            codes[:, list(attrs).index(name)] = encoded[:, column]
    return codes


def positive_reference(keys: np.ndarray, anchors: np.ndarray, groups: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Each anchor's positive score for the relative-margin guard; NaN where the anchor has none.

    As in sentence-transformers' mine_hard_negatives, the reference is the anchor's *least*
    similar known positive (the safer choice when there are several): here the other rows of its
    own group (other views of the product) among `pool`. An anchor with no other view has no known
    positive, so the margin does not apply to it and the absolute ceiling (max_similarity) is its
    only guard. Using the anchor itself (self-similarity 1.0) instead would turn the margin into a
    fixed ceiling of 1 - relative_margin, which in an anisotropic embedding space (an untrained
    backbone puts most pairs above 0.9) removes nearly every candidate.
    """
    anchor_keys = take_rows(keys, anchors)
    reference = np.full(len(anchors), np.nan, dtype=np.float32)
    pool_rows = np.flatnonzero(pool)
    mates = pd.DataFrame({"anchor": np.arange(len(anchors)), "group": groups[anchors]}).merge(
        pd.DataFrame({"mate": pool_rows, "group": groups[pool_rows]}), on="group"
    )
    mates = mates[mates["mate"].to_numpy() != anchors[mates["anchor"].to_numpy()]]
    if len(mates):
        anchor_pos = mates["anchor"].to_numpy()
        scores = np.einsum("ij,ij->i", anchor_keys[anchor_pos], take_rows(keys, mates["mate"].to_numpy()))
        worst = pd.Series(scores).groupby(anchor_pos).min()
        reference[worst.index.to_numpy()] = worst.to_numpy()
    return reference


def mine_hard_negatives(
    meta: pd.DataFrame,
    image_keys: np.ndarray,
    neighbours: NeighbourSearch,
    cfg: MiningConfig,
    seed: int,
    signal_labels: pd.DataFrame | None = None,
    where: str = "store meta",
) -> MiningResult:
    """Mine hard negatives for train anchors from their baseline image neighbours.

    A neighbour is a hard negative of the anchor when it is a train item outside the anchor's
    group, has the anchor's (known) category, and differs on at least one of `cfg.target_attrs`:
    both values known and unequal. With `cfg.use_signals`, an unknown value is first filled from
    the item's active signal (`signal_labels`); such differences are listed in `from_signals`.
    False negatives are guarded against as sentence-transformers' mine_hard_negatives does:
    candidates with similarity >= `cfg.max_similarity`, or above the anchor's positive reference
    (see positive_reference) minus `cfg.relative_margin` of its magnitude, are skipped. At most
    `cfg.per_anchor` per anchor, nearest first.
    """
    attrs = list(cfg.target_attrs)
    require_columns(meta, ["item_id", "group_key", "split", "category", *attrs], where)
    if len(image_keys) != len(meta):
        raise PipelineError(f"{where}: {len(meta)} rows but {len(image_keys)} image keys")
    item_ids = meta["item_id"].astype(str)
    groups = pd.factorize(meta["group_key"].astype(str))[0]
    is_train = (meta["split"] == "train").to_numpy()
    category = category_codes(meta, where)
    known = encode_attributes(meta, attrs, where)
    filled = known
    if cfg.use_signals:
        from_signal = signal_codes(signal_labels, item_ids, attrs, "signals.parquet")
        filled = np.where(known >= 0, known, from_signal)

    anchors = select_anchors(is_train & (category >= 0), cfg.max_anchors, seed)
    train_count = int(is_train.sum())
    if len(anchors) == 0:
        raise PipelineError(f"{where}: no train item with a known category to mine hard negatives for")

    # The baseline index holds every split; negatives must be train items. We search that index and
    # drop non-train hits (vectorised) rather than build a train-only index: the neighbours are then
    # exactly the baseline's (same graph, same approximation) and nothing is rebuilt per run. The
    # price is an over-fetch of k / train share.
    fetch = min(len(meta), math.ceil(cfg.k * len(meta) / train_count * FETCH_SLACK) + FETCH_EXTRA)
    # read from the file: indexing the memory map would fault its neighbouring pages in too (most of the store)
    queries = take_rows(image_keys, anchors)
    scores, ids = neighbours(queries, fetch, meta["group_key"].to_numpy()[anchors])
    found = ids >= 0
    safe_ids = np.where(found, ids, 0)
    in_pool = found & is_train[safe_ids] & (groups[safe_ids] != groups[anchors][:, None])
    rank = np.cumsum(in_pool, axis=1)  # 1-based position among the anchor's train, other-group neighbours
    in_pool &= rank <= cfg.k

    # (anchors, neighbours, attrs): a difference needs both values known (after the signal fill).
    a_known, n_known = known[anchors][:, None, :], known[safe_ids]
    a_filled, n_filled = filled[anchors][:, None, :], filled[safe_ids]
    differs_known = (a_known >= 0) & (n_known >= 0) & (a_known != n_known)
    differs = (a_filled >= 0) & (n_filled >= 0) & (a_filled != n_filled)
    same_category = (category[anchors][:, None] >= 0) & (category[safe_ids] == category[anchors][:, None])
    candidate = in_pool & same_category & differs.any(axis=2)

    reference = positive_reference(image_keys, anchors, groups, is_train)[:, None]
    within_margin = ~np.isnan(reference) & (scores > reference - np.abs(reference) * cfg.relative_margin)
    too_similar = scores >= cfg.max_similarity
    kept = candidate & ~within_margin & ~too_similar
    kept &= np.cumsum(kept, axis=1) <= cfg.per_anchor

    q, j = np.nonzero(kept)  # row-major: by anchor, then by rank
    negatives = pd.DataFrame(
        {
            "anchor_id": item_ids.to_numpy()[anchors[q]],
            "negative_id": item_ids.to_numpy()[ids[q, j]],
            "rank": rank[q, j].astype(np.int32),
            "similarity": scores[q, j].astype(np.float32),
            "differs": _attribute_lists(differs[q, j], attrs),
            "from_signals": _attribute_lists(differs[q, j] & ~differs_known[q, j], attrs),
        }
    )
    report = _report(
        negatives,
        differs[q, j],
        differs_known[q, j],
        attrs,
        len(anchors),
        train_count,
        cfg,
        pool=in_pool,
        candidate=candidate,
        within_margin=within_margin,
        too_similar=too_similar,
        with_reference=int((~np.isnan(reference)).sum()),
    )
    log.info(
        "mined %d hard negatives for %d of %d anchors", len(negatives), report["anchors_with_negatives"], len(anchors)
    )
    return MiningResult(negatives=negatives, report=report)


def _attribute_lists(flags: np.ndarray, attrs: Sequence[str]) -> np.ndarray:
    """Comma-joined names of the flagged attributes per row, via a lookup over the 2^A flag patterns."""
    bits = (flags.astype(np.int64) << np.arange(len(attrs))).sum(axis=1)
    table = np.array(
        [",".join(a for i, a in enumerate(attrs) if mask >> i & 1) for mask in range(1 << len(attrs))], dtype=object
    )
    result: np.ndarray = table[bits]
    return result


def _report(
    negatives: pd.DataFrame,
    differs: np.ndarray,
    differs_known: np.ndarray,
    attrs: Sequence[str],
    anchors: int,
    train_items: int,
    cfg: MiningConfig,
    *,
    pool: np.ndarray,
    candidate: np.ndarray,
    within_margin: np.ndarray,
    too_similar: np.ndarray,
    with_reference: int,
) -> dict[str, Any]:
    total = len(negatives)

    def share(flags: np.ndarray) -> float:
        return round(float(flags.mean()), 4) if total else 0.0

    # Counted in sentence-transformers' order: the margin first, then the ceiling on what is left.
    skipped_margin = candidate & within_margin
    return {
        "anchors": anchors,
        "train_items": train_items,
        "anchors_with_negatives": int(negatives["anchor_id"].nunique()),
        "anchors_with_positive_reference": with_reference,
        "anchors_short_of_k_neighbours": int((pool.sum(axis=1) < cfg.k).sum()),
        "neighbours_considered": int(pool.sum()),
        "candidates": int(candidate.sum()),
        "skipped_relative_margin": int(skipped_margin.sum()),
        "skipped_max_similarity": int((candidate & ~within_margin & too_similar).sum()),
        "negatives": total,
        "negatives_per_anchor": round(total / anchors, 4),
        "mean_similarity": round(float(negatives["similarity"].mean()), 4) if total else 0.0,
        "reason_share": {name: share(differs[:, i]) for i, name in enumerate(attrs)},
        "signal_share": share((differs & ~differs_known).any(axis=1)) if total else 0.0,
    }
