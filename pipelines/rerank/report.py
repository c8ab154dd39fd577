"""The rerank study's report: reports/rerank.md, the strategies' metrics and example queries."""

from __future__ import annotations

from typing import Any

from pipelines.rerank.queries import KINDS
from pipelines.rerank.runs import QueryRun
from pipelines.search.rerank import STRATEGIES

METRICS = ("satisfaction", "faithfulness", "ndcg", "ild", "coverage")
EXAMPLE_RESULTS = 5


def report_markdown(
    summary: dict[str, Any],
    runs: list[QueryRun],
    k: int,
    examples: int,
    model: str,
    policy_info: dict[str, Any],
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
