"""Retrieval evaluation (baseline vs fine-tuned, one generic evaluator over a task table) and the scoreboard."""

from typing import TYPE_CHECKING

from pipelines.evaluation.config import EvalConfig, ScoreboardConfig, Target
from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.evaluation.bootstrap import (
        bootstrap_generator,
        bootstrap_interval,
        bootstrap_means,
        paired_delta_interval,
    )
    from pipelines.evaluation.evaluator import (
        Catalog,
        ModelRun,
        ModelSpace,
        build_query_table,
        evaluate_models,
        prompt_text,
        prompt_values,
        run_model,
        select_queries,
    )
    from pipelines.evaluation.metrics import attribute_at_k, mean_attribute_at_k, ndcg_at_k, ranked_metric, same_value
    from pipelines.evaluation.run import Evaluation, identity, run_evaluation
    from pipelines.evaluation.scoreboard import (
        TargetResult,
        compute_scoreboard,
        metric_keys,
        missed,
        scoreboard_detail,
        scoreboard_json,
        scoreboard_markdown,
    )
    from pipelines.evaluation.tasks import I2I, Task, TaskTable, load_task_table, parse_task_table

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["EvalConfig", "ScoreboardConfig", "Target"]
