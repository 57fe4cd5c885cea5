"""A bounded load on the gateway emulator: create, get and list, from concurrent clients.

Run as its own process (`python -m bench.api_load`, a JSON request on stdin, the JSON
report on stdout) so the clients never share an interpreter lock with the server they
measure. Each thread is one user with its own token and keep-alive connection (the standard
library's `http.client`: requests cost about 2 ms more CPU per request, under the client's
own interpreter lock, which queued the clients behind each other before the gateway saw
them); it makes `requests_per_thread` rounds of create -> get (that video) -> list (its own
videos) and stops at the deadline, whichever comes first. Loopback only.

Before both phases every client makes one create, get and list, each operation at the
same time for all: the gateway starts an API instance per concurrent request, as Lambda
scales out, and those cold starts (and each route's first call on each instance) are
reported on their own (`cold_start`) rather than as the tail of the warm phases.
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

OPERATIONS = ("create", "get", "list")
REQUEST_TIMEOUT_SECONDS = 10.0
NEW_VIDEO = {"title": "load", "filename": "load.mp4", "contentType": "video/mp4", "sizeBytes": 1}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default method)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(latencies: Sequence[float], errors: int) -> dict[str, Any]:
    if not latencies:
        return {"count": 0, "errors": errors}
    return {
        "count": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


class UserConnection:
    """One user's keep-alive connection to the gateway, with the user's token."""

    def __init__(self, base_url: str, token: str, timeout_seconds: float):
        parts = urlsplit(base_url)
        self._prefix = parts.path.rstrip("/")
        self._connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout_seconds
        )
        self._authorization = f"Bearer {token}"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The answer's status and, when it succeeded, its JSON body."""
        headers = {"Authorization": self._authorization}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self._connection.request(method, self._prefix + path, body=payload, headers=headers)
        response = self._connection.getresponse()
        data = response.read()  # all of it, so the connection can carry the next request
        ok = response.status < 400
        return response.status, json.loads(data) if ok and data else None

    def close(self) -> None:
        self._connection.close()


def _client_loop(  # noqa: PLR0917 - a thread target's arguments
    base_url: str,
    token: str,
    rounds: int,
    deadline: float,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    lock: threading.Lock,
) -> None:
    connection = UserConnection(base_url, token, REQUEST_TIMEOUT_SECONDS)

    def timed(operation: str, method: str, path: str, body: Any = None) -> Any:
        started = time.perf_counter()
        status, answer = connection.request(method, path, body)
        elapsed = time.perf_counter() - started
        with lock:
            if status < 400:
                latencies[operation].append(elapsed)
            else:
                errors[operation] += 1
        return answer

    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        created = timed("create", "POST", "/videos", NEW_VIDEO)
        if created:
            timed("get", "GET", f"/videos/{created['video']['id']}")
        timed("list", "GET", "/videos")
    connection.close()


def run_load(
    base_url: str, tokens: Sequence[str], requests_per_thread: int, time_limit_seconds: float
) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    errors = dict.fromkeys(OPERATIONS, 0)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + time_limit_seconds
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(base_url, token, requests_per_thread, deadline, latencies, errors, lock),
        )
        for token in tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=time_limit_seconds + REQUEST_TIMEOUT_SECONDS)
    return {
        "threads": len(tokens),
        "requests_per_thread_per_operation": requests_per_thread,
        "time_limit_seconds": time_limit_seconds,
        "elapsed_seconds": round(time.monotonic() - started, 3),
        "operations": {op: summarise(latencies[op], errors[op]) for op in OPERATIONS},
    }


def warm_up(base_url: str, tokens: Sequence[str]) -> dict[str, Any]:
    """Each client's first create, get and list, each operation released for all clients at
    once: the instances' first invocations of each route (a route's first call imports
    what it alone needs, as it would on a new Lambda instance)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))

    def first_requests(token: str) -> None:
        connection = UserConnection(base_url, token, REQUEST_TIMEOUT_SECONDS * 3)

        def first(method: str, path: str, body: Any = None) -> Any:
            nonlocal errors
            barrier.wait()  # every client's request of this route at once
            started = time.perf_counter()
            status, answer = connection.request(method, path, body)
            with lock:
                if status < 400:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
            return answer

        created = first("POST", "/videos", NEW_VIDEO)
        first("GET", f"/videos/{created['video']['id'] if created else 'none'}")
        first("GET", "/videos")
        connection.close()

    threads = [threading.Thread(target=first_requests, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"threads": len(tokens), **summarise(latencies, errors)}


PHASES = ("cold_start", "one_client", "concurrent")


def main() -> int:
    """Runs one phase (`request["phase"]`), or all three in order when none is given."""
    request = json.load(sys.stdin)
    if not str(request["base_url"]).startswith(("http://127.", "http://localhost")):
        raise SystemExit("the load generator only targets loopback")
    base_url, tokens = request["base_url"], request["tokens"]
    rounds, limit = int(request["requests_per_thread"]), float(request["time_limit_seconds"])
    phases = {
        "cold_start": lambda: warm_up(base_url, tokens),
        # One client first: the service time, with nobody to queue behind.
        "one_client": lambda: run_load(base_url, tokens[:1], rounds, limit),
        "concurrent": lambda: run_load(base_url, tokens, rounds, limit),
    }
    chosen = [request["phase"]] if request.get("phase") else list(PHASES)
    report = {}
    for phase in chosen:
        cpu_before = time.process_time()
        report[phase] = phases[phase]()
        # the client's own CPU for the phase (its interpreter's start-up left out)
        report[phase]["client_cpu_seconds"] = round(time.process_time() - cpu_before, 4)
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
