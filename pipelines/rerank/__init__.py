"""The rerank study (offline): simulated users train the list-wise policy, then every strategy is scored."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.rerank.queries import KINDS as KINDS, RerankQuery as RerankQuery, build_queries as build_queries
    from pipelines.rerank.study import RerankStudy as RerankStudy, run_study as run_study
    from pipelines.rerank.training import save_policy as save_policy, train_policy as train_policy

__getattr__, __all__ = lazy_exports(__name__, __file__)
