"""The ladder the pipeline would plan for a local file: the probe's own functions and
planner (`plan_jobs` -> `plan_ladder`), called here on the same source and settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lambdas.core.settings import JobStrategy, Settings
from lambdas.pipeline.probe import (
    ProbeRequest,
    UploadedObject,
    ffprobe_command,
    plan_jobs,
    run_ffprobe,
)
from lambdas.pipeline.source import SourceInfo, parse_ffprobe
from transcoder.contract import TranscodeJob

LADDER_KINDS = ("video", "audio")  # HLS renditions; other jobs (thumbnails) are not the ladder
FFPROBE_TIMEOUT_SECONDS = 60


def probe_file(path: Path) -> tuple[SourceInfo, dict[str, Any]]:
    report = run_ffprobe(ffprobe_command("ffprobe", str(path)), FFPROBE_TIMEOUT_SECONDS)
    return parse_ffprobe(report, size_bytes=path.stat().st_size), report


def plan_file(
    info: SourceInfo, preset: str, job_strategy: JobStrategy = "per_rung"
) -> list[TranscodeJob]:
    """Every job the probe plans, as the transcoder receives it. The settings not given
    here come from the environment, as the probe's do (the offline stack sets them)."""
    settings = Settings.from_environment(
        {
            **os.environ,
            "VIDEOS_TABLE_NAME": "bench",
            "UPLOADS_BUCKET": "bench",
            "MEDIA_BUCKET": "bench",
            "X264_PRESET": preset,
            "JOB_STRATEGY": job_strategy,
        }
    )
    request = ProbeRequest(
        video_id="bench",
        source_key="bench/source",
        source_object=UploadedObject(version_id="planned"),  # run_one_job pins the real one
    )
    plan = plan_jobs(request, info, settings)
    return [TranscodeJob.model_validate(job.model_dump(mode="json")) for job in plan.jobs]


def ladder(jobs: list[TranscodeJob]) -> list[TranscodeJob]:
    return [job for job in jobs if job.rendition.kind in LADDER_KINDS]


def same_renditions(planned: list[TranscodeJob], executed: list[TranscodeJob]) -> bool:
    def renditions(jobs: list[TranscodeJob]) -> list[dict[str, Any]]:
        return [m.rendition.model_dump() for job in ladder(jobs) for m in job.members()]

    return renditions(planned) == renditions(executed)
