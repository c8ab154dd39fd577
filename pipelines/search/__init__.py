"""Search what the pipeline built: constraint parsing, retrieval with either model, explainable reranking."""

from pipelines.lazy import lazy_exports
from pipelines.search.config import PolicyConfig, RerankConfig

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "constraints": ["Constraints", "ParsedQuery", "load_vocabulary", "parse_query"],
        "explain": ["AttributeTable", "Claim", "Judgement", "claim_holds", "item_values", "judge"],
        "policy": ["ListwisePolicy", "Pool", "load_policy", "save_policy", "train_policy"],
        "rerank": ["STRATEGIES", "constraint_scores", "mmr", "top_by_score"],
        "service": ["MAX_K", "MODELS", "SearchResponse", "SearchResult", "SearchService"],
    },
)
__all__ += ["PolicyConfig", "RerankConfig"]
