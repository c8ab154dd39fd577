"""Retrieval evaluation (baseline vs fine-tuned, one generic evaluator over a task table) and the scoreboard."""

from typing import TYPE_CHECKING

from pipelines.evaluation.config import EvalConfig, ScoreboardConfig, Target
from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.evaluation.bootstrap import (
        bootstrap_generator as bootstrap_generator,
        bootstrap_interval as bootstrap_interval,
        bootstrap_means as bootstrap_means,
        paired_delta_interval as paired_delta_interval,
    )
    from pipelines.evaluation.evaluator import (
        Catalog as Catalog,
        ModelRun as ModelRun,
        ModelSpace as ModelSpace,
        build_query_table as build_query_table,
        evaluate_models as evaluate_models,
        prompt_text as prompt_text,
        prompt_values as prompt_values,
        run_model as run_model,
        select_queries as select_queries,
    )
    from pipelines.evaluation.metrics import (
        attribute_at_k as attribute_at_k,
        mean_attribute_at_k as mean_attribute_at_k,
        ndcg_at_k as ndcg_at_k,
        ranked_metric as ranked_metric,
        same_value as same_value,
    )
    from pipelines.evaluation.run import (
        Evaluation as Evaluation,
        identity as identity,
        run_evaluation as run_evaluation,
    )
    from pipelines.evaluation.scoreboard import (
        TargetResult as TargetResult,
        compute_scoreboard as compute_scoreboard,
        metric_keys as metric_keys,
        missed as missed,
        plan_verdict as plan_verdict,
        scoreboard_detail as scoreboard_detail,
        scoreboard_json as scoreboard_json,
        scoreboard_markdown as scoreboard_markdown,
    )
    from pipelines.evaluation.tasks import (
        I2I as I2I,
        Task as Task,
        TaskTable as TaskTable,
        load_task_table as load_task_table,
        parse_task_table as parse_task_table,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["EvalConfig", "ScoreboardConfig", "Target"]
