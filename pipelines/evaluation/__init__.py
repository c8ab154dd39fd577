"""Retrieval evaluation (baseline vs fine-tuned, one generic evaluator over a task table) and the scoreboard."""

from pipelines.evaluation.config import EvalConfig, ScoreboardConfig, Target
from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "evaluator": [
            "Catalog",
            "ModelRun",
            "ModelSpace",
            "SearchSettings",
            "build_query_table",
            "evaluate_models",
            "prompt_text",
            "prompt_values",
            "run_model",
            "select_queries",
        ],
        "bootstrap": ["bootstrap_generator", "bootstrap_interval", "bootstrap_means", "paired_delta_interval"],
        "metrics": ["ranked_metric"],
        "run": ["Evaluation", "identity", "run_evaluation"],
        "scoreboard": [
            "TargetResult",
            "compute_scoreboard",
            "metric_keys",
            "missed",
            "scoreboard_detail",
            "scoreboard_json",
            "scoreboard_markdown",
        ],
        "tasks": ["I2I", "Task", "TaskTable", "load_task_table", "parse_task_table"],
    },
)
__all__ += ["EvalConfig", "ScoreboardConfig", "Target"]
