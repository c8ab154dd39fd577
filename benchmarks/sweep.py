"""The `train.*` sweep: `dvc exp run -S train.lr=<value>` on the built workspace, timed stage by stage.

    python benchmarks/sweep.py             # one experiment at train.lr ~3e-4
    python benchmarks/sweep.py --runs 3    # the median of three

Needs a built and committed workspace (`dvc repro`, `git status` clean): an experiment applies its results to
the workspace, so after each run the script puts it back (`git checkout -- .`, `dvc checkout --force`) and
removes the experiment. Each run needs a learning rate not used before (a resumed checkpoint or DVC's run cache
would short-cut it): `--lr` raised by a random fraction of a percent, so every run trains alike. Prints the
seconds of each stage (between DVC's "Running stage" lines as they stream, so DVC's bookkeeping after a stage
counts to it), of DVC before the first stage, the total and the CPU seconds of DVC and its stages; the last
line is `sweep seconds=<median total>`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGE = re.compile(r"^Running stage '([^']+)'")
EXPERIMENT = re.compile(r"Ran experiment\(s\): (\S+)")


def dvc(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dvc")), *args]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(lr: str) -> tuple[dict[str, float], float, float]:
    """({stage or "dvc start": seconds}, wall seconds, CPU seconds) of one `dvc exp run -S train.lr=<lr>`."""
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.Popen(
        dvc("exp", "run", "-S", f"train.lr={lr}"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    marks: list[tuple[str, float]] = [("dvc start", start)]
    name = None
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if match := STAGE.match(line):
            marks.append((match.group(1), time.perf_counter()))
        if match := EXPERIMENT.search(line):
            name = match.group(1)
    failed = proc.wait() != 0
    end = time.perf_counter()
    put_back(name)
    if failed:  # the workspace is put back first: DVC removed the outputs of the stage that failed
        sys.exit(f"dvc exp run failed:\n{''.join(lines[-30:])}")
    seconds = {stage: later - at for (stage, at), (_, later) in zip(marks, [*marks[1:], ("end", end)], strict=True)}
    return seconds, end - start, children_cpu() - cpu


def put_back(experiment: str | None) -> None:
    """The committed workspace again: its files, its DVC outputs, and no experiment left."""
    subprocess.run(["git", "checkout", "--quiet", "--", "."], check=True)
    subprocess.run(dvc("checkout", "--force", "--quiet"), check=True)
    if experiment:
        subprocess.run(dvc("exp", "remove", experiment), check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-4, help="train.lr, made fresh by a jitter below 1%%")
    args = parser.parse_args()
    if subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip():
        sys.exit("the workspace has uncommitted changes: commit or stash them first (each run resets it)")
    status = subprocess.run(dvc("status", "--quiet"), capture_output=True, text=True)
    if status.returncode != 0:
        sys.exit("the workspace is not built: run `dvc repro` first")
    totals = []
    for run in range(args.runs):
        lr = f"{args.lr * (1 + random.uniform(0, 0.01)):.6e}"
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        seconds, wall, cpu = run_once(lr)
        totals.append(wall)
        stages = ", ".join(f"{stage} {value:.1f} s" for stage, value in seconds.items())
        print(f"run {run + 1}: train.lr={lr}: {wall:.1f} s ({cpu:.1f} CPU s); {stages}; load average {load}")
    print(f"sweep seconds={statistics.median(totals):.1f}")


if __name__ == "__main__":
    main()
