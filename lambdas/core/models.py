"""The videos table, behind PynamoDB. The only module that knows the table's layout.

One table, keyed `pk` (the video id) + `sk`: "VIDEO" for the video itself, and
"LOG#<started-at>#<stage>" for the entries of its processing log, which share the video's
partition. Indexes serve the other access patterns without scans: `by_owner` (a user's
videos, newest first; a deleted video's tombstone has no `owner_id`, so it drops out), the
sparse `public_catalog` (only COMPLETED public videos carry `catalog_partition`) and the
sparse `active_by_owner` (only UPLOADED and PROCESSING videos carry `active_owner_id`).
Tombstones carry `expires_at` (epoch seconds) for the table's TTL.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from lambdas.core.status import VideoStatus

VIDEO_SORT_KEY = "VIDEO"
LOG_SORT_KEY_PREFIX = "LOG#"
CATALOG_PARTITION = "PUBLIC"

_Map = TypeVar("_Map", bound=MapAttribute[str, Any])


class MapListAttribute(ListAttribute[_Map]):
    """A list of maps that reads an empty list as one: PynamoDB 6.1 first builds a map element
    (deep-copying each of the map's attributes) for every list of maps it reads, and most of
    a video's are empty; that was most of the CPU of reading a new video's record."""

    def deserialize(self, values: Any) -> Any:
        return [] if not values else super().deserialize(values)


class ByOwnerIndex(GlobalSecondaryIndex["VideoRecord"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PublicCatalogIndex(GlobalSecondaryIndex["VideoRecord"]):
    class Meta:
        index_name = "public_catalog"
        projection = AllProjection()

    catalog_partition = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ActiveByOwnerIndex(GlobalSecondaryIndex["VideoRecord"]):
    """A user's videos that are UPLOADED or PROCESSING: what the limit on active videos
    counts, reading those alone rather than the user's whole library."""

    class Meta:
        index_name = "active_by_owner"
        projection = IncludeProjection(["status"])  # the count checks it too

    active_owner_id = UnicodeAttribute(hash_key=True)


class RenditionAttribute(MapAttribute[str, Any]):
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    playlist_key = UnicodeAttribute()
    codecs = UnicodeAttribute()
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    frame_rate = NumberAttribute(null=True)
    average_bitrate_bps = NumberAttribute()
    peak_bitrate_bps = NumberAttribute()
    segment_count = NumberAttribute()
    output_bytes = NumberAttribute()
    ssim = NumberAttribute(null=True)  # video: mean SSIM (Y) against the scaled source
    task_arn = UnicodeAttribute(null=True)
    # audio: the track (language tag, title, default, role) and its loudness
    language = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    default_track = BooleanAttribute(null=True)
    role = UnicodeAttribute(null=True)
    loudness = UnicodeAttribute(null=True)  # "normalised (linear)", "left alone: silent" ...
    source_loudness_lufs = NumberAttribute(null=True)
    loudness_lufs = NumberAttribute(null=True)  # the output's, by ebur128
    true_peak_dbtp = NumberAttribute(null=True)


class ThumbnailsAttribute(MapAttribute[str, Any]):
    poster_key = UnicodeAttribute()
    preview_keys = ListAttribute(of=UnicodeAttribute, default=list)
    storyboard_image_key = UnicodeAttribute(null=True)
    storyboard_vtt_key = UnicodeAttribute(null=True)


class CaptionAttribute(MapAttribute[str, Any]):
    """A published caption track: WebVTT in the video's hls/ folder (docs/media.md)."""

    language = UnicodeAttribute()  # BCP-47, canonical case (en, pt-BR)
    label = UnicodeAttribute()
    vtt_key = UnicodeAttribute()
    playlist_key = UnicodeAttribute()  # its HLS media playlist
    source_format = UnicodeAttribute()  # vtt | srt: what was uploaded
    cue_count = NumberAttribute()
    added_at = UnicodeAttribute()


class CaptionUploadAttribute(MapAttribute[str, Any]):
    """A caption file the owner is uploading: what its presigned PUT was signed for."""

    language = UnicodeAttribute()
    label = UnicodeAttribute()
    source_format = UnicodeAttribute()
    size_bytes = NumberAttribute()
    created_at = UnicodeAttribute()


class VideoRecord(Model):
    class Meta:
        table_name = "videos"  # replaced by use_table() at cold start
        region = os.environ.get("AWS_REGION", "us-east-1")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=VIDEO_SORT_KEY)
    owner_id = UnicodeAttribute(null=True)  # removed from tombstones (see deleted_owner_id)
    title = UnicodeAttribute()
    slug = UnicodeAttribute(default="")
    description = UnicodeAttribute(default="")
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    visibility = UnicodeAttribute()
    original_filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size_bytes = NumberAttribute()
    source_key = UnicodeAttribute()
    status = UnicodeAttribute()
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)  # the S3 multipart upload in progress, if any
    duration_seconds = NumberAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    renditions = MapListAttribute(of=RenditionAttribute, default=list)
    master_playlist_key = UnicodeAttribute(null=True)
    dash_manifest_key = UnicodeAttribute(null=True)
    thumbnails = ThumbnailsAttribute(null=True)
    download_key = UnicodeAttribute(null=True)  # the MP4 download (lambdas/pipeline/download.py)
    download_status = UnicodeAttribute(null=True)  # DownloadStatus; None: no download made
    captions = MapListAttribute(of=CaptionAttribute, default=list)
    caption_uploads = MapListAttribute(of=CaptionUploadAttribute, default=list)
    catalog_partition = UnicodeAttribute(null=True)
    # The owner's id while UPLOADED or PROCESSING (active_by_owner); every status change sets
    # or removes it, the state machine's Claim included
    active_owner_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    uploaded_at = UnicodeAttribute(null=True)
    processed_at = UnicodeAttribute(null=True)
    # When a master playlist was first published: a long source's provisional one (its
    # cheapest rungs) while still PROCESSING, else the final one at COMPLETED.
    playable_at = UnicodeAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    deleted_owner_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL of a tombstone
    # The last conditional write's own id: its retry after a lost answer finds it
    # (videos.update_once)
    write_token = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_owner = ByOwnerIndex()
    public_catalog = PublicCatalogIndex()
    active_by_owner = ActiveByOwnerIndex()

    @property
    def video_id(self) -> str:
        return self.pk

    @property
    def is_playable(self) -> bool:
        """A master playlist is published: COMPLETED (videos finished before playable_at
        existed have none), or PROCESSING with a provisional one."""
        if self.master_playlist_key is None:
            return False
        if self.status == VideoStatus.COMPLETED:
            return True
        return self.status == VideoStatus.PROCESSING and self.playable_at is not None


class ProcessingLogEntry(Model):
    """One stage of one processing run: claim, probe, transcode:<job>, finalise, failure."""

    class Meta:
        table_name = "videos"  # replaced by use_table() at cold start
        region = os.environ.get("AWS_REGION", "us-east-1")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    stage = UnicodeAttribute()
    started_at = UnicodeAttribute()
    ended_at = UnicodeAttribute()
    outcome = UnicodeAttribute()  # SUCCEEDED | FAILED
    message = UnicodeAttribute(default="")
    execution_arn = UnicodeAttribute(null=True)
    task_arn = UnicodeAttribute(null=True)

    @property
    def video_id(self) -> str:
        return self.pk


def log_sort_key(started_at: str, stage: str) -> str:
    return f"{LOG_SORT_KEY_PREFIX}{started_at}#{stage}"


def use_table(table_name: str, region: str | None = None) -> None:
    """Points the models at the deployment's table (called once, from settings)."""
    for model in (VideoRecord, ProcessingLogEntry):
        model.Meta.table_name = table_name
        if region:
            model.Meta.region = region
