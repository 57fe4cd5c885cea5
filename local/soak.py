"""The soak: many small videos through the offline stack at once, with ECS faults at random.

One stack runs two phases on the same generated clips: first with no faults (the CPU
baseline), then with the launcher's TaskFaults interrupting tasks and refusing RunTasks at
the given rates (local/tasks.py). Every clip is uploaded through the API, each by a user of
its own (the per-user limit on active videos would refuse the rest), all at once. A video
not COMPLETED or FAILED within the bound counts as stuck.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from local import engine_hooks
from local.client import TERMINAL_STATUSES, ApiClient, ApiError
from local.config import OfflineConfig
from local.smoke import generate_clip
from local.stack import OfflineStack

CLIP_SECONDS = 4
CLIP_SIZE = "640x360"  # a 360p and a 240p rung, audio and thumbnails: four tasks a video
CLIP_VARIANTS = 3  # clips differ in length, so the tasks do not all end at once
API_ATTEMPTS = 4
POLL_SECONDS = 2.0  # thirty videos polled at 2/s would be the API's heaviest load

log = logging.getLogger("streamforge.local.soak")
T = TypeVar("T")


@dataclass(frozen=True)
class SoakOptions:
    videos: int
    interrupt_rate: float
    refuse_rate: float
    seed: int
    bound_seconds: float = 900


@dataclass
class Phase:
    completed: int = 0
    failed: int = 0
    stuck: int = 0
    tasks: int = 0
    interrupted: int = 0
    refused: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


def run_soak(options: SoakOptions, work_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="streamforge-soak-") as tmp:
        root = work_dir or Path(tmp)
        clips = [
            generate_clip(root / f"clip-{n}.mp4", CLIP_SECONDS + n, CLIP_SIZE)
            for n in range(CLIP_VARIANTS)
        ]
        # As `-c fargateSpot=true` deploys it: random interruptions are Spot reclaims, and a
        # job interrupted three times makes its last attempt on on-demand capacity
        config = OfflineConfig(
            state_dir=root / "state", fault_seed=options.seed, fargate_spot=True, spot_fallback=True
        )
        with OfflineStack(config) as stack:
            baseline = _phase(stack, clips, options, "clean")
            faults = engine_hooks.injected_faults()
            faults.interrupt_rate = options.interrupt_rate
            faults.refuse_rate = options.refuse_rate
            faulty = _phase(stack, clips, options, "faults")
    return {
        "videos": options.videos,
        "completed": faulty.completed,
        "failed": faulty.failed,
        "stuck": faulty.stuck,
        "tasks": faulty.tasks,
        "interrupted": faulty.interrupted,
        "refused": faulty.refused,
        "cpu_seconds": round(faulty.cpu_seconds, 1),
        "cpu_seconds_without_faults": round(baseline.cpu_seconds, 1),
        "wall_seconds": round(faulty.wall_seconds, 1),
    }


def _phase(stack: OfflineStack, clips: list[Path], options: SoakOptions, name: str) -> Phase:
    tasks_before = len(engine_hooks.launched_tasks())
    faults = engine_hooks.injected_faults()
    interrupted_before, refused_before = faults.interrupted, faults.refused
    cpu_before = _children_cpu_seconds()
    started = time.monotonic()

    def one(n: int) -> str:
        client = ApiClient(stack.api_url, stack.token(f"soak-{name}-{n}"))
        clip = clips[n % len(clips)]
        try:
            created = _patiently(lambda: client.create_video(clip, f"soak {name} {n}", "video/mp4"))
            video_id: str = created["video"]["id"]
            try:
                client.upload(created["upload"], clip)
            except (requests.RequestException, ApiError):  # the PUT may have landed: complete it
                _patiently(lambda: client.complete_upload(video_id))
            return _outcome(client, video_id, options.bound_seconds)
        except (requests.RequestException, ApiError):
            log.exception("soak video %d of the %s phase could not be uploaded", n, name)
            return "FAILED"

    with ThreadPoolExecutor(max_workers=options.videos) as pool:
        outcomes = list(pool.map(one, range(options.videos)))
    # Every task of the phase reaped, so its CPU counts in this phase; stuck ones are counted
    with contextlib.suppress(TimeoutError):
        stack.wait_for_executions(timeout_seconds=60)
    phase = Phase(
        completed=outcomes.count("COMPLETED"),
        failed=outcomes.count("FAILED"),
        stuck=outcomes.count("STUCK"),
        tasks=len(engine_hooks.launched_tasks()) - tasks_before,
        interrupted=faults.interrupted - interrupted_before,
        refused=faults.refused - refused_before,
        cpu_seconds=_children_cpu_seconds() - cpu_before,
        wall_seconds=time.monotonic() - started,
    )
    return phase


def _patiently(call: Callable[[], T]) -> T:
    """A client's retry of a request that timed out or met a 5xx: 30 videos at once load two
    cores, and the soak measures the pipeline, not the API's latency."""
    for attempt in range(1, API_ATTEMPTS + 1):
        try:
            return call()
        except requests.RequestException:
            if attempt == API_ATTEMPTS:
                raise
        except ApiError as error:
            if error.status < 500 or attempt == API_ATTEMPTS:
                raise
        time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _outcome(client: ApiClient, video_id: str, bound_seconds: float) -> str:
    """The video's terminal status, or STUCK when it has none within the bound."""
    deadline = time.monotonic() + bound_seconds
    while time.monotonic() < deadline:
        status = str(_patiently(lambda: client.get_video(video_id))["status"])
        if status in TERMINAL_STATUSES:
            return status
        time.sleep(POLL_SECONDS)
    return "STUCK"


def _children_cpu_seconds() -> float:
    """User + system CPU of every finished child process: the transcoder tasks and their
    FFmpeg, and the probe's ffprobe runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def passed(summary: dict[str, Any]) -> bool:
    return bool(summary["completed"] == summary["videos"] and summary["stuck"] == 0)
