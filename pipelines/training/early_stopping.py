"""Early stopping: the run's best epoch by the selection metric and the epochs since it improved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Early stopping and best.pt follow this: the image->image attribute retrieval the scoreboard judges.
SELECTION_METRIC = "val_attr_at_10"


@dataclass
class EarlyStopping:
    """Stops a run after `patience` epochs without a gain in SELECTION_METRIC; `best_epoch` 0 = no epoch yet."""

    patience: int
    best_value: float = -math.inf  # SELECTION_METRIC at the best epoch
    best_epoch: int = 0
    bad_epochs: int = 0  # epochs since the best one
    val_loss: float | None = None  # the best epoch's
    fusion_weight: float | None = None  # the model's at the best epoch (None without fusion)

    def update(self, row: dict[str, Any], fusion_weight: float | None) -> bool:
        """Take an epoch's log row (and the model's fusion weight after it); True when it is the new best."""
        if row[SELECTION_METRIC] > self.best_value:
            self.best_value, self.val_loss, self.best_epoch = row[SELECTION_METRIC], row["val_loss"], row["epoch"]
            self.bad_epochs, self.fusion_weight = 0, fusion_weight
            return True
        self.bad_epochs += 1
        return False

    @property
    def stopped(self) -> bool:
        return self.bad_epochs >= self.patience

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps under `early_stopping`: these keys, in this order, are the checkpoint format
        (before a best epoch there is no val loss or fusion weight to keep)."""
        if not self.best_epoch:
            return {SELECTION_METRIC: self.best_value, "epoch": self.best_epoch, "bad_epochs": self.bad_epochs}
        return {
            SELECTION_METRIC: self.best_value,
            "val_loss": self.val_loss,
            "epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "fusion_weight": self.fusion_weight,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], patience: int) -> EarlyStopping:
        """The inverse of `state`."""
        return cls(
            patience,
            best_value=state[SELECTION_METRIC],
            best_epoch=state["epoch"],
            bad_epochs=state["bad_epochs"],
            val_loss=state.get("val_loss"),
            fusion_weight=state.get("fusion_weight"),
        )
