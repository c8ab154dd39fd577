"""The `index` params section: which FAISS index to build and how to search it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndexConfig:
    factory: str = "auto"  # auto: chosen by catalog size (pipelines/index/faiss_index.py choose_index)
    ef_search: int = 64
    nprobe: int = 16
    text: bool = True
    train_size: int = 50000
    eval_queries: int = 500

    def __post_init__(self) -> None:
        if not self.factory.strip():
            raise ValueError("index.factory must be 'auto' or a FAISS index-factory string, e.g. 'Flat' or 'HNSW32'")
        for key in ("ef_search", "nprobe", "train_size", "eval_queries"):
            if getattr(self, key) < 1:
                raise ValueError(f"index.{key} must be at least 1, got {getattr(self, key)}")
