"""The rerank study: train the policy on simulated users' pools, then run every strategy on the same test queries
and score satisfaction, explanation faithfulness, NDCG, intra-list diversity and coverage at K."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.evaluation.metrics import ndcg_at_k
from pipelines.rerank.queries import COLOR_CATEGORY, KINDS, RerankQuery, build_queries
from pipelines.rerank.report import report_markdown
from pipelines.rerank.runs import QueryRun
from pipelines.rerank.training import train_policy
from pipelines.schema import FIELDS
from pipelines.search.config import RerankConfig
from pipelines.search.constraints import Constraints, ParsedQuery, parse_query
from pipelines.search.explain import Claim, claim_holds
from pipelines.search.policy import ListwisePolicy, Pool
from pipelines.search.rerank import STRATEGIES
from pipelines.search.service import SearchService
from pipelines.search.spaces import SearchSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RerankStudy:
    policy: ListwisePolicy  # artifacts/rerank/policy.json
    metrics: dict[str, Any]  # reports/rerank.json (a DVC metric): the headline
    detail: dict[
        str, Any
    ]  # reports/rerank_detail.json: every strategy's metrics, overall and per query kind, and the policy
    report: str  # reports/rerank.md


def run_study(
    service: SearchService,
    items: pd.DataFrame,
    cfg: RerankConfig,
    text_keys: Callable[[list[str]], np.ndarray],
    seed: int,
) -> RerankStudy:
    """The rerank study over a service built without a policy: simulated users from the train split train the
    policy on the pools a search retrieves, then every strategy, the new policy included, answers the same
    test-split queries, scored against `items` (items.parquet).

    `text_keys` gives the frozen CLIP text key of each query's clip_text, one text at a time as a search encodes
    it (the stage reads them from the prompt cache).
    """
    space = service.spaces[cfg.model]
    simulated_users = build_queries(items, "train", cfg.policy.train_queries, cfg.negation_share, seed)
    queries = build_queries(items, "test", cfg.queries, cfg.negation_share, seed)
    parsed = parse_queries(service, simulated_users + queries)
    keys = text_keys([query.clip_text for query in parsed])
    users = len(simulated_users)

    pools = training_pools(service, space, parsed[:users], keys[:users])
    policy, history = train_policy(pools, cfg.k, cfg.policy, seed)
    policy.info.update({"return_first": round(history[0], 4), "return_last": round(history[-1], 4)})
    service.policy = policy  # the `policy` strategy below ranks with the policy just trained
    log.info("policy: mean discounted return %.4f -> %.4f over %d passes", history[0], history[-1], len(history))

    runs = run_queries(service, space, queries, parsed[users:], keys[users:], cfg.k)
    table, coverage = score_runs(service, space, runs, items, cfg.k)
    summary = summarise(table, coverage)
    payload = policy.to_dict()
    return RerankStudy(
        policy=policy,
        metrics=headline(summary, cfg.k),
        detail={"model": cfg.model, "k": cfg.k, "strategies": summary, "policy": payload},
        report=report_markdown(summary, runs, cfg.k, cfg.examples, cfg.model, payload, service.attributes.rows),
    )


def parse_queries(service: SearchService, queries: list[RerankQuery]) -> list[ParsedQuery]:
    """Each query parsed as a search parses it: its constraints, and the `clip_text` it sends to CLIP."""
    return [parse_query(query.text, service.vocabulary) for query in queries]


def _encoded(
    space: SearchSpace, parsed: list[ParsedQuery], text_keys: np.ndarray
) -> list[tuple[Constraints, np.ndarray]]:
    """Each query's constraints and vector in `space`, from the frozen CLIP key of its clip_text (row i of
    `text_keys`, each encoded alone by `FrozenClip.text_keys`): the vector `SearchService.search` makes of it."""
    if len(text_keys) != len(parsed):
        raise PipelineError(f"rerank: {len(text_keys)} query text keys for {len(parsed)} queries")
    return [(query.constraints, space.embed_text_key(key)) for query, key in zip(parsed, text_keys, strict=True)]


def training_pools(
    service: SearchService, space: SearchSpace, parsed: list[ParsedQuery], text_keys: np.ndarray
) -> list[Pool]:
    """The simulated users' candidate pools, retrieved exactly as a search retrieves them."""
    return [service.pool(space, vector, constraints) for constraints, vector in _encoded(space, parsed, text_keys)]


def run_queries(
    service: SearchService,
    space: SearchSpace,
    queries: list[RerankQuery],
    parsed: list[ParsedQuery],
    text_keys: np.ndarray,
    k: int,
) -> list[QueryRun]:
    runs = []
    for query, (constraints, vector) in zip(queries, _encoded(space, parsed, text_keys), strict=True):
        lists = {s: service.rank(space, vector, constraints, k, s)[0] for s in STRATEGIES}
        runs.append(QueryRun(query, constraints, lists))
    return runs


def _gains(service: SearchService, constraints: Constraints) -> np.ndarray:
    """Graded relevance of every catalog item: the share of wanted fields it matches, 0 on a conflict."""
    rows = np.arange(service.attributes.rows)
    matched, conflicts = service.attributes.counts(rows, constraints)
    wanted = len(constraints.wanted)
    share = matched / wanted if wanted else np.ones(len(rows))
    return np.where(conflicts > 0, 0.0, share)


def _ild(vectors: np.ndarray) -> float:
    """Intra-list diversity: mean pairwise cosine distance between the results' embeddings."""
    n = len(vectors)
    if n < 2:
        return 0.0
    similarity = (vectors @ vectors.T).astype(np.float64)
    return float((1.0 - similarity[np.triu_indices(n, 1)]).mean())


def score_runs(
    service: SearchService, space: SearchSpace, runs: list[QueryRun], items: pd.DataFrame, k: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per (query, strategy): satisfaction@k, claims and true claims, NDCG@k, ILD@k; and coverage@k per strategy.

    Faithfulness checks each explanation claim against the item's row in items.parquet (`items`), not against
    the metadata the explanation was made from.
    """
    truth: dict[str, dict[str, object]] = {
        str(item_id): dict(zip(FIELDS, values, strict=True))
        for item_id, *values in items[["item_id", *FIELDS]].itertuples(index=False)
    }
    missing = sorted({r.item_id for run in runs for results in run.lists.values() for r in results} - set(truth))
    if missing:
        raise PipelineError(f"items.parquet: result item {missing[0]!r} is not in items.parquet (rerun encode_kv)")
    records = []
    seen: dict[str, set[int]] = {s: set() for s in STRATEGIES}
    for i, run in enumerate(runs):
        gains = _gains(service, run.constraints)
        satisfying = int(service.attributes.satisfying(run.constraints).sum())
        for strategy, results in run.lists.items():
            rows = [r.row for r in results]
            seen[strategy].update(rows)
            claims = [(r.item_id, Claim(c["field"], c["value"])) for r in results for c in r.explanation]
            true = sum(claim_holds(claim, truth[item_id]) for item_id, claim in claims)
            records.append(
                {
                    "query": i,
                    "kind": run.query.kind,
                    "strategy": strategy,
                    "satisfied": sum(r.satisfied for r in results),
                    "attainable": min(k, satisfying),
                    "claims": len(claims),
                    "true_claims": int(true),
                    "ndcg": ndcg_at_k(gains, np.asarray(rows), k),
                    "ild": _ild(np.asarray(space.embeddings[rows], dtype=np.float32)),
                }
            )
    table = pd.DataFrame.from_records(records)
    table["satisfaction"] = np.where(
        table["attainable"] > 0, table["satisfied"] / table["attainable"].clip(lower=1), 1.0
    )
    coverage = {s: len(seen[s]) / service.attributes.rows for s in STRATEGIES}
    return table, coverage


def summarise(table: pd.DataFrame, coverage: dict[str, Any]) -> dict[str, Any]:
    """Per strategy, over all queries and per query kind: the five metrics (and the query counts)."""
    out: dict[str, Any] = {
        "queries": {kind: int((table[table.strategy == "none"].kind == kind).sum()) for kind in KINDS}
    }
    for strategy in STRATEGIES:
        rows = table[table.strategy == strategy]
        summary = _metrics(rows)
        summary["coverage"] = round(coverage[strategy], 4)
        summary["by_kind"] = {kind: _metrics(rows[rows.kind == kind]) for kind in KINDS if (rows.kind == kind).any()}
        out[strategy] = summary
    return out


def _metrics(rows: pd.DataFrame) -> dict[str, Any]:
    claims = int(rows["claims"].sum())
    return {
        "satisfaction": round(float(rows["satisfaction"].mean()), 4),
        "faithfulness": round(float(rows["true_claims"].sum() / claims), 4) if claims else 1.0,
        "ndcg": round(float(rows["ndcg"].mean()), 4),
        "ild": round(float(rows["ild"].mean()), 4),
    }


def headline(summary: dict[str, Any], k: int) -> dict[str, Any]:
    """The six values of reports/rerank.json (a DVC metric)."""
    cc = {s: summary[s]["by_kind"].get(COLOR_CATEGORY, summary[s]) for s in STRATEGIES}
    return {
        f"faithfulness@{k}": min(summary[s]["faithfulness"] for s in STRATEGIES),
        "none": {f"satisfaction@{k} {COLOR_CATEGORY}": cc["none"]["satisfaction"]},
        "constraints": {
            f"satisfaction@{k} {COLOR_CATEGORY}": cc["constraints"]["satisfaction"],
            f"ndcg@{k}": summary["constraints"]["ndcg"],
        },
        "policy": {f"ndcg@{k}": summary["policy"]["ndcg"], f"ild@{k}": summary["policy"]["ild"]},
    }
