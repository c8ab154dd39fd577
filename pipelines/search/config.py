"""The `rerank` params section: the constraint rerank, MMR, the list-wise policy and the stage's query set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SearchModel = Literal["baseline", "finetuned"]


@dataclass(frozen=True)
class PolicyConfig:
    """The list-wise policy and the simulated users it is trained against."""

    train_queries: int = 200  # simulated users, drawn from the train split
    epochs: int = 30  # passes over the simulated users
    lr: float = 0.05
    temperature: float = 0.5  # softmax temperature of the policy while it explores
    redundancy_penalty: float = 0.5  # reward: minus this times the max similarity to the items already chosen
    novelty_bonus: float = 0.2  # reward: plus this times the item's long-tail score (rare attribute values)

    def __post_init__(self) -> None:
        if self.train_queries < 1 or self.epochs < 1:
            raise ValueError("rerank.policy.train_queries and rerank.policy.epochs must be at least 1")
        if self.lr <= 0 or self.temperature <= 0:
            raise ValueError("rerank.policy.lr and rerank.policy.temperature must be positive")
        if self.redundancy_penalty < 0 or self.novelty_bonus < 0:
            raise ValueError("rerank.policy.redundancy_penalty and rerank.policy.novelty_bonus must be 0 or more")


@dataclass(frozen=True)
class RerankConfig:
    model: SearchModel = "finetuned"  # the model the stage evaluates and trains the policy on
    k: int = 10  # the cut-off of every reported metric
    pool: int = 100  # candidates: this many from the index plus this many among items meeting every constraint
    alpha: float = 0.5  # score = base + alpha * matched fields - beta * conflicting fields
    beta: float = 1.0
    mmr_lambda: float = 0.7  # MMR: lambda * relevance - (1 - lambda) * max similarity to the list so far
    queries: int = 200  # the stage's query set: a seeded sample of test-split items
    negation_share: float = 0.3  # share of those queries that exclude a value ("not black")
    examples: int = 20  # queries shown with their explained results in reports/rerank.md
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def __post_init__(self) -> None:
        for key in ("k", "pool", "queries"):
            if getattr(self, key) < 1:
                raise ValueError(f"rerank.{key} must be at least 1, got {getattr(self, key)}")
        if self.pool < self.k:
            raise ValueError(f"rerank.pool ({self.pool}) must be at least rerank.k ({self.k})")
        if self.alpha < 0 or self.beta < 0:
            raise ValueError("rerank.alpha and rerank.beta must be 0 or more")
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError(f"rerank.mmr_lambda must lie in [0, 1], got {self.mmr_lambda}")
        if not 0.0 <= self.negation_share <= 1.0:
            raise ValueError(f"rerank.negation_share must lie in [0, 1], got {self.negation_share}")
        if self.examples < 0:
            raise ValueError(f"rerank.examples must be 0 or more, got {self.examples}")
