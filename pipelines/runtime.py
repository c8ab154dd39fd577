"""The `runtime` params section: knobs that change only how fast a stage runs, never what it writes.

No stage lists `runtime` among its DVC params, so changing one of these reruns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class NormalizeRuntime:
    workers: int = 2  # image validation processes

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"runtime.normalize.workers must be at least 1, got {self.workers}")


@dataclass(frozen=True)
class EncodeRuntime:
    batch_size: int = 32  # images (and CLIP texts) per CLIP forward
    workers: int = 2  # decoding processes (local engine: DataLoader workers; ray: concurrent decoding tasks)
    threads: int = 0  # torch threads of the forward pass (local engine; 0 = every core)
    text_batch_size: int = 64  # facts per sentence-encoder forward
    actors: int = 1  # encoder actors in the Ray pool (one GPU each when runtime.device is CUDA)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.text_batch_size < 1:
            raise ValueError("runtime.encode.batch_size and runtime.encode.text_batch_size must be at least 1")
        if self.workers < 0:
            raise ValueError(f"runtime.encode.workers must be 0 or more, got {self.workers}")
        if self.threads < 0:
            raise ValueError(f"runtime.encode.threads must be 0 (every core) or more, got {self.threads}")
        if self.actors < 1:
            raise ValueError(f"runtime.encode.actors must be at least 1, got {self.actors}")


@dataclass(frozen=True)
class ThreadsRuntime:
    threads: int = 0  # CPU threads (0 = the library's default)

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ValueError(f"runtime threads must be 0 (the library's default) or more, got {self.threads}")


@dataclass(frozen=True)
class SearchRuntime:
    batch_size: int = 1024  # queries per FAISS search call

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"runtime.mining.batch_size must be at least 1, got {self.batch_size}")


@dataclass(frozen=True)
class RuntimeConfig:
    device: str = "auto"  # auto | cpu | cuda | cuda:N, for encode_kv, train and evaluate
    engine: Literal["local", "ray"] = "local"  # encode_kv: this process, or Ray Data (tasks decode, actors encode)
    ray_address: str = ""  # engine ray: a cluster address; empty = RAY_ADDRESS when set, else a local Ray
    normalize: NormalizeRuntime = field(default_factory=NormalizeRuntime)
    encode: EncodeRuntime = field(default_factory=EncodeRuntime)
    index: ThreadsRuntime = field(default_factory=lambda: ThreadsRuntime(threads=2))
    mining: SearchRuntime = field(default_factory=SearchRuntime)

    def __post_init__(self) -> None:
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ValueError(f"runtime.device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


def limit_threads(threads: int) -> None:
    """Cap torch's, FAISS's and numpy's BLAS threads for the whole process (`threads` < 1 leaves the defaults).

    One query at a time (the server, the rerank study) runs fastest on one thread: BLAS's default threads spin
    against each other on the small matrices of one query (a 200 x 256 product took 220 ms instead of 1 ms on two
    busy cores).
    """
    if threads < 1:
        return
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    threadpool_limits(limits=threads)
