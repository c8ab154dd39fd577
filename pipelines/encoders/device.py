"""The torch device named by `runtime.device`."""

from __future__ import annotations

import torch

from pipelines.errors import PipelineError


def resolve_device(device: str) -> torch.device:
    """`auto` picks CUDA when present; an explicit CUDA device that is absent is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PipelineError(f"runtime.device is {device!r}, but no CUDA device is available here (use auto or cpu)")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise PipelineError(f"runtime.device {device!r} is not a torch device ({exc})") from None
