"""`python -m pipelines.closure --write` (`make deps`): rewrite dvc.yaml's code deps from each stage's imports.

Without `--write` it only checks, naming each stage whose deps differ, and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.closure.dvc_yaml import changes, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.closure", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite dvc.yaml (otherwise only check it)")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        print(f"dvc.yaml: deps rewritten for {', '.join(changed)}" if changed else "dvc.yaml: deps already current")
        return 0
    found = changes()
    for change in found:
        print(change.describe(), file=sys.stderr)
    if found:
        print("run `make deps` to rewrite them", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
