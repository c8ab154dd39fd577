"""One numeric ISA for every process: the same float bytes on any x86-64 CPU with AVX2.

torch, oneDNN, MKL, OpenBLAS and FAISS each pick their SIMD kernels by the CPU they find, and kernels of different
widths round differently: the same seeded ViT forward over the same images gives one byte pattern with AVX2
kernels, another with AVX-512 ones, a third with the generic ones. Training on random-backbone features then
turns those last bits into different metrics, so an AVX-512 machine would not rebuild the dvc.lock an AVX2 machine
committed.

`pin()` sets each library's own variable to the common x86-64-v3 (AVX2 + FMA) level, overriding whatever the
environment says. It must run before those libraries load: they read the variables once, at load or first use.
`pipelines/__init__.py` calls it, so any `import pipelines...` (every stage, `python -m serve`, the benchmarks)
pins before its first numpy or torch import; child processes (DataLoader workers, Ray's raylet and workers,
subprocesses) inherit the pinned environment.

Opting out: `PIPELINES_ISA=native` leaves every library's variables alone, so each picks the machine's fastest
kernels. The results are then this machine's alone: its dvc.lock will not match the committed one, and DVC does
not see the switch (it is not a param, because it must act before any param is read), so run `dvc repro --force`
after changing it. On a CPU without AVX2, or not x86-64 (ARM), there is no common level to pin: `describe()`
says plainly that results will differ from the committed ones.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from dataclasses import dataclass

OPT_OUT = "PIPELINES_ISA"  # set to "native" to keep each library's own choice
# Each library's variable and its value. MKL is the exception to AVX2: its conditional numerical reproducibility
# branches other than COMPATIBLE exist on Intel CPUs only (on AMD, `AVX2` silently runs MKL's own AUTO path, which
# rounds differently), so an Intel and an AMD machine agree only on COMPATIBLE, MKL's one SSE2 path for every
# x86-64 CPU; STRICT keeps its GEMMs equal across thread counts. OpenBLAS's Haswell core is its AVX2 + FMA set.
PIN = {
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own vectorised kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's oneDNN (convolutions)
    "MKL_CBWR": "COMPATIBLE,STRICT",  # torch's MKL BLAS
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's (and FAISS's) OpenBLAS
    "FAISS_SIMD_LEVEL": "AVX2",  # FAISS built with dynamic dispatch (faiss-cpu >= 1.12)
    "FAISS_OPT_LEVEL": "AVX2",  # FAISS wheels with one extension per level (older faiss-cpu)
}
# x86-64-v3 = AVX2 + FMA (with BMI1/2, F16C, MOVBE, LZCNT, which every AVX2 + FMA CPU in practice has)
REQUIRED_FLAGS = ("avx2", "fma")
NUMERIC_MODULES = ("numpy", "torch", "faiss")  # libraries whose kernels the pin chooses


@dataclass(frozen=True)
class Pin:
    """What `pin()` did: `pinned` (the common level is in force), `reason` when not, and the modules that had
    already loaded before it ran (their libraries kept their own choice)."""

    pinned: bool
    reason: str = ""
    preloaded: tuple[str, ...] = ()


_state: Pin | None = None


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo, or None where there is none to read (not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def _unpinnable() -> str:
    """Why this machine has no common level to pin to ('' when it has one)."""
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64"):
        return f"this CPU is {machine or 'unknown'}, not x86-64"
    flags = cpu_flags()
    if flags is None:
        return "this system has no /proc/cpuinfo to check for AVX2"
    missing = [f for f in REQUIRED_FLAGS if f not in flags]
    return f"this x86-64 CPU lacks {' and '.join(f.upper() for f in missing)}" if missing else ""


def pin() -> Pin:
    """Set every numeric library's kernel level to AVX2 (once per process; later calls return the first result)."""
    global _state
    if _state is not None:
        return _state
    preloaded = tuple(m for m in NUMERIC_MODULES if m in sys.modules)
    if os.environ.get(OPT_OUT, "").strip().lower() == "native":
        _state = Pin(False, f"{OPT_OUT}=native", preloaded)
        return _state
    reason = _unpinnable()
    if reason:
        _state = Pin(False, reason, preloaded)
        return _state
    os.environ.update(PIN)
    _state = Pin(True, "", preloaded)
    return _state


def environment() -> dict[str, str]:
    """The pinned variables, for processes that do not inherit this one's environment (a Ray cluster's workers);
    empty when not pinned."""
    return dict(PIN) if pin().pinned else {}


def warn_if_unpinned() -> None:
    """A warning, once per entry point and before it runs, whenever results will differ from the committed ones."""
    state = pin()
    if not state.pinned or state.preloaded:
        logging.getLogger(__name__).warning(describe())


def log_pinned() -> None:
    """The level in force, at info, when the pin holds. A stage logs it once its outputs are written (a stage that
    refuses bad input still says one line, its error); the server once its build has loaded."""
    state = pin()
    if state.pinned and not state.preloaded:
        logging.getLogger(__name__).info(describe())


def describe() -> str:
    """One line: the level in force, or plainly why results will differ from the committed ones."""
    state = pin()
    if state.pinned:
        text = "numerics pinned to AVX2 (x86-64-v3): " + ", ".join(f"{k}={v}" for k, v in PIN.items())
        if state.preloaded:
            text += (
                f"; WARNING: {', '.join(state.preloaded)} loaded before the pin, so its kernels are the machine's "
                "own and results may differ from the committed ones (import pipelines first)"
            )
        return text
    return (
        f"numerics NOT pinned ({state.reason}): torch, MKL, OpenBLAS and FAISS use this machine's own kernels, "
        "so floats, dvc.lock and the metrics will differ from the committed ones"
    )
