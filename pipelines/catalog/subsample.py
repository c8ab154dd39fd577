"""`data.max_items`: a seeded, stratified subsample in which rare classes survive."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)

# Every class keeps at least this many rows (or all it has): enough for one per split.
CLASS_FLOOR = 3


def stratified_subsample(classes: Sequence[str], n: int, seed: int, floor: int = CLASS_FLOOR) -> np.ndarray:
    """Positions of `n` rows chosen by class, sorted so the catalog order is kept.

    Each class keeps min(its size, `floor`) rows; the rest of the budget is shared in proportion
    to what every class has left (largest remainder, ties to the class that sorts first), and the
    rows within a class are drawn with `seed`. `n` <= 0 or at least the catalog size keeps every row.
    When `n` is smaller than the number of classes, `n` classes drawn with `seed` keep one row each.
    """
    total = len(classes)
    if n <= 0 or n >= total:
        return np.arange(total)
    labels, inverse, counts = np.unique(np.asarray(classes, dtype=str), return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    per_class = min(floor, n // len(labels))
    if per_class == 0:
        log.warning("data.max_items=%d is below the %d classes: %d classes keep one row each", n, len(labels), n)
        sizes = np.zeros(len(labels), dtype=np.int64)
        sizes[rng.choice(len(labels), size=n, replace=False)] = 1
    else:
        base = np.minimum(counts, per_class).astype(np.int64)
        rest = counts - base
        sizes = base + _largest_remainder(n - int(base.sum()), rest)
    chosen = [
        rng.choice(np.flatnonzero(inverse == c), size=int(size), replace=False) for c, size in enumerate(sizes) if size
    ]
    picked = np.sort(np.concatenate(chosen))
    assert len(picked) == n, (len(picked), n)
    return picked


def _largest_remainder(budget: int, weights: np.ndarray) -> np.ndarray:
    """Split `budget` (<= weights.sum()) in proportion to `weights`, in integers, never above a weight."""
    weights = weights.astype(np.int64)
    scaled = budget * weights
    shares, remainders = np.divmod(scaled, max(int(weights.sum()), 1))
    leftover = budget - int(shares.sum())
    order = np.lexsort((np.arange(len(weights)), -remainders))  # biggest remainder first, then class order
    shares[order[:leftover]] += 1
    return shares
