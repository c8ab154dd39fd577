"""Build the FAISS indexes over the store's image (and text) keys and measure recall against exact search."""
import faiss

from pipelines.cli import run_stage
from pipelines.index import build_and_measure, save_index
from pipelines.io import atomic_dir, write_json_atomic
from pipelines.params import load_params
from pipelines.seeding import seed_everything
from pipelines.store import open_store


def main() -> None:
    params = load_params()
    cfg = params.index
    seed_everything(params.seed)
    faiss.omp_set_num_threads(cfg.threads)
    store = open_store("artifacts/store")
    keys = {"image": store.image_keys} | ({"text": store.text_keys} if cfg.text else {})
    built = {name: build_and_measure(vectors, cfg, params.seed) for name, vectors in keys.items()}
    with atomic_dir("artifacts/index") as out:
        for name, measured in built.items():
            save_index(measured.index, out / f"{name}.faiss", store, factory=cfg.factory)
    write_json_atomic({name: measured.report for name, measured in built.items()}, "reports/index.json")


if __name__ == "__main__":
    run_stage(main, __doc__)
