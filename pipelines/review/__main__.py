"""`python -m pipelines.review --base REV [--head REV] --out review`: write review/report.md and its plot images."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipelines.errors import PipelineError
from pipelines.review.compose import write_review
from pipelines.review.findings import SliceSettings
from pipelines.review.plot_images import FORMATS

log = logging.getLogger("pipelines.review")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.review",
        description="Compare BASE with the working tree (or --head) from committed reports; nothing is rerun.",
    )
    parser.add_argument("--base", required=True, help="git revision to compare against (branch, tag, sha)")
    parser.add_argument("--head", default=None, help="git revision to review (default: the working tree)")
    parser.add_argument("--out", type=Path, default=Path("review"), help="output folder (default: review)")
    parser.add_argument("--format", choices=FORMATS, default="svg", help="plot image format (default: svg)")
    parser.add_argument(
        "--min-queries",
        type=int,
        default=SliceSettings.min_queries,
        help="leave out slices with fewer queries at either revision (default: %(default)s)",
    )
    parser.add_argument(
        "--top", type=int, default=SliceSettings.top, help="regressions and gains listed each (default: %(default)s)"
    )
    parser.add_argument("--k", type=int, default=SliceSettings.k, help="K of the slice metric (default: %(default)s)")
    parser.add_argument(
        "--artifact-url",
        default=None,
        help="list the images with a link to this CI run instead of embedding them (PR comments)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging and full tracebacks")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    slices = SliceSettings(k=args.k, min_queries=args.min_queries, top=args.top)
    try:
        report = write_review(Path.cwd(), args.base, args.head, args.out, args.format, slices, args.artifact_url)
    except PipelineError as exc:
        if args.verbose:
            raise
        sys.stderr.write(f"error: {exc}\n")
        return 1
    log.info("wrote %s", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
