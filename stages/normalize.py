"""Normalize the ingested catalog: canonical attributes, product groups, splits, readable images, data profile."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import paths
from pipelines.catalog import read_raw_catalog
from pipelines.catalog.config import DataConfig
from pipelines.cli import run_stage
from pipelines.io import atomic_dir, write_json_atomic, write_text_atomic
from pipelines.normalize import normalize_catalog, render_profile_markdown
from pipelines.normalize.config import SchemaConfig
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    data: DataConfig
    schema: SchemaConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    raw = read_raw_catalog(paths.RAW_DIR)
    result = normalize_catalog(
        raw.format,
        raw.frame,
        paths.RAW_DIR,
        csv_name=raw.manifest.get("csv", ""),
        schema=params.schema,
        splits=params.data.splits,
        min_readable=params.data.min_readable,
        workers=params.runtime.normalize.workers,
        seed=params.seed,
    )
    markdown = render_profile_markdown(result.profile, result.details, source=str(raw.manifest.get("source", "")))
    with atomic_dir(paths.PROCESSED_DIR) as out:
        result.items.to_parquet(out / paths.ITEMS.name, index=False)
    write_json_atomic(result.profile, paths.DATA_PROFILE_JSON)
    write_text_atomic(markdown, paths.DATA_PROFILE_MD)


if __name__ == "__main__":
    run_stage(main, __doc__)
