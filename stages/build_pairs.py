"""Build training pairs: strong/medium/weak positives and hard/easy negatives from train items, in the params' mix."""

from __future__ import annotations

from pathlib import Path

from pipelines.cli import run_stage
from pipelines.io import atomic_dir, read_parquet, write_json_atomic, write_parquet_atomic
from pipelines.pairs import build_pairs
from pipelines.pairs.config import PairsConfig
from pipelines.params import load_params

ITEMS_FILE = Path("data/processed/items.parquet")
NEGATIVES_FILE = Path("artifacts/mining/hard_negatives.parquet")
PAIRS_DIR = Path("artifacts/pairs")
PAIRS_FILE = "pairs.parquet"
STATS_FILE = Path("reports/pairs_stats.json")


def main() -> None:
    params = load_params(pairs=PairsConfig)
    items = read_parquet(ITEMS_FILE, "the normalize stage")
    negatives = read_parquet(NEGATIVES_FILE, "the mine_negatives stage")
    result = build_pairs(
        items, negatives, params.pairs, params.seed, items_where=str(ITEMS_FILE), negatives_where=str(NEGATIVES_FILE)
    )
    with atomic_dir(PAIRS_DIR) as out:  # the whole DVC out is replaced at once, stale files included
        write_parquet_atomic(result.pairs, out / PAIRS_FILE)
    write_json_atomic(result.stats, STATS_FILE)


if __name__ == "__main__":
    run_stage(main, __doc__)
