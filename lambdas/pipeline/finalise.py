"""Finalise: check every job's result, publish the DASH manifest and then the master
playlist, mark COMPLETED; then, as its own step (stage "download"), remux the MP4 download
(lambdas/pipeline/download.py). The video plays whole before its download is made: the remux
reads and writes the whole top rung, minutes of work for a long source.

The same function publishes a long source's provisional master (stage "provisional"): after
the plan's first wave (every chunk of the cheapest rung, and the audio) it stitches those
rungs and publishes them, so the video plays while the rest encodes. The final master
replaces it: its rungs' media playlists are rewritten byte for byte the same, so a player
that started on the provisional master keeps playing the segments it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, ValidationError, field_validator

from lambdas.core import videos
from lambdas.core.models import RenditionAttribute, ThumbnailsAttribute, VideoRecord
from lambdas.core.settings import Settings
from lambdas.core.status import DownloadStatus, VideoStatus
from lambdas.pipeline.contract import (
    ChunkSpec,
    JobResult,
    ThumbnailsResult,
    TranscodeJob,
    result_key,
)
from lambdas.pipeline.dash import build_mpd
from lambdas.pipeline.download import DownloadFailed, make_download, pick_video
from lambdas.pipeline.master_playlist import SubtitleTrack, build_master_playlist
from lambdas.pipeline.source import SourceInfo
from lambdas.pipeline.stitch import StitchError, media_playlist, stitch
from lambdas.pipeline.subtitles import publish_track_playlists, republish, tracks_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
MPD_CONTENT_TYPE = "application/dash+xml"
MANIFEST_CACHE_CONTROL = "max-age=60"
# A provisional master is replaced within minutes: players and the CDN re-read it soon.
PROVISIONAL_CACHE_CONTROL = "max-age=5"
Result = TypeVar("Result", JobResult, ThumbnailsResult)


class ResultMissing(Exception):
    """A job reported success but left no valid result: the pipeline must not publish."""


class WaveRun(BaseModel):
    """A wave of the plan and, in the same order, the ECS task that ran each job."""

    jobs: list[TranscodeJob]
    task_arns: list[str | None] = []

    @field_validator("task_arns", mode="before")
    @classmethod
    def _one_arn_is_a_list(cls, value: object) -> object:
        # moto's JSONPath yields `$[*].task.task_arn` of a one-job Map as the bare string.
        return [value] if isinstance(value, str) else value


class FinaliseRequest(BaseModel):
    stage: Literal["provisional", "final", "download"] = "final"
    video_id: str
    execution_arn: str | None = None  # the run ($$.Execution.Id), for the processing log
    source: SourceInfo
    waves: list[WaveRun]
    # The final stage gets the plan's waves and, apart, each wave's task ARNs.
    task_arns: list[list[str | None] | str] | None = None
    # The download stage, once its retries ran out: the error it ended with
    # ({"Error": ..., "Cause": ...}); the download is then marked FAILED, not made.
    download_error: dict[str, str] | None = None

    def runs(self) -> list[tuple[TranscodeJob, str | None]]:
        """Every job of the request, with the task that ran it (if known)."""
        waves = self.waves
        if self.task_arns is not None:
            waves = [
                WaveRun.model_validate({"jobs": wave.jobs, "task_arns": arns})
                for wave, arns in zip(waves, self.task_arns, strict=True)
            ]
        return [
            (job, wave.task_arns[index] if index < len(wave.task_arns) else None)
            for wave in waves
            for index, job in enumerate(wave.jobs)
        ]


def master_key_for(video_id: str) -> str:
    return f"{video_id}/hls/master.m3u8"


def mpd_key_for(video_id: str) -> str:
    return f"{video_id}/dash/manifest.mpd"


def load_result(
    s3: S3Client,
    bucket: str,
    video_id: str,
    job_name: str,
    model: type[Result],
    *,
    chunk: ChunkSpec | None = None,
) -> Result:
    key = result_key(video_id, job_name, chunk)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return model.model_validate_json(body)
    except (s3.exceptions.NoSuchKey, ValidationError) as error:
        raise ResultMissing(f"job {job_name}: no valid result at {key}") from error


def stitch_rendition(
    s3: S3Client, bucket: str, video_id: str, name: str, chunks: list[ChunkSpec]
) -> JobResult:
    """A chunked rendition's one result from every planned chunk's, and its media playlist
    (written here: each chunk's transcoder wrote only its segments)."""
    results = [load_result(s3, bucket, video_id, name, JobResult, chunk=chunk) for chunk in chunks]
    try:
        rung = stitch(name, chunks, results)
        playlist = media_playlist(rung)
    except StitchError as error:
        raise ResultMissing(str(error)) from error
    s3.put_object(
        Bucket=bucket,
        Key=rung.playlist_key,
        Body=playlist.encode(),
        ContentType=PLAYLIST_CONTENT_TYPE,
        CacheControl=MANIFEST_CACHE_CONTROL,
    )
    return rung


def collect_media(
    s3: S3Client, bucket: str, video_id: str, jobs: list[TranscodeJob]
) -> tuple[list[JobResult], ThumbnailsResult | None]:
    """Every rendition's result (a chunked one stitched) and the thumbnails', if planned."""
    media: list[JobResult] = []
    thumbnails: ThumbnailsResult | None = None
    chunked: dict[str, list[ChunkSpec]] = {}
    # A grouped job (the balanced strategy) left one result per rendition; a chunked job
    # one per rendition and chunk.
    for job in jobs:
        for member in job.members():
            rendition = member.rendition
            if rendition.kind == "thumbnails":
                thumbnails = load_result(s3, bucket, video_id, rendition.name, ThumbnailsResult)
            elif member.chunk is not None:
                chunked.setdefault(rendition.name, []).append(member.chunk)
            else:
                media.append(load_result(s3, bucket, video_id, rendition.name, JobResult))
    for name, chunks in chunked.items():
        chunks.sort(key=lambda chunk: chunk.index)
        media.append(stitch_rendition(s3, bucket, video_id, name, chunks))
    return media, thumbnails


def publish_manifests(
    s3: S3Client,
    bucket: str,
    video_id: str,
    media: list[JobResult],
    *,
    segment_seconds: int,
    cache_control: str = MANIFEST_CACHE_CONTROL,
    subtitles: Sequence[SubtitleTrack] = (),
    duration_seconds: float = 0.0,
) -> tuple[str, str]:
    """The caption tracks' playlists, the DASH manifest, then the master playlist (what
    publishes the video); the manifests' keys."""
    publish_track_playlists(s3, bucket, subtitles, duration_seconds)
    mpd_key = mpd_key_for(video_id)
    s3.put_object(
        Bucket=bucket,
        Key=mpd_key,
        Body=build_mpd(
            media, mpd_key, min_buffer_seconds=segment_seconds, subtitles=subtitles
        ).encode(),
        ContentType=MPD_CONTENT_TYPE,
        CacheControl=cache_control,
    )
    master_key = master_key_for(video_id)
    s3.put_object(
        Bucket=bucket,
        Key=master_key,
        Body=build_master_playlist(media, master_key, subtitles).encode(),
        ContentType=PLAYLIST_CONTENT_TYPE,
        CacheControl=cache_control,
    )
    return master_key, mpd_key


def publish_provisional(
    s3: S3Client, settings: Settings, request: FinaliseRequest
) -> VideoRecord | None:
    """The first wave's rungs published while PROCESSING; None if the video is no longer
    PROCESSING (its manifests are then written but never offered)."""
    runs = request.runs()
    jobs = [job for job, _ in runs]
    media, _ = collect_media(s3, settings.media_bucket, request.video_id, jobs)
    if not any(result.kind == "video" for result in media):
        raise ResultMissing("the provisional wave encoded no video rung")
    master_key, mpd_key = publish_manifests(
        s3,
        settings.media_bucket,
        request.video_id,
        media,
        segment_seconds=max(job.segment_seconds for job in jobs),
        cache_control=PROVISIONAL_CACHE_CONTROL,
    )
    task_arns = {rendition.name: arn for job, arn in runs for rendition in job.renditions}
    return videos.mark_playable(
        request.video_id,
        renditions=[_rendition(result, task_arns.get(result.name)) for result in media],
        master_playlist_key=master_key,
        dash_manifest_key=mpd_key,
    )


def finalise(s3: S3Client, settings: Settings, request: FinaliseRequest) -> VideoRecord:
    bucket = settings.media_bucket
    video_id = request.video_id
    runs = request.runs()
    jobs = [job for job, _ in runs]
    media, thumbnails = collect_media(s3, bucket, video_id, jobs)
    record = videos.get_video(video_id)
    # Captions the owner added before the video completed are published with it.
    subtitles = tracks_of(record)
    master_key, mpd_key = publish_manifests(
        s3,
        bucket,
        video_id,
        media,
        segment_seconds=max(job.segment_seconds for job in jobs),
        subtitles=subtitles,
        duration_seconds=request.source.duration_seconds,
    )
    task_arns = {rendition.name: arn for job, arn in runs for rendition in job.renditions}
    completed = videos.mark_completed(
        video_id,
        renditions=[_rendition(result, task_arns.get(result.name)) for result in media],
        master_playlist_key=master_key,
        dash_manifest_key=mpd_key,
        thumbnails=_thumbnails(thumbnails) if thumbnails else None,
        download_planned=pick_video(media, settings.download_max_height) is not None,
    )
    # A track added or removed while this ran: the API saw PROCESSING and left it to us.
    if tracks_of(completed) != subtitles:
        republish(s3, bucket, completed)
    return completed


@dataclass(frozen=True)
class DownloadOutcome:
    record: VideoRecord | None  # None: not the video's to make (deleted, or made already)
    failure: str | None = None  # why FFmpeg could not make it (the video stays COMPLETED)


def make_video_download(
    s3: S3Client, settings: Settings, request: FinaliseRequest
) -> DownloadOutcome:
    """The MP4 download of a video this run completed (PREPARING): READY, or FAILED with
    why. A retry after it was marked does nothing; an MP4 made for a video deleted meanwhile
    is removed again."""
    bucket = settings.media_bucket
    record = videos.get_video(request.video_id)
    if (
        record.status != VideoStatus.COMPLETED
        or record.download_status != DownloadStatus.PREPARING
        or (request.execution_arn and record.execution_arn != request.execution_arn)
    ):
        return DownloadOutcome(None)
    if request.download_error is not None:
        return DownloadOutcome(
            videos.mark_download(record, request.execution_arn, None),
            f"the download step failed: {_error_text(request.download_error)}",
        )
    media, _ = collect_media(s3, bucket, request.video_id, [job for job, _ in request.runs()])
    failure: str | None = None
    key: str | None
    try:
        key = make_download(
            s3,
            bucket,
            request.video_id,
            record.title,  # the file name; the workflow never carried it
            media,
            max_height=settings.download_max_height,
            ffmpeg=settings.ffmpeg_binary,
        )
    except DownloadFailed as error:
        key, failure = None, str(error)
    marked = videos.mark_download(record, request.execution_arn, key)
    if marked is None and key:
        s3.delete_object(Bucket=bucket, Key=key)
    return DownloadOutcome(marked, failure)


def _error_text(error: dict[str, str], limit: int = 300) -> str:
    text = ": ".join(part for part in (error.get("Error"), error.get("Cause")) if part)
    return text[:limit] or "no reason given"


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
        ssim=result.ssim,
        task_arn=task_arn,
        language=result.language,
        title=result.title,
        default_track=result.default,
        role=result.role,
        loudness=result.loudness,
        source_loudness_lufs=result.source_loudness_lufs,
        loudness_lufs=result.loudness_lufs,
        true_peak_dbtp=result.true_peak_dbtp,
    )


def _thumbnails(result: ThumbnailsResult) -> ThumbnailsAttribute:
    return ThumbnailsAttribute(
        poster_key=result.poster_key,
        preview_keys=list(result.preview_keys),
        storyboard_image_key=result.storyboard_image_key,
        storyboard_vtt_key=result.storyboard_vtt_key,
    )
