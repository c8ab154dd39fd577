"""The real server over the tiny build (tests/conftest.py's built_project), shared by the serve tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def server(built_project, tmp_path_factory) -> Iterator[str]:
    """The base URL of the real server (uvicorn in a subprocess) over the tiny build; slow, like the build."""
    from serving import running_server

    with running_server(Path(built_project.root), tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def busy_server(built_project, tmp_path_factory) -> Iterator[str]:
    """A second real server with a queue of one waiting search and 2-second head and body deadlines."""
    from serving import running_server

    log = tmp_path_factory.mktemp("busy_server") / "server.log"
    extra = ("--max-queued-searches", "1", "--head-timeout", "2", "--body-timeout", "2")
    with running_server(Path(built_project.root), log, *extra) as url:
        yield url
