"""The list-wise rerank policy a live query runs: a linear score over each candidate's features, ranked greedily.

Features: the query's constraints seen through each candidate (its constraint score, similarity, match share,
conflicts), the rarity of its attribute values, and the list so far (its redundancy with the chosen items and
the attribute values it would add). The weights are trained offline by the rerank study
(pipelines/rerank/training.py) and loaded from artifacts/rerank/policy.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.errors import PipelineError

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


class ListBuilder:
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
    info: dict[str, Any]  # how it was trained

    def rank(self, pool: Pool, k: int) -> np.ndarray:
        """Greedy rollout: pool positions of the list, best first."""
        lists, only = ListBuilder([pool]), np.zeros(1, dtype=np.int64)
        chosen = []
        for _ in range(min(k, len(pool.rows))):
            scores = np.where(lists.available[only], lists.features(only) @ self.weights, -np.inf)
            pick = np.argmax(scores, axis=1)
            chosen.append(int(pick[0]))
            lists.take(only, pick)
        return np.asarray(chosen, dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "weights": [round(float(w), 6) for w in self.weights], **self.info}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


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
