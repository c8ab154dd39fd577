"""Encode the key/value store: frozen CLIP image and text keys plus sentence-encoded attribute facts."""

import logging

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.encoders import ClipEncoder, KVConfig, ModelConfig
from pipelines.encoders.facts import FactEncoder
from pipelines.encoders.kv import check_items, encode_kv_store, store_params
from pipelines.io import read_parquet
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig

log = logging.getLogger("stages.encode_kv")


def main() -> None:
    params = load_params(model=ModelConfig, kv=KVConfig, runtime=RuntimeConfig)
    speed = params.runtime.encode
    items = read_parquet(paths.ITEMS, "the normalize stage")
    check_items(items, str(paths.ITEMS))  # before the models load: a bad table fails in a second, naming the file
    encoder = ClipEncoder.from_config(params.model, params.seed, params.runtime.device)
    facts = FactEncoder(params.kv.text_encoder, device=str(encoder.device))
    report = encode_kv_store(
        items,
        paths.STORE_DIR,
        encoder,
        facts,
        batch_size=speed.batch_size,
        workers=speed.workers,
        text_batch_size=speed.text_batch_size,
        params=store_params(params.model, params.kv, params.seed),
    )
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
