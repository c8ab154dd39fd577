"""Worker processes die with the stage that started them: `kill -9` of a stage leaves no decoder running."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")

# encode_kv's image decoders (DataLoader workers), each stuck in a slow decode when the stage is killed
DECODING = """
import sys, time, torch
from pipelines.encoders.images import image_loader

def slow(image):
    time.sleep(120)
    return torch.zeros(3)

batches = iter(image_loader(sys.argv[1:], slow, batch_size=1, workers=2))
print("started", flush=True)
next(batches)
"""

# normalize's image checks (a process pool)
CHECKING = """
import sys, time
from pipelines.normalize import images

def slow(path):
    time.sleep(120)
    return ""

images.check_image = slow
print("started", flush=True)
images.check_images(sys.argv[1:], workers=2, chunk_size=1)
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether `pid` is a process that still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("script", [DECODING, CHECKING], ids=["encode_kv decoders", "normalize pool"])
def test_workers_die_when_their_stage_is_killed(tmp_path, script):
    stage = subprocess.Popen(
        [sys.executable, "-c", script, *(f"{i}.jpg" for i in range(8))], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        assert stage.stdout.readline() == "started\n"
        assert _wait_for(lambda: len(_children(stage.pid)) >= 2, 60), "the workers never started"
        time.sleep(0.5)  # into their slow first item
        workers = _children(stage.pid)
        stage.kill()
        stage.wait()
        assert _wait_for(lambda: not any(map(_running, workers)), 5), [w for w in workers if _running(w)]
    finally:
        stage.kill()
        stage.wait()
        for pid in filter(_running, workers):
            subprocess.run(["kill", "-9", str(pid)], check=False)
