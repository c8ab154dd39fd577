"""Concept prototypes: the normalised mean image key per known value, optionally refined with InfoNCE + margin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from pipelines.errors import PipelineError
from pipelines.io import write_torch_atomic
from pipelines.schema import UNKNOWN, vocabulary
from pipelines.signals.config import RefineConfig
from pipelines.store import check_built_on, take_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConceptPrototypes:
    """One dimension's concepts (in schema order) and their unit-norm prototype rows (concepts × dim)."""

    dim: str
    concepts: tuple[str, ...]
    vectors: np.ndarray

    def codes(self, values: pd.Series) -> np.ndarray:
        """Concept index of each value; -1 for `unknown` and values without a prototype."""
        lookup = {concept: i for i, concept in enumerate(self.concepts)}
        return values.map(lookup).fillna(-1).to_numpy(dtype=np.int64)


def concept_order(dim: str, values: pd.Series) -> tuple[str, ...]:
    """The known values present in `values`, in schema.yaml order (values outside the schema last, sorted)."""
    present = set(values.astype(str)) - {UNKNOWN}
    canonical = [v for v in vocabulary().get(dim, ()) if v in present]
    return tuple(canonical + sorted(present - set(canonical)))


def build_prototypes(keys: np.ndarray, values: pd.Series, train_mask: np.ndarray, dim: str) -> ConceptPrototypes:
    """Normalised mean of the train items' keys per known value of `dim` (`unknown` never gets one).

    A value with no train item gets no prototype. A dimension without any known train value
    raises a PipelineError naming it.
    """
    values = values.astype(str).reset_index(drop=True)
    train_mask = np.asarray(train_mask, dtype=bool)
    known = train_mask & (values != UNKNOWN).to_numpy()
    if not known.any():
        raise PipelineError(
            f"signals.dims names {dim!r}, but none of the {int(train_mask.sum())} train items has a known "
            f"{dim} value; drop it from signals.dims"
        )
    concepts = concept_order(dim, values[known])
    prototypes = ConceptPrototypes(dim, concepts, np.zeros((0, keys.shape[1]), dtype=np.float32))
    codes = prototypes.codes(values[known])
    rows = np.flatnonzero(known)
    sums = np.zeros((len(concepts), keys.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, take_rows(keys, rows).astype(np.float64))
    means = sums / np.bincount(codes, minlength=len(concepts))[:, None]
    return ConceptPrototypes(dim, concepts, _unit_rows(means, dim))


def refine_prototypes(
    prototypes: ConceptPrototypes, keys: np.ndarray, codes: np.ndarray, cfg: RefineConfig, seed: int
) -> ConceptPrototypes:
    """Sharpen one dimension's prototypes with InfoNCE over its concepts, with an additive margin.

    Each labelled item (code ≥ 0; pass train items only) is pulled towards its own prototype and
    pushed from the dimension's others: cross-entropy over (cos − margin·[own]) / temperature,
    so its own concept must win by at least `margin`. Seeded, Adam, `cfg.epochs` passes.
    """
    labelled = np.flatnonzero(codes >= 0)
    if cfg.epochs == 0 or len(prototypes.concepts) < 2 or len(labelled) == 0:
        return prototypes
    generator = torch.Generator().manual_seed(seed)
    items = F.normalize(torch.from_numpy(take_rows(keys, labelled)), dim=1)
    targets = torch.from_numpy(codes[labelled])
    weights = torch.nn.Parameter(torch.from_numpy(prototypes.vectors.copy()))
    optimizer = torch.optim.Adam([weights], lr=cfg.lr)
    for epoch in range(cfg.epochs):
        total = 0.0
        for batch in torch.randperm(len(labelled), generator=generator).split(cfg.batch_size):
            cosine = items[batch] @ F.normalize(weights, dim=1).T
            margin = cfg.margin * F.one_hot(targets[batch], len(prototypes.concepts))
            loss = F.cross_entropy((cosine - margin) / cfg.temperature, targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach().item() * len(batch)
        log.debug("refine %s epoch %d: loss %.4f", prototypes.dim, epoch + 1, total / len(labelled))
    refined = F.normalize(weights.detach(), dim=1).numpy().astype(np.float32)
    return ConceptPrototypes(prototypes.dim, prototypes.concepts, refined)


def save_prototypes(prototypes: dict[str, ConceptPrototypes], path: str | Path, store_hash: str) -> None:
    """Write `{dim: {"concepts": [...], "prototypes": tensor}, ..., "store_hash": str}` with torch.save."""
    payload: dict[str, object] = {
        dim: {"concepts": list(p.concepts), "prototypes": torch.from_numpy(p.vectors.copy())}
        for dim, p in prototypes.items()
    }
    payload["store_hash"] = store_hash
    write_torch_atomic(payload, path)


def load_prototypes(path: str | Path, store_hash: str | None = None) -> dict[str, ConceptPrototypes]:
    """Read prototypes.pt; with `store_hash`, check that they were built on that store."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: prototypes not found (run the export_signals stage first)")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if store_hash is not None:
        check_built_on(path, payload.get("store_hash"), store_hash, "rerun export_signals")
    return {
        dim: ConceptPrototypes(dim, tuple(entry["concepts"]), entry["prototypes"].numpy())
        for dim, entry in payload.items()
        if dim != "store_hash"
    }


def _unit_rows(matrix: np.ndarray, dim: str) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms <= 1e-12).any():
        raise PipelineError(f"signals: a {dim} prototype is the zero vector (its items' keys cancel out)")
    result: np.ndarray = (matrix / norms).astype(np.float32)
    return result


__all__ = [
    "ConceptPrototypes",
    "build_prototypes",
    "concept_order",
    "load_prototypes",
    "refine_prototypes",
    "save_prototypes",
]
