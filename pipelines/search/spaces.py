"""The two searchable models over the built project: frozen CLIP keys (baseline) and the trained heads (finetuned)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pipelines.encoders import ClipEncoder
from pipelines.index import build_index, configure_search, open_index
from pipelines.store import Store
from pipelines.training import FinetunedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexSettings:
    """The `index` params a model's in-memory index is built with (as evaluate builds it)."""

    factory: str
    ef_search: int
    nprobe: int
    train_size: int


@dataclass(frozen=True)
class SearchSpace:
    """One model: its catalog embeddings (row = store row), their FAISS index, and its query encoders."""

    name: str
    embeddings: np.ndarray  # (N, d) float32, L2-normalised
    index: faiss.Index
    encode_text: Callable[[str], np.ndarray]  # query text -> (d,)
    encode_image: Callable[[Image.Image], np.ndarray]  # PIL image -> (d,)


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def clip_image_key(clip: ClipEncoder, image: Image.Image) -> np.ndarray:
    """An uploaded image as encode_kv encoded the catalog: RGB, open_clip's own preprocessing, the frozen tower."""
    pixels = clip.preprocess(image.convert("RGB")).unsqueeze(0)
    return clip.encode_images(pixels)[0]


def baseline_space(store: Store, index_path: Path, clip: ClipEncoder) -> SearchSpace:
    """Frozen CLIP image keys searched with the build_index stage's index; text through the CLIP text tower."""
    return SearchSpace(
        name="baseline",
        embeddings=np.ascontiguousarray(store.image_keys, dtype=np.float32),
        index=open_index(index_path, store),
        encode_text=lambda text: _unit(clip.encode_texts([text])[0]),  # trimmed to the text's end token
        encode_image=lambda image: _unit(clip_image_key(clip, image)),
    )


def finetuned_space(
    store: Store, finetuned: FinetunedModel, clip: ClipEncoder, index: IndexSettings, seed: int
) -> SearchSpace:
    """The trained heads over the frozen keys (as evaluate embeds them), indexed with the same `index` params.

    The index is built on one FAISS thread: HNSW insertion order then never depends on thread timing, so the
    same embeddings give the same graph and the rerank stage's results are reproducible.
    """
    embeddings = np.ascontiguousarray(finetuned.image_embeddings(store), dtype=np.float32)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        built = build_index(embeddings, index.factory, train_size=index.train_size, seed=seed)
    finally:
        faiss.omp_set_num_threads(threads)
    configure_search(built, index.ef_search, index.nprobe)

    def encode_text(text: str) -> np.ndarray:
        return _unit(finetuned.text_embeddings(clip.encode_texts([text]))[0])

    @torch.no_grad()
    def encode_image(image: Image.Image) -> np.ndarray:
        if finetuned.backbone is not None:  # LoRA: the adapted vision tower reads the pixels
            pixels = clip.preprocess(image.convert("RGB")).unsqueeze(0).to(finetuned.device)
            keys = F.normalize(finetuned.backbone.visual(pixels).float(), dim=-1)
        else:
            keys = torch.as_tensor(clip_image_key(clip, image)[None], device=finetuned.device)
        return _unit(finetuned.model.embed_image(keys).cpu().numpy()[0])

    return SearchSpace("finetuned", embeddings, built, encode_text, encode_image)
