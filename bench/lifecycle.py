"""`python -m local up` from the outside: how long it takes to serve, and to stop on a signal.

Start: from launching the command to its "Ctrl-C stops the stack." line (the web app's
built files already in web/dist), and to the API's first answer (an API instance's cold start
on top). Stop: from SIGINT (Ctrl-C) or SIGTERM to the command's exit, and whether any
process it had started (API instances, moto's, the web server's) is still there after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from local.config import free_port

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
READY_LINE = "Ctrl-C stops the stack."


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited; its parent (init, once orphaned) reaps it
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_and_stop(stop_signal: signal.Signals, env: Mapping[str, str]) -> dict[str, Any]:
    api_port, web_port = free_port(), free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local",
            "up",
            "--api-port",
            str(api_port),
            "--web-port",
            str(web_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(env),
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == READY_LINE:
                break
            if time.monotonic() - started > START_TIMEOUT_SECONDS:
                raise TimeoutError("python -m local up did not start")
        start_seconds = time.monotonic() - started
        # Served by an API instance, which is then running when the signal comes.
        api = f"http://127.0.0.1:{api_port}"
        requests.get(f"{api}/openapi.json", timeout=30).raise_for_status()
        first_answer_seconds = time.monotonic() - started
        started_processes = descendants(process.pid)
        signalled = time.monotonic()
        process.send_signal(stop_signal)
        code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
        stop_seconds = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = sorted(pid for pid in started_processes if _alive(pid))
    return {
        "signal": stop_signal.name,
        "start_seconds": round(start_seconds, 3),
        "first_api_answer_seconds": round(first_answer_seconds, 3),
        "stop_seconds": round(stop_seconds, 3),
        "exit_code": code,
        "processes_started": len(started_processes),
        "processes_left": left,
    }


def measure(env: Mapping[str, str]) -> dict[str, Any]:
    runs = [start_and_stop(sig, env) for sig in (signal.SIGINT, signal.SIGTERM)]
    return {
        "runs": runs,
        "start_seconds_max": max(run["start_seconds"] for run in runs),
        "stop_seconds_max": max(run["stop_seconds"] for run in runs),
        "processes_left": sorted({pid for run in runs for pid in run["processes_left"]}),
    }
