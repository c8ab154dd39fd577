"""The `rerank` params section: the constraint rerank, MMR, the list-wise policy and the stage's query set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.params import at_least, positive

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
        at_least("rerank.policy", 1, train_queries=self.train_queries, epochs=self.epochs)
        positive("rerank.policy", lr=self.lr, temperature=self.temperature)
        at_least("rerank.policy", 0, redundancy_penalty=self.redundancy_penalty, novelty_bonus=self.novelty_bonus)


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
        at_least("rerank", 0, alpha=self.alpha, beta=self.beta)
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError(f"rerank.mmr_lambda must lie in [0, 1], got {self.mmr_lambda}")
        if not 0.0 <= self.negation_share <= 1.0:
            raise ValueError(f"rerank.negation_share must lie in [0, 1], got {self.negation_share}")
        if self.examples < 0:
            raise ValueError(f"rerank.examples must be 0 or more, got {self.examples}")
