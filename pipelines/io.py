"""Atomic writers: every output appears complete under its final name, or not at all."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.errors import PipelineError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_umask())  # mkstemp makes 0600
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get ordinary folder permissions
    try:
        yield tmp
        if path.exists() or path.is_symlink():
            old = path.with_name(f"{_temporary_prefix(path)}old")
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            _remove(tmp)


def _temporary_prefix(path: Path) -> str:
    """`.<name>.<pid>.`: a temporary sibling names the process that writes it, so a sweep can tell litter."""
    return f".{path.name}.{os.getpid()}."


def sweep_stale(path: Path) -> None:
    """Remove the temporary siblings of `path` (`.<name>.<pid>.*`) that a killed writer left behind: those whose
    process is gone. A live writer's, this process's included, are kept."""
    for sibling in path.parent.glob(f".{glob.escape(path.name)}.*"):
        pid = sibling.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(sibling)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_json_atomic(obj: Any, path: str | Path) -> None:
    """Write JSON with sorted keys and a trailing newline, so equal content gives equal bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_text_atomic(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


def write_torch_atomic(obj: Any, path: str | Path) -> None:
    """torch.save through a temp file renamed onto `path`. It saves into an open file: given a path, torch
    names the archive's inner folder after the (random) temp file, so equal objects would differ in bytes."""
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(obj, handle)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: str | Path, writer: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: file not found (run {writer} first)")
    return path


def read_json(path: str | Path, writer: str = "the stage that writes it") -> Any:
    path = _require_file(path, writer)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{path}: not valid JSON ({exc})") from None


def read_parquet(path: str | Path, writer: str = "the stage that writes it") -> pd.DataFrame:
    """A stage input: one clear error when it is missing (naming `writer`) or unreadable."""
    path = _require_file(path, writer)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise PipelineError(f"{path}: not a readable parquet file ({exc})") from None


def same_path(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file or folder (`~` expanded, relative to the working directory)."""
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise a PipelineError naming the first column `frame` lacks."""
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise PipelineError(f"{where}: missing column {missing[0]!r} (expected columns include {', '.join(columns)})")
