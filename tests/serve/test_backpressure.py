"""The server under load and against slow clients (issue 25): a bounded search queue answering 503 with
Retry-After beyond it, health and images that never wait behind searches, and deadlines on a request's head and
body. Timings are measured in benchmarks/serve_load.py; these tests check the behaviour."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from serving import REPO, call, server_env

pytestmark = pytest.mark.slow

CLIENTS = 16


def test_searches_past_the_queue_are_refused_with_503_while_health_and_images_keep_answering(busy_server):
    """16 searches at once (released together) against a queue of one: each is answered 200 or 503 (with
    Retry-After and the error body), never another status; meanwhile health answers and reports the searches it
    did not wait for. The queue's logic without timing: test_guards.py."""
    url = f"{busy_server}/api/search?{urlencode({'q': 'red t-shirts', 'k': 100, 'rerank': 'mmr'})}"
    _, _, first = call(url)
    item = json.loads(first)["results"][0]["item_id"]
    done = threading.Event()
    health, images = [], []

    def poll() -> None:
        while not done.is_set():
            status, _, body = call(f"{busy_server}/api/health")
            health.append((status, json.loads(body)["searches_queued"]))
            images.append(call(f"{busy_server}/images/{item}")[0])

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        start = threading.Barrier(CLIENTS)

        def together(_: int) -> tuple[int, dict, bytes]:
            start.wait(30)
            return call(url)

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(together, range(CLIENTS)))
    finally:
        done.set()
        poller.join()
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503} and statuses.count(503) >= 1 and statuses.count(200) >= 2, statuses
    for status, headers, body in answers:
        if status == 503:
            assert int(headers["retry-after"]) >= 1
            error = json.loads(body)["error"]
            assert error["parameter"] is None and error["message"].startswith("busy: "), error
    assert {status for status, _ in health} == {200} and set(images) == {200}
    assert max(queued for _, queued in health) >= 1  # health was answered while searches ran or waited


def closed_after(sock: socket.socket, trickle: bytes, limit_s: float) -> float:
    """Seconds until the server closes `sock` while it sends `trickle` a byte every 0.2 s; fails past `limit_s`."""
    start = time.monotonic()
    sock.settimeout(0.2)
    for byte in trickle * 100:
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - start
        except TimeoutError:
            pass
        except ConnectionError:
            return time.monotonic() - start
        assert time.monotonic() - start < limit_s, "the server kept a trickling connection open"
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionError):
            return time.monotonic() - start
    raise AssertionError("trickled everything without being closed")


@pytest.mark.parametrize("stage", ["head", "body"])
def test_a_client_trickling_its_request_is_disconnected_at_the_deadline(busy_server, stage):
    host, port = busy_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        if stage == "body":
            sock.sendall(
                b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100000\r\n\r\nq="
            )
        else:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        seconds = closed_after(sock, b"X-Slow: a\r\n" if stage == "head" else b"red", limit_s=15)
    assert seconds >= 1.0  # the deadline, not an immediate refusal
    assert call(f"{busy_server}/api/health")[0] == 200  # and the server keeps serving


def test_the_load_benchmark_prints_its_table(built_project):
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/serve_load.py"), "--root", str(built_project.root)]
        + ["--clients", "6", "--rounds", "2", "--server-arg=--max-queued-searches=1"],
        cwd=REPO,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split(" | ")[0].strip("| "): line for line in done.stdout.splitlines() if line.startswith("| ")}
    assert {"search", "health", "image"} <= set(rows), done.stdout
    assert rows["health"].split(" | ")[1] == "12"  # 6 clients x 2 rounds
    assert "health p95 " in done.stdout and "load average" in done.stdout
