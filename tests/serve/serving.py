"""Start the real search server (`python -m serve`, uvicorn) in a subprocess on a free port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 180  # loading the model and index of a tiny build takes seconds; a busy 2-core machine, more


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(root: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "serve", "--root", str(root), "--port", str(port), *extra]


def server_env() -> dict[str, str]:
    # this checkout's code, whichever checkout the venv was installed from
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


@contextlib.contextmanager
def running_server(root: Path, log_path: Path, *extra: str) -> Iterator[str]:
    """Yield the base URL once /api/health answers; the server's output goes to `log_path`."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            server_command(root, port, *extra), cwd=REPO, env=server_env(), stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer within {STARTUP_S} s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call(request: urllib.request.Request | str) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a request, whatever its status."""
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_json(url: str) -> tuple[int, dict]:
    status, _, body = call(url)
    return status, json.loads(body)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type: `files` maps a field to (filename, bytes, mime type)."""
    boundary = "----search-test-boundary-7d3f"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, mime) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def raw_request(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None, chunk: int = 64 * 1024
) -> tuple[int, dict]:
    """(status, JSON body) of a request sent through http.client as given: a `Host` header of the caller's choosing,
    and a body sent `Transfer-Encoding: chunked` (no Content-Length), as a streaming client sends it."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        pieces = None if body is None else (body[i : i + chunk] for i in range(0, len(body), chunk))
        connection.request(method, path, body=pieces, headers=headers, encode_chunked=body is not None)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def post_search(url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[int, dict]:
    body, content_type = multipart(fields, files)
    request = urllib.request.Request(
        f"{url}/api/search", data=body, method="POST", headers={"Content-Type": content_type}
    )
    status, _, raw = call(request)
    return status, json.loads(raw)
