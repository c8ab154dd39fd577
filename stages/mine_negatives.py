"""Mine hard negatives: baseline neighbours that share the category but differ on a target attribute."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.cli import run_stage
from pipelines.errors import PipelineError
from pipelines.index import open_index, search_excluding_groups
from pipelines.io import atomic_dir, read_parquet, write_json_atomic, write_parquet_atomic
from pipelines.mining import mine_hard_negatives, require_columns
from pipelines.mining.config import MiningConfig
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.store import open_store

STORE_DIR = Path("artifacts/store")
INDEX_FILE = Path("artifacts/index/image.faiss")
SIGNALS_FILE = Path("artifacts/signals/signals.parquet")
MINING_DIR = Path("artifacts/mining")
NEGATIVES_FILE = "hard_negatives.parquet"
REPORT_FILE = Path("reports/mining.json")

log = logging.getLogger("stages.mine_negatives")


def read_signal_labels(path: Path, attrs: list[str]) -> pd.DataFrame:
    """The active signal label per item for the target attributes that signals cover."""
    from pipelines.signals import SIGNAL_COLUMNS, active_signal_labels

    if not path.is_file():
        raise PipelineError(f"{path}: not found; run export_signals first, or set mining.use_signals: false")
    signals = read_parquet(path)
    require_columns(signals, SIGNAL_COLUMNS, str(path))
    signals = signals.astype({"item_id": str})
    dims = [name for name in attrs if name in set(signals["dim"])]
    return active_signal_labels(signals, dims)


def main() -> None:
    params = load_params(mining=MiningConfig, runtime=RuntimeConfig)
    cfg = params.mining
    store = open_store(STORE_DIR)
    index = open_index(INDEX_FILE, store)  # applies the sidecar's ef_search / nprobe
    labels = read_signal_labels(SIGNALS_FILE, list(cfg.target_attrs)) if cfg.use_signals else None
    doc_groups = store.meta["group_key"].astype(str).to_numpy()

    def neighbours(queries: np.ndarray, k: int, query_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return search_excluding_groups(
            index, queries, k, query_groups.astype(str), doc_groups, batch_size=params.runtime.mining.batch_size
        )

    started = time.perf_counter()
    result = mine_hard_negatives(
        store.meta, store.image_keys, neighbours, cfg, params.seed, labels, where=str(STORE_DIR / "meta.parquet")
    )
    log.info("mining took %.2f s for %d anchors", time.perf_counter() - started, result.report["anchors"])
    with atomic_dir(MINING_DIR) as out:  # the whole DVC out is replaced at once, stale files included
        write_parquet_atomic(result.negatives, out / NEGATIVES_FILE)
    write_json_atomic(result.report, REPORT_FILE)


if __name__ == "__main__":
    run_stage(main, __doc__)
