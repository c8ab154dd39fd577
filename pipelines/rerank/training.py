"""Train the list-wise rerank policy offline by REINFORCE against simulated users.

A simulated user sees the policy's list one item at a time. Reward: the user's relevance (the share of wanted
fields the item matches, 0 on a conflict), minus a redundancy penalty (max similarity to what is already chosen),
plus a novelty bonus for long-tail attribute values; discounted by list position as DCG discounts. The policy
samples by softmax while it explores; live queries rank greedily (pipelines/search/policy.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.errors import PipelineError
from pipelines.io import write_text_atomic
from pipelines.search.config import PolicyConfig
from pipelines.search.policy import FEATURES, ListBuilder, ListwisePolicy, Pool

log = logging.getLogger(__name__)


def save_policy(policy: ListwisePolicy, path: str | Path) -> None:
    write_text_atomic(policy.to_json(), path)


def _discounts(k: int) -> np.ndarray:
    result: np.ndarray = 1.0 / np.log2(np.arange(k) + 2.0)
    return result


def _reward(gain: np.ndarray, redundancy: np.ndarray, long_tail: np.ndarray, cfg: PolicyConfig) -> np.ndarray:
    """The simulated user's reward for an item: its relevance, minus its redundancy with the list so far, plus
    the novelty of its long-tail values."""
    return gain - cfg.redundancy_penalty * redundancy + cfg.novelty_bonus * long_tail


def episode_reward(pool: Pool, chosen: Sequence[int], cfg: PolicyConfig) -> np.ndarray:
    """The simulated user's reward at each step of a list (undiscounted)."""
    chosen = list(chosen)
    redundancy = np.array([pool.similarity[pick, chosen[:t]].max() if t else 0.0 for t, pick in enumerate(chosen)])
    return _reward(pool.gain[chosen], redundancy, pool.long_tail[chosen], cfg)


def train_policy(pools: Sequence[Pool], k: int, cfg: PolicyConfig, seed: int) -> tuple[ListwisePolicy, list[float]]:
    """REINFORCE with a per-position baseline, one Adam step per pass over the simulated users.

    Starts from the constraint rerank (weight 1 on relevance) and returns the policy and the mean discounted
    return of each pass (deterministic for a seed: the sampling RNG is seeded per pass).
    """
    if not pools:
        raise PipelineError("rerank: no simulated users to train the policy on (the train split gave no queries)")
    weights = np.zeros(len(FEATURES))
    weights[0] = 1.0
    optimizer = _Adam(len(FEATURES), cfg.lr)
    discounts = _discounts(k)
    lists = ListBuilder(pools)
    history = []
    for epoch in range(cfg.epochs):
        rng = np.random.default_rng([seed, epoch])
        rewards, score_grads, mask = _sample_sessions(lists, weights, k, cfg, rng)
        returns = np.cumsum((rewards * discounts[: rewards.shape[1]])[:, ::-1], axis=1)[:, ::-1]
        counts = np.maximum(mask.sum(axis=0), 1)
        baseline = (returns * mask).sum(axis=0) / counts
        advantage = (returns - baseline) * mask
        scale = advantage[mask].std() if mask.any() else 1.0
        advantage /= scale if scale > 1e-12 else 1.0
        gradient = (advantage[:, :, None] * score_grads).sum(axis=(0, 1)) / len(pools)
        weights = optimizer.step(weights, -gradient)  # ascend the expected return
        history.append(float(returns[:, 0].mean()))
        log.debug("policy pass %d: mean discounted return %.4f", epoch + 1, history[-1])
    info = {"epochs": cfg.epochs, "simulated_users": len(pools), "k": k, "seed": seed}
    return ListwisePolicy(np.round(weights, 6), info), history


class _Adam:
    """Adam (Kingma & Ba, as torch.optim.Adam computes it) over one weight vector: seven numbers need no torch,
    whose optimizers import torch._dynamo (1.6 s of the stage's start-up)."""

    def __init__(self, size: int, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m, self.v, self.steps = np.zeros(size), np.zeros(size), 0

    def step(self, weights: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        beta1, beta2 = self.betas
        self.steps += 1
        self.m = self.m + (1 - beta1) * (gradient - self.m)
        self.v = self.v * beta2 + (1 - beta2) * gradient * gradient
        denom = np.sqrt(self.v) / np.sqrt(1 - beta2**self.steps) + self.eps
        result: np.ndarray = weights - (self.lr / (1 - beta1**self.steps)) * self.m / denom
        return result


def _sample_sessions(
    lists: ListBuilder, weights: np.ndarray, k: int, cfg: PolicyConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One simulated session per pool of `lists` (cleared first), all at once: rewards (pools, depth),
    d log pi(action) / d weights (pools, depth, FEATURES) and which steps happened (pools, depth). Each session
    draws its uniforms from `rng` in turn, one per step, as `rng.choice(p=...)` would, and picks by the same
    inverse CDF."""
    lists.clear()
    lengths = np.minimum(k, lists.sizes)
    depth = int(lengths.max())
    uniforms = np.zeros((len(lengths), depth))
    for i, length in enumerate(lengths):
        uniforms[i, :length] = rng.random(length)
    rewards = np.zeros((len(lengths), depth))
    grads = np.zeros((len(lengths), depth, len(FEATURES)))
    for t in range(depth):
        live = np.flatnonzero(lengths > t)
        features = lists.features(live)
        logits = np.where(lists.available[live], features @ weights / cfg.temperature, -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        cdf = probs.cumsum(axis=1)
        cdf /= cdf[:, -1:]
        picks = (cdf <= uniforms[live, t, None]).sum(axis=1)
        grads[live, t] = (
            features[np.arange(len(live)), picks] - (probs[:, None, :] @ features)[:, 0]
        ) / cfg.temperature
        rewards[live, t] = _reward(
            lists.gain[live, picks], lists.redundancy[live, picks], lists.long_tail[live, picks], cfg
        )
        lists.take(live, picks)
    return rewards, grads, np.arange(depth) < lengths[:, None]
