"""Loading a built workspace for serving: its params.yaml, the build's paths, the process's thread limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import PipelineError
from pipelines.index.config import IndexConfig
from pipelines.params import PARAMS_FILE, load_params
from pipelines.runtime import RuntimeConfig, limit_threads
from pipelines.search.config import RerankConfig
from pipelines.search.service import SearchService


@dataclass(frozen=True)
class Params:
    seed: int
    index: IndexConfig
    rerank: RerankConfig
    runtime: RuntimeConfig


def load_service(root: Path = Path("."), threads: int = 1, *, verify: bool = True) -> SearchService:
    """The service over the build in `root` with its own params.yaml, CLIP built now (not in the first query's time).

    A missing build raises a PipelineError naming the missing path and saying to run `dvc repro`. `threads`
    (torch, FAISS and BLAS, process-wide) is a speed knob: one query at a time runs fastest on one. `verify`
    hashes the store and the index once, against the sha256 their writers recorded, so corrupted files are
    refused at start instead of served as wrong rankings (the model's weights are checked either way).
    """
    path = Path(root) / PARAMS_FILE
    if not path.is_file():
        raise PipelineError(f"{path}: not found; run from a built project (`dvc repro`)")
    params = load_params(Params, path)
    limit_threads(threads)
    service = SearchService.from_build(
        root, params.rerank, params.index, seed=params.seed, device=params.runtime.device, verify=verify
    )
    _ = service.clip.encoder
    return service
