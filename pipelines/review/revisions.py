"""The two sides a review compares: a file as it is at a git revision, or in the working tree."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import PipelineError

log = logging.getLogger(__name__)

WORKSPACE = "workspace"  # the name `dvc plots diff` gives the working tree


class _Absent:
    """A key or file one side does not have (distinct from a null value)."""

    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


class ReviewError(PipelineError):
    """The review cannot start: no git repository, an unknown revision, an unreadable report."""


@dataclass(frozen=True)
class Side:
    """One revision of the project; `sha` None is the working tree, read from disk."""

    name: str  # what the user typed (`origin/main`), or `workspace`
    sha: str | None = None

    @property
    def is_workspace(self) -> bool:
        return self.sha is None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.sha[:7]})" if self.sha and self.sha != self.name else self.name


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise ReviewError("git is not installed or not on PATH; the review reads both revisions with git") from exc


def repo_root(start: Path) -> Path:
    """The top of the git work tree that holds `start`."""
    result = _git(start, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise ReviewError(f"{start} is not inside a git repository; run the review in the project's clone")
    return Path(result.stdout.strip())


def resolve_side(root: Path, rev: str | None) -> Side:
    """The side for `rev`, checked to name a commit; None gives the working tree."""
    if rev is None:
        return Side(WORKSPACE)
    result = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if result.returncode != 0 or not result.stdout.strip():
        raise ReviewError(
            f"unknown git revision '{rev}' in {root} (for a pull request's base, fetch it first: "
            f"git fetch origin; a shallow clone needs fetch-depth: 0)"
        )
    return Side(rev, result.stdout.strip())


class Snapshot:
    """Read the project's files at one side; a file the side lacks reads as None. Each file is read once."""

    def __init__(self, root: Path, side: Side):
        self.root = root
        self.side = side
        self._texts: dict[str, str | None] = {}

    def read_text(self, path: str) -> str | None:
        if path not in self._texts:
            self._texts[path] = self._read(path)
        return self._texts[path]

    def _read(self, path: str) -> str | None:
        if self.side.is_workspace:
            file = self.root / path
            return file.read_text(encoding="utf-8") if file.is_file() else None
        shown = _git(self.root, "cat-file", "blob", f"{self.side.sha}:{path}")
        if shown.returncode != 0:  # absent at this revision, or a folder
            log.debug("%s is absent at %s", path, self.side.label)
            return None
        return shown.stdout

    def read_json(self, path: str) -> Any | None:
        return self._parsed(path, json.loads, json.JSONDecodeError, "JSON")

    def read_yaml(self, path: str) -> Any | None:
        return self._parsed(path, yaml.safe_load, yaml.YAMLError, "YAML")

    def _parsed(self, path: str, loads: Callable[[str], Any], error: type[Exception], kind: str) -> Any | None:
        text = self.read_text(path)
        if text is None:
            return None
        try:
            return loads(text)
        except error as exc:
            raise ReviewError(f"{path} at {self.side.label} is not valid {kind}: {exc}") from exc
