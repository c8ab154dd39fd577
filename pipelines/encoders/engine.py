"""Which engine encodes the store: `runtime.engine` picks the local pass (`kv.py`) or Ray Data (`ray_engine.py`).

Both engines write the same store; this module is the one place that imports both, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.encoders.clip import ClipEncoder
from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.encoders.facts import FactEncoder
from pipelines.encoders.kv import KVReport, encode_kv_store, store_params
from pipelines.encoders.ray_engine import encode_kv_store_ray
from pipelines.runtime import RuntimeConfig


def encode_store(
    items: pd.DataFrame,
    out_dir: str | Path,
    model_cfg: ModelConfig,
    kv_cfg: KVConfig,
    seed: int,
    runtime: RuntimeConfig,
    root: str | Path = ".",
) -> KVReport:
    """Build the encoders and encode `items` into a store with the engine `runtime.engine` names.

    `local` runs here (decoding workers + torch threads, `runtime.encode`); `ray` runs Ray Data, whose actors
    encode on `runtime.device` while this process keeps CPU copies for the description, transform and dims.
    """
    speed = runtime.encode
    ray = runtime.engine == "ray"
    if ray:
        # This process only reads the description, transform and dims: a CPU copy in fp32 (half precisions run
        # on CUDA only), described with the precision the actors encode in.
        encoder = ClipEncoder.build(model_cfg.arch, model_cfg.pretrained, "fp32", "cpu", seed)
        encoder.description["precision"] = model_cfg.precision
    else:
        encoder = ClipEncoder.from_config(model_cfg, seed, runtime.device)
    facts = FactEncoder(kv_cfg.text_encoder, device=str(encoder.device))
    common: dict[str, Any] = {
        "batch_size": speed.batch_size,
        "text_batch_size": speed.text_batch_size,
        "params": store_params(model_cfg, kv_cfg, seed),
        "root": root,
    }
    if ray:
        return encode_kv_store_ray(
            items,
            out_dir,
            encoder,
            facts,
            actors=speed.actors,
            decoders=max(speed.workers, 1),
            threads=speed.threads,
            device=runtime.device,
            address=runtime.ray_address,
            **common,
        )
    return encode_kv_store(items, out_dir, encoder, facts, workers=speed.workers, threads=speed.threads, **common)
