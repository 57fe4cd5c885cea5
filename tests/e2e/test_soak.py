"""The soak command at a small size: every video completes through interrupted tasks and
refused RunTasks, and the JSON summary on stdout says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VIDEOS = 6


@pytest.mark.slow
def test_a_small_soak_with_random_faults_completes_every_video() -> None:
    command = [
        *(sys.executable, "-m", "local", "soak", "--videos", str(VIDEOS)),
        *("--interrupt-rate", "0.3", "--refuse-rate", "0.1", "--seed", "7"),
    ]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )

    summary = json.loads(done.stdout)  # stdout holds the summary alone
    assert done.returncode == 0, (summary, done.stderr[-3000:])
    assert (summary["videos"], summary["completed"], summary["stuck"]) == (VIDEOS, VIDEOS, 0)
    assert summary["failed"] == 0
    # faults were injected, and cost tasks beyond the four each video plans
    assert summary["interrupted"] > 0 and summary["refused"] > 0
    assert summary["tasks"] > VIDEOS * 4
    assert summary["cpu_seconds"] > 0 and summary["cpu_seconds_without_faults"] > 0
