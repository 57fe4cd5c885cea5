"""Redrive-style reprocess: the jobs of a plan whose results an earlier run left.

The transcoder stores each result with the fingerprint of the job that made it
(`job-sha256` metadata, transcoder/runner.py). A planned job is kept when every result it
writes (one per rendition of a group) exists with that job's fingerprint: the same
renditions, chunk, encoder settings and pinned source version. Anything else runs again."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from lambdas.pipeline.contract import TranscodeJob, result_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FINGERPRINT_METADATA = "job-sha256"


def fingerprint(job: TranscodeJob) -> str:
    canonical = json.dumps(job.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def kept_jobs(
    s3: S3Client, bucket: str, video_id: str, jobs: list[TranscodeJob]
) -> list[TranscodeJob]:
    """The planned jobs whose results exist and were made by exactly that job."""
    listed = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{video_id}/jobs/")
    present = {item["Key"] for page in listed for item in page.get("Contents", [])}
    if not present:  # a first run: nothing to read
        return []
    return [job for job in jobs if _made_by(s3, bucket, job, present)]


def _made_by(s3: S3Client, bucket: str, job: TranscodeJob, present: set[str]) -> bool:
    keys = [result_key(member.video_id, member.name, member.chunk) for member in job.members()]
    if not all(key in present for key in keys):
        return False
    expected = fingerprint(job)
    return all(
        s3.head_object(Bucket=bucket, Key=key)["Metadata"].get(FINGERPRINT_METADATA) == expected
        for key in keys
    )
