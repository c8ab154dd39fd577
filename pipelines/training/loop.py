"""The training loop: balanced batches + pair chunks, three losses, clipped steps, validation, early stopping,
checkpoints, resume."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from pipelines.errors import PipelineError
from pipelines.store import take_rows
from pipelines.training.checkpoint import BEST, LAST, load_checkpoint, restore_rng_state, rng_state, save_checkpoint
from pipelines.training.config import TrainConfig
from pipelines.training.data import TrainingData
from pipelines.training.early_stopping import EarlyStopping
from pipelines.training.features import CachedImageFeatures, GatheredRows, ImageFeatures
from pipelines.training.losses import AttributeLoss, PairMarginLoss, SymmetricInfoNCELoss
from pipelines.training.model import ModelSpec, RetrievalHeads
from pipelines.training.sampler import SPREAD_COLUMNS, BalancedBatchSampler, sampler_report
from pipelines.training.validation import check_finite_keys, validation_retrieval

log = logging.getLogger(__name__)

LOG_COLUMNS = [
    "epoch",
    "lr",
    "loss",
    "loss_contrastive",
    "loss_pair",
    "loss_attr",
    "val_loss",
    "val_recall_at_1",
    "val_attr_at_10",
    *SPREAD_COLUMNS,  # the sampler's per-batch extremes (BatchStats.spread)
]


class EpochLog(Protocol):
    """Where the per-epoch rows go (the stage's DVCLive log): on every (re)start the checkpoint's history
    first, then each epoch as it ends, so a resumed run logs exactly what an uninterrupted one does."""

    def log_epoch(self, row: dict[str, Any]) -> None: ...  # one LOG_COLUMNS row


class NonFiniteLossError(PipelineError):
    """The loss became NaN or infinite; the last good checkpoint, if one was written, is kept."""


@dataclass
class TrainResult:
    params_hash: str
    log: pd.DataFrame  # one row per epoch, LOG_COLUMNS
    summary: dict[str, Any]  # flat: the best epoch's numbers and the run's details
    run_dir: Path  # holds last.pt and best.pt
    resumed_from_epoch: int  # 0 = started fresh
    samples_per_second: float  # training items per second over the epochs run now (0 if none ran)
    sampler_stats: list[dict[str, Any]] = field(default_factory=list)


def pair_chunks(n_pairs: int, steps: int, per_step: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Pairs for each step of an epoch: a fresh permutation, cut into `steps` chunks of `per_step`
    (0 = all pairs, spread evenly). Depends only on (seed, epoch), like the batches."""
    if n_pairs == 0:
        return [np.empty(0, np.int64)] * steps
    order = np.random.default_rng([seed, epoch, 1]).permutation(n_pairs)
    if per_step == 0:
        return np.array_split(order, steps)
    return [order[(i * per_step + np.arange(per_step)) % n_pairs] for i in range(steps)]


class Trainer:
    """Owns the model, optimizer and state of one run, kept under `checkpoint_root/<params_hash>/`."""

    def __init__(
        self,
        data: TrainingData,
        cfg: TrainConfig,
        *,
        seed: int,
        params_hash: str,
        store_hash: str,
        checkpoint_root: Path,
        images: ImageFeatures | None = None,
        device: str | torch.device = "cpu",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.data, self.cfg, self.seed = data, cfg, seed
        self.params_hash, self.store_hash = params_hash, store_hash
        self.run_dir = Path(checkpoint_root) / params_hash
        self.device = torch.device(device)
        self.info = dict(info or {})
        torch.manual_seed(seed)
        used = np.union1d(data.train_rows, data.val_rows)  # pairs name train rows only (pair_indices checks)
        self.images = images or CachedImageFeatures(data.image_keys, self.device, used)
        self.text = GatheredRows(data.text_keys, used, self.device)
        self.labels = {a: torch.tensor(v, device=self.device) for a, v in data.attributes.labels.items()}
        self.spec = ModelSpec(
            image_dim=data.image_keys.shape[1],
            text_dim=data.text_keys.shape[1],
            dim=cfg.dim,
            head=cfg.head,
            fusion=cfg.fusion,
            attr_classes=data.attributes.classes,
            dropout=cfg.dropout,
        )
        self.model = RetrievalHeads(self.spec).to(self.device)
        self.model.set_input_statistics(
            *(
                torch.as_tensor(take_rows(k, data.train_rows), dtype=torch.float32, device=self.device)
                for k in (data.image_keys, data.text_keys)
            )
        )
        self.contrastive = SymmetricInfoNCELoss(cfg.temperature)
        self.pair_loss = PairMarginLoss(cfg.pair_margin)
        self.attr_loss = AttributeLoss(cfg.attr_weights)
        self.trained = list(self.model.parameters()) + list(self.images.trainable())
        # MKL's VML picks its sqrt kernel by CPU vendor, whatever MKL_CBWR says, and AdamW's default (for-loop or
        # foreach) step takes torch.sqrt of exp_avg_sq, so an Intel and an AMD machine would round it differently:
        # fused AdamW (the same update) uses ATen's IEEE sqrt instead.
        self.optimizer = torch.optim.AdamW(self.trained, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=cfg.epochs, eta_min=cfg.lr * 0.01
        )
        self.sampler = BalancedBatchSampler(data.meta.iloc[data.train_rows], cfg.batch_size, cfg.sampler, seed)
        self.epoch = 0
        self.rows: list[dict[str, Any]] = []
        self.early_stopping = EarlyStopping(cfg.patience)
        self.finished = False
        self.baselines: dict[str, float] | None = None  # set by measure_baselines

    def measure_baselines(self) -> dict[str, float]:
        """The numbers training must beat, measured before any step: the frozen keys' validation retrieval
        and the untrained heads' validation loss. `fit` runs this first when it has not run yet."""
        check_finite_keys(self.data)
        rows = self.data.val_rows
        image, text = (
            torch.nn.functional.normalize(torch.as_tensor(take_rows(k, rows), dtype=torch.float32), dim=1).numpy()
            for k in (self.data.image_keys, self.data.text_keys)
        )
        frozen = validation_retrieval(
            image,
            text,
            {a: v[rows] for a, v in self.data.attributes.labels.items()},
            self.data.product_groups[rows],
            self.data.text_groups[rows],
        )
        self.baselines = {
            "initial_val_loss": self.validate()["val_loss"],
            "baseline_val_recall_at_1": frozen["val_recall_at_1"],
            "baseline_val_attr_at_10": frozen["val_attr_at_10"],
        }
        return self.baselines

    # -- one epoch -----------------------------------------------------------------------------

    def _step_loss(self, rows: np.ndarray, pair_ids: np.ndarray) -> dict[str, Tensor]:
        cfg, pairs = self.cfg, self.data.pairs
        anchor, other = pairs.anchor[pair_ids], pairs.other[pair_ids]
        needed = np.unique(np.concatenate([rows, anchor, other]))

        def at(r: np.ndarray) -> Tensor:
            return torch.as_tensor(np.searchsorted(needed, r), device=self.device)

        # Every row the step touches goes through the image head once, whether it is in the batch, an anchor
        # or a pair's other side (up to ~45% fewer rows than one pass per role; the loss is the same sum).
        image, image_proj = self.model.image_outputs(self.images.features(needed))
        batch = at(rows)
        parts = {
            "loss_contrastive": self.contrastive(image[batch], self.model.embed_text(self.text[rows])),
            "loss_pair": self.pair_loss(
                image[at(anchor)], image[at(other)], torch.as_tensor(pairs.label[pair_ids], device=self.device)
            ),
            "loss_attr": self.attr_loss(
                self.model.attribute_logits(image_proj[batch]),
                {a: v[torch.as_tensor(rows, device=self.device)] for a, v in self.labels.items()},
            ),
        }
        parts["loss"] = (
            cfg.contrastive_weight * parts["loss_contrastive"]
            + cfg.pair_weight * parts["loss_pair"]
            + cfg.attr_weight * parts["loss_attr"]
        )
        return parts

    def _kept_checkpoint(self) -> str:
        """What a stopped run leaves to resume from: its last good checkpoint, named only if one was written."""
        last = self.run_dir / LAST
        if last.is_file():
            return f"the last good checkpoint ({last}, epoch {self.epoch}) is kept"
        return "no checkpoint was written (a rerun starts from epoch 1)"

    def train_epoch(self, epoch: int) -> tuple[dict[str, float], int]:
        self.model.train()
        self.images.train(True)
        self.sampler.set_epoch(epoch)
        batches = list(self.sampler)
        chunks = pair_chunks(len(self.data.pairs), len(batches), self.cfg.pairs_per_step, self.seed, epoch)
        sums: dict[str, float] = {}
        seen = 0
        for step, (batch, pair_ids) in enumerate(zip(batches, chunks, strict=False)):
            rows = self.data.train_rows[np.asarray(batch)]
            parts = self._step_loss(rows, pair_ids)
            if not torch.isfinite(parts["loss"]):
                raise NonFiniteLossError(
                    f"train: the loss became {float(parts['loss'].detach())} at epoch {epoch}, step {step} "
                    f"({', '.join(f'{k}={float(v.detach()):.4g}' for k, v in parts.items() if k != 'loss')}); "
                    f"stopped without saving, {self._kept_checkpoint()}; "
                    f"lower train.lr (now {self.cfg.lr}) or raise train.temperature"
                )
            self.optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            if self.cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.trained, self.cfg.grad_clip)
            self.optimizer.step()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(rows)
            seen += len(rows)
        stats = self.sampler.stats
        log.info(
            "epoch %d batches: weak categories %.1f%%, rare materials %.1f%%, neckline known %.1f%%, "
            "largest group %s at %.1f%% of a batch (cap %.0f%%, %d batches relaxed)",
            epoch,
            100 * stats.weak_category_share,
            100 * stats.rare_material_share,
            100 * stats.neckline_known_share,
            stats.max_group,
            100 * stats.max_group_share,
            100 * self.cfg.sampler.dominant_cap,
            stats.cap_relaxed_batches,
        )
        return {k: v / seen for k, v in sums.items()}, seen

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        self.model.eval()
        self.images.train(False)
        rows = self.data.val_rows
        feats = torch.cat([self.images.features(rows[i : i + 1024]) for i in range(0, len(rows), 1024)])
        text = self.text[rows]
        out = self.model(feats, text)
        bs = self.cfg.batch_size
        starts = [s for s in range(0, len(rows), bs) if min(bs, len(rows) - s) >= 2]
        contrastive = (
            float(np.mean([float(self.contrastive(out.image[s : s + bs], out.text[s : s + bs])) for s in starts]))
            if starts
            else 0.0
        )
        labels = {a: v[torch.as_tensor(rows, device=self.device)] for a, v in self.labels.items()}
        attr = float(self.attr_loss(out.attr_logits, labels))
        retrieval = validation_retrieval(
            out.image.cpu().numpy(),
            out.text.cpu().numpy(),
            {a: v.cpu().numpy() for a, v in labels.items()},
            self.data.product_groups[rows],
            self.data.text_groups[rows],
        )
        return {"val_loss": self.cfg.contrastive_weight * contrastive + self.cfg.attr_weight * attr, **retrieval}

    # -- state ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "params_hash": self.params_hash,
            "store_hash": self.store_hash,
            "kind": self.images.kind,
            "spec": self.spec.to_dict(),
            "train_config": asdict(self.cfg),
            "seed": self.seed,
            "info": self.info,
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "adapter": self.images.state(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng_state(self.device),
            "early_stopping": self.early_stopping.state(),
            "log": list(self.rows),
            "finished": self.finished,
            "baseline_val_recall_at_1": self.baselines["baseline_val_recall_at_1"] if self.baselines else None,
            "baseline_val_attr_at_10": self.baselines["baseline_val_attr_at_10"] if self.baselines else None,
        }

    def load_state(self, state: dict[str, Any], where: Path) -> None:
        for key, expected in (("params_hash", self.params_hash), ("store_hash", self.store_hash)):
            if state.get(key) != expected:
                raise PipelineError(
                    f"{where}: checkpoint {key} is {state.get(key)!r}, expected {expected!r}; "
                    "delete the folder to start over"
                )
        if state["spec"] != self.spec.to_dict():
            raise PipelineError(
                f"{where}: checkpoint was built for another model shape ({state['spec']}); "
                "delete the folder to start over"
            )
        self.model.load_state_dict(state["model"])
        self.images.load_state(state["adapter"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        restore_rng_state(state["rng"], self.device)
        self.epoch = int(state["epoch"])
        self.early_stopping = EarlyStopping.from_state(state["early_stopping"], self.cfg.patience)
        self.rows = list(state["log"])
        self.finished = bool(state["finished"])

    # -- the run -------------------------------------------------------------------------------

    def fit(
        self, on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None, epoch_log: EpochLog | None = None
    ) -> TrainResult:
        """Train to the end (or early stop), resuming from `run_dir/last.pt` when it exists (a finished run is
        returned as it is, for re-export); `epoch_log` gets the resumed history, then every new epoch's row."""
        baselines = self.baselines or self.measure_baselines()  # before a resume loads trained heads
        last_path = self.run_dir / LAST
        resumed_from = 0
        if last_path.exists():
            self.load_state(load_checkpoint(last_path, self.device), last_path)
            resumed_from = self.epoch
            log.info(
                "resuming run %s from epoch %d%s",
                self.params_hash,
                self.epoch,
                " (already finished)" if self.finished else "",
            )
        else:
            log.info(
                "starting run %s: %d train items, %d val items, %d pairs; frozen baseline val recall@1 %.4f",
                self.params_hash,
                len(self.data.train_rows),
                len(self.data.val_rows),
                len(self.data.pairs),
                baselines["baseline_val_recall_at_1"],
            )
        if epoch_log is not None:
            for row in self.rows:
                epoch_log.log_epoch(dict(row))
        trained, train_seconds, sampler_stats = 0, 0.0, []
        while not self.finished and self.epoch < self.cfg.epochs:
            epoch = self.epoch + 1
            lr = self.optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            losses, seen = self.train_epoch(epoch)
            train_seconds += time.perf_counter() - start
            trained += seen
            batch_stats = self.sampler.stats
            sampler_stats.append({"epoch": epoch, **batch_stats.as_dict()})
            self.scheduler.step()
            row = {"epoch": epoch, "lr": lr, **losses, **self.validate(), **batch_stats.spread()}
            self.rows.append({k: row[k] for k in LOG_COLUMNS})
            self.epoch = epoch
            improved = self.early_stopping.update(row, self.model.fusion_weight)
            self.finished = self.early_stopping.stopped or epoch == self.cfg.epochs
            log.info(
                "epoch %d/%d: loss %.4f (contrastive %.4f, pair %.4f, attr %.4f), val loss %.4f, "
                "val recall@1 %.4f, val attribute@10 %.4f%s",
                epoch,
                self.cfg.epochs,
                row["loss"],
                row["loss_contrastive"],
                row["loss_pair"],
                row["loss_attr"],
                row["val_loss"],
                row["val_recall_at_1"],
                row["val_attr_at_10"],
                " (best)" if improved else "",
            )
            state = self.state()
            if improved:  # best before last: a kill in between only repeats this epoch on resume
                save_checkpoint(state, self.run_dir / BEST)
            save_checkpoint(state, last_path)
            if epoch_log is not None:
                epoch_log.log_epoch(dict(self.rows[-1]))
            if self.finished and epoch < self.cfg.epochs:
                log.info("early stop after epoch %d: no val attribute@10 gain for %d epochs", epoch, self.cfg.patience)
            if on_epoch_end is not None:
                on_epoch_end(epoch, row)
        rate = trained / train_seconds if train_seconds > 0 else 0.0
        if trained:
            log.info("trained %d samples in %.2f s: %.0f samples/s", trained, train_seconds, rate)
        return TrainResult(
            params_hash=self.params_hash,
            log=pd.DataFrame(self.rows, columns=LOG_COLUMNS),
            summary=self.summary(),
            run_dir=self.run_dir,
            resumed_from_epoch=resumed_from,
            samples_per_second=rate,
            sampler_stats=sampler_stats,
        )

    def summary(self) -> dict[str, Any]:
        best_row = next((r for r in self.rows if r["epoch"] == self.early_stopping.best_epoch), None)
        return {
            "kind": self.images.kind,
            "params_hash": self.params_hash,
            "epochs_run": self.epoch,
            "best_epoch": self.early_stopping.best_epoch,
            "early_stopped": self.epoch < self.cfg.epochs,
            "val_recall_at_1": best_row["val_recall_at_1"] if best_row else None,
            "val_attr_at_10": best_row["val_attr_at_10"] if best_row else None,
            "val_loss": best_row["val_loss"] if best_row else None,
            **(self.baselines or self.measure_baselines()),
            "fusion_weight": self.early_stopping.fusion_weight,
            "train_items": int(len(self.data.train_rows)),
            "val_items": int(len(self.data.val_rows)),
            "pairs": int(len(self.data.pairs)),
            **sampler_report(
                self.data.meta.iloc[self.data.train_rows], self.cfg.batch_size, self.cfg.sampler, self.seed
            ),
        }
