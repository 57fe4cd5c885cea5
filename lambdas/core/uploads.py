"""Uploads of a video's source straight to S3: one presigned PUT, or a multipart upload whose
parts the client sends itself (resumable; the shapes fit Uppy's @uppy/aws-s3).

The multipart upload's id lives on the video record; clients never choose a key or an
upload id of their own, they only name the video.

What S3 will accept is fixed when a URL is signed: the single PUT signs Content-Length (the
declared size), Content-Type, `If-None-Match: *` (no overwrite once the source exists) and the
pending tag; each part signs the Content-Length its place in the plan gives it, and only parts
1..partCount can be signed. `complete` then checks the stored size, removes the pending tag
(the uploads bucket's lifecycle expires sources still carrying it), and marks the video
UPLOADED.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from lambdas.core import videos
from lambdas.core.errors import (
    FieldError,
    InvalidVideoState,
    NoMultipartUpload,
    UploadAlreadyCompleted,
    UploadNotFinished,
    UploadSizeMismatch,
    UploadTooLarge,
)
from lambdas.core.models import VideoRecord
from lambdas.core.settings import (
    MIB,
    S3_MAX_PART_BYTES,
    S3_MAX_PARTS,
    S3_MAX_SINGLE_PUT_BYTES,
)
from lambdas.core.status import VideoStatus

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        HeadObjectOutputTypeDef,
        ObjectIdentifierTypeDef,
    )

# S3's answers to a CompleteMultipartUpload whose part list does not fit what was uploaded
_BAD_PART_LIST = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}
# Every source is written with this tag and loses it when `complete` has checked it; the
# uploads bucket expires tagged sources (cdk/constants.py names the same tag).
PENDING_TAG_KEY, PENDING_TAG_VALUE = "upload", "pending"
PENDING_TAGGING = f"{PENDING_TAG_KEY}={PENDING_TAG_VALUE}"
_MISSING_PARTS_SHOWN = 10


@dataclass(frozen=True)
class UploadPolicy:
    """Where sources go and how they are cut (from the API's settings)."""

    bucket: str
    url_ttl_seconds: int
    multipart_threshold_bytes: int
    multipart_part_bytes: int


@dataclass(frozen=True)
class SinglePut:
    url: str
    headers: dict[str, str]
    expires_in_seconds: int


@dataclass(frozen=True)
class MultipartPlan:
    upload_id: str
    key: str
    part_size_bytes: int
    part_count: int
    expires_in_seconds: int  # of each signed part URL


@dataclass(frozen=True)
class SignedPart:
    url: str
    expires_in_seconds: int


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    size: int
    etag: str


@dataclass(frozen=True)
class PartToComplete:
    part_number: int
    etag: str


def wants_multipart(size_bytes: int, requested: bool | None, policy: UploadPolicy) -> bool:
    """The client may insist either way (Uppy decides by size itself); otherwise, by size."""
    if requested is False and size_bytes > S3_MAX_SINGLE_PUT_BYTES:
        raise FieldError(
            "multipart", f"a single PUT carries at most {S3_MAX_SINGLE_PUT_BYTES} bytes"
        )
    if requested is not None:
        return requested
    return size_bytes > policy.multipart_threshold_bytes


def part_size_for(size_bytes: int, preferred_bytes: int) -> int:
    """The preferred size, or larger (in whole MiB) when 10,000 parts would not hold it."""
    needed = math.ceil(size_bytes / S3_MAX_PARTS)
    size = max(preferred_bytes, math.ceil(needed / MIB) * MIB)
    return min(size, S3_MAX_PART_BYTES)


def part_count_for(size_bytes: int, part_size_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / part_size_bytes))


def planned_part_bytes(size_bytes: int, part_size_bytes: int, part_number: int) -> int:
    """The exact size of one part of the plan: `part_size_bytes`, the last one the rest.
    A number outside 1..part count is refused: no URL is ever signed for it."""
    count = part_count_for(size_bytes, part_size_bytes)
    if not 1 <= part_number <= count:
        raise FieldError(
            "part_number",
            f"part {part_number} is outside this upload's plan: it has parts 1 to {count}",
        )
    if part_number < count:
        return part_size_bytes
    return size_bytes - (count - 1) * part_size_bytes


def check_part_list(part_count: int, part_numbers: list[int]) -> None:
    """Only every planned part, each once, assembles the declared size: refuse any other
    list before S3 assembles it (the parts stay, so the client can send what is missing)."""
    if len(set(part_numbers)) != len(part_numbers):
        raise FieldError("parts", "each PartNumber may appear once")
    listed = set(part_numbers)
    beyond = sorted(n for n in listed if not 1 <= n <= part_count)
    if beyond:
        raise FieldError(
            "parts", f"this upload has parts 1 to {part_count}; not in it: {_numbers(beyond)}"
        )
    missing = [n for n in range(1, part_count + 1) if n not in listed]
    if missing:
        raise FieldError(
            "parts",
            f"missing parts {_numbers(missing)}: upload them, then complete again "
            f"listing all {part_count} parts",
        )


def _numbers(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_MISSING_PARTS_SHOWN])
    more = len(numbers) - _MISSING_PARTS_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def presign_put(s3: S3Client, policy: UploadPolicy, record: VideoRecord) -> SinglePut:
    """Every header below is signed, so S3 refuses a body of another size or type, and a
    second PUT once the source exists (412). Content-Length is the client's own to set
    (browsers refuse it from scripts); the others it must send as given."""
    url = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": policy.bucket,
            "Key": record.source_key,
            "ContentType": record.content_type,
            "ContentLength": int(record.size_bytes),
            "IfNoneMatch": "*",
            "Tagging": PENDING_TAGGING,
        },
        ExpiresIn=policy.url_ttl_seconds,
    )
    return SinglePut(
        url=url,
        headers={
            "Content-Type": record.content_type,
            "If-None-Match": "*",
            "x-amz-tagging": PENDING_TAGGING,
        },
        expires_in_seconds=policy.url_ttl_seconds,
    )


def create_multipart_upload(s3: S3Client, policy: UploadPolicy, key: str, content_type: str) -> str:
    return s3.create_multipart_upload(
        Bucket=policy.bucket, Key=key, ContentType=content_type, Tagging=PENDING_TAGGING
    )["UploadId"]


def multipart_plan(policy: UploadPolicy, record: VideoRecord, upload_id: str) -> MultipartPlan:
    size = int(record.size_bytes)
    part_size = part_size_for(size, policy.multipart_part_bytes)
    return MultipartPlan(
        upload_id=upload_id,
        key=record.source_key,
        part_size_bytes=part_size,
        part_count=part_count_for(size, part_size),
        expires_in_seconds=policy.url_ttl_seconds,
    )


def begin_upload(
    s3: S3Client,
    policy: UploadPolicy,
    new: videos.NewVideo,
    *,
    multipart: bool | None,
    max_upload_bytes: int,
) -> tuple[VideoRecord, SinglePut | MultipartPlan]:
    """A new video waiting for its source, and how to upload it."""
    if new.size_bytes > max_upload_bytes:
        raise UploadTooLarge(new.size_bytes, max_upload_bytes)
    if not wants_multipart(new.size_bytes, multipart, policy):
        record = videos.create_video(new)
        return record, presign_put(s3, policy, record)
    video_id = videos.new_video_id()
    key = videos.source_key_for(video_id)
    upload_id = create_multipart_upload(s3, policy, key, new.content_type)
    # Should the record not be written, the bucket's lifecycle rule aborts the upload.
    record = videos.create_video(new, video_id=video_id, upload_id=upload_id)
    return record, multipart_plan(policy, record, upload_id)


def restart_upload(
    s3: S3Client, policy: UploadPolicy, record: VideoRecord, multipart: bool | None
) -> SinglePut | MultipartPlan:
    """Fresh instructions for a video still waiting for its source: a new presigned PUT (the
    first may have expired), or the multipart upload in progress (to resume it), or a new one."""
    _require_waiting_for_source(record)
    if record.upload_id:
        if multipart is False:
            raise InvalidVideoState(
                "a multipart upload is in progress: abort it first to switch to a single PUT"
            )
        return multipart_plan(policy, record, record.upload_id)
    if not wants_multipart(int(record.size_bytes), multipart, policy):
        return presign_put(s3, policy, record)
    upload_id = create_multipart_upload(s3, policy, record.source_key, record.content_type)
    try:
        videos.set_upload_id(record, upload_id)
    except InvalidVideoState:
        s3.abort_multipart_upload(Bucket=policy.bucket, Key=record.source_key, UploadId=upload_id)
        raise
    return multipart_plan(policy, record, upload_id)


def sign_part(
    s3: S3Client,
    policy: UploadPolicy,
    record: VideoRecord,
    part_number: int,
    upload_id: str | None = None,
) -> SignedPart:
    active = _active_upload(record, upload_id)
    plan = multipart_plan(policy, record, active)
    url = s3.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": policy.bucket,
            "Key": record.source_key,
            "UploadId": active,
            "PartNumber": part_number,
            # signed: S3 refuses a part of any other size
            "ContentLength": planned_part_bytes(
                int(record.size_bytes), plan.part_size_bytes, part_number
            ),
        },
        ExpiresIn=policy.url_ttl_seconds,
    )
    return SignedPart(url=url, expires_in_seconds=policy.url_ttl_seconds)


def list_parts(
    s3: S3Client, policy: UploadPolicy, record: VideoRecord, upload_id: str | None = None
) -> list[UploadedPart]:
    """Every part S3 holds so far, in order: what a client needs to resume after a crash."""
    active = _active_upload(record, upload_id)
    parts: list[UploadedPart] = []
    marker = 0
    while True:
        try:
            page = s3.list_parts(
                Bucket=policy.bucket,
                Key=record.source_key,
                UploadId=active,
                PartNumberMarker=marker,
                MaxParts=1000,
            )
        except ClientError as error:
            raise _multipart_error(error, record) from error
        parts += [
            UploadedPart(part_number=p["PartNumber"], size=p["Size"], etag=p["ETag"])
            for p in page.get("Parts", [])
        ]
        if not page.get("IsTruncated"):
            return parts
        marker = int(page["NextPartNumberMarker"])


def complete_upload(
    s3: S3Client,
    policy: UploadPolicy,
    record: VideoRecord,
    parts: list[PartToComplete] | None,
    upload_id: str | None = None,
) -> VideoRecord:
    """Assembles a multipart upload (or checks a single PUT landed), checks the stored size
    against the declared one, and marks the video UPLOADED.

    A source of another size is deleted (every version) and the video ends FAILED with
    UPLOAD_SIZE_MISMATCH: its object event may already have started the pipeline, so it
    cannot honestly go back to waiting for a source."""
    if record.uploaded_at:
        raise UploadAlreadyCompleted(f"the upload of video {record.video_id} is already complete")
    if record.upload_id or upload_id:
        active = _active_upload(record, upload_id)
        if not parts:
            raise FieldError("parts", "list every uploaded part to complete a multipart upload")
        plan = multipart_plan(policy, record, active)
        check_part_list(plan.part_count, [p.part_number for p in parts])
        _complete_multipart(s3, policy, record, active, parts)
    stored = stored_source(s3, policy.bucket, record)
    if stored is None:
        raise UploadNotFinished(
            f"video {record.video_id} has no source yet: PUT it to the upload URL first"
        )
    if stored["ContentLength"] != int(record.size_bytes):
        _reject_source(s3, policy.bucket, record, stored["ContentLength"])
    s3.delete_object_tagging(Bucket=policy.bucket, Key=record.source_key)  # keep it: checked
    return videos.mark_uploaded(record)


def abort_upload(
    s3: S3Client, policy: UploadPolicy, record: VideoRecord, upload_id: str | None = None
) -> None:
    """Aborts the multipart upload in progress (its parts are dropped); the video keeps
    waiting for a source, and POST .../upload starts again. Aborting twice is fine."""
    _require_waiting_for_source(record)
    if record.upload_id is None:
        return
    if upload_id is not None and upload_id != record.upload_id:
        return  # that upload is no longer the video's: nothing of it to abort
    abort_quietly(s3, policy.bucket, record.source_key, record.upload_id)
    videos.clear_upload_id(record, record.upload_id)


def abort_quietly(s3: S3Client, bucket: str, key: str, upload_id: str) -> None:
    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError as error:
        if _error_code(error) != "NoSuchUpload":
            raise


def stored_source(s3: S3Client, bucket: str, record: VideoRecord) -> HeadObjectOutputTypeDef | None:
    """The stored source's metadata (its VersionId is what a reprocess pins); None when gone."""
    try:
        return s3.head_object(Bucket=bucket, Key=record.source_key)
    except ClientError as error:
        if _error_code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise


# --- helpers ----------------------------------------------------------------------------


def _require_waiting_for_source(record: VideoRecord) -> None:
    if record.uploaded_at:
        raise UploadAlreadyCompleted(f"the upload of video {record.video_id} is already complete")
    if record.status != VideoStatus.PENDING_UPLOAD:
        raise InvalidVideoState(
            f"video {record.video_id} is {record.status}: its source is already uploaded"
        )


def _active_upload(record: VideoRecord, upload_id: str | None) -> str:
    _require_waiting_for_source(record)
    if record.upload_id is None:
        raise NoMultipartUpload(
            f"video {record.video_id} has no multipart upload in progress; "
            "POST /videos/{id}/upload with multipart=true starts one"
        )
    if upload_id is not None and upload_id != record.upload_id:
        raise NoMultipartUpload(
            f"upload {upload_id} is no longer in progress for video {record.video_id}"
        )
    return record.upload_id


def _complete_multipart(
    s3: S3Client,
    policy: UploadPolicy,
    record: VideoRecord,
    upload_id: str,
    parts: list[PartToComplete],
) -> None:
    ordered: list[CompletedPartTypeDef] = [
        {"PartNumber": p.part_number, "ETag": p.etag}
        for p in sorted(parts, key=lambda p: p.part_number)
    ]
    try:
        s3.complete_multipart_upload(
            Bucket=policy.bucket,
            Key=record.source_key,
            UploadId=upload_id,
            MultipartUpload={"Parts": ordered},
            IfNoneMatch="*",  # never replace a source that is already there
        )
    except ClientError as error:
        if _error_code(error) == "PreconditionFailed":
            return  # a source is already stored: the size check decides about it
        raise _multipart_error(error, record) from error


def _reject_source(s3: S3Client, bucket: str, record: VideoRecord, stored: int) -> None:
    error = UploadSizeMismatch(record.video_id, declared=int(record.size_bytes), stored=stored)
    delete_every_version(s3, bucket, record.source_key)
    # Even if the pipeline already failed the video on those bytes, the size is the cause a
    # person can act on, and the source is gone: the record says so.
    videos.mark_failed(
        record.video_id, error_code=error.code, error_message=str(error), over_failure=True
    )
    raise error


def delete_every_version(s3: S3Client, bucket: str, key: str) -> None:
    """The bucket is versioned: deleting only the key would leave the bytes as a noncurrent
    version behind a delete marker."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key)
    for page in pages:
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        objects: list[ObjectIdentifierTypeDef] = [
            {"Key": key, "VersionId": entry["VersionId"]}
            for entry in entries
            if entry.get("Key") == key and "VersionId" in entry
        ]
        if objects:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if answer.get("Errors"):
                raise RuntimeError(f"could not delete every version of {key}: {answer['Errors']}")


def _multipart_error(error: ClientError, record: VideoRecord) -> Exception:
    code = _error_code(error)
    if code == "NoSuchUpload":
        return NoMultipartUpload(
            f"the multipart upload of video {record.video_id} was aborted or has expired; "
            "POST /videos/{id}/upload starts a new one"
        )
    if code in _BAD_PART_LIST:
        message = error.response.get("Error", {}).get("Message") or code
        return FieldError("parts", f"{message} ({code})")
    return error


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
