"""Score the fine-tuned model against the baseline on the locked targets; optionally fail CI on a miss."""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.cli import run_stage
from pipelines.errors import PipelineError
from pipelines.evaluation import (
    EvalConfig,
    ScoreboardConfig,
    compute_scoreboard,
    missed,
    scoreboard_detail,
    scoreboard_json,
    scoreboard_markdown,
)
from pipelines.io import read_json, read_parquet, write_json_atomic, write_text_atomic
from pipelines.params import load_params

log = logging.getLogger("stages.scoreboard")

PER_QUERY = Path("artifacts/eval/per_query.parquet")
RUN_CARD = Path("artifacts/eval/run.json")
SCOREBOARD_JSON = Path("reports/scoreboard.json")  # per target: baseline, finetuned, delta, pass (a DVC metric)
SCOREBOARD_DETAIL = Path("reports/scoreboard_detail.json")  # intervals, query counts, status, notes, verdict
SCOREBOARD_MD = Path("reports/scoreboard.md")


def main() -> None:
    params = load_params(eval=EvalConfig, scoreboard=ScoreboardConfig)
    cfg = params.scoreboard
    per_query = read_parquet(PER_QUERY, "the evaluate stage")
    run = read_json(RUN_CARD)
    results = compute_scoreboard(
        cfg.targets,
        per_query,
        resamples=params.eval.bootstrap,
        seed=params.seed,
    )
    untrained = bool(run.get("untrained_backbone", False))
    write_json_atomic(scoreboard_json(results), SCOREBOARD_JSON)
    write_json_atomic(scoreboard_detail(results, untrained), SCOREBOARD_DETAIL)
    write_text_atomic(scoreboard_markdown(results, untrained), SCOREBOARD_MD)
    for r in results:
        log.info("%-40s %s", r.name, r.status if r.delta is None else f"{r.delta:+.1f} pts: {r.status}")
    misses = missed(results)
    if cfg.fail_on_miss and misses:
        raise PipelineError(f"scoreboard: {len(misses)} of {len(results)} targets missed: {', '.join(misses)}")


if __name__ == "__main__":
    run_stage(main)
