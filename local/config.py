"""Names and settings of the offline stack: one place, mirrored from what cdk/ deploys."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from lambdas.core.settings import JobStrategy

REPO_ROOT = Path(__file__).resolve().parent.parent
ASL_PATH = REPO_ROOT / "stepfunctions" / "pipeline.asl.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# Every principal offline signs with these; the S3 front checks presigned URLs against them.
ACCESS_KEY_ID = "local"
SECRET_ACCESS_KEY = "local"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Names:
    uploads_bucket: str = "streamforge-uploads"
    media_bucket: str = "streamforge-media"
    table: str = "streamforge-videos"
    dead_letter_queue: str = "streamforge-failed-videos"
    upload_events_queue: str = "streamforge-upload-events"
    upload_rule: str = "streamforge-source-uploaded"
    cluster: str = "streamforge"
    task_family: str = "streamforge-transcoder"
    container: str = "transcoder"
    state_machine: str = "streamforge-pipeline"
    api_function: str = "streamforge-api"
    probe_function: str = "streamforge-probe"
    finalise_function: str = "streamforge-finalise"
    record_failure_function: str = "streamforge-record-failure"
    idempotency_table: str = "streamforge-idempotency"
    # On AWS integrators add their own rules; offline one rule keeps every event in a queue.
    video_events_rule: str = "streamforge-video-events"
    video_events_queue: str = "streamforge-video-events"
    cdn_private_key_secret: str = "streamforge/cdn-private-key"


@dataclass(frozen=True)
class OfflineConfig:
    state_dir: Path = REPO_ROOT / ".local-state"
    host: str = "127.0.0.1"
    moto_port: int = 0  # 0: pick a free port
    api_port: int = 0
    cdn_port: int = 0
    s3_port: int = 0  # the S3 front before moto: every S3 request and presigned URL goes here
    cdn_key_pair_id: str = "KLOCALSTREAMFORGE"
    names: Names = field(default_factory=Names)
    x264_preset: str = "veryfast"
    max_parallel_jobs: int = 2  # one machine: two FFmpeg processes keep two cores busy
    api_concurrency: int = 8  # API instances (worker processes) at most; more requests queue
    job_strategy: JobStrategy = "per_rung"  # the probe's JOB_STRATEGY
    chunk_seconds: int = 120  # the probe's CHUNK_SECONDS: 0 turns chunking off
    av1_ladder: bool = False  # the probe's AV1_LADDER
    loudness_target_lufs: float | None = -16.0  # the probe's LOUDNESS_TARGET_LUFS; None: off
    job_timeout_min_seconds: int = 600
    # The capacity RunTask asks for (a task record shows it); the Spot fallback's last attempt
    # after repeated interruptions asks for on-demand FARGATE.
    fargate_spot: bool = False
    spot_fallback: bool = False
    # Faults the ECS hook injects at random (local/tasks.py): interrupted tasks, refused RunTasks
    interrupt_rate: float = 0.0
    refuse_rate: float = 0.0
    fault_seed: int = 0
    # The transcoder container's command; tests swap in a fault-injecting wrapper.
    transcoder_entrypoint: tuple[str, ...] = ("python", "-m", "transcoder")
