"""The steps of a video's life that touch more than its record: deleting it everywhere, and
processing a failed video again."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from lambdas.core import processing_log, uploads, videos
from lambdas.core.errors import ServiceUnavailable, SourceGone
from lambdas.core.models import VideoRecord
from lambdas.core.status import VideoStatus

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef
    from mypy_boto3_stepfunctions import SFNClient


@dataclass(frozen=True)
class Buckets:
    uploads: str
    media: str


def delete_video(
    s3: S3Client, buckets: Buckets, record: VideoRecord, *, tombstone_days: int
) -> None:
    """Marks the video DELETED first (so no pipeline step will claim or publish it any more),
    then removes its source, its media and its processing log. Running it again finishes
    whatever a previous attempt left."""
    upload_id = record.upload_id
    videos.mark_deleted(record, tombstone_days=tombstone_days)
    if upload_id:
        uploads.abort_quietly(s3, buckets.uploads, record.source_key, upload_id)
    prefix = f"{record.video_id}/"
    delete_prefix(s3, buckets.uploads, prefix)
    delete_prefix(s3, buckets.media, prefix)
    processing_log.delete_entries(record.video_id)


def delete_prefix(s3: S3Client, bucket: str, prefix: str) -> int:
    removed = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(keys)
    return removed


def start_event(bucket: str, key: str, version_id: str | None) -> dict[str, object]:
    """The input the state machine expects: the shape of S3's 'Object Created' event. The
    version is the source as stored now, which this run's probe checks and its jobs read
    (the pipeline pins the version its event names); S3 names none when the bucket is not
    versioned, and the probe then refuses the run, as it would S3's own event."""
    s3_object = {"key": key} | ({"version-id": version_id} if version_id else {})
    return {
        "source": "streamforge.api",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": s3_object},
    }


def execution_name(video_id: str) -> str:
    """Unique per attempt (Step Functions refuses a name it has seen for 90 days)."""
    return f"{video_id[:50]}-reprocess-{uuid.uuid4().hex[:12]}"


def reprocess_video(
    s3: S3Client,
    sfn: SFNClient,
    *,
    uploads_bucket: str,
    state_machine_arn: str,
    record: VideoRecord,
) -> str:
    """FAILED -> UPLOADED, then a new execution that claims it. Returns the execution ARN."""
    videos.require_status(record, VideoStatus.FAILED, "only a FAILED video can be reprocessed")
    stored = uploads.stored_source(s3, uploads_bucket, record)
    if stored is None:
        raise SourceGone(
            f"the source of video {record.video_id} is gone; create a new video and upload again"
        )
    error_code, error_message = record.error_code or "", record.error_message or ""
    videos.reset_for_reprocessing(record)
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=execution_name(record.video_id),
            input=json.dumps(
                start_event(uploads_bucket, record.source_key, stored.get("VersionId"))
            ),
        )
    except ClientError as error:
        videos.restore_failure(record, error_code=error_code, error_message=error_message)
        raise ServiceUnavailable(
            "the processing pipeline could not be started; try again in a minute"
        ) from error
    return started["executionArn"]
