"""RecordFailure: turn a Step Functions error into a code and a message a person can act on,
mark the video FAILED and remove its unpublished outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from lambdas.core import videos
from lambdas.pipeline.contract import JOB_ENV_VAR, ChunkSpec, result_key
from lambdas.pipeline.errors import REJECTIONS

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


class StepError(BaseModel):
    error: str = Field(default="Unknown", alias="Error")
    cause: str = Field(default="", alias="Cause")


class FailureRequest(BaseModel):
    video_id: str
    error: StepError
    execution_arn: str = ""


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


# The transcoder's exit codes that the workflow tells apart (transcoder/__main__.py).
EXIT_MEDIA = 3  # FFmpeg refused the input
EXIT_TERMINATED = 143  # SIGTERM: a Spot reclaim or a task stopped from outside
INTERRUPTION_STOP_CODES = ("SpotInterruption", "TerminationNotice")
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys


def describe_failure(error: StepError, execution_arn: str = "", ffmpeg_reason: str = "") -> Failure:
    cause = _json_or_none(error.cause)
    if error.error in REJECTIONS:
        message = cause.get("errorMessage") if isinstance(cause, dict) else None
        return Failure(REJECTIONS[error.error].code, str(message or error.cause))
    if isinstance(cause, dict) and "Containers" in cause:
        return _task_failure(error.error, cause, ffmpeg_reason)
    if error.error == "States.Timeout":
        return Failure(
            "TIMEOUT",
            "A processing step ran past its time limit and was stopped. The file may be very "
            "long or damaged; reprocess it, or re-export it and upload again.",
        )
    where = f" (execution {execution_arn})" if execution_arn else ""
    return Failure(
        "INTERNAL_ERROR",
        f"Processing stopped at an internal step: {error.error}. Reprocess the video; if it "
        f"fails again, report it with this reference{where}.",
    )


def _task_failure(error_name: str, task: dict[str, Any], ffmpeg_reason: str = "") -> Failure:
    container = (task.get("Containers") or [{}])[0]
    exit_code = container.get("ExitCode")
    job = _failed_job(task)
    names = _rendition_names(job)
    if len(names) > 1:
        what = f"the {', '.join(names[:-1])} and {names[-1]} renditions (one task)"
    else:
        what = f"the {names[0] if names else 'a'} rendition"
    what += _time_range(job)
    reason = task.get("StoppedReason") or container.get("Reason") or ""
    if error_name == "States.Timeout":
        return Failure(
            "TRANSCODE_TIMEOUT",
            f"Transcoding {what} ran past its time limit and was stopped, "
            "on every attempt. Reprocess the video; if it fails again, re-export it and upload.",
        )
    if exit_code == EXIT_MEDIA:
        return Failure(
            "TRANSCODE_FAILED",
            f"FFmpeg could not encode {what} from this file, twice: "
            f"{ffmpeg_reason or 'its reason was not recorded'}. The source may be damaged or "
            "use an unsupported codec: re-export it and upload again.",
        )
    if is_interruption(task):
        return Failure(
            "TRANSCODE_INTERRUPTED",
            f"Transcoding {what} was interrupted on every attempt "
            f"({task.get('StopCode') or f'exit code {exit_code}'}): the capacity it ran on was "
            "reclaimed. Nothing is wrong with the file; reprocess the video.",
        )
    detail = f"exit code {exit_code}" if exit_code is not None else "no exit code"
    if reason:
        detail += f", {reason}"
    return Failure(
        "TRANSCODE_FAILED",
        f"Transcoding {what} failed on every attempt ({detail}). The source "
        f"may be damaged or use an unsupported codec: re-export it and upload again. The "
        f"transcoder's log for task {task.get('TaskArn', '?')} has FFmpeg's message.",
    )


def is_interruption(task: dict[str, Any]) -> bool:
    """The workflow's own test (ClassifyTaskFailure): a reclaim, or the transcoder's SIGTERM."""
    container = (task.get("Containers") or [{}])[0]
    return (
        task.get("StopCode") in INTERRUPTION_STOP_CODES
        or container.get("ExitCode") == EXIT_TERMINATED
    )


def ffmpeg_reason_key(task: dict[str, Any]) -> str | None:
    """Where the transcoder left FFmpeg's reason for a job it refused (runner.failure_key)."""
    job = _failed_job(task)
    names = _rendition_names(job)
    if not names or not job.get("video_id"):
        return None
    try:
        chunk = ChunkSpec.model_validate(job["chunk"]) if job.get("chunk") else None
    except ValueError:
        return None
    key = result_key(str(job["video_id"]), "+".join(names), chunk)
    return key.removesuffix(".json") + ".failed.json"


def _failed_job(task: dict[str, Any]) -> dict[str, Any]:
    """The failed task's job, as the state machine handed it over (empty if absent)."""
    overrides = task.get("Overrides", {}).get("ContainerOverrides", [])
    for override in overrides:
        for variable in override.get("Environment", []):
            if variable.get("Name") == JOB_ENV_VAR:
                job = _json_or_none(variable.get("Value", ""))
                if isinstance(job, dict):
                    return job
    return {}


def _rendition_names(job: dict[str, Any]) -> list[str]:
    """The failed job's rendition names: one, or a grouped job's all."""
    renditions = [job.get("rendition"), *(job.get("group") or [])]
    names = [str(r.get("name") or "") for r in renditions if isinstance(r, dict)]
    return [name for name in names if name]


def _time_range(job: dict[str, Any]) -> str:
    """ " from 2:00 to 4:00" for a chunked job: which part of the video failed."""
    chunk = job.get("chunk")
    if not isinstance(chunk, dict):
        return ""
    try:
        start = float(chunk["start_seconds"])
        end = start + float(chunk["duration_seconds"])
    except (KeyError, TypeError, ValueError):
        return ""
    return f" from {_clock(start)} to {_clock(end)}"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def remove_unpublished_outputs(s3: S3Client, bucket: str, video_id: str) -> int:
    """Deletes what no finished job accounts for under the video's media prefix (nothing
    there was published). A finished job's result and the media it names stay, so that a
    reprocess keeps them (lambdas/pipeline/kept.py); the rest is partial or a failure note."""
    paginator = s3.get_paginator("list_objects_v2")
    listed = [
        item["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{video_id}/")
        for item in page.get("Contents", [])
    ]
    keep = _finished_outputs(s3, bucket, video_id, listed)
    doomed = [key for key in listed if key not in keep]
    for start in range(0, len(doomed), DELETE_BATCH):
        keys: list[ObjectIdentifierTypeDef] = [
            {"Key": key} for key in doomed[start : start + DELETE_BATCH]
        ]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    return len(doomed)


def _finished_outputs(s3: S3Client, bucket: str, video_id: str, keys: list[str]) -> set[str]:
    """Every result under {id}/jobs/ and each media key it names."""
    results = [
        key
        for key in keys
        if key.startswith(f"{video_id}/jobs/")
        and key.endswith(".json")
        and not key.endswith(".failed.json")
    ]
    keep = set(results)
    for key in results:
        body = _json_or_none(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
        if isinstance(body, dict):
            keep |= {v for v in _strings(body) if v.startswith(f"{video_id}/")}
    return keep


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for each in value.values() for s in _strings(each)]
    if isinstance(value, list):
        return [s for each in value for s in _strings(each)]
    return []


def read_ffmpeg_reason(s3: S3Client, bucket: str, error: StepError) -> str:
    """FFmpeg's last error line, when a transcoder task exited because FFmpeg refused it."""
    task = _json_or_none(error.cause)
    if not isinstance(task, dict) or "Containers" not in task:
        return ""
    container = (task.get("Containers") or [{}])[0]
    key = ffmpeg_reason_key(task) if container.get("ExitCode") == EXIT_MEDIA else None
    if key is None:
        return ""
    try:
        note = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (s3.exceptions.NoSuchKey, ValueError):
        return ""
    return str(note.get("reason", ""))


def record_failure(s3: S3Client, media_bucket: str, request: FailureRequest) -> Failure:
    reason = read_ffmpeg_reason(s3, media_bucket, request.error)
    failure = describe_failure(request.error, request.execution_arn, reason)
    marked = videos.mark_failed(
        request.video_id, error_code=failure.code, error_message=failure.message
    )
    if marked is not None:  # never touch the media of a video that finished meanwhile
        remove_unpublished_outputs(s3, media_bucket, request.video_id)
    return failure
