"""Probe: read the uploaded source in place with ffprobe, and plan the jobs."""

from __future__ import annotations

import json
import math
import subprocess
from typing import TYPE_CHECKING

from pydantic import BaseModel

from lambdas.core.settings import Settings
from lambdas.pipeline.contract import AudioRendition, TranscodeJob
from lambdas.pipeline.errors import NotAVideo, SourceMissing, SourceTooLarge
from lambdas.pipeline.ladder import plan_ladder
from lambdas.pipeline.source import SourceInfo, parse_ffprobe

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PRESIGN_SECONDS = 900


class ProbeRequest(BaseModel):
    video_id: str
    source_key: str


class Plan(BaseModel):
    video_id: str
    source: SourceInfo
    jobs: list[TranscodeJob]
    job_timeout_seconds: int
    max_concurrency: int


def ffprobe_command(binary: str, url: str) -> list[str]:
    return [binary, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", url]


def run_ffprobe(command: list[str], timeout_seconds: int) -> dict[str, object]:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_seconds, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise NotAVideo(
            f"Reading the file took longer than {timeout_seconds} s; it may be damaged or not "
            "a video. Re-export it and upload again."
        ) from error
    if completed.returncode != 0:
        reason = (completed.stderr.strip().splitlines() or ["unreadable"])[-1]
        reason = reason.split(": ", 1)[-1] if "://" in reason else reason
        raise NotAVideo(
            f"The uploaded file is not a video StreamForge can read ({reason}). "
            "Upload a video file such as MP4, MOV, MKV or WebM."
        )
    report: dict[str, object] = json.loads(completed.stdout or "{}")
    return report


def probe_source(s3: S3Client, settings: Settings, request: ProbeRequest) -> SourceInfo:
    bucket = settings.uploads_bucket
    try:
        head = s3.head_object(Bucket=bucket, Key=request.source_key)
    except s3.exceptions.ClientError as error:
        raise SourceMissing("The uploaded file could not be found; upload it again.") from error
    size = int(head["ContentLength"])
    if size > settings.max_upload_bytes:
        raise SourceTooLarge(
            f"The file is {size} bytes, over the limit of {settings.max_upload_bytes} bytes."
        )
    if size == 0:
        raise NotAVideo("The uploaded file is empty. Upload the video again.")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": request.source_key},
        ExpiresIn=PRESIGN_SECONDS,
    )
    report = run_ffprobe(
        ffprobe_command(settings.ffprobe_binary, url), settings.ffprobe_timeout_seconds
    )
    return parse_ffprobe(report, size_bytes=size)


def plan_jobs(request: ProbeRequest, source: SourceInfo, settings: Settings) -> Plan:
    renditions = plan_ladder(
        source, max_short_side=settings.ladder_max_height, preset=settings.x264_preset
    )
    jobs = [
        TranscodeJob(
            video_id=request.video_id,
            source_key=request.source_key,
            output_prefix=f"{request.video_id}/hls/{rendition.name}/",
            rendition=rendition,
        )
        for rendition in renditions
    ]
    if source.has_audio:
        jobs.append(
            TranscodeJob(
                video_id=request.video_id,
                source_key=request.source_key,
                output_prefix=f"{request.video_id}/hls/audio/",
                rendition=AudioRendition(),
            )
        )
    timeout = settings.job_timeout_min_seconds + math.ceil(
        settings.job_timeout_per_source_second * source.duration_seconds
    )
    return Plan(
        video_id=request.video_id,
        source=source,
        jobs=jobs,
        job_timeout_seconds=timeout,
        max_concurrency=settings.max_parallel_jobs,
    )
