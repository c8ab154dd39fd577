"""Build training pairs: strong/medium/weak positives and hard/easy negatives from train items, in the params' mix."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.io import atomic_dir, read_parquet, write_json_atomic, write_parquet_atomic
from pipelines.pairs import build_pairs
from pipelines.pairs.config import PairsConfig
from pipelines.params import load_params


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    pairs: PairsConfig


def main() -> None:
    params = load_params(Params)
    items = read_parquet(paths.ITEMS, "the normalize stage")
    negatives = read_parquet(paths.HARD_NEGATIVES, "the mine_negatives stage")
    result = build_pairs(
        items,
        negatives,
        params.pairs,
        params.seed,
        items_where=str(paths.ITEMS),
        negatives_where=str(paths.HARD_NEGATIVES),
    )
    with atomic_dir(paths.PAIRS_DIR) as out:  # the whole DVC out is replaced at once, stale files included
        write_parquet_atomic(result.pairs, out / paths.PAIRS.name)
    write_json_atomic(result.stats, paths.PAIRS_STATS)


if __name__ == "__main__":
    run_stage(main, __doc__)
