"""A tiny project built by the real `dvc repro`, through the rerank stage, and the real server over it, shared by
the search tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def server(built_project, tmp_path_factory) -> Iterator[str]:
    """The base URL of the real server (uvicorn in a subprocess) over the tiny build; slow, like the build."""
    from serving import running_server

    with running_server(Path(built_project.root), tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url
