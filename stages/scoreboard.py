"""Score the fine-tuned model against the baseline on the locked targets; optionally fail CI on a miss."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.errors import PipelineError
from pipelines.evaluation import (
    compute_scoreboard,
    missed,
    plan_verdict,
    scoreboard_detail,
    scoreboard_json,
    scoreboard_markdown,
)
from pipelines.evaluation.config import EvalConfig, ScoreboardConfig
from pipelines.io import read_json, read_parquet, write_json_atomic, write_text_atomic
from pipelines.params import load_params

log = logging.getLogger("stages.scoreboard")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    eval: EvalConfig
    scoreboard: ScoreboardConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.scoreboard
    per_query = read_parquet(paths.PER_QUERY, "the evaluate stage")
    run = read_json(paths.RUN_CARD)
    results = compute_scoreboard(
        cfg.targets,
        per_query,
        resamples=params.eval.bootstrap,
        seed=params.seed,
    )
    untrained = bool(run.get("untrained_backbone", False))
    write_json_atomic(scoreboard_json(results), paths.SCOREBOARD)
    write_json_atomic(scoreboard_detail(results, untrained), paths.SCOREBOARD_DETAIL)
    graphic = [str(p) for p in run.get("graphic_patterns", [])]
    write_text_atomic(scoreboard_markdown(results, untrained, graphic), paths.SCOREBOARD_MD)
    for r in results:
        log.info("%-40s %s", r.name, r.status if r.delta is None else f"{r.delta:+.1f} pts: {r.status}")
    log.info("verdict by the plan's rule: %s", "PASS" if plan_verdict(results) else "FAIL")
    misses = missed(results)
    if cfg.fail_on_miss and misses:
        raise PipelineError(f"scoreboard: {len(misses)} of {len(results)} targets missed: {', '.join(misses)}")


if __name__ == "__main__":
    run_stage(main, __doc__)
