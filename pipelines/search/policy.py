"""A small list-wise rerank policy, trained offline by REINFORCE against simulated users (seed 003, step 7).

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


class _ListState:
    """The summary of the list so far: per candidate, its max similarity to the chosen items and its novelty."""

    def __init__(self, pool: Pool) -> None:
        self.similarity = pool.similarity
        self.masks = pool.masks
        self.known = np.maximum((pool.masks != 0).sum(axis=0), 1)
        self.redundancy = np.zeros(len(pool.rows))
        self.seen = np.zeros(len(pool.masks), dtype=np.int64)
        self.available = np.ones(len(pool.rows), dtype=bool)

    def features(self) -> np.ndarray:
        new = ((self.masks & ~self.seen[:, None]) != 0).sum(axis=0)
        return np.stack([self.redundancy, new / self.known], axis=1)

    def take(self, position: int) -> None:
        self.available[position] = False
        self.redundancy = np.maximum(self.redundancy, self.similarity[position])
        self.seen |= self.masks[:, position]


@dataclass(frozen=True)
class ListwisePolicy:
    weights: np.ndarray  # one per FEATURES entry
    info: dict  # how it was trained

    def score(self, static: np.ndarray, state: _ListState) -> np.ndarray:
        features = np.concatenate([static, state.features()], axis=1)
        return features @ self.weights

    def rank(self, pool: Pool, k: int) -> np.ndarray:
        """Greedy rollout: pool positions of the list, best first."""
        static = pool.static_features()
        state = _ListState(pool)
        chosen = []
        for _ in range(min(k, len(pool.rows))):
            scores = np.where(state.available, self.score(static, state), -np.inf)
            pick = int(np.argmax(scores))
            chosen.append(pick)
            state.take(pick)
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


def episode_reward(pool: Pool, chosen: Sequence[int], cfg: PolicyConfig) -> np.ndarray:
    """The simulated user's reward at each step of a list (undiscounted)."""
    similarity = pool.similarity
    gain = pool.gain
    rewards = []
    for t, pick in enumerate(chosen):
        redundancy = similarity[pick, list(chosen[:t])].max() if t else 0.0
        rewards.append(gain[pick] - cfg.redundancy_penalty * redundancy + cfg.novelty_bonus * pool.long_tail[pick])
    return np.asarray(rewards)


def train_policy(pools: Sequence[Pool], k: int, cfg: PolicyConfig, seed: int) -> tuple[ListwisePolicy, list[float]]:
    """REINFORCE with a per-position baseline, one Adam step per pass over the simulated users.

    Starts from the constraint rerank (weight 1 on relevance) and returns the policy and the mean discounted
    return of each pass (deterministic for a seed: the sampling RNG is seeded per pass).
    """
    import torch

    if not pools:
        raise PipelineError("rerank: no simulated users to train the policy on (the train split gave no queries)")
    weights = torch.zeros(len(FEATURES), dtype=torch.float64)
    weights[0] = 1.0
    weights.requires_grad_(True)
    optimizer = torch.optim.Adam([weights], lr=cfg.lr)
    discounts = _discounts(k)
    history = []
    for epoch in range(cfg.epochs):
        rng = np.random.default_rng([seed, epoch])
        w = weights.detach().numpy().copy()
        episodes = [_sample_episode(pool, w, k, cfg, rng) for pool in pools]
        depth = max(len(e[0]) for e in episodes)
        returns = np.zeros((len(episodes), depth))
        mask = np.zeros((len(episodes), depth), dtype=bool)
        for i, (rewards, _) in enumerate(episodes):
            discounted = rewards * discounts[: len(rewards)]
            returns[i, : len(rewards)] = np.cumsum(discounted[::-1])[::-1]
            mask[i, : len(rewards)] = True
        counts = np.maximum(mask.sum(axis=0), 1)
        baseline = (returns * mask).sum(axis=0) / counts
        advantage = (returns - baseline) * mask
        scale = advantage[mask].std() if mask.any() else 1.0
        advantage /= scale if scale > 1e-12 else 1.0
        gradient = np.zeros(len(FEATURES))
        for i, (_, score_grads) in enumerate(episodes):
            gradient += (advantage[i, : len(score_grads), None] * score_grads).sum(axis=0)
        gradient /= len(episodes)
        optimizer.zero_grad()
        weights.grad = torch.as_tensor(-gradient)  # ascend the expected return
        optimizer.step()
        history.append(float(returns[:, 0].mean()))
        log.debug("policy pass %d: mean discounted return %.4f", epoch + 1, history[-1])
    final = weights.detach().numpy().copy()
    info = {"epochs": cfg.epochs, "simulated_users": len(pools), "k": k, "seed": seed}
    return ListwisePolicy(np.round(final, 6), info), history


def _sample_episode(
    pool: Pool, weights: np.ndarray, k: int, cfg: PolicyConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One simulated session: (rewards per step, d log pi(action) / d weights per step)."""
    static = pool.static_features()
    state = _ListState(pool)
    policy = ListwisePolicy(weights, {})
    gain = pool.gain
    rewards, grads = [], []
    for _ in range(min(k, len(pool.rows))):
        features = np.concatenate([static, state.features()], axis=1)
        logits = np.where(state.available, features @ policy.weights / cfg.temperature, -np.inf)
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        pick = int(rng.choice(len(probs), p=probs))
        grads.append((features[pick] - probs @ features) / cfg.temperature)
        rewards.append(
            gain[pick] - cfg.redundancy_penalty * state.redundancy[pick] + cfg.novelty_bonus * pool.long_tail[pick]
        )
        state.take(pick)
    return np.asarray(rewards), np.asarray(grads)
