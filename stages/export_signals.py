"""Export prototype concept signals: per-dimension prototypes from train items, gated top-K signals per item."""

from dataclasses import dataclass

from pipelines import paths
from pipelines.cli import run_stage
from pipelines.io import atomic_dir, write_json_atomic, write_parquet_atomic
from pipelines.params import load_params
from pipelines.seeding import seed_everything
from pipelines.signals import export_signals, save_prototypes
from pipelines.signals.config import SignalsConfig
from pipelines.store import open_store


@dataclass(frozen=True)
class Params:
    """The params.yaml sections this stage reads."""

    seed: int
    signals: SignalsConfig


def main() -> None:
    params = load_params(Params)
    seed_everything(params.seed)
    store = open_store(paths.STORE_DIR)
    result = export_signals(store, params.signals, params.seed)
    with atomic_dir(paths.SIGNALS_DIR) as out:
        save_prototypes(result.prototypes, out / paths.PROTOTYPES.name, store.store_hash)
        write_parquet_atomic(result.signals, out / paths.SIGNALS.name)
    write_json_atomic(result.report, paths.SIGNALS_REPORT)


if __name__ == "__main__":
    run_stage(main, __doc__)
