"""What the study ran for one query: the query, the constraints its text parsed to, and each strategy's results.

Its own module because both sides use it: `study.py` makes the runs and `report.py` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.rerank.queries import RerankQuery
from pipelines.search.constraints import Constraints
from pipelines.search.service import SearchResult


@dataclass(frozen=True)
class QueryRun:
    query: RerankQuery
    constraints: Constraints
    lists: dict[str, list[SearchResult]]  # strategy -> its results
