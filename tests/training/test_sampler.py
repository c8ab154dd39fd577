"""Balanced batches: boosts raise the share of weak categories and rare materials; the cap bounds any group."""

import numpy as np
import pandas as pd

from pipelines.training.config import SamplerConfig
from pipelines.training.sampler import SPREAD_COLUMNS, BalancedBatchSampler, sampler_report, sampling_weights


def catalog(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "category": rng.choice(["tees", "shirts", "dresses", "cardigans"], n, p=[0.7, 0.15, 0.1, 0.05]),
            "material": rng.choice(["cotton", "denim", "unknown"], n, p=[0.5, 0.05, 0.45]),
            "neckline": rng.choice(["round", "unknown"], n, p=[0.2, 0.8]),
        }
    )


def test_weights_multiply_the_boosts_that_apply():
    meta = pd.DataFrame(
        {
            "category": ["cardigans", "tees", "cardigans"],
            "material": ["denim", "cotton", "cotton"],
            "neckline": ["round", "unknown", "unknown"],
        }
    )
    cfg = SamplerConfig(
        weak_categories=["cardigans"],
        weak_category_boost=3,
        rare_materials=["denim"],
        rare_material_boost=2,
        neckline_known_boost=1.5,
    )
    assert sampling_weights(meta, cfg).tolist() == [9.0, 1.0, 3.0]


def test_boosts_raise_shares_and_the_cap_bounds_every_group_in_every_batch():
    meta = catalog()
    cfg = SamplerConfig(weak_categories=["cardigans"], rare_materials=["denim"], dominant_cap=0.4)
    sampler = BalancedBatchSampler(meta, 50, cfg, seed=1)
    batches = list(sampler)
    assert len(batches) == 20 and all(len(b) == len(set(b)) == 50 for b in batches)
    for b in batches:
        for field in ("category", "material"):
            counts = meta[field].iloc[b].value_counts().drop("unknown", errors="ignore")
            assert counts.max() <= 20  # 0.4 * 50
    stats = sampler.last_stats
    assert stats.cap_relaxed_batches == 0 and stats.max_group_share <= 0.4
    assert stats.weak_category_share > 2 * (meta["category"] == "cardigans").mean()
    assert stats.rare_material_share > 2 * (meta["material"] == "denim").mean()
    plain = BalancedBatchSampler(
        meta,
        50,
        SamplerConfig(weak_categories=[], rare_materials=[], neckline_known_boost=1.0, dominant_cap=1.0),
        seed=1,
    )
    list(plain)
    assert plain.last_stats.max_group_share > 0.6  # tees dominate without the cap


def test_an_infeasible_cap_is_relaxed_and_counted():
    meta = pd.DataFrame({"category": ["tees"] * 30 + ["shirts"] * 10, "material": "unknown", "neckline": "unknown"})
    sampler = BalancedBatchSampler(meta, 20, SamplerConfig(dominant_cap=0.3), seed=0)
    batches = list(sampler)
    assert all(len(b) == 20 for b in batches)
    assert sampler.last_stats.cap_relaxed_batches == len(batches)


def test_batches_depend_only_on_seed_and_epoch():
    meta = catalog(300)
    a, b = (
        BalancedBatchSampler(meta, 32, SamplerConfig(), seed=5),
        BalancedBatchSampler(meta, 32, SamplerConfig(), seed=5),
    )
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b)
    b.set_epoch(4)
    assert list(a) != list(b)


def test_the_report_replays_epoch_1_beside_the_split_s_own_shares():
    meta, cfg = catalog(), SamplerConfig(weak_categories=["cardigans"], rare_materials=["denim"])
    sampler = BalancedBatchSampler(meta, 64, cfg, seed=3)
    sampler.set_epoch(1)
    list(sampler)
    report = sampler_report(meta, 64, cfg, seed=3)
    assert report["sampler_weak_category_share"] == sampler.stats.weak_category_share
    assert report["sampler_cap_relaxed_batches"] == sampler.stats.cap_relaxed_batches
    assert report["train_weak_category_share"] == float((meta["category"] == "cardigans").mean())
    assert report["train_rare_material_share"] == float((meta["material"] == "denim").mean())


def test_stats_hold_each_boosted_share_s_lowest_and_highest_batch_and_spread_rounds_them():
    meta = catalog()
    cfg = SamplerConfig(weak_categories=["cardigans"], rare_materials=["denim"], dominant_cap=0.4)
    sampler = BalancedBatchSampler(meta, 48, cfg, seed=2)
    batches = list(sampler)
    stats = sampler.stats
    for share, known in (
        ("weak_category_share", meta["category"] == "cardigans"),
        ("rare_material_share", meta["material"] == "denim"),
        ("neckline_known_share", meta["neckline"] != "unknown"),
    ):
        per_batch = [known.iloc[b].mean() for b in batches]
        assert (getattr(stats, f"{share}_min"), getattr(stats, f"{share}_max")) == (min(per_batch), max(per_batch))
        assert min(per_batch) < getattr(stats, share) < max(per_batch)
    spread = stats.spread()
    assert list(spread) == list(SPREAD_COLUMNS) and spread["sampler_max_group_share"] == round(stats.max_group_share, 4)
    assert spread["sampler_rare_material_share_min"] == round(stats.rare_material_share_min, 4)
