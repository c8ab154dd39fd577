"""One seed drives every random number generator."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (when imported) torch; return a NumPy generator for local use."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch
    except ImportError:  # the data stages do not need torch
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
