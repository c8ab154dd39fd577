"""Build the FAISS indexes over the store's image (and text) keys and measure recall against exact search."""

import logging

import faiss

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.index import build_and_measure, index_reports, save_index
from pipelines.index.config import IndexConfig
from pipelines.io import atomic_dir, write_json_atomic
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.seeding import seed_everything
from pipelines.store import open_store

log = logging.getLogger("stages.build_index")


def main() -> None:
    params = load_params(index=IndexConfig, runtime=RuntimeConfig)
    cfg = params.index
    seed_everything(params.seed)
    if params.runtime.index.threads:
        faiss.omp_set_num_threads(params.runtime.index.threads)
    store = open_store(paths.STORE_DIR)
    keys = {"image": store.image_keys} | ({"text": store.text_keys} if cfg.text else {})
    built = {name: build_and_measure(vectors, cfg, params.seed) for name, vectors in keys.items()}
    with atomic_dir(paths.INDEX_DIR) as out:
        for name, measured in built.items():
            save_index(measured.index, out / f"{name}.faiss", store, factory=cfg.factory)
    headline, detail = index_reports(built)
    write_json_atomic(headline, paths.INDEX_METRICS)
    write_json_atomic(detail, paths.INDEX_DETAIL)
    for name, measured in built.items():  # timings differ run to run: the log has them, the outs do not
        log.info(
            "%s index (%s, %d×%d): recall@10 %.4f, built in %.2f s, %.0f queries/s",
            name,
            cfg.factory,
            measured.report["rows"],
            measured.report["dim"],
            measured.report["recall_at_10"],
            measured.timings["build_s"],
            measured.timings["queries_per_s"],
        )


if __name__ == "__main__":
    run_stage(main, __doc__)
