"""Loopback load on the search server: many clients at once, each asking a search, the health check and an item's
image in turn; per route the answers by status and the latency percentiles, with the machine's load average.

    python benchmarks/serve_load.py                          # the workspace's build (`make repro`), 64 clients
    python benchmarks/serve_load.py --clients 8 --rounds 5   # a lighter load

The server is the real one (`python -m serve`, default queue and limits unless given) in a subprocess on a free
loopback port; the clients are threads of this process, each on its own keep-alive connection. Searches beyond the
server's queue are refused with 503 and Retry-After; the client counts the refusal and goes on (it does not wait:
the load stays at its most). Goals (issue 25), at 64 clients: health p95 <= 100 ms, /images p95 <= 200 ms, no
other 5xx than 503, every refusal a 503.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERIES = (
    "red t-shirts",
    "blue jeans for men",
    "black dress",
    "white sports shoes",
    "green kurta for women",
    "striped shirt not blue",
    "leather handbag",
    "grey hoodie",
)
ROUTES = ("search", "health", "image")
GOALS_P95_MS = {"health": 100.0, "image": 200.0}
STARTUP_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(root: Path, port: int, extra: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """`python -m serve` over `root`, returned once /api/health answers."""
    command = [sys.executable, "-m", "serve", "--root", str(root), "--port", str(port), *extra]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: the server exited with {process.returncode}; its log: {log_path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit(f"error: the server did not answer within {STARTUP_S} s; its log: {log_path}")


class Client:
    """One keep-alive connection asking search, health and image in turn; records (route, status, seconds)."""

    def __init__(self, port: int, item_id: str, number: int):
        self.port, self.item_id, self.number = port, item_id, number
        self.records: list[tuple[str, int, float]] = []
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def ask(self, route: str, path: str) -> None:
        start = time.perf_counter()
        try:
            self.connection.request("GET", path)
            response = self.connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # a connection error: counted, then a fresh connection
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.records.append((route, status, time.perf_counter() - start))

    def run(self, rounds: int) -> None:
        for round_ in range(rounds):
            query = QUERIES[(self.number + round_) % len(QUERIES)]
            self.ask("search", "/api/search?" + urllib.parse.urlencode({"q": query, "k": 10}))
            self.ask("health", "/api/health")
            self.ask("image", f"/images/{self.item_id}")
        self.connection.close()


def load(port: int, clients: int, rounds: int) -> tuple[list[tuple[str, int, float]], float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", "/api/search?" + urllib.parse.urlencode({"q": QUERIES[0], "k": 1}))
    item_id = json.loads(connection.getresponse().read())["results"][0]["item_id"]
    connection.close()
    workers = [Client(port, item_id, number) for number in range(clients)]
    threads = [threading.Thread(target=worker.run, args=(rounds,)) for worker in workers]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [record for worker in workers for record in worker.records], time.perf_counter() - start


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def report(records: list[tuple[str, int, float]], seconds: float, clients: int) -> None:
    """Print the table and whether each goal is met."""
    by_route: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for route, status, elapsed in records:
        by_route[route].append((status, elapsed))
    print(f"{clients} clients, {len(records)} requests in {seconds:.1f} s; load average {os.getloadavg()[0]:.2f}")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores")
    print("| route | requests | 200 | 503 | other 4xx | other 5xx | errors | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    p95 = {}
    bad = 0
    for route in ROUTES:
        answers = by_route[route]
        statuses = [status for status, _ in answers]
        latencies = sorted(elapsed * 1000.0 for _, elapsed in answers)
        p50, p95[route], p99 = (percentile(latencies, q) for q in (50, 95, 99))
        other_4xx = sum(400 <= s < 500 for s in statuses)
        other_5xx = sum(s >= 500 and s != 503 for s in statuses)
        errors = statuses.count(0)
        bad += other_5xx + errors + other_4xx + (statuses.count(503) if route != "search" else 0)
        print(
            f"| {route} | {len(answers)} | {statuses.count(200)} | {statuses.count(503)} | {other_4xx} | "
            f"{other_5xx} | {errors} | {p50:.0f} | {p95[route]:.0f} | {p99:.0f} |"
        )
    served = sum(1 for status, _ in by_route["search"] if status == 200)
    print(f"searches answered: {served / seconds:.1f}/s")
    print(f"every answer 200 or a search's 503: {'met' if bad == 0 else f'NOT met ({bad} others)'}")
    for route, goal in GOALS_P95_MS.items():
        print(f"{route} p95 {p95[route]:.0f} ms (goal <= {goal:.0f}): {'met' if p95[route] <= goal else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the built workspace (default: this one)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=20, help="search, health and image requests per client")
    parser.add_argument("--server-arg", action="append", default=[], help="passed on to `python -m serve`")
    args = parser.parse_args()
    port = free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"serve_load.{port}.log"
    process = start_server(args.root, port, args.server_arg, log_path)
    try:
        records, seconds = load(port, args.clients, args.rounds)
    finally:
        process.terminate()
        process.wait(timeout=30)
    report(records, seconds, args.clients)


if __name__ == "__main__":
    main()
