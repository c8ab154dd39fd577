"""Balanced batches: boost weak categories, rare materials and neckline-known items; cap each group's share."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from torch.utils.data import Sampler

from pipelines.schema import UNKNOWN
from pipelines.training.config import SamplerConfig

log = logging.getLogger(__name__)

CAPPED_FIELDS = ("category", "material")  # a dominant value of these (tees, cotton) is capped per batch
# What each epoch logs of its batches (BatchStats.spread): the cap's worst batch and the boosted shares' range.
SPREAD_FIELDS = (
    "max_group_share",
    "weak_category_share_min",
    "weak_category_share_max",
    "rare_material_share_min",
    "rare_material_share_max",
    "neckline_known_share_min",
    "neckline_known_share_max",
)
SPREAD_COLUMNS = tuple(f"sampler_{name}" for name in SPREAD_FIELDS)


def sampling_weights(meta: pd.DataFrame, cfg: SamplerConfig) -> np.ndarray:
    """Per-item sampling weight: the product of the boosts that apply to it (1 when none does)."""
    weights = np.ones(len(meta), dtype=np.float64)
    if "category" in meta:
        weights[meta["category"].isin(cfg.weak_categories).to_numpy()] *= cfg.weak_category_boost
    if "material" in meta:
        weights[meta["material"].isin(cfg.rare_materials).to_numpy()] *= cfg.rare_material_boost
    if "neckline" in meta:
        weights[(meta["neckline"] != UNKNOWN).to_numpy()] *= cfg.neckline_known_boost
    return weights


@dataclass
class BatchStats:
    """The realised composition of one epoch's batches (shares are of items drawn)."""

    batches: int
    items: int
    weak_category_share: float
    rare_material_share: float
    neckline_known_share: float
    max_group_share: float  # the largest share any capped group reached in any batch
    max_group: str  # "category=tees"
    cap_relaxed_batches: int  # batches where the cap could not be met with the items available
    # the lowest and highest share one batch held: how far single batches stray from the epoch's share
    weak_category_share_min: float
    weak_category_share_max: float
    rare_material_share_min: float
    rare_material_share_max: float
    neckline_known_share_min: float
    neckline_known_share_max: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def spread(self) -> dict[str, float]:
        """The per-batch extremes as epoch log values (SPREAD_COLUMNS), rounded to 4 decimals."""
        return {
            column: round(getattr(self, name), 4) for column, name in zip(SPREAD_COLUMNS, SPREAD_FIELDS, strict=True)
        }


class BalancedBatchSampler(Sampler[list[int]]):
    """Yields batches of positions into `meta` (the training rows).

    Each batch is drawn without replacement by weighted sampling (Efraimidis-Spirakis keys), then
    filled greedily, skipping an item whose category or material value already holds
    `dominant_cap` of the batch (`unknown` is not a group). If the cap cannot be met, the batch is
    topped up from the skipped items and counted as relaxed. An epoch has ceil(N / batch_size)
    batches; the draw depends only on (seed, epoch), so a resumed run sees the same batches.
    """

    def __init__(self, meta: pd.DataFrame, batch_size: int, cfg: SamplerConfig, seed: int) -> None:
        if len(meta) == 0:
            raise ValueError("the balanced sampler needs at least one training item")
        self.cfg = cfg
        self.batch_size = min(batch_size, len(meta))
        self.seed = seed
        self.epoch = 0
        self.weights = sampling_weights(meta, cfg)
        self._groups = {f: meta[f].astype(str).to_numpy() for f in CAPPED_FIELDS if f in meta}
        self.weak = (
            meta["category"].isin(cfg.weak_categories).to_numpy() if "category" in meta else np.zeros(len(meta), bool)
        )
        self.rare = (
            meta["material"].isin(cfg.rare_materials).to_numpy() if "material" in meta else np.zeros(len(meta), bool)
        )
        self.neckline_known = (
            (meta["neckline"] != UNKNOWN).to_numpy() if "neckline" in meta else np.zeros(len(meta), bool)
        )
        self.cap = max(1, math.floor(cfg.dominant_cap * self.batch_size))
        self.last_stats: BatchStats | None = None  # set by each pass over the sampler

    @property
    def stats(self) -> BatchStats:
        """The composition of the batches the last pass drew."""
        if self.last_stats is None:
            raise RuntimeError("BalancedBatchSampler.stats: iterate the sampler first")
        return self.last_stats

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.weights) / self.batch_size)

    def _batch(self, rng: np.random.Generator) -> tuple[list[int], bool]:
        keys = rng.random(len(self.weights)) ** (1.0 / self.weights)
        order = np.argsort(-keys, kind="stable")
        counts: dict[str, Counter[str]] = {f: Counter() for f in self._groups}
        chosen, skipped = [], []
        for i in order:
            values = {f: g[i] for f, g in self._groups.items()}
            if any(v != UNKNOWN and counts[f][v] >= self.cap for f, v in values.items()):
                skipped.append(int(i))
                continue
            chosen.append(int(i))
            for f, v in values.items():
                counts[f][v] += 1
            if len(chosen) == self.batch_size:
                return chosen, False
        relaxed = self.batch_size - len(chosen)
        return chosen + skipped[:relaxed], True

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        batches = []
        relaxed_count = 0
        for _ in range(len(self)):
            batch, relaxed = self._batch(rng)
            relaxed_count += relaxed
            batches.append(batch)
        self.last_stats = self._stats(batches, relaxed_count)
        yield from batches

    def _stats(self, batches: list[list[int]], relaxed: int) -> BatchStats:
        drawn = np.concatenate([np.asarray(b) for b in batches])
        max_share, max_group = 0.0, ""
        for batch in batches:
            for f, g in self._groups.items():
                values, counts = np.unique(g[batch], return_counts=True)
                known = values != UNKNOWN
                if known.any():
                    j = int(np.argmax(np.where(known, counts, -1)))
                    share = counts[j] / len(batch)
                    if share > max_share:
                        max_share, max_group = float(share), f"{f}={values[j]}"
        weak, rare, neckline = (
            [float(mask[batch].mean()) for batch in batches] for mask in (self.weak, self.rare, self.neckline_known)
        )
        return BatchStats(
            batches=len(batches),
            items=len(drawn),
            weak_category_share=float(self.weak[drawn].mean()),
            rare_material_share=float(self.rare[drawn].mean()),
            neckline_known_share=float(self.neckline_known[drawn].mean()),
            max_group_share=max_share,
            max_group=max_group,
            cap_relaxed_batches=relaxed,
            weak_category_share_min=min(weak),
            weak_category_share_max=max(weak),
            rare_material_share_min=min(rare),
            rare_material_share_max=max(rare),
            neckline_known_share_min=min(neckline),
            neckline_known_share_max=max(neckline),
        )


def sampler_report(meta: pd.DataFrame, batch_size: int, cfg: SamplerConfig, seed: int) -> dict[str, Any]:
    """Realised batch composition of epoch 1 next to the train split's own shares (deterministic): a second
    sampler over the same training rows replays that epoch's draw."""
    sampler = BalancedBatchSampler(meta, batch_size, cfg, seed)
    sampler.set_epoch(1)
    list(sampler)
    stats = sampler.stats
    return {
        "sampler_weak_category_share": stats.weak_category_share,
        "sampler_rare_material_share": stats.rare_material_share,
        "sampler_neckline_known_share": stats.neckline_known_share,
        "sampler_max_group_share": stats.max_group_share,
        "sampler_cap_relaxed_batches": stats.cap_relaxed_batches,
        "train_weak_category_share": float(sampler.weak.mean()),
        "train_rare_material_share": float(sampler.rare.mean()),
        "train_neckline_known_share": float(sampler.neckline_known.mean()),
    }
