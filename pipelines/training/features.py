"""Feature sources training reads by store row: the ImageFeatures protocol (cached keys here, LoRA in lora.py)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from pipelines.errors import PipelineError
from pipelines.store import take_rows


class ImageFeatures(Protocol):
    """Where image features come from: the cached frozen keys, or a (LoRA-adapted) backbone."""

    kind: str

    def features(self, rows: np.ndarray) -> Tensor: ...  # (len(rows), D) for store rows
    def trainable(self) -> list[nn.Parameter]: ...
    def train(self, mode: bool = True) -> None: ...
    def state(self) -> dict[str, Any] | None: ...  # what a checkpoint must keep
    def load_state(self, state: dict[str, Any] | None) -> None: ...


class GatheredRows:
    """The rows of a store array that training reads (train and val), copied once into one tensor and looked up
    by store row: a catalog's test rows, and the rest of a memory-mapped store, are never loaded."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray, device: torch.device) -> None:
        self.rows = np.unique(np.asarray(rows, dtype=np.int64))
        self.values = torch.from_numpy(take_rows(keys, self.rows)).to(device)

    def __getitem__(self, rows: np.ndarray) -> Tensor:
        rows = np.asarray(rows, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.rows, rows), len(self.rows) - 1)
        if len(rows) and not np.array_equal(self.rows[at], rows):
            missing = rows[self.rows[at] != rows]
            raise PipelineError(
                f"store row {int(missing[0])} is neither a train nor a val row; training never reads it"
            )
        return self.values[torch.as_tensor(at, device=self.values.device)]


class CachedImageFeatures:
    """The store's frozen image keys of the rows training reads, held as one tensor: no image decoding at all."""

    kind = "heads"

    def __init__(self, image_keys: np.ndarray, device: torch.device, rows: np.ndarray | None = None) -> None:
        self.keys = GatheredRows(image_keys, np.arange(len(image_keys)) if rows is None else rows, device)

    def features(self, rows: np.ndarray) -> Tensor:
        return self.keys[rows]

    def trainable(self) -> list[nn.Parameter]:
        return []

    def train(self, mode: bool = True) -> None:
        pass

    def state(self) -> dict[str, Any] | None:
        return None

    def load_state(self, state: dict[str, Any] | None) -> None:
        pass
