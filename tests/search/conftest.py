"""A tiny project built by the real `dvc repro`, through the rerank stage, shared by the search tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _end_to_end():
    spec = importlib.util.spec_from_file_location("_search_end_to_end", TESTS / "test_end_to_end.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def built_project(tmp_path_factory):
    """A Workspace (tests/test_end_to_end.py) whose `root` holds a tiny project built by `dvc repro`."""
    e2e = _end_to_end()
    workspace = e2e.tiny_project(tmp_path_factory.mktemp("search_build"))  # its TINY profile covers rerank
    workspace.run("git", "init", "-q", "-b", "main")
    workspace.commit("tiny profile")
    workspace.dvc("repro")
    return workspace
