"""Per-item concept signals over the store: prototypes from train items, calibrated scores, the gate, a report."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines.errors import PipelineError
from pipelines.io import read_parquet, require_columns
from pipelines.schema import UNKNOWN
from pipelines.signals.config import SignalsConfig
from pipelines.signals.gating import GatingRule, calibrate, gate, rank_concepts
from pipelines.signals.prototypes import ConceptPrototypes, build_prototypes, refine_prototypes
from pipelines.store import take_rows

if TYPE_CHECKING:
    from pipelines.store import Store

log = logging.getLogger(__name__)

SIGNAL_COLUMNS = ["item_id", "dim", "concept", "score", "rank", "active"]


@dataclass(frozen=True)
class ConceptSignals:
    prototypes: dict[str, ConceptPrototypes]
    signals: pd.DataFrame  # SIGNAL_COLUMNS; per item and dim, the concepts ranked 1..top_k
    report: dict[str, Any]


def export_signals(store: Store, cfg: SignalsConfig, seed: int) -> ConceptSignals:
    """Prototypes from the store's train items, then gated signals for every item and a report.

    The signal table keeps, per item and dimension, the `top_k` best-scoring concepts (the only
    ones the gate can activate), with their calibrated score, rank (1 = best) and active flag.
    """
    meta = store.meta
    where = f"{store.path}/meta.parquet"
    missing = [column for column in ["item_id", "split", *cfg.dims] if column not in meta.columns]
    if missing:
        raise PipelineError(
            f"{where}: has no column {missing[0]!r}" + (" named in signals.dims" if missing[0] in cfg.dims else "")
        )
    train = (meta["split"] == "train").to_numpy()
    if not train.any():
        raise PipelineError(f"{where}: no item has split 'train'; prototypes are built from train items only")
    for dim in cfg.dims:  # every dimension is checked before any work, so a bad one fails fast
        if not (train & (meta[dim].astype(str) != UNKNOWN).to_numpy()).any():
            raise PipelineError(
                f"signals.dims names {dim!r}, but none of the {int(train.sum())} train items has a known "
                f"{dim} value; drop it from signals.dims"
            )

    keys = store.image_keys
    prototypes: dict[str, ConceptPrototypes] = {}
    scores: dict[str, np.ndarray] = {}
    for dim in cfg.dims:
        prototype = build_prototypes(keys, meta[dim], train, dim)
        if cfg.refine.epochs > 0:
            codes = np.where(train, prototype.codes(meta[dim].astype(str)), -1)
            prototype = refine_prototypes(prototype, keys, codes, cfg.refine, seed)
        prototypes[dim] = prototype
        scores[dim] = calibrate(_similarities(keys, prototype.vectors), cfg.normalize, cfg.temperature)
        log.info(
            "%s: %d concepts from %d known train items",
            dim,
            len(prototype.concepts),
            int((train & (meta[dim].astype(str) != UNKNOWN).to_numpy()).sum()),
        )
    active = gate(scores, GatingRule.from_config(cfg))
    signals = _signal_table(meta["item_id"].astype(str).to_numpy(), prototypes, scores, active, cfg.top_k)
    report = signals_report(meta, prototypes, scores, active)
    return ConceptSignals(prototypes, signals, report)


def signals_report(
    meta: pd.DataFrame,
    prototypes: dict[str, ConceptPrototypes],
    scores: dict[str, np.ndarray],
    active: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Per dimension: val top-1 accuracy (known values), coverage, mean active concepts, pseudo-labels.

    - top1_accuracy: the best-scoring concept equals the known value, over val items (before gating);
    - active_accuracy: the highest-ranked active concept equals the known value, over val items
      that have one (how good a pseudo-label is);
    - coverage / mean_active: over all items, after gating and the budget;
    - pseudo_labels: items whose value is `unknown` but that have an active concept.
    """
    val = (meta["split"] == "val").to_numpy()
    report: dict[str, Any] = {"items": int(len(meta))}
    any_active = np.zeros(len(meta), dtype=bool)
    total_active = np.zeros(len(meta), dtype=np.int64)
    for dim, prototype in prototypes.items():
        values = meta[dim].astype(str)
        truth = prototype.codes(values)
        known_val = val & (values != UNKNOWN).to_numpy()
        best = rank_concepts(scores[dim])[:, 0]
        mask = active[dim]
        has_active = mask.any(axis=1)
        top_active = _first_active(scores[dim], mask)
        judged = known_val & has_active
        report[dim] = {
            "concepts": len(prototype.concepts),
            "val_known": int(known_val.sum()),
            "top1_accuracy": _mean(best[known_val] == truth[known_val]),
            "active_accuracy": _mean(top_active[judged] == truth[judged]),
            "coverage": _mean(np.asarray(has_active)),
            "mean_active": _mean(mask.sum(axis=1)),
            "pseudo_labels": int((has_active & (values == UNKNOWN).to_numpy()).sum()),
        }
        any_active |= has_active
        total_active += mask.sum(axis=1)
    report["coverage_any"] = _mean(any_active)
    report["mean_active_per_item"] = _mean(total_active)
    return report


def read_signal_labels(path: str | Path, dims: Iterable[str], option: str) -> pd.DataFrame:
    """The active signal label per item (index item_id, one column per dim) read from export_signals' table.

    The table is checked (present, readable, SIGNAL_COLUMNS); only the dims among `dims` that it covers
    get a column, so an attribute no signal describes keeps its own labels. `option` is the param that
    turns signals off for the caller, named in the error when the table is missing.
    """
    if not Path(path).is_file():
        raise PipelineError(f"{path}: not found; run export_signals first, or set {option}: false")
    signals = read_parquet(path, "the export_signals stage")
    require_columns(signals, SIGNAL_COLUMNS, str(path))
    signals = signals.astype({"item_id": str})
    covered = set(signals["dim"])
    return active_signal_labels(signals, [dim for dim in dims if dim in covered])


def active_signal_labels(signals: pd.DataFrame, dims: Iterable[str]) -> pd.DataFrame:
    """Index item_id, one column per dim: the highest-ranked active concept, or "unknown" if none.

    `signals` is a table with SIGNAL_COLUMNS (read_signal_labels checks the stage's). Every item that appears
    in it gets a row (in order of first appearance). A dim that `signals` does not hold at all gives a column
    of "unknown" (it was not exported).
    """
    dims = list(dims)
    exported = set(signals["dim"])
    absent = [dim for dim in dims if dim not in exported]
    if absent:
        log.warning("signals hold no dimension %s; their labels are all %r", ", ".join(absent), UNKNOWN)
    items = pd.Index(pd.unique(signals["item_id"]), name="item_id")
    chosen = (
        signals[signals["active"].astype(bool) & signals["dim"].isin(dims)]
        .sort_values("rank", kind="stable")
        .drop_duplicates(["item_id", "dim"])
    )
    labels = chosen.pivot(index="item_id", columns="dim", values="concept")
    labels = labels.reindex(index=items, columns=dims).astype(object).fillna(UNKNOWN).astype(str)
    labels.columns.name = None
    return labels


def _similarities(keys: np.ndarray, prototypes: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Cosine similarity of every (unit-norm) key to every prototype, in row chunks read from the store file."""
    out = np.empty((len(keys), len(prototypes)), dtype=np.float32)
    for start in range(0, len(keys), chunk):
        out[start : start + chunk] = take_rows(keys, np.arange(start, min(start + chunk, len(keys)))) @ prototypes.T
    return out


def _signal_table(
    item_ids: np.ndarray,
    prototypes: dict[str, ConceptPrototypes],
    scores: dict[str, np.ndarray],
    active: dict[str, np.ndarray],
    top_k: int,
) -> pd.DataFrame:
    n_items = len(item_ids)
    parts = []
    for position, (dim, prototype) in enumerate(prototypes.items()):
        keep = min(top_k, len(prototype.concepts))
        order = rank_concepts(scores[dim])[:, :keep]
        parts.append(
            pd.DataFrame(
                {
                    "_item": np.repeat(np.arange(n_items), keep),
                    "_dim": position,
                    "item_id": np.repeat(item_ids, keep),
                    "dim": dim,
                    "concept": np.asarray(prototype.concepts, dtype=object)[order].ravel(),
                    "score": np.take_along_axis(scores[dim], order, axis=1).ravel().astype(np.float32),
                    "rank": np.tile(np.arange(1, keep + 1, dtype=np.int64), n_items),
                    "active": np.take_along_axis(active[dim], order, axis=1).ravel(),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True).sort_values(["_item", "_dim", "rank"], kind="stable")
    return table[SIGNAL_COLUMNS].reset_index(drop=True)


def _first_active(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Concept index of each item's best-scoring active concept, -1 when none is active."""
    masked = np.where(mask, scores, -np.inf)
    return np.where(mask.any(axis=1), masked.argmax(axis=1), -1)


def _mean(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    return round(float(values.mean()), 4) if values.size else None  # report figures: 4 decimals


__all__ = [
    "ConceptSignals",
    "SIGNAL_COLUMNS",
    "active_signal_labels",
    "export_signals",
    "read_signal_labels",
    "signals_report",
]
