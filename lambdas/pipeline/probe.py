"""Probe: read the uploaded source in place with ffprobe, and plan the jobs."""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from lambdas.core.settings import Settings
from lambdas.pipeline.chunks import MAX_CHUNK_JOBS, chunk_seconds_within, plan_chunks
from lambdas.pipeline.contract import (
    SEGMENT_SECONDS,
    AudioRendition,
    ChunkSpec,
    LoudnessTarget,
    Rendition,
    SourceHints,
    TranscodeJob,
    VideoCodec,
    VideoRendition,
)
from lambdas.pipeline.errors import (
    MediaRejected,
    NotAVideo,
    SourceMissing,
    SourceTimeout,
    SourceTooLarge,
    UnusableVideo,
)
from lambdas.pipeline.ladder import plan_ladder
from lambdas.pipeline.source import (
    SourceInfo,
    duration_confirmed,
    input_safety_options,
    parse_ffprobe,
    start_seconds,
    unreadable,
    verified_duration,
)
from lambdas.pipeline.strategy import groups_for
from lambdas.pipeline.thumbnails import plan_thumbnails

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The probe's ffprobe calls use this URL within seconds of signing it, inside one
# invocation: the Lambda's credentials that sign it outlive that (unlike a long encode's).
PRESIGN_SECONDS = 900
# Enough packets to reach a keyframe in a stream cut mid-GOP, few enough to stay cheap.
DECODE_CHECK_PACKETS = 60
# A well-made source's first packet is a keyframe, so the decode check first decodes only
# these (on a 50 Mb/s 1080p source each frame costs about 30 ms of CPU). The verdict is the
# same: these packets are the first of the DECODE_CHECK_PACKETS, and only when they give no
# frame, or when the duration falls back to the first frames, are all of those decoded.
DECODE_FIRST_PACKETS = 3
# Read from the last keyframe before the declared end: a GOP and a second of packets,
# however long the GOP, bounded so that a seek that lands early stays cheap.
END_CHECK_PACKETS = 1500
END_CHECK_LEAD_SECONDS = 1.0
# Every ffprobe call together, inside the probe Lambda's 90 s timeout (cdk/pipeline.py),
# which also holds the S3 and DynamoDB calls: a slow source ends SOURCE_TIMEOUT, not as a
# Lambda timeout with no message.
PROBE_BUDGET_SECONDS = 70
# A frame's time and duration (its duration is pkt_duration_time in FFmpeg 5, duration_time
# in FFmpeg 6; ffprobe ignores the one it does not know).
_FRAME_TIMES = "best_effort_timestamp_time,pkt_duration_time,duration_time"
SNIFF_BYTES = 4096  # enough to name a playlist, list or subtitle file ffprobe refused


class UnpinnedSource(Exception):
    """The upload event names no object version: the uploads bucket is not versioned."""


class UploadedObject(BaseModel):
    """The upload event's `detail.object`; the probe needs its version."""

    model_config = ConfigDict(populate_by_name=True)

    version_id: str | None = Field(default=None, alias="version-id")


class ProbeRequest(BaseModel):
    video_id: str
    source_key: str
    source_object: UploadedObject
    # The run, as the state machine's ReadEvent names it (its Claim wrote the same values)
    execution_arn: str | None = None
    claimed_at: str | None = None

    @property
    def source_version(self) -> str:
        """The version the event is about. The probe reads it and every job is pinned to it,
        so what was checked is what is transcoded, whatever is written to the key later.
        Without one there is nothing to pin, and reading the key's latest object instead
        would void that guarantee silently: refused."""
        version = self.source_object.version_id
        if not version:
            raise UnpinnedSource(
                f"The upload event of {self.source_key} names no object version: the uploads "
                "bucket must be versioned (cdk/storage.py) for the source to be pinned."
            )
        return version


# An inline Map runs at most 40 iterations at once on AWS, whatever MaxConcurrency says.
INLINE_MAP_MAX_CONCURRENCY = 40


class Wave(BaseModel):
    """Jobs the state machine runs together; a provisional wave ends by publishing a first
    master playlist of what it encoded (lambdas/pipeline/finalise.py)."""

    jobs: list[TranscodeJob]
    provisional: bool = False


class Plan(BaseModel):
    video_id: str
    source: SourceInfo
    waves: list[Wave]
    job_timeout_seconds: int
    max_concurrency: int
    # Jobs whose results an earlier run left, made by the very same job: not run again
    kept: list[TranscodeJob] = []

    @property
    def jobs(self) -> list[TranscodeJob]:
        return [job for wave in self.waves for job in wave.jobs]


def ffprobe_command(binary: str, url: str) -> list[str]:
    return [
        binary, "-v", "error", *input_safety_options(url),
        "-print_format", "json", "-show_format", "-show_streams", url,
    ]  # fmt: skip


def decode_check_command(binary: str, url: str, packets: int = DECODE_CHECK_PACKETS) -> list[str]:
    """Decodes the first `packets` of the video stream (V: not cover art) and lists the
    frames that came out: none means the stream cannot be decoded."""
    return [
        binary, "-v", "error", *input_safety_options(url), "-select_streams", "V:0",
        "-read_intervals", f"%+#{packets}",
        "-show_entries", f"frame=width,height,{_FRAME_TIMES}",
        "-of", "json", url,
    ]  # fmt: skip


def end_check_command(binary: str, url: str, declared_end: float) -> list[str]:
    """Seeks to just before the declared end (a backward seek: the keyframe before it,
    or the last one there is) and lists the packets of every stream from there on, without
    decoding: where they stop is where the data stops."""
    seek = max(0.0, declared_end - END_CHECK_LEAD_SECONDS)
    return [
        binary, "-v", "error", *input_safety_options(url),
        "-read_intervals", f"{seek:.3f}%+#{END_CHECK_PACKETS}",
        "-show_entries", "packet=pts_time,duration_time", "-of", "json", url,
    ]  # fmt: skip


def check_decodes(report: dict[str, Any], source: SourceInfo) -> None:
    frames = report.get("frames")
    if not isinstance(frames, list) or not frames:
        raise UnusableVideo(
            f"The video stream ({source.video_codec}) could not be decoded: the file is "
            "damaged, or uses a codec StreamForge cannot read. Re-export it (for example as "
            "H.264 in MP4) and upload again."
        )


class Ffprobe:
    """One ffprobe process, started at once, so that two can run side by side; `report`
    waits for its JSON report, and a failure becomes the rejection that names the file's
    kind (from ffprobe's log and, through `head`, the file's first bytes)."""

    def __init__(
        self, command: list[str], timeout_seconds: float, *, head: Callable[[], bytes] = bytes
    ):
        self.timeout_seconds = timeout_seconds
        self._deadline = time.monotonic() + timeout_seconds
        self._head = head
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def report(self) -> dict[str, Any]:
        try:
            stdout, stderr = self._process.communicate(
                timeout=max(0.0, self._deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired as error:
            self.stop()
            raise SourceTimeout(
                f"Reading the uploaded file took longer than {self.timeout_seconds:g} s, the "
                "probe's limit: it is very slow to read (a large file with its index at the "
                'end, or a damaged one). Re-export it with the index at the start (MP4 "fast '
                'start") and upload again.'
            ) from error
        if self._process.returncode != 0:
            raise unreadable(stderr, self._head())
        report: dict[str, Any] = json.loads(stdout or "{}")
        return report

    def stop(self) -> None:
        """Kills the process if it still runs, and reaps it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def run_ffprobe(
    command: list[str], timeout_seconds: float, *, head: Callable[[], bytes] = bytes
) -> dict[str, Any]:
    """ffprobe's JSON report (`Ffprobe`, waited for)."""
    return Ffprobe(command, timeout_seconds, head=head).report()


class ProbeBudget:
    """The time left for ffprobe calls: each gets its own limit or what remains of the
    probe's, whichever is less."""

    def __init__(self, per_call_seconds: float, total_seconds: float = PROBE_BUDGET_SECONDS):
        self.per_call_seconds = per_call_seconds
        self.total_seconds = total_seconds
        self.deadline = time.monotonic() + total_seconds

    def next_timeout(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise SourceTimeout(
                f"Reading the uploaded file took longer than {self.total_seconds:g} s, the "
                "probe's limit. Re-export it with the index at the start (MP4 \"fast "
                'start") and upload again.'
            )
        return min(self.per_call_seconds, remaining)


def probe_source(s3: S3Client, settings: Settings, request: ProbeRequest) -> SourceInfo:
    bucket = settings.uploads_bucket
    version = request.source_version
    try:
        head = s3.head_object(Bucket=bucket, Key=request.source_key, VersionId=version)
    except s3.exceptions.ClientError as error:
        raise SourceMissing("The uploaded file could not be found; upload it again.") from error
    # An upload the pipeline reads has finished, whether or not its client called `complete`:
    # the lifecycle rule for unfinished uploads must not expire it (a FAILED video is
    # reprocessed from it), so its `upload=pending` tag goes before anything is checked.
    s3.delete_object_tagging(Bucket=bucket, Key=request.source_key, VersionId=version)
    size = int(head["ContentLength"])
    if size > settings.max_upload_bytes:
        raise SourceTooLarge(
            f"The file is {size} bytes, over the limit of {settings.max_upload_bytes} bytes."
        )
    if size == 0:
        raise NotAVideo("The uploaded file is empty. Upload the video again.")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": request.source_key, "VersionId": version},
        ExpiresIn=PRESIGN_SECONDS,
    )

    def first_bytes() -> bytes:
        ranged = s3.get_object(
            Bucket=bucket,
            Key=request.source_key,
            VersionId=version,
            Range=f"bytes=0-{SNIFF_BYTES - 1}",
        )
        return ranged["Body"].read()

    return read_source(url, size, settings, head=first_bytes)


def read_source(
    url: str, size: int, settings: Settings, *, head: Callable[[], bytes] = bytes
) -> SourceInfo:
    """ffprobe's facts about the source at `url`, its first frames decoded, and its
    duration checked against where its data ends, all within the probe's time budget."""
    binary, budget = settings.ffprobe_binary, ProbeBudget(settings.ffprobe_timeout_seconds)

    def decode(packets: int = DECODE_CHECK_PACKETS) -> Ffprobe:
        return Ffprobe(decode_check_command(binary, url, packets), budget.next_timeout())

    # The first packets' decode check needs nothing from the other calls, and the end check
    # only the declared duration: each starts as soon as it can, and their reports are read
    # in the order the checks were made one after the other, so the same check decides
    first_frames = decode(DECODE_FIRST_PACKETS)
    running = [first_frames]
    try:
        report = run_ffprobe(ffprobe_command(binary, url), budget.next_timeout(), head=head)
        source = parse_ffprobe(report, size_bytes=size)
        start = start_seconds(report)
        end_check = Ffprobe(
            end_check_command(binary, url, start + source.duration_seconds),
            budget.next_timeout(),
        )
        running.append(end_check)
        decoded, whole = first_frames.report(), False
        if not decoded.get("frames"):
            decoded, whole = decode().report(), True
        check_decodes(decoded, source)
        try:
            packets = end_check.report().get("packets", [])
        except SourceTimeout:
            raise
        except MediaRejected:
            packets = []  # not confirmed: the duration falls back to what was decoded
    finally:
        for process in running:
            process.stop()
    if not whole and not duration_confirmed(source.duration_seconds, start, packets):
        decoded = decode().report()  # the fallback reaches as far as the whole check's frames
    duration = verified_duration(
        source.duration_seconds, start, packets, list(decoded.get("frames", []))
    )
    return source.model_copy(update={"duration_seconds": duration})


def plan_jobs(request: ProbeRequest, source: SourceInfo, settings: Settings) -> Plan:
    """The H.264 ladder (plus HEVC and AV1 when enabled), the audio rendition if the source has
    audio, and the thumbnails, all from the same source: one job each, or with
    `job_strategy=balanced` or `chunk_ladder` the ladder and audio grouped into fewer jobs
    that share a decode (`lambdas.pipeline.strategy`); the thumbnails job is always its own.

    A source longer than `chunk_seconds` is cut into chunks (`lambdas.pipeline.chunks`):
    every video job becomes one job per chunk, and the audio is one job over the whole
    source (cheap, and gapless with no AAC priming at the joins)."""
    codecs: list[VideoCodec] = ["h264"]
    if settings.hevc_ladder:
        codecs.append("hevc")
    if settings.av1_ladder:
        codecs.append("av1")
    renditions: list[Rendition] = [
        rendition
        for codec in codecs
        for rendition in plan_ladder(
            source,
            max_short_side=settings.ladder_max_height,
            preset=settings.x264_preset,
            codec=codec,
            native_top_rung=settings.native_top_rung,
        )
    ]
    audio = plan_audio(source, settings.loudness_target_lufs)
    hints = SourceHints(
        interlaced=source.interlaced, transfer=source.transfer, audio_stream=source.audio_stream
    )
    source_pixel_rate = source.display_width * source.display_height * source.frame_rate

    def grouped(items: list[Rendition], *, early_rung: bool = False) -> list[list[Rendition]]:
        return groups_for(
            settings.job_strategy,
            items,
            lambda r: r,
            source_pixel_rate=source_pixel_rate,
            early_rung=early_rung,
        )

    # Chunked, the plan publishes its cheapest rung in a first wave (_chunked_waves)
    video_groups = grouped(renditions, early_rung=True)
    chunk_seconds = chunk_seconds_within(
        source.duration_seconds,
        settings.chunk_seconds,
        len(video_groups),
        MAX_CHUNK_JOBS,
        renditions_per_chunk=len(renditions),
    )
    chunks = plan_chunks(source.duration_seconds, chunk_seconds, SEGMENT_SECONDS)
    thumbnails = _job(request, hints, [plan_thumbnails(source)])
    if chunks:
        waves = _chunked_waves(
            [_job(request, hints, group, chunk) for group in video_groups for chunk in chunks],
            [_job(request, hints, [rendition]) for rendition in audio],
            thumbnails,
        )
    else:
        jobs = [_job(request, hints, group) for group in grouped([*renditions, *audio])]
        waves = [Wave(jobs=[*jobs, thumbnails])]
    timeout = settings.job_timeout_min_seconds + math.ceil(
        settings.job_timeout_per_source_second * source.duration_seconds
    )
    return Plan(
        video_id=request.video_id,
        source=source,
        waves=waves,
        job_timeout_seconds=timeout,
        # 0 (no bound of our own) is the inline Map's own bound, stated.
        max_concurrency=min(
            settings.max_parallel_jobs or INLINE_MAP_MAX_CONCURRENCY, INLINE_MAP_MAX_CONCURRENCY
        ),
    )


def plan_audio(source: SourceInfo, loudness_target_lufs: float | None) -> list[AudioRendition]:
    """One rendition per audio track, the default one first and named "audio" (where a
    single-track source's audio always was), the others "audio-N" (N: the stream among
    the source's audio streams); each normalised to the target loudness unless it is None."""
    if not source.has_audio:
        return []
    loudness = (
        None
        if loudness_target_lufs is None
        else LoudnessTarget(integrated_lufs=loudness_target_lufs)
    )
    if not source.audio_tracks:  # facts from before tracks were read: the default stream
        return [AudioRendition(loudness=loudness)]
    return [
        AudioRendition(
            name="audio" if index == 0 else f"audio-{track.stream}",
            stream=track.stream,
            language=track.language,
            title=track.title,
            default=index == 0,
            role=track.role,
            loudness=loudness,
        )
        for index, track in enumerate(source.audio_tracks)
    ]


def _chunked_waves(
    video: list[TranscodeJob], audio: list[TranscodeJob], thumbnails: TranscodeJob
) -> list[Wave]:
    """A long source plays early: first every chunk of the job holding the cheapest video
    rung (smallest picture) and the audio, then a provisional master; then the rest."""

    def picture(job: TranscodeJob) -> int:
        return min(r.width * r.height for r in job.renditions if isinstance(r, VideoRendition))

    # Of two jobs with the same smallest picture (chunk_ladder with the HEVC ladder: 240p
    # alone, and 240p-hevc in the group of the rest), the one with fewer renditions
    cheapest = min(video, key=lambda job: (picture(job), len(job.renditions))).name
    fast = [job for job in video if job.name == cheapest]
    rest = [job for job in video if job.name != cheapest]
    return [Wave(jobs=[*fast, *audio], provisional=True), Wave(jobs=[*rest, thumbnails])]


def _job(
    request: ProbeRequest,
    hints: SourceHints,
    group: list[Rendition],
    chunk: ChunkSpec | None = None,
) -> TranscodeJob:
    """One rendition's job, or a grouped job whose renditions each write under
    `{video_id}/hls/{name}/` (its output_prefix is their parent); of one chunk, if given."""
    first, *rest = group
    prefix = f"{request.video_id}/hls/" if rest else output_prefix(request.video_id, first)
    return TranscodeJob(
        video_id=request.video_id,
        source_key=request.source_key,
        source_version=request.source_version,
        output_prefix=prefix,
        source=hints,
        rendition=first,
        group=rest,
        chunk=chunk,
    )


def output_prefix(video_id: str, rendition: Rendition) -> str:
    if rendition.kind == "thumbnails":
        return f"{video_id}/thumbs/"
    return f"{video_id}/hls/{rendition.name}/"
