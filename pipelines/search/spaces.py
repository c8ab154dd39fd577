"""The two searchable models over the built project: frozen CLIP keys (baseline) and the trained heads (finetuned)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pipelines.index import build_searchable, open_index
from pipelines.index.config import IndexConfig
from pipelines.store import Store
from pipelines.training import FinetunedModel

if TYPE_CHECKING:
    from pipelines.encoders.clip import ClipEncoder

log = logging.getLogger(__name__)


class FrozenClip:
    """The store's frozen CLIP towers for queries, built on first use.

    Importing open_clip and building the model is most of a search start-up; the rerank stage, whose query
    keys come from the prompt cache, never needs it. `SearchService.load` (the server) builds it at once.
    """

    def __init__(self, model: dict[str, Any], store_hash: str, device: str) -> None:
        self.model, self.store_hash, self.device = model, store_hash, device

    @cached_property
    def encoder(self) -> ClipEncoder:
        from pipelines.encoders.clip import ClipEncoder

        return ClipEncoder.from_manifest(self.model, device=self.device)

    def text_keys(self, texts: list[str]) -> np.ndarray:
        """(len, D) frozen CLIP text keys, each text encoded alone (trimmed to its own end token), as a query is."""
        return np.stack([self.encoder.encode_texts([text])[0] for text in texts])

    def image_key(self, image: Image.Image) -> np.ndarray:
        """An uploaded image as encode_kv encoded the catalog: RGB, open_clip's own preprocessing, the frozen tower."""
        pixels = self.encoder.preprocess(image.convert("RGB")).unsqueeze(0)
        result: np.ndarray = self.encoder.encode_images(pixels)[0]
        return result


@dataclass(frozen=True)
class SearchSpace:
    """One model: its catalog embeddings (row = store row), their FAISS index, and its query encoders."""

    name: str
    embeddings: np.ndarray  # (N, d) float32, L2-normalised
    index: faiss.Index
    clip: FrozenClip
    embed_text_key: Callable[[np.ndarray], np.ndarray]  # a query's frozen CLIP text key (D,) -> (d,)
    encode_image: Callable[[Image.Image], np.ndarray]  # PIL image -> (d,)

    def encode_text(self, text: str) -> np.ndarray:
        """A query text -> (d,): its frozen CLIP key (trimmed to its end token), then this model's text side."""
        return self.embed_text_key(self.clip.text_keys([text])[0])


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def baseline_space(store: Store, index_path: Path, clip: FrozenClip, *, verify: bool = False) -> SearchSpace:
    """Frozen CLIP image keys searched with the build_index stage's index (its sha256 checked with `verify`); text
    through the CLIP text tower."""
    return SearchSpace(
        name="baseline",
        embeddings=np.ascontiguousarray(store.image_keys, dtype=np.float32),
        index=open_index(index_path, store, verify=verify),
        clip=clip,
        embed_text_key=_unit,
        encode_image=lambda image: _unit(clip.image_key(image)),
    )


def finetuned_space(
    store: Store, finetuned: FinetunedModel, clip: FrozenClip, index: IndexConfig, seed: int
) -> SearchSpace:
    """The trained heads over the frozen keys (as evaluate embeds them), indexed with the same `index` params."""
    embeddings = finetuned.image_embeddings(store)
    built = build_searchable(embeddings, index, seed).index

    def embed_text_key(key: np.ndarray) -> np.ndarray:
        return _unit(finetuned.text_embeddings(key[None])[0])

    @torch.no_grad()
    def encode_image(image: Image.Image) -> np.ndarray:
        if finetuned.backbone is not None:  # LoRA: the adapted vision tower reads the pixels
            pixels = clip.encoder.preprocess(image.convert("RGB")).unsqueeze(0).to(finetuned.device)
            keys = F.normalize(finetuned.backbone.visual(pixels).float(), dim=-1)
        else:
            keys = torch.as_tensor(clip.image_key(image)[None], device=finetuned.device)
        return _unit(finetuned.model.embed_image(keys).cpu().numpy()[0])

    return SearchSpace("finetuned", embeddings, built, clip, embed_text_key, encode_image)
