"""Fixtures for the review tests."""

from __future__ import annotations

import pytest
from review_project import Workspace


@pytest.fixture
def git_repo(tmp_path) -> Workspace:
    """An empty git repository with an identity, driven like the end-to-end test's workspace."""
    ws = Workspace(tmp_path / "repo")
    ws.root.mkdir()
    ws.run("git", "init", "-q", "-b", "main")
    return ws
