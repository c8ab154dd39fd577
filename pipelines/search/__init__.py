"""Search what the pipeline built: constraint parsing, retrieval with either model, explainable reranking."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports
from pipelines.search.config import PolicyConfig, RerankConfig

if TYPE_CHECKING:
    from pipelines.search.constraints import Constraints, ParsedQuery, load_vocabulary, parse_query
    from pipelines.search.explain import AttributeTable, Claim, Judgement, claim_holds, item_values, judge
    from pipelines.search.policy import ListwisePolicy, Pool, load_policy
    from pipelines.search.rerank import STRATEGIES, constraint_scores, mmr, top_by_score
    from pipelines.search.service import MAX_K, MODELS, SearchResponse, SearchResult, SearchService

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["PolicyConfig", "RerankConfig"]
