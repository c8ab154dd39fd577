"""The rerank stage's study: every strategy on the same queries and pools, scored on satisfaction, explanation
faithfulness, NDCG, intra-list diversity and coverage at K, plus the reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.evaluation.metrics import ndcg_at_k
from pipelines.schema import FIELDS
from pipelines.search.constraints import Constraints, ParsedQuery, parse_query
from pipelines.search.explain import Claim, claim_holds
from pipelines.search.policy import Pool
from pipelines.search.queries import COLOR_CATEGORY, KINDS, RerankQuery
from pipelines.search.rerank import STRATEGIES
from pipelines.search.service import SearchResult, SearchService
from pipelines.search.spaces import SearchSpace

log = logging.getLogger(__name__)

METRICS = ("satisfaction", "faithfulness", "ndcg", "ild", "coverage")
EXAMPLE_RESULTS = 5


@dataclass(frozen=True)
class QueryRun:
    query: RerankQuery
    constraints: Constraints
    lists: dict[str, list[SearchResult]]  # strategy -> its results


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
) -> tuple[pd.DataFrame, dict]:
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


def summarise(table: pd.DataFrame, coverage: dict) -> dict:
    """Per strategy, over all queries and per query kind: the five metrics (and the query counts)."""
    out: dict = {"queries": {kind: int((table[table.strategy == "none"].kind == kind).sum()) for kind in KINDS}}
    for strategy in STRATEGIES:
        rows = table[table.strategy == strategy]
        summary = _metrics(rows)
        summary["coverage"] = round(coverage[strategy], 4)
        summary["by_kind"] = {kind: _metrics(rows[rows.kind == kind]) for kind in KINDS if (rows.kind == kind).any()}
        out[strategy] = summary
    return out


def _metrics(rows: pd.DataFrame) -> dict:
    claims = int(rows["claims"].sum())
    return {
        "satisfaction": round(float(rows["satisfaction"].mean()), 4),
        "faithfulness": round(float(rows["true_claims"].sum() / claims), 4) if claims else 1.0,
        "ndcg": round(float(rows["ndcg"].mean()), 4),
        "ild": round(float(rows["ild"].mean()), 4),
    }


def headline(summary: dict, k: int) -> dict:
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


def report_markdown(
    summary: dict,
    runs: list[QueryRun],
    k: int,
    examples: int,
    model: str,
    policy_info: dict,
    catalog_rows: int,
) -> str:
    names = {
        "satisfaction": f"constraint_satisfaction@{k}",
        "faithfulness": f"explanation_faithfulness@{k}",
        "ndcg": f"NDCG@{k}",
        "ild": f"ILD@{k}",
        "coverage": f"coverage@{k}",
    }
    lines = [
        "# Rerank: constraints, MMR and the list-wise policy",
        "",
        f"Model `{model}`, {sum(summary['queries'].values())} test-split queries "
        f"({', '.join(f'{n} {kind}' for kind, n in summary['queries'].items())}) against {catalog_rows:,} items.",
        "",
        f"- **{names['satisfaction']}**: share of the top {k} that meets every parsed constraint (each wanted "
        f"field holds a wanted value, no excluded value), out of the most that could (min({k}, items that do)).",
        f"- **{names['faithfulness']}**: share of explanation claims whose field holds that value in items.parquet.",
        f"- **{names['ndcg']}**: graded relevance = share of wanted fields matched, 0 on any conflict; the ideal "
        "list is the catalog's best.",
        f"- **{names['ild']}**: mean pairwise cosine distance of the results' embeddings.",
        f"- **{names['coverage']}**: distinct items over all queries' lists / catalog size.",
        "",
        "| strategy | " + " | ".join(names[m] for m in METRICS) + " |",
        "|---|" + "---:|" * len(METRICS),
    ]
    for strategy in STRATEGIES:
        s = summary[strategy]
        lines.append(f"| {strategy} | " + " | ".join(f"{s[m]:.4f}" for m in METRICS) + " |")
    lines += ["", f"{names['satisfaction']} by query kind:", "", "| strategy | " + " | ".join(KINDS) + " |"]
    lines.append("|---|" + "---:|" * len(KINDS))
    for strategy in STRATEGIES:
        by_kind = summary[strategy]["by_kind"]
        cells = [f"{by_kind[kind]['satisfaction']:.4f}" if kind in by_kind else "–" for kind in KINDS]
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    weights = ", ".join(f"{f} {w:+.3f}" for f, w in zip(policy_info["features"], policy_info["weights"], strict=True))
    lines += [
        "",
        f"Policy: linear over ({weights}); trained on {policy_info['simulated_users']} simulated users from the "
        f"train split, {policy_info['epochs']} passes, mean discounted return {policy_info['return_first']:.4f} "
        f"-> {policy_info['return_last']:.4f}.",
        "",
        f"## {min(examples, len(runs))} example queries (strategy `constraints`, top {EXAMPLE_RESULTS})",
    ]
    for run in runs[:examples]:
        parsed = run.constraints.to_dict()
        wanted = ", ".join(f"{f}={v}" for f, v in parsed["constraints"].items()) or "none"
        excluded = ", ".join(f"{f}≠{'/'.join(v)}" for f, v in parsed["excluded"].items())
        lines += [
            "",
            f"### “{run.query.text}” ({run.query.kind})",
            "",
            f"Parsed: {wanted}" + (f"; excluded: {excluded}" if excluded else ""),
            "",
        ]
        lines += ["| # | item | score | similarity | explanation | conflicts |", "|---:|---|---:|---:|---|---|"]
        for rank, result in enumerate(run.lists["constraints"][:EXAMPLE_RESULTS], start=1):
            explanation = ", ".join(f"{c['field']}: {c['value']}" for c in result.explanation) or "–"
            conflicts = ", ".join(f"{c['field']}: {c['value']}" for c in result.conflicts) or "–"
            numbers = f"{result.score:.4f} | {result.similarity:.4f}"
            lines.append(f"| {rank} | {result.item_id} | {numbers} | {explanation} | {conflicts} |")
    return "\n".join(lines) + "\n"
