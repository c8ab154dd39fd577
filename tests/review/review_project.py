"""Helpers for the review tests: the end-to-end test's project copy and git workspace, reused, not copied."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parents[1]


def _end_to_end() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_review_end_to_end", TESTS / "test_end_to_end.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


END_TO_END = _end_to_end()
REPO: Path = END_TO_END.REPO
Workspace = END_TO_END.Workspace


def copy_project(root: Path) -> None:
    """The project's files (tracked and untracked, not ignored) into `root`, committed reports/ included."""
    for name in END_TO_END._project_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
