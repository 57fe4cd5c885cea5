"""A transcoder container command that fails on purpose: `python -m tests.support.faults`.

It runs the real `python -m transcoder`. When the fault plan (a JSON file named by
STREAMFORGE_FAULT_PLAN) lists the job's video and rendition, the first N attempts fail:
"crash" kills the transcoder mid-job (SIGKILL, as when a container dies) and exits 137;
"hang" never finishes, so only the workflow's timeout can end it; "media" runs the real
transcoder on a rendition libx264 refuses (an odd width), so FFmpeg itself fails the job;
"slow" runs the real transcoder after a pause, and succeeds. Later attempts run normally.
Plan: {"<video_id>": {"job": "480p", "fault": "crash", "attempts": 1}}; with "chunk": N
only that chunk (its index) of a chunked rendition fails, and the other chunks run normally.

"interrupt" and "refuse" are ECS's doing, not the container's: the local ECS hook
(`local/tasks.py`, TaskFaults) reads the same plan for those.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CRASH_AFTER_SECONDS = 0.5
SLOW_SECONDS = 15.0
CONTAINER_FAULTS = ("crash", "hang", "media", "slow")


def _planned_fault(
    plan_path: Path, video_id: str, job_name: str, chunk: int | None = None
) -> str | None:
    plan = json.loads(plan_path.read_text()).get(video_id)
    if not plan or plan.get("job") != job_name:
        return None
    if "chunk" in plan and plan["chunk"] != chunk:
        return None
    fault = str(plan.get("fault", "crash"))
    if fault not in CONTAINER_FAULTS:
        return None
    attempt_of = job_name if "chunk" not in plan else f"{job_name}-chunk-{chunk}"
    counter = plan_path.with_name(f"{video_id}-{attempt_of}.attempts")
    attempts = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(attempts + 1))
    return fault if attempts < int(plan.get("attempts", 1)) else None


def main() -> int:
    job = json.loads(os.environ.get("STREAMFORGE_JOB", "{}"))
    plan_path = Path(os.environ.get("STREAMFORGE_FAULT_PLAN", "/nonexistent"))
    command = [sys.executable, "-m", "transcoder"]
    name = job.get("rendition", {}).get("name", "")
    chunk = (job.get("chunk") or {}).get("index")
    fault = plan_path.exists() and _planned_fault(plan_path, job.get("video_id", ""), name, chunk)
    if not fault:
        os.execv(sys.executable, command)  # becomes the real transcoder
    if fault == "slow":  # a rung much slower than the rest: it starts SLOW_SECONDS late
        time.sleep(SLOW_SECONDS)
        os.execv(sys.executable, command)
    if fault == "media":
        rendition = {**job["rendition"], "width": job["rendition"]["width"] | 1}
        os.environ["STREAMFORGE_JOB"] = json.dumps({**job, "rendition": rendition})
        os.execv(sys.executable, command)
    if fault == "hang":
        print(f"fault injection: the {name} transcoder hangs", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)
    process = subprocess.Popen(command)
    time.sleep(CRASH_AFTER_SECONDS)
    process.send_signal(signal.SIGKILL)
    process.wait()
    print(f"fault injection: killed the {name} transcoder mid-job", file=sys.stderr)
    return 137


if __name__ == "__main__":
    sys.exit(main())
