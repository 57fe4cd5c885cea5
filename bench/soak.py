"""The soak in the bench: 30 videos at once with 30 % of the tasks interrupted and 10 % of
the RunTasks refused (`python -m local soak`, its own process and offline stack). Targets:
every video COMPLETED, none stuck, CPU at most 1.25x the same clips' fault-free run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

VIDEOS = 30
QUICK_VIDEOS = 6
INTERRUPT_RATE = 0.3
REFUSE_RATE = 0.1
SEED = 7
CPU_RATIO_TARGET = 1.25


def command(videos: int) -> list[str]:
    return [
        *(sys.executable, "-m", "local", "soak", "--videos", str(videos)),
        *("--interrupt-rate", str(INTERRUPT_RATE), "--refuse-rate", str(REFUSE_RATE)),
        *("--seed", str(SEED)),
    ]


def measure(env: Mapping[str, str], *, quick: bool) -> dict[str, Any]:
    """The soak's summary, its command, and the CPU ratio of faults against none."""
    argv = command(QUICK_VIDEOS if quick else VIDEOS)
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    summary: dict[str, Any] = json.loads(done.stdout)
    baseline = summary["cpu_seconds_without_faults"]
    ratio = round(summary["cpu_seconds"] / baseline, 3) if baseline else None
    return {
        **summary,
        "command": " ".join(["python", *argv[1:]]),
        "exit_code": done.returncode,
        "cpu_ratio": ratio,
        "cpu_ratio_target": CPU_RATIO_TARGET,
    }
