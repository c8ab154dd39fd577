"""The training pair set: a seeded, de-duplicated sample of each pair type in the mix params ask for."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.io import require_columns
from pipelines.pairs.config import PAIR_TYPES, PairsConfig
from pipelines.pairs.pair_rules import ITEM_COLUMNS, POSITIVE_TYPES, TYPE_CODE, PairItems, classify_pairs, pair_keys

log = logging.getLogger(__name__)

PAIR_COLUMNS = ("anchor_id", "other_id", "pair_type", "label")
RULES = {
    "strong": "same group key, or all ten schema fields known and identical",
    "medium": "same category and material (graphic-pattern items excluded)",
    "weak": "same category and pattern, or same category and style (graphic-pattern items excluded)",
    "hard": "mined hard negative (artifacts/mining)",
    "easy": "different known categories (graphic-pattern items excluded)",
}
# Sampling draws DRAW_FACTOR x the missing count per round and gives up after MAX_ROUNDS, or after
# STALL_ROUNDS rounds in a row that found nothing new (the pool is used up by stronger types).
DRAW_FACTOR = 2
MIN_DRAWS = 256
MAX_ROUNDS = 16
STALL_ROUNDS = 2


@dataclass(frozen=True)
class PairsResult:
    pairs: pd.DataFrame  # PAIR_COLUMNS, grouped by type in PAIR_TYPES order
    stats: dict[str, Any]  # reports/pairs_stats.json


class _WithinBlocks:
    """Pairs of distinct rows that share a block code (codes -1 never pair)."""

    def __init__(self, codes: np.ndarray):
        n = len(codes)
        counts = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0, dtype=np.int64)
        size = np.zeros(n, dtype=np.int64)
        size[codes >= 0] = counts[codes[codes >= 0]]
        self.usable = size >= 2
        rows = np.flatnonzero(self.usable)
        self.order = rows[np.argsort(codes[rows], kind="stable")]
        sorted_codes = codes[self.order]
        self.start = np.zeros(n, dtype=np.int64)
        self.start[self.order] = np.searchsorted(sorted_codes, sorted_codes, side="left")
        self.position = np.zeros(n, dtype=np.int64)
        self.position[self.order] = np.arange(len(self.order))
        self.size = size
        self.codes = codes
        self.pool = int((counts * (counts - 1) // 2).sum())

    def partners(self, anchors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniform partner from each anchor's block, never the anchor itself."""
        start, size = self.start[anchors], self.size[anchors]
        offset = self.position[anchors] - start
        result: np.ndarray = self.order[start + (offset + 1 + rng.integers(0, size - 1)) % size]
        return result

    def all_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        rows = pd.DataFrame({"row": self.order, "code": self.codes[self.order]})
        both = rows.merge(rows, on="code")
        both = both[both["row_x"] < both["row_y"]]
        return both["row_x"].to_numpy(), both["row_y"].to_numpy()


class _AcrossBlocks:
    """Pairs of rows whose (known) block codes differ."""

    def __init__(self, codes: np.ndarray):
        known = codes >= 0
        counts = np.bincount(codes[known]) if known.any() else np.zeros(0, dtype=np.int64)
        self.total = int(known.sum())
        self.order = np.flatnonzero(known)[np.argsort(codes[known], kind="stable")]
        sorted_codes = codes[self.order]
        self.start = np.zeros(len(codes), dtype=np.int64)
        self.start[self.order] = np.searchsorted(sorted_codes, sorted_codes, side="left")
        self.size = np.zeros(len(codes), dtype=np.int64)
        self.size[known] = counts[codes[known]]
        self.usable = known & (self.total - self.size >= 1)
        self.codes = codes
        self.pool = int((self.total**2 - (counts**2).sum()) // 2)

    def partners(self, anchors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniform partner outside each anchor's block: draw from the others, skipping the block's span."""
        start, size = self.start[anchors], self.size[anchors]
        draw = rng.integers(0, self.total - size)
        result: np.ndarray = self.order[np.where(draw < start, draw, draw + size)]
        return result

    def all_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        firsts, seconds = [], []
        for code in np.unique(self.codes[self.codes >= 0]):  # a loop over categories, not items
            mine = np.flatnonzero(self.codes == code)
            later = np.flatnonzero(self.codes > code)
            firsts.append(np.repeat(mine, len(later)))
            seconds.append(np.tile(later, len(mine)))
        if not firsts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(firsts), np.concatenate(seconds)


def allocate(n_pairs: int, mix: dict[str, float]) -> dict[str, int]:
    """Targets per type that sum to n_pairs (largest remainder, ties in PAIR_TYPES order)."""
    exact = np.array([n_pairs * mix[name] for name in PAIR_TYPES])
    counts = np.floor(exact).astype(int)
    remainder = exact - counts
    for i in np.argsort(-remainder, kind="stable")[: n_pairs - counts.sum()]:
        counts[i] += 1
    return dict(zip(PAIR_TYPES, counts.tolist(), strict=True))


def _unique_new(a: np.ndarray, b: np.ndarray, n: int, taken: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop pairs already taken and repeats within the batch, keeping the first draw of each."""
    keys = pair_keys(a, b, n)
    _, first = np.unique(keys, return_index=True)
    first = np.sort(first)
    fresh = first[~np.isin(keys[first], taken)]
    return a[fresh], b[fresh]


def _sample_rule(
    name: str,
    samplers: list[_WithinBlocks | _AcrossBlocks],
    items: PairItems,
    want: int,
    hard_keys: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Up to `want` distinct pairs that classify as `name`, anchors drawn uniformly from the items
    the rule can pair (each with a uniform partner under one of its blocks)."""
    code = TYPE_CODE[name]
    pool = sum(s.pool for s in samplers)
    info: dict[str, Any] = {"pool": pool}
    empty = np.zeros(0, dtype=np.int64)
    usable = np.stack([s.usable for s in samplers], axis=1)
    anchor_rows = np.flatnonzero(usable.any(axis=1))
    if want == 0:
        return empty, empty, info
    if len(anchor_rows) == 0:
        info["reason"] = f"no train item has a partner under the rule ({RULES[name]})"
        return empty, empty, info
    if pool <= want:  # small pool: take every candidate, exactly
        parts = [s.all_pairs() for s in samplers]
        a, b = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        keep = classify_pairs(items, a, b, hard_keys) == code
        a, b = _unique_new(a[keep], b[keep], items.size, empty)
        info["reason"] = (
            f"only {len(a)} distinct pairs exist under the rule ({RULES[name]}) "
            f"among {items.size} train items, after stronger types took their pairs"
        )
        return a, b, info

    got_a, got_b, taken = [empty], [empty], empty
    have, stalls, rounds = 0, 0, 0
    while have < want and rounds < MAX_ROUNDS and stalls < STALL_ROUNDS:
        rounds += 1
        draws = max(MIN_DRAWS, DRAW_FACTOR * (want - have))
        anchors = anchor_rows[rng.integers(0, len(anchor_rows), draws)]
        options = usable[anchors]
        pick = np.floor(rng.random(draws) * options.sum(axis=1))
        which = np.argmax(np.cumsum(options, axis=1) > pick[:, None], axis=1)
        partners = np.empty(draws, dtype=np.int64)
        for s, sampler in enumerate(samplers):
            chosen = which == s
            partners[chosen] = sampler.partners(anchors[chosen], rng)
        keep = classify_pairs(items, anchors, partners, hard_keys) == code
        a, b = _unique_new(anchors[keep], partners[keep], items.size, taken)
        a, b = a[: want - have], b[: want - have]
        stalls = stalls + 1 if len(a) == 0 else 0
        got_a.append(a)
        got_b.append(b)
        taken = np.concatenate([taken, pair_keys(a, b, items.size)])
        have += len(a)
    if have < want:
        info["reason"] = (
            f"sampling found {have} distinct pairs in {rounds} rounds from at most {pool} candidates "
            f"under the rule ({RULES[name]}); the rest were repeats or belong to a stronger type"
        )
    return np.concatenate(got_a), np.concatenate(got_b), info


def _hard_pairs(
    items: PairItems, row_of: pd.Series, negatives: pd.DataFrame, want: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Mined pairs, hardest (lowest rank) first across anchors, seeded ties; same-product pairs dropped."""
    a = row_of.loc[negatives["anchor_id"].to_numpy()].to_numpy()
    b = row_of.loc[negatives["negative_id"].to_numpy()].to_numpy()
    order = np.lexsort((rng.random(len(a)), negatives["rank"].to_numpy()))
    a, b = _unique_new(a[order], b[order], items.size, np.zeros(0, dtype=np.int64))
    keys = pair_keys(a, b, items.size)
    keep = classify_pairs(items, a, b, keys) == TYPE_CODE["hard"]
    info: dict[str, int | str] = {"pool": int(keep.sum()), "dropped_same_product": int((~keep).sum())}
    a, b = a[keep], b[keep]
    if len(a) < want:
        info["reason"] = (
            f"only {len(a)} distinct mined hard negatives are available "
            f"({info['dropped_same_product']} more were same-product pairs); raise mining.max_anchors, "
            "mining.k or mining.per_anchor to mine more"
        )
    return a[:want], b[:want], info


def check_negatives(negatives: pd.DataFrame, items: pd.DataFrame, negatives_where: str, items_where: str) -> None:
    """Every mined id must be a train item of items.parquet; the first that is not raises a PipelineError."""
    require_columns(negatives, ["anchor_id", "negative_id", "rank"], negatives_where)
    split = items.set_index(items["item_id"].astype(str))["split"]
    for column in ("anchor_id", "negative_id"):
        ids = negatives[column].astype(str)
        missing = ~ids.isin(split.index)
        if missing.any():
            row = int(np.flatnonzero(missing.to_numpy())[0])
            raise PipelineError(
                f"{negatives_where}: row {row} names {column} {ids.iloc[row]!r}, which is not in {items_where} "
                "(the negatives were mined on another catalog; rerun mine_negatives)"
            )
        not_train = (split.loc[ids] != "train").to_numpy()
        if not_train.any():
            row = int(np.flatnonzero(not_train)[0])
            raise PipelineError(
                f"{negatives_where}: row {row} names {column} {ids.iloc[row]!r}, which is a "
                f"{split.loc[ids.iloc[row]]!r} item in {items_where}; pairs use train items only"
            )


def build_pairs(
    items: pd.DataFrame,
    negatives: pd.DataFrame,
    cfg: PairsConfig,
    seed: int,
    items_where: str = "items",
    negatives_where: str = "hard negatives",
) -> PairsResult:
    """Sample `cfg.n_pairs` x `cfg.mix` pairs of train items, one type per pair (see classify_pairs).

    A type that runs short is reported with its reason and is not made up from other types, so the
    requested mix is never distorted silently: the pair set is then smaller than n_pairs.
    """
    require_columns(items, ITEM_COLUMNS, items_where)
    repeated = items["item_id"].astype(str).duplicated()
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise PipelineError(
            f"{items_where}: row {row} repeats item_id {items['item_id'].iloc[row]!r}; ids must be unique"
        )
    check_negatives(negatives, items, negatives_where, items_where)
    train = items[items["split"] == "train"].reset_index(drop=True)
    if len(train) < 2:
        raise PipelineError(f"{items_where}: {len(train)} train item(s); pairs need at least 2")
    encoded = PairItems.from_items(train, cfg.graphic_patterns, items_where)
    row_of = pd.Series(np.arange(len(train)), index=train["item_id"].astype(str))
    targets = allocate(cfg.n_pairs, cfg.mix)

    def rng_for(name: str) -> np.random.Generator:  # one stream per type: a type's sample ignores the others' sizes
        return np.random.default_rng([seed, TYPE_CODE[name]])

    hard_a, hard_b, hard_info = _hard_pairs(
        encoded, row_of, negatives.astype({"anchor_id": str, "negative_id": str}), targets["hard"], rng_for("hard")
    )
    # Every mined pair (not only the sampled ones) stays a negative: no positive may contradict the miner.
    mined_keys = pair_keys(
        row_of.loc[negatives["anchor_id"].astype(str)].to_numpy(),
        row_of.loc[negatives["negative_id"].astype(str)].to_numpy(),
        encoded.size,
    )
    samplers: dict[str, list[_WithinBlocks | _AcrossBlocks]] = {
        "strong": [_WithinBlocks(encoded.group), _WithinBlocks(encoded.full_tuple)],
        "medium": [_WithinBlocks(encoded.category_material)],
        "weak": [_WithinBlocks(encoded.category_pattern), _WithinBlocks(encoded.category_style)],
        "easy": [_AcrossBlocks(encoded.category)],
    }
    chosen, infos = {}, {"hard": hard_info}
    for name in PAIR_TYPES:
        if name == "hard":
            chosen[name] = (hard_a, hard_b)
            continue
        a, b, infos[name] = _sample_rule(name, samplers[name], encoded, targets[name], mined_keys, rng_for(name))
        chosen[name] = (a, b)

    ids = train["item_id"].astype(str).to_numpy()
    pairs = pd.concat(
        [
            pd.DataFrame(
                {
                    "anchor_id": ids[a],
                    "other_id": ids[b],
                    "pair_type": pd.Series([name] * len(a), dtype=object),
                    "label": np.full(len(a), 1 if name in POSITIVE_TYPES else 0, dtype=np.int8),
                }
            )
            for name, (a, b) in chosen.items()
        ],
        ignore_index=True,
    )
    stats = _stats(pairs, train, targets, infos, cfg, int(encoded.graphic.sum()))
    log.info("built %d pairs (%s)", len(pairs), ", ".join(f"{k} {v}" for k, v in stats["count"].items()))
    return PairsResult(pairs=pairs, stats=stats)


def _stats(
    pairs: pd.DataFrame,
    train: pd.DataFrame,
    targets: dict[str, int],
    infos: dict[str, dict[str, Any]],
    cfg: PairsConfig,
    graphic_items: int,
    top: int = 10,
) -> dict[str, Any]:
    total = len(pairs)
    count = pairs["pair_type"].value_counts().reindex(PAIR_TYPES, fill_value=0)
    share = {name: round(int(count[name]) / total, 4) if total else 0.0 for name in PAIR_TYPES}
    anchor_category = train.set_index(train["item_id"].astype(str))["category"].loc[pairs["anchor_id"]]
    return {
        "pairs": total,
        "requested_pairs": cfg.n_pairs,
        "train_items": len(train),
        "graphic_items": graphic_items,
        "positives": int((pairs["label"] == 1).sum()),
        "negatives": int((pairs["label"] == 0).sum()),
        "count": {name: int(count[name]) for name in PAIR_TYPES},
        "target": dict(targets),
        "share": share,
        "requested_share": {name: cfg.mix[name] for name in PAIR_TYPES},
        "share_gap": {name: round(share[name] - cfg.mix[name], 4) for name in PAIR_TYPES},
        "shortfall": {name: targets[name] - int(count[name]) for name in PAIR_TYPES},
        "pool": {name: infos[name]["pool"] for name in PAIR_TYPES},
        "short_reason": {
            name: infos[name]["reason"]
            for name in PAIR_TYPES
            if "reason" in infos[name] and count[name] < targets[name]
        },
        "top_categories": {str(k): int(v) for k, v in anchor_category.value_counts().head(top).items()},
    }
