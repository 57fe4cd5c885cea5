"""Video records and their lifecycle: the conditional updates behind every status transition.

Pipeline transitions are guarded by the status they expect (a duplicate or late event
changes nothing); a person's edits are guarded by the record's version (optimistic
locking), so an edit and a pipeline step never overwrite each other.
"""

from __future__ import annotations

import contextlib
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PutError, QueryError, UpdateError

from lambdas.core.clock import utc_now_iso
from lambdas.core.errors import (
    ConcurrentChange,
    FieldError,
    InvalidVideoState,
    TooManyActiveVideos,
    UploadAlreadyCompleted,
    VideoBusy,
    VideoNotFound,
)
from lambdas.core.models import (
    CATALOG_PARTITION,
    LOG_SORT_KEY_PREFIX,
    VIDEO_SORT_KEY,
    ProcessingLogEntry,
    RenditionAttribute,
    ThumbnailsAttribute,
    VideoRecord,
)
from lambdas.core.pagination import decode_cursor, encode_cursor
from lambdas.core.status import DownloadStatus, VideoStatus, Visibility

# A failure may land while a video is anywhere before a terminal state.
FAILABLE = (VideoStatus.PENDING_UPLOAD, VideoStatus.UPLOADED, VideoStatus.PROCESSING)
# While PROCESSING, a running execution still writes media: deleting waits for its end.
DELETABLE = (
    VideoStatus.PENDING_UPLOAD,
    VideoStatus.UPLOADED,
    VideoStatus.COMPLETED,
    VideoStatus.FAILED,
)
# Uploaded and waiting for the pipeline, or in it: what the per-user limit counts.
ACTIVE = (VideoStatus.UPLOADED, VideoStatus.PROCESSING)
# A short video's processing takes about a minute: asking again sooner rarely finds room.
ACTIVE_RETRY_AFTER_SECONDS = 60
EDIT_ATTEMPTS = 3
_SLUG_MAX = 80


def source_key_for(video_id: str) -> str:
    """Object keys come from ids only, never from the uploader's file name."""
    return f"{video_id}/source"


def new_video_id() -> str:
    return uuid.uuid4().hex


def slugify(title: str) -> str:
    """A URL-friendly name for display ("Café au lait!" -> "cafe-au-lait"); not unique."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:_SLUG_MAX].rstrip("-") or "video"


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


@dataclass(frozen=True)
class Page:
    items: list[VideoRecord]
    next_cursor: str | None


def create_video(
    new: NewVideo, *, video_id: str | None = None, upload_id: str | None = None
) -> VideoRecord:
    video_id = video_id or new_video_id()
    now = utc_now_iso()
    record = VideoRecord(
        pk=video_id,
        sk=VIDEO_SORT_KEY,
        owner_id=new.owner_id,
        title=new.title,
        slug=slugify(new.title),
        description=new.description,
        tags=list(new.tags),
        visibility=new.visibility.value,
        original_filename=new.original_filename,
        content_type=new.content_type,
        size_bytes=new.size_bytes,
        source_key=source_key_for(video_id),
        status=VideoStatus.PENDING_UPLOAD.value,
        upload_id=upload_id,
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


def get_owned_video_and_log(
    video_id: str, owner_id: str
) -> tuple[VideoRecord, list[ProcessingLogEntry]]:
    """The owner's video and its processing log (oldest first) from one strongly consistent
    Query of the video's partition, instead of a GetItem and then a Query: the record and
    its log entries share the partition key."""
    record: VideoRecord | None = None
    log: list[ProcessingLogEntry] = []
    for item in _partition_items(video_id):
        sort_key = item["sk"]["S"]
        if sort_key == VIDEO_SORT_KEY:
            record = VideoRecord.from_raw_data(item)
        elif sort_key.startswith(LOG_SORT_KEY_PREFIX):  # sorted by start time, as written
            log.append(ProcessingLogEntry.from_raw_data(item))
    if record is None or record.owner_id != owner_id or record.status == VideoStatus.DELETED:
        raise VideoNotFound(video_id)
    return record, log


def _partition_items(partition_key: str) -> Iterator[dict[str, Any]]:
    # PynamoDB's typed query yields one model class; the partition holds two.
    connection = VideoRecord._get_connection()
    start: dict[str, Any] | None = None
    while True:
        page = connection.query(partition_key, consistent_read=True, exclusive_start_key=start)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def get_public_video(video_id: str) -> VideoRecord:
    """A video anyone may watch: public and COMPLETED (exactly what the catalog lists)."""
    record = get_video(video_id)
    if record.catalog_partition != CATALOG_PARTITION or record.status != VideoStatus.COMPLETED:
        raise VideoNotFound(video_id)
    return record


# --- lists -----------------------------------------------------------------------------


def list_owned_videos(owner_id: str, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The owner's videos in every status but DELETED, newest first."""
    start = decode_cursor(
        cursor, index_keys=("owner_id", "created_at"), fixed={"owner_id": owner_id}
    )
    results = VideoRecord.by_owner.query(
        owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    return _page(results, cursor)


def list_catalog(*, limit: int = 20, cursor: str | None = None) -> Page:
    """COMPLETED public videos, newest first (the sparse public_catalog index)."""
    start = decode_cursor(
        cursor,
        index_keys=("catalog_partition", "created_at"),
        fixed={"catalog_partition": CATALOG_PARTITION},
    )
    results = VideoRecord.public_catalog.query(
        CATALOG_PARTITION, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    return _page(results, cursor)


def _page(results: Any, cursor: str | None) -> Page:
    try:
        items = list(results)
    except QueryError as error:  # a well-formed cursor DynamoDB still refuses
        if cursor:
            raise FieldError("cursor", "is not a cursor this list returned") from error
        raise
    last_key = results.last_evaluated_key
    return Page(items=items, next_cursor=encode_cursor(last_key) if last_key else None)


def count_active_videos(owner_id: str, *, besides: str | None = None) -> int:
    """The owner's videos UPLOADED or PROCESSING, leaving out `besides`, from the sparse
    active_by_owner index: it holds only those, so the count reads a few items, not the
    user's library. The status is checked too, so a flag a status change failed to remove
    cannot hold the user back. The index is eventually consistent, so two requests at the
    same instant may both pass: the limit bounds load, it is not a quota."""
    condition = VideoRecord.status.is_in(*[s.value for s in ACTIVE])
    if besides is not None:
        condition &= VideoRecord.pk != besides
    return VideoRecord.active_by_owner.count(owner_id, filter_condition=condition)


def require_room_to_process(owner_id: str, limit: int, *, video_id: str | None = None) -> None:
    """Refuses to start one more transcode for a user with `limit` videos active already
    (the video being started, when it is already one of them, does not count)."""
    active = count_active_videos(owner_id, besides=video_id)
    if active >= limit:
        raise TooManyActiveVideos(active, limit, ACTIVE_RETRY_AFTER_SECONDS)


# --- a person's edits -------------------------------------------------------------------


@dataclass(frozen=True)
class VideoChanges:
    title: str | None = None
    description: str | None = None
    tags: Sequence[str] | None = None
    visibility: Visibility | None = None


def update_video(video_id: str, owner_id: str, changes: VideoChanges) -> VideoRecord:
    """Applies the changes under optimistic locking, re-reading on a concurrent change."""
    for _ in range(EDIT_ATTEMPTS):
        record = get_owned_video(video_id, owner_id)
        actions = _edit_actions(record, changes)
        if not actions:
            return record
        try:
            record.update(actions=[*actions, VideoRecord.updated_at.set(utc_now_iso())])
        except UpdateError:
            continue  # the pipeline (or another edit) moved the version on: try again
        return record
    raise ConcurrentChange(f"video {video_id} kept changing; try again")


def _edit_actions(record: VideoRecord, changes: VideoChanges) -> list[Any]:
    actions: list[Any] = []
    if changes.title is not None and changes.title != record.title:
        actions += [
            VideoRecord.title.set(changes.title),
            VideoRecord.slug.set(slugify(changes.title)),
        ]
    if changes.description is not None and changes.description != record.description:
        actions.append(VideoRecord.description.set(changes.description))
    if changes.tags is not None and list(changes.tags) != list(record.tags):
        actions.append(VideoRecord.tags.set(list[Any](changes.tags)))
    if changes.visibility is not None and changes.visibility != record.visibility:
        actions.append(VideoRecord.visibility.set(changes.visibility.value))
        if changes.visibility == Visibility.PUBLIC and record.status == VideoStatus.COMPLETED:
            actions.append(VideoRecord.catalog_partition.set(CATALOG_PARTITION))
        else:
            actions.append(VideoRecord.catalog_partition.remove())
    return actions


# --- uploads ----------------------------------------------------------------------------


def set_upload_id(record: VideoRecord, upload_id: str) -> VideoRecord:
    """Remembers a new multipart upload of a video still waiting for its source."""
    try:
        record.update(
            actions=[
                VideoRecord.upload_id.set(upload_id),
                VideoRecord.updated_at.set(utc_now_iso()),
            ],
            condition=(VideoRecord.status == VideoStatus.PENDING_UPLOAD.value)
            & VideoRecord.uploaded_at.does_not_exist()
            & VideoRecord.upload_id.does_not_exist(),
            add_version_condition=False,
        )
    except UpdateError as error:
        raise InvalidVideoState(
            f"video {record.video_id} changed meanwhile: reload it and try again"
        ) from error
    return record


def clear_upload_id(record: VideoRecord, upload_id: str) -> None:
    # Already cleared (a concurrent abort or completion): the outcome is the same.
    with contextlib.suppress(UpdateError):
        record.update(
            actions=[VideoRecord.upload_id.remove(), VideoRecord.updated_at.set(utc_now_iso())],
            condition=VideoRecord.upload_id == upload_id,
            add_version_condition=False,
        )


def update_once(
    record: VideoRecord, actions: list[Any], condition: Any
) -> tuple[bool, VideoRecord]:
    """A conditional update whose retry cannot fail on its own first attempt: whether it
    applied, and the record (as updated, or as read back when it did not).

    DynamoDB may apply a write and still answer 500 (or the answer may be lost), and the
    SDK then sends it again: that retry fails its condition on what the first attempt wrote.
    Each write here carries an id of its own, so a failed condition is read back and is
    this write's success when the record holds that id."""
    token = uuid.uuid4().hex
    try:
        record.update(
            actions=[*actions, VideoRecord.write_token.set(token)],
            condition=condition,
            add_version_condition=False,
        )
        return True, record
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = get_video(record.video_id)
        return current.write_token == token, current


def mark_uploaded(record: VideoRecord) -> VideoRecord:
    """PENDING_UPLOAD -> UPLOADED once the client says the source is complete.

    The object's upload event may already have started the pipeline (single PUTs do not
    wait for this call), in which case only the upload time is recorded. Completing a
    second time is a conflict.
    """
    now = utc_now_iso()
    common: list[Any] = [
        VideoRecord.uploaded_at.set(now),
        VideoRecord.updated_at.set(now),
        VideoRecord.upload_id.remove(),
    ]
    applied, record = update_once(
        record,
        [
            VideoRecord.status.set(VideoStatus.UPLOADED.value),
            VideoRecord.active_owner_id.set(record.owner_id),
            *common,
        ],
        (VideoRecord.status == VideoStatus.PENDING_UPLOAD.value)
        & VideoRecord.uploaded_at.does_not_exist(),
    )
    if applied:
        return record
    if record.uploaded_at or record.status == VideoStatus.DELETED:
        raise UploadAlreadyCompleted(f"the upload of video {record.video_id} is already complete")
    # Already claimed by the pipeline: the upload time only.
    applied, record = update_once(
        record,
        common,
        VideoRecord.uploaded_at.does_not_exist()
        & (VideoRecord.status != VideoStatus.DELETED.value),
    )
    if not applied:
        raise UploadAlreadyCompleted(f"the upload of video {record.video_id} is already complete")
    return record


# --- deletion and reprocessing ----------------------------------------------------------


def find_own_video_or_tombstone(video_id: str, owner_id: str) -> VideoRecord:
    """Like get_owned_video, but a tombstone of the owner's own video is found too, so that
    deleting twice succeeds twice."""
    record = get_video(video_id)
    owner = record.deleted_owner_id if record.status == VideoStatus.DELETED else record.owner_id
    if owner != owner_id:
        raise VideoNotFound(video_id)
    return record


def mark_deleted(record: VideoRecord, *, tombstone_days: int) -> VideoRecord:
    """Any settled state -> DELETED: a tombstone without the person's content, out of every
    index, that the table's TTL removes later. Deleting a tombstone again changes nothing."""
    if record.status == VideoStatus.DELETED:
        return record
    if record.status not in DELETABLE:
        raise VideoBusy(
            f"video {record.video_id} is {record.status}: it can be deleted once processing "
            "has finished (COMPLETED or FAILED)"
        )
    now = utc_now_iso()
    try:
        record.update(
            actions=[
                VideoRecord.status.set(VideoStatus.DELETED.value),
                VideoRecord.deleted_owner_id.set(record.owner_id),
                VideoRecord.owner_id.remove(),
                VideoRecord.catalog_partition.remove(),
                VideoRecord.active_owner_id.remove(),
                VideoRecord.title.set(""),
                VideoRecord.slug.set(""),
                VideoRecord.description.set(""),
                VideoRecord.tags.set([]),
                VideoRecord.original_filename.set(""),
                VideoRecord.renditions.set([]),
                VideoRecord.master_playlist_key.remove(),
                VideoRecord.dash_manifest_key.remove(),
                VideoRecord.download_key.remove(),
                VideoRecord.download_status.remove(),
                VideoRecord.thumbnails.remove(),
                VideoRecord.upload_id.remove(),
                VideoRecord.deleted_at.set(now),
                VideoRecord.updated_at.set(now),
                VideoRecord.expires_at.set(int(time.time()) + tombstone_days * 86400),
            ],
            condition=VideoRecord.status.is_in(*[s.value for s in DELETABLE]),
            add_version_condition=False,
        )
    except UpdateError:
        return mark_deleted(get_video(record.video_id), tombstone_days=tombstone_days)
    return record


def require_status(record: VideoRecord, status: VideoStatus, why: str) -> None:
    if record.status != status:
        raise InvalidVideoState(f"video {record.video_id} is {record.status}: {why}")


def reset_for_reprocessing(record: VideoRecord) -> VideoRecord:
    """FAILED -> UPLOADED: the source is there again for a new execution to claim."""
    require_status(record, VideoStatus.FAILED, "only a FAILED video can be reprocessed")
    try:
        record.update(
            actions=[
                VideoRecord.status.set(VideoStatus.UPLOADED.value),
                VideoRecord.active_owner_id.set(record.owner_id),
                VideoRecord.error_code.remove(),
                VideoRecord.error_message.remove(),
                VideoRecord.updated_at.set(utc_now_iso()),
            ],
            condition=VideoRecord.status == VideoStatus.FAILED.value,
            add_version_condition=False,
        )
    except UpdateError as error:
        raise InvalidVideoState(f"video {record.video_id} changed meanwhile") from error
    return record


# --- pipeline transitions ---------------------------------------------------------------


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
        add_version_condition=False,  # a concurrent edit of the title must not fail the probe
    )


def mark_completed(
    video_id: str,
    *,
    renditions: Sequence[RenditionAttribute],
    master_playlist_key: str,
    dash_manifest_key: str | None = None,
    thumbnails: ThumbnailsAttribute | None = None,
    download_planned: bool = False,
) -> VideoRecord:
    """PROCESSING -> COMPLETED. Running it again on a COMPLETED video changes nothing.
    `download_planned`: the MP4 download is made next (PREPARING, see mark_download); the
    one a previous run made is no longer offered either way."""
    for _ in range(EDIT_ATTEMPTS):
        record = get_video(video_id)
        if record.status == VideoStatus.COMPLETED:
            return record
        if record.status != VideoStatus.PROCESSING:
            raise InvalidVideoState(f"video {video_id} is {record.status}, not PROCESSING")
        now = utc_now_iso()
        actions: list[Any] = [
            VideoRecord.status.set(VideoStatus.COMPLETED.value),
            VideoRecord.active_owner_id.remove(),
            VideoRecord.renditions.set(list(renditions)),
            VideoRecord.master_playlist_key.set(master_playlist_key),
            VideoRecord.processed_at.set(now),
            VideoRecord.updated_at.set(now),
            VideoRecord.error_code.remove(),
            VideoRecord.error_message.remove(),
        ]
        if dash_manifest_key:
            actions.append(VideoRecord.dash_manifest_key.set(dash_manifest_key))
        if record.playable_at is None:  # no provisional master came first
            actions.append(VideoRecord.playable_at.set(now))
        if thumbnails is not None:
            actions.append(VideoRecord.thumbnails.set(thumbnails))
        actions.append(VideoRecord.download_key.remove())
        actions.append(
            VideoRecord.download_status.set(DownloadStatus.PREPARING.value)
            if download_planned
            else VideoRecord.download_status.remove()
        )
        if record.visibility == Visibility.PUBLIC:
            actions.append(VideoRecord.catalog_partition.set(CATALOG_PARTITION))
        try:
            # Guarded by the status and the visibility it read: an edit of the title meanwhile
            # is fine, a change of visibility means reading again.
            record.update(
                actions=actions,
                condition=(VideoRecord.status == VideoStatus.PROCESSING.value)
                & (VideoRecord.visibility == record.visibility),
                add_version_condition=False,
            )
        except UpdateError:
            continue
        return record
    raise InvalidVideoState(f"video {video_id} changed while finalising")


def mark_download(
    record: VideoRecord, execution_arn: str | None, download_key: str | None
) -> VideoRecord | None:
    """PREPARING -> READY with the MP4's key, or FAILED without one (the processing log says
    why), for the run that completed the video (`record`, as last read: the condition is
    checked on the stored one). None when that is no longer the case (deleted meanwhile):
    the caller removes what it made."""
    now = utc_now_iso()
    actions: list[Any] = [VideoRecord.updated_at.set(now)]
    if download_key:
        actions += [
            VideoRecord.download_status.set(DownloadStatus.READY.value),
            VideoRecord.download_key.set(download_key),
        ]
    else:
        actions.append(VideoRecord.download_status.set(DownloadStatus.FAILED.value))
    condition = (VideoRecord.status == VideoStatus.COMPLETED.value) & (
        VideoRecord.download_status == DownloadStatus.PREPARING.value
    )
    if execution_arn:
        condition &= VideoRecord.execution_arn == execution_arn
    # A lost answer must not read as "deleted meanwhile": the caller would remove the MP4.
    applied, record = update_once(record, actions, condition)
    return record if applied else None


def mark_playable(
    video_id: str,
    *,
    renditions: Sequence[RenditionAttribute],
    master_playlist_key: str,
    dash_manifest_key: str,
) -> VideoRecord | None:
    """A provisional master is published while PROCESSING: the record offers playback from
    now on. `playable_at` keeps the first publication's time; None if the video is no longer
    PROCESSING (deleted or failed meanwhile), when nothing is offered."""
    now = utc_now_iso()
    record = get_video(video_id)
    try:
        record.update(
            actions=[
                VideoRecord.renditions.set(list(renditions)),
                VideoRecord.master_playlist_key.set(master_playlist_key),
                VideoRecord.dash_manifest_key.set(dash_manifest_key),
                VideoRecord.playable_at.set(VideoRecord.playable_at | now),
                VideoRecord.updated_at.set(now),
            ],
            condition=VideoRecord.status == VideoStatus.PROCESSING.value,
            add_version_condition=False,  # a concurrent edit of the title is fine
        )
    except UpdateError:
        return None
    return record


def mark_failed(
    video_id: str, *, error_code: str, error_message: str, over_failure: bool = False
) -> VideoRecord | None:
    """Any non-terminal state -> FAILED. Returns None when the video is already terminal.
    `over_failure`: a FAILED video takes this error instead (a cause that outranks the
    pipeline's, such as a source deleted for its size)."""
    failable = (*FAILABLE, VideoStatus.FAILED) if over_failure else FAILABLE
    record = get_video(video_id)
    if record.status not in failable:
        return None
    try:
        record.update(
            actions=[
                VideoRecord.status.set(VideoStatus.FAILED.value),
                VideoRecord.active_owner_id.remove(),
                VideoRecord.error_code.set(error_code),
                VideoRecord.error_message.set(error_message),
                VideoRecord.updated_at.set(utc_now_iso()),
                # A provisional master published before the failure is no longer offered.
                VideoRecord.playable_at.remove(),
                VideoRecord.master_playlist_key.remove(),
                VideoRecord.dash_manifest_key.remove(),
                VideoRecord.download_key.remove(),
                VideoRecord.download_status.remove(),
            ],
            condition=VideoRecord.status.is_in(*[s.value for s in failable]),
            add_version_condition=False,
        )
    except UpdateError:
        return None
    return record


def restore_failure(record: VideoRecord, *, error_code: str, error_message: str) -> None:
    """UPLOADED -> FAILED again, when a reprocessing could not be started after all."""
    with contextlib.suppress(UpdateError):  # an execution claimed it after all
        record.update(
            actions=[
                VideoRecord.status.set(VideoStatus.FAILED.value),
                VideoRecord.active_owner_id.remove(),
                VideoRecord.error_code.set(error_code),
                VideoRecord.error_message.set(error_message),
                VideoRecord.updated_at.set(utc_now_iso()),
            ],
            condition=VideoRecord.status == VideoStatus.UPLOADED.value,
            add_version_condition=False,
        )
