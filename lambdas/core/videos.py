"""Video lifecycle: the conditional updates behind every status transition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from lambdas.core.clock import utc_now_iso
from lambdas.core.errors import InvalidVideoState, VideoNotFound
from lambdas.core.models import (
    CATALOG_PARTITION,
    VIDEO_SORT_KEY,
    RenditionAttribute,
    VideoRecord,
)
from lambdas.core.status import VideoStatus, Visibility

# A failure may land while a video is anywhere before a terminal state.
FAILABLE = (VideoStatus.PENDING_UPLOAD, VideoStatus.UPLOADED, VideoStatus.PROCESSING)


def source_key_for(video_id: str) -> str:
    """Object keys come from ids only, never from the uploader's file name."""
    return f"{video_id}/source"


def new_video_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class NewVideo:
    owner_id: str
    title: str
    description: str
    tags: Sequence[str]
    visibility: Visibility
    original_filename: str
    content_type: str
    size_bytes: int


def create_video(new: NewVideo) -> VideoRecord:
    video_id = new_video_id()
    now = utc_now_iso()
    record = VideoRecord(
        pk=video_id,
        sk=VIDEO_SORT_KEY,
        owner_id=new.owner_id,
        title=new.title,
        description=new.description,
        tags=list(new.tags),
        visibility=new.visibility.value,
        original_filename=new.original_filename,
        content_type=new.content_type,
        size_bytes=new.size_bytes,
        source_key=source_key_for(video_id),
        status=VideoStatus.PENDING_UPLOAD.value,
        created_at=now,
        updated_at=now,
    )
    try:
        record.save(condition=VideoRecord.pk.does_not_exist())
    except PutError as error:  # a uuid4 collision: vanishingly rare, never silent
        raise InvalidVideoState(f"video id {video_id} already exists") from error
    return record


def get_video(video_id: str) -> VideoRecord:
    try:
        return VideoRecord.get(video_id, VIDEO_SORT_KEY, consistent_read=True)
    except VideoRecord.DoesNotExist as error:
        raise VideoNotFound(video_id) from error


def get_owned_video(video_id: str, owner_id: str) -> VideoRecord:
    """Another user's video is reported as missing, so ids do not leak."""
    record = get_video(video_id)
    if record.owner_id != owner_id or record.status == VideoStatus.DELETED:
        raise VideoNotFound(video_id)
    return record


def list_owned_videos(owner_id: str, limit: int = 50) -> Iterator[VideoRecord]:
    return VideoRecord.by_owner.query(owner_id, scan_index_forward=False, limit=limit)


def record_source_facts(video_id: str, *, duration_seconds: float, width: int, height: int) -> None:
    record = get_video(video_id)
    record.update(
        actions=[
            VideoRecord.duration_seconds.set(duration_seconds),
            VideoRecord.width.set(width),
            VideoRecord.height.set(height),
            VideoRecord.updated_at.set(utc_now_iso()),
        ],
        condition=VideoRecord.status == VideoStatus.PROCESSING.value,
    )


def mark_completed(
    video_id: str, *, renditions: Sequence[RenditionAttribute], master_playlist_key: str
) -> VideoRecord:
    """PROCESSING -> COMPLETED. Running it again on a COMPLETED video changes nothing."""
    record = get_video(video_id)
    if record.status == VideoStatus.COMPLETED:
        return record
    if record.status != VideoStatus.PROCESSING:
        raise InvalidVideoState(f"video {video_id} is {record.status}, not PROCESSING")
    now = utc_now_iso()
    actions: list[Any] = [
        VideoRecord.status.set(VideoStatus.COMPLETED.value),
        VideoRecord.renditions.set(list(renditions)),
        VideoRecord.master_playlist_key.set(master_playlist_key),
        VideoRecord.processed_at.set(now),
        VideoRecord.updated_at.set(now),
        VideoRecord.error_code.remove(),
        VideoRecord.error_message.remove(),
    ]
    if record.visibility == Visibility.PUBLIC:
        actions.append(VideoRecord.catalog_partition.set(CATALOG_PARTITION))
    try:
        record.update(actions=actions, condition=VideoRecord.status == VideoStatus.PROCESSING)
    except UpdateError as error:
        raise InvalidVideoState(f"video {video_id} changed while finalising") from error
    return record


def mark_failed(video_id: str, *, error_code: str, error_message: str) -> VideoRecord | None:
    """Any non-terminal state -> FAILED. Returns None when the video is already terminal."""
    record = get_video(video_id)
    if record.status not in FAILABLE:
        return None
    try:
        record.update(
            actions=[
                VideoRecord.status.set(VideoStatus.FAILED.value),
                VideoRecord.error_code.set(error_code),
                VideoRecord.error_message.set(error_message),
                VideoRecord.updated_at.set(utc_now_iso()),
            ],
            condition=VideoRecord.status.is_in(*[s.value for s in FAILABLE]),
        )
    except UpdateError:
        return None
    return record
