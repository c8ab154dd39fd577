"""The search facade over a built project: free text and/or an image (or an item's own image) -> explained results.

Everything is loaded once (`SearchService.from_build`); a query parses its constraints, encodes the text and image with
the chosen model, retrieves a candidate pool and orders it with the chosen strategy:

- `none`: plain retrieval, the index's top k;
- `constraints`: score = base + alpha * match - beta * conflict over the pool;
- `mmr`: maximal marginal relevance over that score and the model's embeddings;
- `policy`: the list-wise policy the rerank stage trained against simulated users.

The pool holds the index's `rerank.pool` nearest items plus the `rerank.pool` nearest among the items that meet
every parsed constraint (an exact search over that subset), so a constraint the embedding barely encodes can
still be met.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import pandas as pd

from pipelines import paths
from pipelines.errors import PipelineError
from pipelines.index.config import IndexConfig
from pipelines.search.config import RerankConfig
from pipelines.search.constraints import Constraints, ParsedQuery, load_vocabulary, parse_query
from pipelines.search.explain import AttributeTable, judge
from pipelines.search.policy import ListwisePolicy, Pool, load_policy
from pipelines.search.rerank import STRATEGIES, constraint_scores, mmr, top_by_score
from pipelines.search.spaces import FrozenClip, SearchSpace

log = logging.getLogger(__name__)

MODELS = ("baseline", "finetuned")  # baseline = frozen CLIP keys; finetuned = the trained heads
MAX_K = 100

__all__ = [
    "MAX_K",
    "MODELS",
    "STRATEGIES",
    "CorruptScores",
    "QueryError",
    "SearchResponse",
    "SearchResult",
    "SearchService",
    "UnknownItem",
]


class QueryError(ValueError):
    """An invalid search argument: `param` names it (the service's name: `text`, `k`, `like`, ...)."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"{param}: {reason}")
        self.param, self.reason = param, reason


class UnknownItem(QueryError):
    """An item_id the catalog does not hold (`like=`, an image's id): the HTTP API answers 404."""


class CorruptScores(PipelineError):
    """A query's embedding or a result's score is not a finite number: the build's weights, store or index are
    corrupt. Never answered as NaN (which is not JSON) nor as a list ordered by it."""


@dataclass(frozen=True)
class SearchResult:
    item_id: str
    row: int  # catalog (store) row
    score: float  # what the list was ordered by: the similarity for `none`, else the constraint score
    similarity: float  # cosine similarity to the query in the model's space
    attributes: dict[str, object]
    explanation: list[dict[str, str]]
    conflicts: list[dict[str, str]]
    satisfied: bool  # every wanted field matched, nothing conflicts

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "score": round(self.score, 4),
            "similarity": round(self.similarity, 4),
            "attributes": self.attributes,
            "explanation": self.explanation,
            "conflicts": self.conflicts,
        }


@dataclass
class SearchResponse:
    parsed: ParsedQuery
    results: list[SearchResult]
    timings_ms: dict[str, float] = field(default_factory=dict)
    model: str = "finetuned"
    rerank: str = "constraints"

    @property
    def constraints(self) -> Constraints:
        return self.parsed.constraints

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.parsed.constraints.to_dict(),
            "model": self.model,
            "rerank": self.rerank,
            "results": [r.to_dict() for r in self.results],
            "timings_ms": {key: round(value, 2) for key, value in self.timings_ms.items()},
        }


class SearchService:
    """Search over one built project. Construct with `SearchService.from_build(root, ...)`."""

    def __init__(
        self,
        meta: pd.DataFrame,
        spaces: dict[str, SearchSpace],
        cfg: RerankConfig,
        policy: ListwisePolicy | None = None,
        image_root: Path = Path("."),
        index_cfg: IndexConfig | None = None,
    ) -> None:
        self.index_cfg = index_cfg  # how the in-memory indexes were built (None: given ready-made)
        self.meta = meta
        self.item_ids = meta["item_id"].astype(str).to_numpy()
        self.rows_by_id = {item_id: row for row, item_id in enumerate(self.item_ids)}
        self.image_paths = meta["image_path"].astype(str).to_numpy() if "image_path" in meta else None
        self.attributes = AttributeTable(meta)
        self.spaces = spaces
        self.cfg = cfg
        self.policy = policy
        self.image_root = Path(image_root).resolve()
        self.vocabulary = load_vocabulary()

    @classmethod
    def from_build(
        cls,
        root: Path,
        cfg: RerankConfig,
        index: IndexConfig,
        *,
        seed: int,
        device: str = "auto",
        with_policy: bool = True,
        verify: bool = False,
    ) -> SearchService:
        """The service over the build in `root` with these params; `with_policy=False` (the rerank stage, which
        trains the policy) leaves the `policy` strategy unavailable. CLIP is built on the first query that needs
        it. A missing build raises a PipelineError naming the missing path and saying to run `dvc repro`.
        `verify` checks the sha256 of every store file and of the index against what their writers recorded (the
        model's weights are always checked)."""
        from pipelines.encoders import resolve_device
        from pipelines.search.spaces import FrozenClip, baseline_space, finetuned_space
        from pipelines.store import open_store
        from pipelines.training import load_finetuned

        root = Path(root)
        for needed in (
            paths.STORE_DIR,
            paths.IMAGE_INDEX,
            paths.MODEL_DIR / "model.json",
            *([paths.POLICY] if with_policy else []),
        ):
            if not (root / needed).exists():
                raise PipelineError(f"{root / needed}: not found; build the project first with `dvc repro`")
        store = open_store(root / paths.STORE_DIR, verify=verify)
        clip = FrozenClip(store.model, store.store_hash, str(resolve_device(device)))
        finetuned = load_finetuned(root / paths.MODEL_DIR, store, device)
        spaces = {
            "baseline": baseline_space(store, root / paths.IMAGE_INDEX, clip, verify=verify),
            "finetuned": finetuned_space(store, finetuned, clip, index, seed),
        }
        policy = load_policy(root / paths.POLICY) if with_policy else None
        log.info("search service: %d items, models %s", store.rows, ", ".join(spaces))
        return cls(store.meta, spaces, cfg, policy, image_root=root, index_cfg=index)

    @property
    def clip(self) -> FrozenClip:
        """The frozen CLIP every model's queries go through (the spaces share one)."""
        return next(iter(self.spaces.values())).clip

    # -- queries ---------------------------------------------------------------------------------------------

    def image_path(self, item_id: str) -> Path:
        """The absolute path of the item's image file."""
        row = self._row(item_id, "item_id")
        if self.image_paths is None:
            raise PipelineError("the catalog metadata has no image_path column")
        result: Path = self.image_root / self.image_paths[row]
        return result

    def _row(self, item_id: str, parameter: str) -> int:
        row = self.rows_by_id.get(item_id)
        if row is None:
            raise UnknownItem(parameter, f"unknown item_id {item_id!r}")
        return row

    def search(
        self,
        *,
        text: str = "",
        image: Image.Image | None = None,
        like: str | None = None,
        k: int = 10,
        model: str = "finetuned",
        rerank: str = "constraints",
    ) -> SearchResponse:
        """Search by text and/or an image, or by `like` (an item_id whose stored image embedding is the query;
        that item itself is left out of its results). Invalid arguments raise a QueryError naming the parameter."""
        started = time.perf_counter()
        self._check(text, image, like, k, model, rerank)
        space = self.spaces[model]
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        parsed = parse_query(text or "", self.vocabulary)
        timings["parse"] = _ms(clock)

        clock = time.perf_counter()
        parts = []
        if text and text.strip():
            parts.append(space.encode_text(parsed.clip_text))
        if image is not None:
            parts.append(space.encode_image(image))
        skip = None
        if like is not None:
            skip = self._row(like, "like")
            parts.append(space.embeddings[skip])
        query = np.sum(parts, axis=0).astype(np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        timings["encode"] = _ms(clock)
        if not np.isfinite(query).all():
            raise CorruptScores(
                f"model {model!r}: the query's embedding is not finite; its weights are corrupt (rebuild with "
                "`dvc repro`)"
            )

        results, retrieve_ms, rerank_ms = self.rank(space, query, parsed.constraints, k, rerank, skip=skip)
        timings["retrieve"] = retrieve_ms
        timings["rerank"] = rerank_ms
        timings["total"] = _ms(started)
        return SearchResponse(parsed, results, timings, model, rerank)

    def _check(self, text: object, image: object, like: object, k: object, model: object, rerank: object) -> None:
        if not isinstance(text, str):
            raise QueryError("text", f"must be a string, got {type(text).__name__}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise QueryError("k", f"must be between 1 and {MAX_K}, got {k!r}")
        if model not in self.spaces:
            raise QueryError("model", f"must be one of {', '.join(MODELS)}, got {model!r}")
        if rerank not in STRATEGIES:
            raise QueryError("rerank", f"must be one of {', '.join(STRATEGIES)}, got {rerank!r}")
        if rerank == "policy" and self.policy is None:
            raise QueryError("rerank", "'policy' needs the trained policy (artifacts/rerank/policy.json)")
        if image is not None and not isinstance(image, Image.Image):
            raise QueryError("image", f"must be a PIL image, got {type(image).__name__}")
        if like is not None:
            self._row(str(like), "like")
        if not text.strip() and image is None and like is None:
            raise QueryError("text", "the query is empty (give a text, an image, or like=<item_id>)")

    # -- ranking ---------------------------------------------------------------------------------------------

    def pool(self, space: SearchSpace, query: np.ndarray, constraints: Constraints, skip: int | None = None) -> Pool:
        """The candidates: the index's nearest plus the nearest among items meeting every constraint."""
        from pipelines.index import search

        size = self.cfg.pool
        _, ids = search(space.index, query[None], size + (skip is not None))
        rows = [ids[0][ids[0] >= 0]]
        if constraints:
            meeting = np.flatnonzero(self.attributes.satisfying(constraints))
            if len(meeting):
                scores = space.embeddings[meeting] @ query
                if len(meeting) > size:
                    keep = np.argpartition(-scores, size)[:size]
                    meeting = meeting[keep]
                rows.append(meeting)
        candidates = np.unique(np.concatenate(rows))
        if skip is not None:
            candidates = candidates[candidates != skip]
        base = (space.embeddings[candidates] @ query).astype(np.float64)
        order = np.lexsort((candidates, -base))  # by similarity, ties by row: the same pool in the same order
        candidates, base = candidates[order], base[order]
        matched, conflicts = self.attributes.counts(candidates, constraints)
        wanted = len(constraints.wanted)
        return Pool(
            rows=candidates,
            base=base,
            relevance=constraint_scores(base, matched, conflicts, self.cfg.alpha, self.cfg.beta),
            match_share=matched / wanted if wanted else np.ones(len(candidates)),
            conflicts=conflicts,
            long_tail=self.attributes.long_tail(candidates),
            vectors=np.asarray(space.embeddings[candidates], dtype=np.float32),
            masks=np.stack([self.attributes.masks[f][candidates] for f in self.attributes.fields]),
        )

    def rank(
        self,
        space: SearchSpace,
        query: np.ndarray,
        constraints: Constraints,
        k: int,
        strategy: str,
        skip: int | None = None,
    ) -> tuple[list[SearchResult], float, float]:
        """(results, retrieve ms, rerank ms) for an encoded query."""
        from pipelines.index import search

        clock = time.perf_counter()
        if strategy == "none":
            scores, ids = search(space.index, query[None], k + (skip is not None))
            keep = (ids[0] >= 0) & (ids[0] != (-1 if skip is None else skip))
            rows = ids[0][keep][:k]
            retrieve_ms = _ms(clock)
            base = (space.embeddings[rows] @ query).astype(np.float64)
            self._check_finite(space, rows, base)
            return self._results(rows, base, base, constraints), retrieve_ms, 0.0
        pool = self.pool(space, query, constraints, skip)
        self._check_finite(space, pool.rows, pool.relevance)
        retrieve_ms = _ms(clock)
        clock = time.perf_counter()
        if strategy == "constraints":
            positions = top_by_score(pool.relevance, k)
        elif strategy == "mmr":
            positions = mmr(pool.relevance, pool.vectors, k, self.cfg.mmr_lambda)
        else:
            if self.policy is None:
                raise QueryError("rerank", "the policy is not loaded (from_build loads it)")
            positions = self.policy.rank(pool, k)
        results = self._results(pool.rows[positions], pool.relevance[positions], pool.base[positions], constraints)
        return results, retrieve_ms, _ms(clock)

    def _check_finite(self, space: SearchSpace, rows: np.ndarray, scores: np.ndarray) -> None:
        """CorruptScores naming the first candidate whose score is not finite: a NaN would otherwise be dropped to
        the end of the list in silence, or reach the JSON encoder."""
        bad = np.flatnonzero(~np.isfinite(scores))
        if len(bad):
            raise CorruptScores(
                f"model {space.name!r}: item {str(self.item_ids[rows[bad[0]]])!r} scored {scores[bad[0]]}; the "
                "store's embeddings or the index are corrupt (`make serve` checks their hashes at start unless "
                "--no-verify; rebuild with `dvc repro`)"
            )

    def _results(
        self, rows: np.ndarray, scores: np.ndarray, base: np.ndarray, constraints: Constraints
    ) -> list[SearchResult]:
        out = []
        for row, score, similarity in zip(rows, scores, base, strict=True):
            attributes = self.attributes.attributes(int(row))
            verdict = judge(attributes, constraints)
            out.append(
                SearchResult(
                    item_id=str(self.item_ids[row]),
                    row=int(row),
                    score=float(score),
                    similarity=float(similarity),
                    attributes=attributes,
                    explanation=[c.to_dict() for c in verdict.explanation],
                    conflicts=[c.to_dict() for c in verdict.conflicts],
                    satisfied=verdict.satisfied,
                )
            )
        return out


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0
