"""Cold import time of each Lambda handler module: a fresh interpreter per sample.

Import time = median wall of `python -c "import MODULE"` minus the median wall of
`python -c "pass"` measured the same way, samples interleaved so that a busy moment of the
machine falls on both; the same for CPU seconds (user + system), which other work on a
shared machine does not stretch. One unmeasured run first writes the bytecode caches, as a
deployed bundle would have them.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any


def handler_modules(handlers: Iterable[str]) -> list[str]:
    """ "lambdas.api.handler.lambda_handler" -> "lambdas.api.handler", each once, sorted."""
    return sorted({handler.rpartition(".")[0] for handler in handlers})


def _sample(code: str, env: Mapping[str, str]) -> tuple[float, float]:
    """(wall, CPU) of a fresh interpreter running `code`; CPU from the reaped child's
    rusage, which other work on the machine does not stretch."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        env=dict(env),
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def self_time_by_package(importtime_log: str, top: int = 6) -> list[tuple[str, float]]:
    """`python -X importtime` output -> the top-level packages with the most own import
    time, in milliseconds, largest first."""
    totals: dict[str, float] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3:
            continue
        package = fields[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(fields[0]) / 1000
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return [(package, round(ms, 1)) for package, ms in ranked]


def _heaviest(module: str, env: Mapping[str, str]) -> list[tuple[str, float]]:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return self_time_by_package(completed.stderr)


def cold_imports(modules: Iterable[str], env: Mapping[str, str], samples: int) -> dict[str, Any]:
    """Median wall and CPU of importing each module, less the interpreter's own start-up.
    Call it while this process starts no other children (their CPU would count)."""
    modules = list(modules)
    # The first run writes the bytecode caches the samples read: an environment that turns
    # writing them off would have every sample compile the project's own modules again.
    env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    for module in modules:  # bytecode caches
        _sample(f"import {module}", env)
    baseline: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {module: [] for module in modules}
    for _ in range(samples):
        baseline.append(_sample("pass", env))
        for module in modules:
            runs[module].append(_sample(f"import {module}", env))
    startup_wall = statistics.median(wall for wall, _ in baseline)
    startup_cpu = statistics.median(cpu for _, cpu in baseline)
    return {
        "samples": samples,
        "interpreter_startup_seconds": round(startup_wall, 4),
        "interpreter_startup_cpu_seconds": round(startup_cpu, 4),
        "modules": {
            module: round(statistics.median(wall for wall, _ in values) - startup_wall, 4)
            for module, values in runs.items()
        },
        "modules_cpu": {
            module: round(statistics.median(cpu for _, cpu in values) - startup_cpu, 4)
            for module, values in runs.items()
        },
        # One -X importtime run each: where the time goes (own time per top-level package).
        "heaviest_packages_ms": {module: _heaviest(module, env) for module in modules},
    }
