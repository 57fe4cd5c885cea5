"""Publishing caption tracks into a video's manifests, without encoding anything.

Finalise publishes the tracks a video has when it completes (passing them to the master
playlist and the MPD); `republish` rewrites a COMPLETED video's published manifests when a
track is added or removed: each track's HLS media playlist, then the MPD, then the master
(the same order as finalise: the master, which players read first, comes last).

Automatic captions (speech to text) are not built. The seam: a job kind "captions" (a Map
item beside the thumbnails, or a job of its own after Finalise) would write WebVTT to
`captions.vtt_key(video_id, language)` and add its track to the record as the API's
`complete` does; this module then publishes it like any other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lambdas.core.models import VideoRecord
from lambdas.core.status import VideoStatus
from lambdas.pipeline.dash import with_text_tracks
from lambdas.pipeline.master_playlist import SubtitleTrack, with_subtitles

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
MPD_CONTENT_TYPE = "application/dash+xml"
MANIFEST_CACHE_CONTROL = "max-age=60"
VTT_SEGMENT_NAME = "captions.vtt"


def tracks_of(record: VideoRecord) -> list[SubtitleTrack]:
    return [
        SubtitleTrack(
            language=c.language, name=c.label, playlist_key=c.playlist_key, vtt_key=c.vtt_key
        )
        for c in record.captions
    ]


def track_playlist(duration_seconds: float) -> str:
    """A VOD media playlist of one WebVTT segment covering the whole video."""
    return (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(duration_seconds))}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"#EXTINF:{duration_seconds:.3f},\n"
        f"{VTT_SEGMENT_NAME}\n"
        "#EXT-X-ENDLIST\n"
    )


def publish_track_playlists(
    s3: S3Client, bucket: str, tracks: Sequence[SubtitleTrack], duration_seconds: float
) -> None:
    for track in tracks:
        s3.put_object(
            Bucket=bucket,
            Key=track.playlist_key,
            Body=track_playlist(duration_seconds).encode(),
            ContentType=PLAYLIST_CONTENT_TYPE,
            CacheControl=MANIFEST_CACHE_CONTROL,
        )


def republish(s3: S3Client, bucket: str, record: VideoRecord) -> bool:
    """Rewrites the manifests of a COMPLETED video with the record's tracks; False (and
    nothing written) for a video in any other state, whose finalise will publish them."""
    if (
        record.status != VideoStatus.COMPLETED
        or not record.master_playlist_key
        or record.duration_seconds is None
    ):
        return False
    tracks = tracks_of(record)
    publish_track_playlists(s3, bucket, tracks, float(record.duration_seconds))
    if record.dash_manifest_key:
        mpd = _read_text(s3, bucket, record.dash_manifest_key)
        _write(
            s3,
            bucket,
            record.dash_manifest_key,
            with_text_tracks(mpd, tracks, record.dash_manifest_key),
            MPD_CONTENT_TYPE,
        )
    master = _read_text(s3, bucket, record.master_playlist_key)
    _write(
        s3,
        bucket,
        record.master_playlist_key,
        with_subtitles(master, tracks, record.master_playlist_key),
        PLAYLIST_CONTENT_TYPE,
    )
    return True


def _read_text(s3: S3Client, bucket: str, key: str) -> str:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def _write(s3: S3Client, bucket: str, key: str, text: str, content_type: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=text.encode(),
        ContentType=content_type,
        CacheControl=MANIFEST_CACHE_CONTROL,
    )
