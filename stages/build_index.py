"""Build the FAISS indexes over the store's image (and text) keys and measure recall against exact search."""

import logging
from dataclasses import dataclass

import faiss

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.index import build_and_measure, index_reports, modality_queries, save_index
from pipelines.index.config import IndexConfig
from pipelines.io import atomic_dir, write_json_atomic
from pipelines.params import load_params
from pipelines.runtime import RuntimeConfig
from pipelines.seeding import seed_everything
from pipelines.store import open_store

log = logging.getLogger("stages.build_index")


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    index: IndexConfig
    runtime: RuntimeConfig


def main() -> None:
    params = load_params(Params)
    cfg = params.index
    seed_everything(params.seed)
    if params.runtime.index.threads:
        faiss.omp_set_num_threads(params.runtime.index.threads)
    store = open_store(paths.STORE_DIR)
    keys = {"image": store.image_keys} | ({"text": store.text_keys} if cfg.text else {})
    # image and text queries against every index: text-to-image search is the text queries on the image index
    queries = modality_queries({"image": store.image_keys, "text": store.text_keys}, cfg.eval_queries, params.seed)
    built = {name: build_and_measure(vectors, cfg, params.seed, queries) for name, vectors in keys.items()}
    with atomic_dir(paths.INDEX_DIR) as out:
        for name, measured in built.items():  # save_index keeps the report's search knobs
            report = measured.report
            save_index(measured.index, out / f"{name}.faiss", store, factory=report["factory"], knobs=report)
    headline, detail = index_reports(built)
    write_json_atomic(headline, paths.INDEX_METRICS)
    write_json_atomic(detail, paths.INDEX_DETAIL)
    for name, measured in built.items():  # timings differ run to run: the log has them, the outs do not
        report = measured.report
        estimate = f", estimated {measured.estimated_bytes / 2**20:.1f} MiB" if measured.estimated_bytes else ""
        log.info(
            "%s index (%s%s, %d×%d%s): recall@10 %.4f for image queries, %.4f for text queries, "
            "built in %.2f s, %.0f queries/s",
            name,
            report["factory"],
            " chosen by size" if report["auto"] else "",
            report["rows"],
            report["dim"],
            estimate,
            report["recall_at_10_image_queries"],
            report["recall_at_10_text_queries"],
            measured.timings["build_s"],
            measured.timings["queries_per_s"],
        )


if __name__ == "__main__":
    run_stage(main, __doc__)
