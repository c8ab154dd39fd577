"""Worker processes that die with the stage that started them, even when the stage is killed with SIGKILL."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Run first in a worker process started by process `parent`: the kernel sends the worker SIGKILL as soon as
    `parent` dies (Linux `prctl(PR_SET_PDEATHSIG)`), and a worker whose parent is already gone exits now.

    Without it a killed stage's decoding workers live on: a DataLoader worker finishes its prefetched batches
    before it notices, and a process pool's worker waits on its task queue for good. Elsewhere than Linux this
    does nothing. The signal follows the thread that started the worker, so start workers from the main thread.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols, libc's among them
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
