"""A small list-wise rerank policy, trained offline by REINFORCE against simulated users.

State: the user's profile (the query's constraints, seen through each candidate's match and conflict), the
candidate pool, and a summary of the list so far (each candidate's redundancy with it and the attribute values
it would add). Action: the next item. Reward: the simulated user's relevance (the share of wanted fields the
item matches, 0 on a conflict), minus a redundancy penalty (max similarity to what is already chosen), plus a
novelty bonus for long-tail attribute values; discounted by list position as DCG discounts. The policy is a
linear score over those features: softmax while it explores, greedy (argmax) when it ranks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from pipelines.errors import PipelineError
from pipelines.io import write_text_atomic
from pipelines.search.config import PolicyConfig

log = logging.getLogger(__name__)

FEATURES = ("relevance", "similarity", "match", "conflict", "long_tail", "redundancy", "novelty")
STATIC = 5  # the first five features do not depend on the list so far


@dataclass(frozen=True)
class Pool:
    """One query's candidates, as the policy (and the simulated user) sees them."""

    rows: np.ndarray  # catalog rows
    base: np.ndarray  # similarity to the query
    relevance: np.ndarray  # the constraint score base + alpha * match - beta * conflict
    match_share: np.ndarray  # matched wanted fields / wanted fields (1 when the query wants nothing)
    conflicts: np.ndarray  # conflicting fields
    long_tail: np.ndarray  # in [0, 1]: rarity of the item's attribute values
    vectors: np.ndarray  # (P, d) L2-normalised embeddings
    masks: np.ndarray  # (fields, P) attribute bitmasks (pipelines.search.explain.AttributeTable)

    @cached_property
    def similarity(self) -> np.ndarray:
        """(P, P) cosine similarities between the candidates (computed once per pool)."""
        vectors = np.asarray(self.vectors, dtype=np.float32)
        return (vectors @ vectors.T).astype(np.float64)

    @property
    def gain(self) -> np.ndarray:
        """Graded relevance to the constraints, the proxy label of NDCG and the simulated user's relevance."""
        return np.where(self.conflicts > 0, 0.0, self.match_share)

    def static_features(self) -> np.ndarray:
        return np.stack(
            [
                _standardised(self.relevance),
                _standardised(self.base),
                self.match_share,
                np.minimum(self.conflicts, 3) / 3.0,
                self.long_tail,
            ],
            axis=1,
        )


def _standardised(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


class _Lists:
    """Lists being built over several pools at once, padded to the widest pool: per pool the static features,
    and the summary of its list so far (each candidate's max similarity to the chosen items, and the share of
    its known attribute values the list does not hold yet)."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        n, width, fields = len(pools), max(len(p.rows) for p in pools), len(pools[0].masks)
        self.sizes = np.array([len(p.rows) for p in pools])
        self.static = np.zeros((n, width, STATIC))
        self.similarity = np.zeros((n, width, width))
        self.masks = np.zeros((n, fields, width), dtype=np.int64)
        self.gain, self.long_tail = np.zeros((n, width)), np.zeros((n, width))
        for i, pool in enumerate(pools):
            size = len(pool.rows)
            self.static[i, :size] = pool.static_features()
            self.similarity[i, :size, :size] = pool.similarity
            self.masks[i, :, :size] = pool.masks
            self.gain[i, :size], self.long_tail[i, :size] = pool.gain, pool.long_tail
        self.known = np.maximum((self.masks != 0).sum(axis=1), 1)
        self.clear()

    def clear(self) -> None:
        """Empty every list."""
        n, fields, width = self.masks.shape
        self.redundancy = np.zeros((n, width))
        self.seen = np.zeros((n, fields), dtype=np.int64)
        self.available = np.arange(width) < self.sizes[:, None]

    def features(self, lists: np.ndarray) -> np.ndarray:
        """(len(lists), width, FEATURES) for these lists (indices into the pools)."""
        new = ((self.masks[lists] & ~self.seen[lists][:, :, None]) != 0).sum(axis=1)
        return np.concatenate(
            [self.static[lists], self.redundancy[lists][..., None], (new / self.known[lists])[..., None]], axis=2
        )

    def take(self, lists: np.ndarray, picks: np.ndarray) -> None:
        self.available[lists, picks] = False
        self.redundancy[lists] = np.maximum(self.redundancy[lists], self.similarity[lists, picks])
        self.seen[lists] |= self.masks[lists, :, picks]


@dataclass(frozen=True)
class ListwisePolicy:
    weights: np.ndarray  # one per FEATURES entry
    info: dict  # how it was trained

    def rank(self, pool: Pool, k: int) -> np.ndarray:
        """Greedy rollout: pool positions of the list, best first."""
        lists, only = _Lists([pool]), np.zeros(1, dtype=np.int64)
        chosen = []
        for _ in range(min(k, len(pool.rows))):
            scores = np.where(lists.available[only], lists.features(only) @ self.weights, -np.inf)
            pick = np.argmax(scores, axis=1)
            chosen.append(int(pick[0]))
            lists.take(only, pick)
        return np.asarray(chosen, dtype=np.int64)

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": [round(float(w), 6) for w in self.weights], **self.info}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def save_policy(policy: ListwisePolicy, path: str | Path) -> None:
    write_text_atomic(policy.to_json(), path)


def load_policy(path: str | Path) -> ListwisePolicy:
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: rerank policy not found (build it with `dvc repro rerank`)")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{path}: not valid JSON ({exc})") from None
    if payload.get("features") != list(FEATURES) or len(payload.get("weights", [])) != len(FEATURES):
        raise PipelineError(
            f"{path}: the policy's features {payload.get('features')} are not this code's {list(FEATURES)} "
            "(rerun `dvc repro rerank`)"
        )
    info = {key: value for key, value in payload.items() if key not in ("features", "weights")}
    return ListwisePolicy(np.asarray(payload["weights"], dtype=np.float64), info)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(k) + 2.0)


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
    lists = _Lists(pools)
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
        return weights - (self.lr / (1 - beta1**self.steps)) * self.m / denom


def _sample_sessions(
    lists: _Lists, weights: np.ndarray, k: int, cfg: PolicyConfig, rng: np.random.Generator
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
