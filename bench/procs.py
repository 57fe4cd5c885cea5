"""Running one command and measuring it: wall, CPU (user + system) and peak memory."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_RUSAGE_CHILD = Path(__file__).with_name("rusage_child.py")


@dataclass(frozen=True)
class Measured:
    wall_seconds: float
    cpu_seconds: float  # user + system of the process and everything it waited for
    peak_memory_bytes: int  # the largest resident set of the process or its descendants


class CommandFailed(RuntimeError):
    pass


def run_measured(
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    timeout_seconds: float = 1800,
) -> Measured:
    """Runs `command` to completion under `rusage_child.py`, which reports the command's own
    wall, CPU (user + system, its children included) and peak resident set."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    usage_path = log_path.with_suffix(".rusage.json")
    usage_path.unlink(missing_ok=True)
    wrapper = [sys.executable, "-I", str(_RUSAGE_CHILD), str(usage_path), "--", *command]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            wrapper,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # a timeout stops the command with its wrapper
        )
        try:
            returncode = process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise CommandFailed(f"{command[0]} ran over {timeout_seconds:g} s") from None
    if returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise CommandFailed(f"{command[0]} exited with {returncode}: {tail}")
    usage = json.loads(usage_path.read_text())
    return Measured(
        wall_seconds=float(usage["wall_seconds"]),
        cpu_seconds=float(usage["cpu_seconds"]),
        peak_memory_bytes=int(usage["peak_memory_bytes"]),
    )


@dataclass(frozen=True)
class CpuClock:
    """CPU of this process and all its reaped children, and the wall clock, at one instant."""

    wall: float
    cpu: float

    @classmethod
    def now(cls) -> CpuClock:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        return cls(wall=time.monotonic(), cpu=cpu)


class LoadSampler:
    """Samples the 1-minute load average in the background: other work on the machine
    stretches walls (never CPU seconds), and the summary says how busy it was."""

    def __init__(self, interval_seconds: float = 5.0) -> None:
        self._interval = interval_seconds
        self._samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._samples.append(os.getloadavg()[0])
            self._stop.wait(self._interval)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        samples = self._samples or [os.getloadavg()[0]]
        return {
            "mean": round(sum(samples) / len(samples), 2),
            "max": round(max(samples), 2),
            "samples": len(samples),
        }
