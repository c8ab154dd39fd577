"""Mine hard negatives: baseline neighbours that share the category but differ on a target attribute."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.index import open_index
from pipelines.io import atomic_dir, write_json_atomic, write_parquet_atomic
from pipelines.mining import index_neighbours, mine_hard_negatives
from pipelines.mining.config import MiningConfig
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.store import META_FILE, open_store

log = logging.getLogger("stages.mine_negatives")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    mining: MiningConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.mining
    store = open_store(paths.STORE_DIR)
    index = open_index(paths.IMAGE_INDEX, store)  # applies the sidecar's ef_search / nprobe
    labels = None
    if cfg.use_signals:
        from pipelines.signals import read_signal_labels

        labels = read_signal_labels(paths.SIGNALS, cfg.target_attrs, "mining.use_signals")
    neighbours = index_neighbours(index, store.meta["group_key"].to_numpy(), params.runtime.mining.batch_size)
    started = time.perf_counter()
    result = mine_hard_negatives(
        store.meta, store.image_keys, neighbours, cfg, params.seed, labels, where=str(paths.STORE_DIR / META_FILE)
    )
    log.info("mining took %.2f s for %d anchors", time.perf_counter() - started, result.report["anchors"])
    with atomic_dir(paths.MINING_DIR) as out:  # the whole DVC out is replaced at once, stale files included
        write_parquet_atomic(result.negatives, out / paths.HARD_NEGATIVES.name)
    write_json_atomic(result.report, paths.MINING_REPORT)


if __name__ == "__main__":
    run_stage(main, __doc__)
