"""Training the extractor's phases (Base pre-training, E1 SFT, E2 LoRA): seeded, resumable, early-stopped, logged.

One loop serves every phase: AdamW over the phase's trainable parameters, batches in a seeded order per epoch, the
gradients' global norm clipped, the val loss after each epoch deciding the best epoch and the early stop. After
each epoch the whole state (weights, optimizer, the early stop's, the history) goes atomically to the phase's
checkpoint, keyed by everything that decides the result, so an interrupted stage continues where it stopped and
reaches the same bytes. Curves go to a DVCLive folder per phase (`train_loss`, `val_loss` by epoch).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from pipelines.extract.model import Batch, ExtractorModel, left_pad
from pipelines.extract.sequences import Example
from pipelines.io import write_torch_atomic

log = logging.getLogger(__name__)

DECIMALS = 4


@dataclass(frozen=True)
class FitSettings:
    epochs: int
    patience: int
    batch_size: int
    lr: float
    weight_decay: float
    grad_clip: float
    seed: int


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)  # epoch, train_loss, val_loss
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    best_state: dict[str, Tensor] = field(default_factory=dict)
    bad_epochs: int = 0

    def summary(self, epochs: int) -> dict[str, Any]:
        """Epochs run (fewer than `epochs` allowed: the early stop ended the run), the best one and its val loss."""
        return {
            "epochs_run": len(self.history),
            "best_epoch": self.best_epoch,
            "best_val_loss": round(self.best_val_loss, DECIMALS),
            "stopped_early": len(self.history) < epochs,
        }


def make_batch(examples: Sequence[Example], pad_id: int, images: Tensor | None, rows: Tensor | None) -> Batch:
    """Left-padded bodies with the loss on every answer token; `images[rows]` are the rows' image keys."""
    ids, mask = left_pad([e.body for e in examples], pad_id)
    loss_mask = torch.zeros_like(ids, dtype=torch.bool)
    width = ids.shape[1]
    for i, e in enumerate(examples):
        offset = width - len(e.body)
        loss_mask[i, offset + e.answer_start - 1 : width - 1] = True
    keys = None if images is None or rows is None else images[rows]
    return Batch(ids, mask, keys, loss_mask)


class Phase:
    """One phase's data: the shared prefix, train and val examples, and where each example's image key lives."""

    def __init__(
        self,
        name: str,
        prefix: list[int],
        train: list[Example],
        val: list[Example],
        images: Tensor | None = None,
        row_of: dict[str, int] | None = None,
    ) -> None:
        self.name, self.prefix, self.train, self.val = name, prefix, train, val
        self.images, self.row_of = images, row_of

    def epoch_examples(self, epoch: int) -> list[Example]:
        """The epoch's train examples: each item once, its prompt variants taking turns from epoch to epoch."""
        by_item: dict[str, list[Example]] = {}
        for example in self.train:
            by_item.setdefault(example.item_id, []).append(example)
        if len(by_item) == len(self.train):
            return list(self.train)
        return [group[(i + epoch) % len(group)] for i, group in enumerate(by_item.values())]

    def batch(self, model: ExtractorModel, examples: Sequence[Example]) -> Batch:
        rows = None
        if self.row_of is not None:
            rows = torch.tensor([self.row_of[e.item_id] for e in examples])
        return make_batch(examples, model.pad_id, self.images, rows)


@torch.no_grad()
def evaluate_loss(model: ExtractorModel, phase: Phase, batch_size: int) -> float:
    """Token-weighted mean next-token loss over the phase's val examples."""
    model.eval()
    total, tokens = 0.0, 0
    for start in range(0, len(phase.val), batch_size):
        batch = phase.batch(model, phase.val[start : start + batch_size])
        assert batch.loss_mask is not None
        count = int(batch.loss_mask[:, :-1].sum())
        total += float(model.loss(phase.prefix, batch)) * count
        tokens += count
    return total / max(tokens, 1)


def fit(
    model: ExtractorModel,
    parameters: list[nn.Parameter],
    phase: Phase,
    settings: FitSettings,
    checkpoint: Path,
    live_dir: Path,
) -> FitResult:
    """Train `parameters` of `model` on the phase; the model ends holding the best epoch's weights."""
    from dvclive.live import Live

    # fused: ATen's IEEE sqrt; the default (foreach) path takes MKL's VML sqrt, whose kernel MKL picks by CPU vendor
    optimizer = torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay, fused=True)
    result = FitResult(best_state=copy.deepcopy(model.state_dict()))
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)  # our own file: plain dicts beside the tensors
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        result = FitResult(**state["result"])
        log.info("%s: resuming after epoch %d from %s", phase.name, len(result.history), checkpoint)
    live = Live(str(live_dir), report=None, save_dvc_exp=False, dvcyaml=False)
    for row in result.history:  # a fresh Live empties its folder: replay a resumed run's curves
        log_epoch(live, row)
    while len(result.history) < settings.epochs and result.bad_epochs < settings.patience:
        epoch = len(result.history) + 1
        train_loss = train_epoch(model, parameters, optimizer, phase, settings, epoch)
        val_loss = evaluate_loss(model, phase, settings.batch_size)
        row = {"epoch": epoch, "train_loss": round(train_loss, DECIMALS), "val_loss": round(val_loss, DECIMALS)}
        result.history.append(row)
        log_epoch(live, row)
        if val_loss < result.best_val_loss:
            result.best_val_loss, result.best_epoch, result.bad_epochs = val_loss, epoch, 0
            result.best_state = copy.deepcopy(model.state_dict())
        else:
            result.bad_epochs += 1
        log.info("%s epoch %d: train loss %.4f, val loss %.4f", phase.name, epoch, train_loss, val_loss)
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "result": vars(result)}
        write_torch_atomic(state, checkpoint)
    model.load_state_dict(result.best_state)
    return result


def train_epoch(
    model: ExtractorModel,
    parameters: list[nn.Parameter],
    optimizer: torch.optim.Optimizer,
    phase: Phase,
    settings: FitSettings,
    epoch: int,
) -> float:
    """One pass over the epoch's train examples in a seeded order; the mean batch loss."""
    model.train()
    train = phase.epoch_examples(epoch)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(settings.seed * 1000 + epoch))
    losses = []
    for start in range(0, len(order), settings.batch_size):
        batch = phase.batch(model, [train[int(i)] for i in order[start : start + settings.batch_size]])
        loss = model.loss(phase.prefix, batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{phase.name}: the loss is {float(loss)} in epoch {epoch}; lower extract.lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(parameters, settings.grad_clip)
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def log_epoch(live: Any, row: dict[str, float]) -> None:
    live.step = int(row["epoch"])
    for name in ("train_loss", "val_loss"):
        live.log_metric(name, row[name], timestamp=False)
