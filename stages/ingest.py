"""Ingest the catalog named by `data.source` into data/raw/: its original layout plus manifest.json."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import paths
from pipelines.catalog import ingest_catalog, parse_source
from pipelines.catalog.config import DataConfig
from pipelines.cli import run_stage
from pipelines.io import atomic_dir
from pipelines.params import load_params


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    data: DataConfig


def main() -> None:
    params = load_params(Params)
    source = parse_source(params.data.source, params.data.catalog)
    with atomic_dir(paths.RAW_DIR) as out:
        ingest_catalog(source, out, max_items=params.data.max_items, seed=params.seed, sample=params.data.sample)


if __name__ == "__main__":
    run_stage(main, __doc__)
