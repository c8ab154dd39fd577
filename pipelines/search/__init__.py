"""Search what the pipeline built: constraint parsing, retrieval with either model, explainable reranking."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports
from pipelines.search.config import PolicyConfig, RerankConfig

if TYPE_CHECKING:
    from pipelines.search.constraints import (
        Constraints as Constraints,
        ParsedQuery as ParsedQuery,
        load_vocabulary as load_vocabulary,
        parse_query as parse_query,
    )
    from pipelines.search.explain import (
        AttributeTable as AttributeTable,
        Claim as Claim,
        Judgement as Judgement,
        claim_holds as claim_holds,
        item_values as item_values,
        judge as judge,
    )
    from pipelines.search.policy import ListwisePolicy as ListwisePolicy, Pool as Pool, load_policy as load_policy
    from pipelines.search.rerank import (
        STRATEGIES as STRATEGIES,
        constraint_scores as constraint_scores,
        mmr as mmr,
        top_by_score as top_by_score,
    )
    from pipelines.search.service import (
        MAX_K as MAX_K,
        MODELS as MODELS,
        QueryError as QueryError,
        SearchResponse as SearchResponse,
        SearchResult as SearchResult,
        SearchService as SearchService,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["PolicyConfig", "RerankConfig"]
