"""One job from start to finish: encode, measure, upload the media, then the result.

The result JSON is written last, and only when everything before it worked: its
presence is what tells the rest of the pipeline that the rendition is complete.

A grouped job runs one FFmpeg process for all its renditions and then writes one result
per rendition, each as its single job would; the encode wall, CPU and peak memory in
those results are the shared process's, the same figures in every one of them (a shared
process's cost cannot be meaningfully split per rendition).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from transcoder import loudness, thumbnails
from transcoder.codecs import codec_string, frame_rate
from transcoder.command import (
    PLAYLIST_NAME,
    audio_stream,
    build_job_command,
    build_probe_command,
    concat_target,
    input_options,
    reports_ssim,
)
from transcoder.contract import (
    AudioRendition,
    JobResult,
    ThumbnailsRendition,
    ThumbnailsResult,
    TranscodeJob,
    VideoRendition,
    result_key,
)
from transcoder.ffmpeg_log import LogSummary, scan
from transcoder.playlist import (
    MediaPlaylist,
    average_bitrate_bps,
    conform_target_duration,
    parse_media_playlist,
    peak_bitrate_bps,
)
from transcoder.settings import Settings
from transcoder.storage import MediaStore, content_type

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 50
_UPLOAD_THREADS = 8
_MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
# A query string can carry a credential (a presigned URL's does): keep it out of the logs.
_URL_QUERY = re.compile(r"(https?://[^\s?'\"]*)\?[^\s'\":]*")
_ERROR_LEVEL = re.compile(r"\[(error|fatal|panic)\]")
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")


class JobFailedError(Exception):
    """The job did not produce a complete rendition; no result was written."""

    def __init__(self, message: str, stderr_tail: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.stderr_tail = list(stderr_tail)


class MediaError(JobFailedError):
    """FFmpeg itself refused this input: another attempt would fail the same way."""

    @property
    def reason(self) -> str:
        """FFmpeg's last two errors (the cause, then its consequence), without addresses."""
        errors = [line for line in self.stderr_tail if _ERROR_LEVEL.search(line)]
        lines = errors[-2:] or self.stderr_tail[-1:]
        return "; ".join(_ADDRESS.sub("", line) for line in lines) if lines else str(self)


@dataclass(frozen=True)
class EncodeStats:
    wall_seconds: float
    cpu_seconds: float  # user + system of the child processes
    peak_memory_bytes: int
    ssim: float | None = None  # what the video encoder measured, if it did
    ssims: tuple[float, ...] = ()  # every encoder's, in the log's order (a grouped job)
    loudnorm_modes: tuple[str, ...] = ()  # what each loudnorm applied, in the log's order


def run_job(
    job: TranscodeJob, settings: Settings, store: MediaStore
) -> JobResult | ThumbnailsResult | list[JobResult]:
    if isinstance(job.rendition, ThumbnailsRendition):
        return run_thumbnails_job(job, job.rendition, settings, store)
    if job.group:
        return run_group_job(job, settings, store)
    return run_rendition_job(job, settings, store)


def run_rendition_job(job: TranscodeJob, settings: Settings, store: MediaStore) -> JobResult:
    with (
        tempfile.TemporaryDirectory(prefix="streamforge-", dir=settings.work_dir) as tmp,
        store.serve_source(job.source_key, job.source_version) as source_url,
    ):
        work_dir = Path(tmp)
        out_dir = work_dir / "out"
        out_dir.mkdir()
        plans = plan_loudness([job], source_url, settings)
        command = build_job_command(
            job, source_url, out_dir, ffmpeg=settings.ffmpeg_binary, audio_filters=filters(plans)
        )
        log.info(
            "encoding %s of %s",
            job.label,
            job.video_id,
            extra={"fields": {**_source_fields(job), "command": redact(command)}},
        )
        stats = run_ffmpeg(command, work_dir / "ffmpeg.log")
        playlist = read_playlist(out_dir)
        stream = probe_output(settings.ffprobe_binary, out_dir, playlist)
        result = measure(job, out_dir, playlist, stream, stats)
        result = with_audio_facts(
            job, result, out_dir, playlist, plans=plans, stats=stats, settings=settings
        )
        publish(store, job, out_dir, playlist)
        store.put_json(
            result_key(job.video_id, job.name, job.chunk), result.model_dump_json(), made_by(job)
        )
        return result


def run_group_job(job: TranscodeJob, settings: Settings, store: MediaStore) -> list[JobResult]:
    """One decode, every rendition of the group; one result per rendition, written only
    after every rendition's media is checked and uploaded."""
    members = job.members()
    with (
        tempfile.TemporaryDirectory(prefix="streamforge-", dir=settings.work_dir) as tmp,
        store.serve_source(job.source_key, job.source_version) as source_url,
    ):
        work_dir = Path(tmp)
        out_root = work_dir / "out"
        for member in members:
            (out_root / member.name).mkdir(parents=True)
        plans = plan_loudness(members, source_url, settings)
        command = build_job_command(
            job, source_url, out_root, ffmpeg=settings.ffmpeg_binary, audio_filters=filters(plans)
        )
        log.info(
            "encoding %s of %s in one process",
            job.label,
            job.video_id,
            extra={"fields": {**_source_fields(job), "command": redact(command)}},
        )
        stats = run_ffmpeg(command, work_dir / "ffmpeg.log")
        ssims = _group_ssims(members, stats)
        outputs = []
        for member in members:
            out_dir = out_root / member.name
            playlist = read_playlist(out_dir)
            stream = probe_output(settings.ffprobe_binary, out_dir, playlist)
            member_stats = replace(stats, ssim=ssims.get(member.name))
            result = measure(member, out_dir, playlist, stream, member_stats)
            result = with_audio_facts(
                member, result, out_dir, playlist, plans=plans, stats=stats, settings=settings
            )
            outputs.append((member, out_dir, playlist, result))
        for member, out_dir, playlist, _ in outputs:
            publish(store, member, out_dir, playlist)
        # The results last, once every rendition's media is up.
        for member, _, _, result in outputs:
            key = result_key(member.video_id, member.name, member.chunk)
            store.put_json(key, result.model_dump_json(), made_by(job))
        return [result for *_, result in outputs]


def _group_ssims(members: Sequence[TranscodeJob], stats: EncodeStats) -> dict[str, float]:
    """Each video encoder prints its SSIM when FFmpeg closes it, in output order; matched
    to the video renditions only when there is exactly one figure per video rendition."""
    videos = [
        m.name
        for m in members
        if isinstance(m.rendition, VideoRendition) and reports_ssim(m.rendition)
    ]
    if len(stats.ssims) != len(videos):
        return {}
    return dict(zip(videos, stats.ssims, strict=True))


def run_ffmpeg(command: Sequence[str], log_path: Path) -> EncodeStats:
    """Run FFmpeg to completion with its stderr in a file (never buffered in memory)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log_path.open("wb") as stderr:
        try:
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
        except OSError as exc:
            raise JobFailedError(f"cannot run {command[0]}: {exc}") from exc
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = _read_log(log_path)
    tail = redact(summary.tail)
    if completed.returncode != 0:
        last = tail[-1] if tail else "no error output"
        # A negative code is a signal (killed from outside), not FFmpeg's verdict on the input.
        error = MediaError if completed.returncode > 0 else JobFailedError
        raise error(f"ffmpeg exited with {completed.returncode}: {last}", tail)
    if summary.problems:
        log.warning(
            "ffmpeg reported problems",
            extra={"fields": {"stderr_tail": redact(list(summary.problems))}},
        )
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; FFmpeg is the first.
    return EncodeStats(
        wall,
        cpu,
        after.ru_maxrss * _MAXRSS_BYTES,
        summary.ssim,
        tuple(summary.ssims),
        tuple(summary.loudnorm_modes),
    )


def plan_loudness(
    jobs: Sequence[TranscodeJob], source_url: str, settings: Settings
) -> dict[str, loudness.LoudnessPlan]:
    """The first loudness pass of every audio rendition that asks for one, by name."""
    return {
        job.name: measure_loudness(job, job.rendition, source_url, settings)
        for job in jobs
        if isinstance(job.rendition, AudioRendition) and job.rendition.loudness is not None
    }


def measure_loudness(
    job: TranscodeJob, rendition: AudioRendition, source_url: str, settings: Settings
) -> loudness.LoudnessPlan:
    assert rendition.loudness is not None
    command = loudness.measure_command(
        settings.ffmpeg_binary,
        input_options(source_url),
        source_url,
        audio_stream(rendition, job.source),
        rendition.loudness,
    )
    completed = _run_capturing(command)
    if completed.returncode != 0:
        tail = redact(completed.stderr.splitlines()[-STDERR_TAIL_LINES:])
        error = MediaError if completed.returncode > 0 else JobFailedError
        raise error(
            f"measuring the loudness of {job.name} failed (exit {completed.returncode})", tail
        )
    try:
        measured = loudness.parse_measurement(completed.stderr, completed.stdout)
    except ValueError as exc:
        raise JobFailedError(f"measuring the loudness of {job.name}: {exc}") from exc
    chosen = loudness.plan(measured, rendition.loudness)
    log.info(
        "loudness of %s: %s",
        job.name,
        chosen.note,
        extra={"fields": {"measured": measured.__dict__}},
    )
    return chosen


def filters(plans: dict[str, loudness.LoudnessPlan]) -> dict[str, str]:
    return {name: plan.filter for name, plan in plans.items() if plan.filter}


def with_audio_facts(
    job: TranscodeJob,
    result: JobResult,
    out_dir: Path,
    playlist: MediaPlaylist,
    *,
    plans: dict[str, loudness.LoudnessPlan],
    stats: EncodeStats,
    settings: Settings,
) -> JobResult:
    """An audio result with its track (language, title, default, role), what loudness
    normalisation did, and the output's own loudness by ebur128; a video result as it is."""
    rendition = job.rendition
    if not isinstance(rendition, AudioRendition):
        return result
    plan = plans.get(job.name)
    note = "off" if plan is None else plan.note
    normalised = [name for name, each in plans.items() if each.filter]
    # The mode FFmpeg reports, when the log's one report can only be this rendition's
    if plan is not None and normalised == [job.name] and len(stats.loudnorm_modes) == 1:
        note = f"normalised ({stats.loudnorm_modes[0]})"
    lufs, peak = output_loudness(settings.ffmpeg_binary, out_dir, playlist)
    return result.model_copy(
        update={
            "language": rendition.language,
            "title": rendition.title,
            "default": rendition.default,
            "role": rendition.role,
            "loudness": note,
            "source_loudness_lufs": plan.source_lufs if plan else None,
            "loudness_lufs": lufs,
            "true_peak_dbtp": peak,
        }
    )


def output_loudness(
    ffmpeg: str, out_dir: Path, playlist: MediaPlaylist
) -> tuple[float | None, float | None]:
    """The rendition's integrated loudness and true peak, decoded from its own files."""
    files = [out_dir / name for name in _media_files(playlist)]
    completed = _run_capturing(loudness.ebur128_command(ffmpeg, loudness.measure_target(files)))
    if completed.returncode != 0:
        log.warning("ebur128 could not measure the output (exit %s)", completed.returncode)
        return None, None
    return loudness.parse_ebur128(completed.stderr)


def _run_capturing(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise JobFailedError(f"cannot run {command[0]}: {exc}") from exc


def _read_log(path: Path) -> LogSummary:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return scan(lines, STDERR_TAIL_LINES)


def read_playlist(out_dir: Path) -> MediaPlaylist:
    path = out_dir / PLAYLIST_NAME
    if not path.is_file():
        raise JobFailedError(f"ffmpeg wrote no {PLAYLIST_NAME}")
    text = path.read_text()
    try:
        playlist = parse_media_playlist(text)
    except ValueError as exc:
        raise JobFailedError(f"cannot parse {PLAYLIST_NAME}: {exc}") from exc
    if not playlist.ended or not playlist.segments:
        raise JobFailedError(f"{PLAYLIST_NAME} is not a complete fMP4 VOD playlist")
    conformed, playlist = conform_target_duration(text, playlist)
    if conformed != text:
        path.write_text(conformed)
    missing = [name for name in _media_files(playlist) if not (out_dir / name).is_file()]
    if missing:
        raise JobFailedError(f"{PLAYLIST_NAME} names files ffmpeg did not write: {missing}")
    return playlist


def probe_output(ffprobe: str, out_dir: Path, playlist: MediaPlaylist) -> dict[str, Any]:
    """ffprobe's description of the output's only stream (init segment + first segment)."""
    files = [out_dir / name for name in _media_files(playlist)[:2]]
    command = build_probe_command(concat_target(files), ffprobe=ffprobe)
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise JobFailedError(f"cannot run {ffprobe}: {exc}") from exc
    if completed.returncode != 0:
        tail = completed.stderr.splitlines()[-STDERR_TAIL_LINES:]
        raise JobFailedError(
            f"ffprobe could not read the output (exit {completed.returncode})", tail
        )
    streams: list[dict[str, Any]] = json.loads(completed.stdout).get("streams", [])
    if len(streams) != 1:
        raise JobFailedError(f"expected one stream in the output, found {len(streams)}")
    return streams[0]


def measure(
    job: TranscodeJob,
    out_dir: Path,
    playlist: MediaPlaylist,
    stream: dict[str, Any],
    stats: EncodeStats,
) -> JobResult:
    kind = job.rendition.kind
    if kind not in ("video", "audio") or stream.get("codec_type") != kind:
        raise JobFailedError(f"expected a {kind} stream, found {stream.get('codec_type')}")
    sized = [((out_dir / seg.uri).stat().st_size, seg.duration) for seg in playlist.segments]
    segment_bytes = sum(size for size, _ in sized)
    output_bytes = sum(
        (out_dir / name).stat().st_size for name in (*_media_files(playlist), PLAYLIST_NAME)
    )
    is_video = kind == "video"
    return JobResult(
        video_id=job.video_id,
        name=job.name,
        kind=kind,
        playlist_key=_key(job, PLAYLIST_NAME),
        init_key=_key(job, _init_name(playlist)),
        segment_keys=[_key(job, seg.uri) for seg in playlist.segments],
        segment_durations=[seg.duration for seg in playlist.segments],
        segment_bytes=[size for size, _ in sized],
        codecs=codec_string(stream),
        duration_seconds=round(playlist.duration_seconds, 6),
        start_seconds=_start_seconds(stream),
        target_duration=playlist.target_duration,
        # Media segments only (not the init segment): what a player fetches per second.
        average_bitrate_bps=average_bitrate_bps(segment_bytes, playlist.duration_seconds),
        peak_bitrate_bps=peak_bitrate_bps(sized),
        output_bytes=output_bytes,
        width=int(stream["width"]) if is_video else None,
        height=int(stream["height"]) if is_video else None,
        frame_rate=frame_rate(stream) if is_video else None,
        ssim=_ssim(stats.ssim) if is_video and _measures_ssim(job) else None,
        channels=None if is_video else int(stream["channels"]),
        sample_rate=None if is_video else int(stream["sample_rate"]),
        encode_wall_seconds=round(stats.wall_seconds, 3),
        encode_cpu_seconds=round(stats.cpu_seconds, 3),
        peak_memory_bytes=stats.peak_memory_bytes,
        chunk=job.chunk,
    )


def _start_seconds(stream: dict[str, Any]) -> float:
    try:
        return round(float(stream["start_time"]), 6)
    except (KeyError, ValueError) as exc:
        raise JobFailedError("ffprobe gave no start time for the output") from exc


def _measures_ssim(job: TranscodeJob) -> bool:
    return isinstance(job.rendition, VideoRendition) and reports_ssim(job.rendition)


def _ssim(value: float | None) -> float | None:
    # A quality figure, not a reason to fail the rendition: missing, it is recorded as such.
    if value is None or not 0 < value <= 1:
        log.warning("the encoder reported no usable SSIM (%s)", value)
        return None
    return round(value, 6)


def publish(store: MediaStore, job: TranscodeJob, out_dir: Path, playlist: MediaPlaylist) -> None:
    """A chunk's init segment is byte-identical in every chunk of its rung (`-hls_segment_
    options movflags=+frag_discont`), so each chunk may write it; its playlist lists only
    its own segments, so the rung's playlist is the finaliser's, from every chunk's result."""
    upload_files(store, job, out_dir, _media_files(playlist))
    if job.chunk is None:
        # The playlist after its segments: whoever can read it can fetch all it names.
        upload_files(store, job, out_dir, [PLAYLIST_NAME])


def upload_files(store: MediaStore, job: TranscodeJob, out_dir: Path, names: list[str]) -> None:
    kind = job.rendition.kind

    def upload(name: str) -> None:
        store.upload_file(out_dir / name, _key(job, name), content_type(name, kind))

    with ThreadPoolExecutor(max_workers=_UPLOAD_THREADS) as pool:
        list(pool.map(upload, names))  # re-raises the first failure


def run_thumbnails_job(
    job: TranscodeJob, spec: ThumbnailsRendition, settings: Settings, store: MediaStore
) -> ThumbnailsResult:
    with (
        tempfile.TemporaryDirectory(prefix="streamforge-", dir=settings.work_dir) as tmp,
        store.serve_source(job.source_key, job.source_version) as source_url,
    ):
        work_dir = Path(tmp)
        out_dir = work_dir / "out"
        out_dir.mkdir()
        command = thumbnails.build_thumbnails_command(
            job, source_url, out_dir, work_dir, ffmpeg=settings.ffmpeg_binary
        )
        log.info(
            "making thumbnails of %s",
            job.video_id,
            extra={"fields": {**_source_fields(job), "command": redact(command)}},
        )
        stats = run_ffmpeg(command, work_dir / "ffmpeg.log")
        tiles = _frames(work_dir / thumbnails.TILE_TIMES_NAME)[: spec.columns * spec.rows]
        candidates = _frames(work_dir / thumbnails.CANDIDATE_STATS_NAME)
        if not tiles or not candidates:
            raise JobFailedError("ffmpeg wrote no storyboard tiles or poster candidates")
        chosen = thumbnails.choose_poster(candidates)
        poster = work_dir / (thumbnails.CANDIDATE_PATTERN % (chosen + 1))  # image2 counts from 1
        if not poster.is_file():
            raise JobFailedError(f"ffmpeg did not write the chosen poster {poster.name}")
        poster.replace(out_dir / thumbnails.POSTER_NAME)
        (out_dir / thumbnails.STORYBOARD_VTT_NAME).write_text(
            thumbnails.storyboard_vtt([tile.time for tile in tiles], spec)
        )
        previews = sorted(path.name for path in out_dir.glob("preview_*.jpg"))
        names = [
            thumbnails.POSTER_NAME,
            *previews,
            thumbnails.STORYBOARD_IMAGE_NAME,
            thumbnails.STORYBOARD_VTT_NAME,
        ]
        missing = [name for name in names if not (out_dir / name).is_file()]
        if missing:
            raise JobFailedError(f"ffmpeg did not write {missing}")
        upload_files(store, job, out_dir, names)
        result = ThumbnailsResult(
            video_id=job.video_id,
            name=job.name,
            kind="thumbnails",
            poster_key=_key(job, thumbnails.POSTER_NAME),
            poster_time_seconds=round(candidates[chosen].time, 3),
            preview_keys=[_key(job, name) for name in previews],
            storyboard_image_key=_key(job, thumbnails.STORYBOARD_IMAGE_NAME),
            storyboard_vtt_key=_key(job, thumbnails.STORYBOARD_VTT_NAME),
            tile_count=len(tiles),
            output_bytes=sum((out_dir / name).stat().st_size for name in names),
            encode_wall_seconds=round(stats.wall_seconds, 3),
            encode_cpu_seconds=round(stats.cpu_seconds, 3),
            peak_memory_bytes=stats.peak_memory_bytes,
        )
        store.put_json(result_key(job.video_id, job.name), result.model_dump_json(), made_by(job))
        return result


def _frames(path: Path) -> list[thumbnails.FrameStats]:
    return thumbnails.parse_frame_metadata(path.read_text()) if path.is_file() else []


def _source_fields(job: TranscodeJob) -> dict[str, str]:
    return {"source_key": job.source_key, "source_version": job.source_version}


def redact(lines: Sequence[str]) -> list[str]:
    return [_URL_QUERY.sub(r"\1?<redacted>", line) for line in lines]


def _init_name(playlist: MediaPlaylist) -> str:
    if playlist.map_uri is None:
        raise JobFailedError(f"{PLAYLIST_NAME} has no EXT-X-MAP: not fMP4")
    return playlist.map_uri


def _media_files(playlist: MediaPlaylist) -> list[str]:
    """The init segment, then the media segments, in playlist order."""
    return [_init_name(playlist), *(segment.uri for segment in playlist.segments)]


def made_by(job: TranscodeJob) -> dict[str, str]:
    """A result's metadata: the fingerprint of the job that made it, which a reprocess
    compares with its plan to keep the result (lambdas/pipeline/kept.py computes the same)."""
    canonical = json.dumps(job.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {"job-sha256": hashlib.sha256(canonical.encode()).hexdigest()}


def failure_key(job: TranscodeJob) -> str:
    """Where a job FFmpeg refused leaves the reason (lambdas/pipeline/failure.py reads it)."""
    return result_key(job.video_id, job.name, job.chunk).removesuffix(".json") + ".failed.json"


def _key(job: TranscodeJob, name: str) -> str:
    prefix = job.output_prefix if job.output_prefix.endswith("/") else f"{job.output_prefix}/"
    return prefix + name
