"""`python -m pipelines.store verify <dir>`: check every file of a store against the sha256 in its manifest."""

from __future__ import annotations

import argparse
import logging
import sys

from pipelines.errors import PipelineError
from pipelines.store.store import verify_store

log = logging.getLogger("pipelines.store")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.store", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="hash every store file in full and compare with the manifest")
    verify.add_argument("store", nargs="+", help="store folder(s), e.g. artifacts/store")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for folder in args.store:
        try:
            store = verify_store(folder)
        except PipelineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        log.info("%s: verified, %d rows, store %s", folder, store.rows, store.store_hash[:12])
    return 0


if __name__ == "__main__":
    sys.exit(main())
