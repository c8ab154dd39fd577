"""Encode the key/value store: frozen CLIP image and text keys plus sentence-encoded attribute facts."""

import logging
from dataclasses import dataclass

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.encoders.engine import encode_store
from pipelines.encoders.kv import check_items
from pipelines.io import read_parquet
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig

log = logging.getLogger("stages.encode_kv")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    model: ModelConfig
    kv: KVConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    items = read_parquet(paths.ITEMS, "the normalize stage")
    check_items(items, str(paths.ITEMS))  # before the models load: a bad table fails in a second, naming the file
    report = encode_store(items, paths.STORE_DIR, params.model, params.kv, params.seed, params.runtime)
    log.info(
        "wrote %s: %d items; %.1f images/s, %.1f CLIP texts/s, %.1f facts/s; store %s",
        paths.STORE_DIR,
        report.rows,
        report.images_per_s,
        report.texts_per_s,
        report.facts_per_s,
        report.manifest["store_hash"][:12],
    )
    if report.manifest["model"]["untrained"]:
        log.warning("the store's keys come from an UNTRAINED backbone (model.pretrained: none)")


if __name__ == "__main__":
    run_stage(main, __doc__)
