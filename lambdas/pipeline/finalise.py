"""Finalise: check every job's result, publish the master playlist, mark COMPLETED."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from lambdas.core import videos
from lambdas.core.models import RenditionAttribute, VideoRecord
from lambdas.core.settings import Settings
from lambdas.pipeline.contract import JobResult, TranscodeJob, result_key
from lambdas.pipeline.master_playlist import build_master_playlist
from lambdas.pipeline.source import SourceInfo

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"


class ResultMissing(Exception):
    """A job reported success but left no valid result: the pipeline must not publish."""


class TaskRef(BaseModel):
    task_arn: str | None = None


class TranscodedItem(BaseModel):
    job: TranscodeJob
    task: TaskRef | None = None


class FinaliseRequest(BaseModel):
    video_id: str
    source: SourceInfo
    transcoded: list[TranscodedItem]


def master_key_for(video_id: str) -> str:
    return f"{video_id}/hls/master.m3u8"


def load_result(s3: S3Client, bucket: str, video_id: str, job_name: str) -> JobResult:
    key = result_key(video_id, job_name)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return JobResult.model_validate_json(body)
    except (s3.exceptions.NoSuchKey, ValidationError) as error:
        raise ResultMissing(f"job {job_name}: no valid result at {key}") from error


def finalise(s3: S3Client, settings: Settings, request: FinaliseRequest) -> VideoRecord:
    bucket = settings.media_bucket
    results = [load_result(s3, bucket, request.video_id, i.job.name) for i in request.transcoded]
    master_key = master_key_for(request.video_id)
    s3.put_object(
        Bucket=bucket,
        Key=master_key,
        Body=build_master_playlist(results, master_key).encode(),
        ContentType=PLAYLIST_CONTENT_TYPE,
        CacheControl="max-age=60",
    )
    task_arns = {i.job.name: (i.task.task_arn if i.task else None) for i in request.transcoded}
    renditions = [_rendition(result, task_arns.get(result.name)) for result in results]
    return videos.mark_completed(
        request.video_id, renditions=renditions, master_playlist_key=master_key
    )


def _rendition(result: JobResult, task_arn: str | None) -> RenditionAttribute:
    return RenditionAttribute(
        name=result.name,
        kind=result.kind,
        playlist_key=result.playlist_key,
        codecs=result.codecs,
        width=result.width,
        height=result.height,
        frame_rate=result.frame_rate,
        average_bitrate_bps=result.average_bitrate_bps,
        peak_bitrate_bps=result.peak_bitrate_bps,
        segment_count=len(result.segment_keys),
        output_bytes=result.output_bytes,
        task_arn=task_arn,
    )
