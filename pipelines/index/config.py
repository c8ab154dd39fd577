"""The `index` params section: which FAISS index to build and how to search it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndexConfig:
    factory: str = "HNSW32"
    ef_search: int = 64
    nprobe: int = 16
    text: bool = True
    train_size: int = 50000
    eval_queries: int = 500
    threads: int = 2
