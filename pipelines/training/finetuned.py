"""The trained model as evaluation sees it: `load_finetuned` reads artifacts/model/ (the model.json card, best.pt)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from pipelines.encoders import resolve_device
from pipelines.errors import PipelineError
from pipelines.io import read_json, sha256_file
from pipelines.store import LazyRows, Store, check_built_on, check_expected_model, take_rows
from pipelines.training.checkpoint import BEST, load_checkpoint
from pipelines.training.model import ModelSpec, RetrievalHeads

if TYPE_CHECKING:
    from pipelines.training.lora import LoraImageFeatures

log = logging.getLogger(__name__)

CARD = "model.json"
BATCH = 8192
# MKL's COMPATIBLE branch (the numeric pin) multiplies the rows of a GEMM in blocks of 8 and the rows left over by
# another kernel that rounds differently, so a row embedded alone would differ in its last bits from the same row
# embedded in a batch. Padding every forward pass to a multiple of ROW_BLOCK rows keeps each row's result its own.
ROW_BLOCK = 8


@dataclass
class FinetunedModel:
    """Fine-tuned retrieval embeddings for store rows and for CLIP text features."""

    info: dict[str, Any]  # the model.json card
    model: RetrievalHeads
    device: torch.device
    backbone: LoraImageFeatures | None = None  # LoRA: features(store rows) through the adapted vision tower

    def image_vectors(self, store: Store) -> LazyRows:
        """The (N, d) embeddings of the store rows, computed for the rows asked (see image_rows): what an index
        or an evaluation reads a block at a time instead of the whole matrix."""
        return LazyRows((store.rows, self.model.embedding_dim), lambda rows: self.image_rows(store, rows))

    def image_embeddings(self, store: Store) -> np.ndarray:
        """(N, d) float32 L2-normalised embeddings of every store row, in store order."""
        return self.image_rows(store, np.arange(store.rows))

    @torch.no_grad()
    def image_rows(self, store: Store, rows: np.ndarray) -> np.ndarray:
        """(len(rows), d) float32 L2-normalised embeddings of store rows `rows`, BATCH rows per forward pass."""
        self.model.eval()
        out = np.empty((len(rows), self.model.embedding_dim), dtype=np.float32)
        for start in range(0, len(rows), BATCH):
            batch = np.asarray(rows[start : start + BATCH])
            if self.backbone is not None:
                keys = self.backbone.encode_rows(store, batch)
            else:
                keys = torch.as_tensor(take_rows(store.image_keys, batch), device=self.device)
            out[start : start + len(batch)] = rowwise(self.model.embed_image, keys).cpu().numpy()
        return out

    @torch.no_grad()
    def text_embeddings(self, clip_text: np.ndarray) -> np.ndarray:
        """CLIP text features (M, D) (e.g. the store's text_keys or encoded prompts) -> (M, d)."""
        clip_text = np.asarray(clip_text, dtype=np.float32)
        if clip_text.ndim != 2 or clip_text.shape[1] != self.model.spec.text_dim:
            raise PipelineError(f"text features must be (M, {self.model.spec.text_dim}), got shape {clip_text.shape}")
        self.model.eval()
        out = [
            rowwise(
                self.model.embed_text, F.normalize(torch.tensor(clip_text[s : s + BATCH], device=self.device), dim=-1)
            )
            .cpu()
            .numpy()
            for s in range(0, len(clip_text), BATCH)
        ]
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, self.model.embedding_dim), np.float32)


def rowwise(forward: Callable[[torch.Tensor], torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
    """`forward(rows)` with zero rows padding the batch to a multiple of ROW_BLOCK, so that each row's result is
    the same bytes whatever batch it is computed in."""
    pad = -len(rows) % ROW_BLOCK
    if not pad:
        return forward(rows)
    return forward(torch.cat([rows, rows.new_zeros((pad, *rows.shape[1:]))]))[: len(rows)]


def check_weights(model_dir: Path, card: dict[str, Any]) -> None:
    """The weights are the bytes train wrote: best.pt's sha256 against the card's. A flipped or replaced block of
    the same size would otherwise load and serve wrong rankings, or fail deep in a search."""
    where = model_dir / BEST
    recorded = (card.get("files") or {}).get(BEST)
    if recorded is None:
        raise PipelineError(f"{model_dir / CARD}: records no sha256 of {BEST}; rerun train")
    actual = sha256_file(where)
    if actual != recorded:
        raise PipelineError(
            f"{where}: sha256 {actual[:12]}… does not match the {recorded[:12]}… train recorded in {CARD}: the "
            "weights changed since; `dvc checkout artifacts/model` or rerun train"
        )


def load_finetuned(
    model_dir: Path, store: Store, device: str = "auto", *, allow_other_store: bool = False
) -> FinetunedModel:
    """Load artifacts/model/ for `store`.

    Raises PipelineError when the model was trained on features of another backbone (arch,
    pretrained weights, seed of an untrained one) or of another dimension, and, unless
    `allow_other_store`, when it was trained on another store.
    """
    model_dir = Path(model_dir)
    card = read_json(model_dir / CARD)
    where = model_dir / CARD
    try:
        check_expected_model(store.model, card["store_model"], where)
    except PipelineError as exc:
        raise PipelineError(
            f"{where}: the model was trained on another backbone than store {store.path}: {exc}"
        ) from None
    if not allow_other_store:
        check_built_on(
            f"{where}: the model",
            card["store_hash"],
            store.store_hash,
            "rerun train on this store",
            store=store.path,
            action="trained",
        )
    spec = ModelSpec(**card["spec"])
    if (spec.image_dim, spec.text_dim) != (store.image_keys.shape[1], store.text_keys.shape[1]):
        raise PipelineError(
            f"{where}: the model reads {spec.image_dim}-d image and {spec.text_dim}-d text keys, the store holds "
            f"{store.image_keys.shape[1]}-d and {store.text_keys.shape[1]}-d"
        )
    check_weights(model_dir, card)
    dev = resolve_device(str(device))
    state = load_checkpoint(model_dir / BEST, dev)
    model = RetrievalHeads(spec).to(dev)
    model.load_state_dict(state["model"])
    model.eval()
    backbone = None
    if card["kind"] == "lora":
        from pipelines.training.lora import LoraImageFeatures

        backbone = LoraImageFeatures.for_store(store, card["lora"], device=dev)
        backbone.load_state(state["adapter"])
        backbone.train(False)
    log.info(
        "loaded %s model (best epoch %s, val recall@1 %.4f) from %s",
        card["kind"],
        card["best_epoch"],
        card["val_recall_at_1"],
        model_dir,
    )
    return FinetunedModel(info=card, model=model, device=dev, backbone=backbone)
