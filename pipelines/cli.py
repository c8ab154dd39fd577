"""The entry point every stage runs through: logging, one-line errors, a non-zero exit on failure."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pipelines import numerics
from pipelines.errors import PipelineError
from pipelines.params import require_declared


def run_stage(main: Callable[[], None], description: str | None) -> None:
    """Run a stage's `main`; a PipelineError becomes one line on stderr and exit code 1.

    Every stage ends with `run_stage(main, __doc__)`: its docstring is its `--help`.

    `--verbose` turns on debug logging and shows the traceback of a failure. Before `main`, params.yaml must hold
    every key the stage lists in dvc.yaml (a deleted key never runs silently on its default).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--verbose", action="store_true", help="debug logging and full tracebacks")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    numerics.warn_if_unpinned()
    try:
        module = _script_module(main)
        if module is not None:
            require_declared(module)
        main()
    except PipelineError as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    numerics.log_pinned()


def _script_module(main: Callable[[], None]) -> str | None:
    """The module `python -m` ran `main` from (e.g. "stages.train"; its `__name__` is "__main__"), or None for a
    script run by path."""
    spec = getattr(sys.modules.get(main.__module__), "__spec__", None)
    return spec.name if spec is not None else None
