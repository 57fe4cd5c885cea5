"""One job from start to finish: encode, check and measure, upload the media, then the results.

Every job takes the same path (`run_job`): one FFmpeg process (`Encoding`), then each of
its outputs checked and measured (`Output`), every output's media uploaded, and only then
the results. The result JSON is written last, and only when everything before it worked:
its presence is what tells the rest of the pipeline that the rendition is complete.

A grouped job runs one FFmpeg process for all its renditions and then writes one result
per rendition, each as its single job would; the encode wall, CPU and peak memory in
those results are the shared process's, the same figures in every one of them (a shared
process's cost cannot be meaningfully split per rendition).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable, Sequence
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
from transcoder.ffmpeg_process import (
    STDERR_TAIL_LINES,
    EncodeStats,
    JobFailedError,
    failure,
    redact,
    run_capturing,
    run_ffmpeg,
)
from transcoder.playlist import (
    MediaPlaylist,
    average_bitrate_bps,
    conform_target_duration,
    parse_media_playlist,
    peak_bitrate_bps,
)
from transcoder.settings import Settings
from transcoder.storage import MediaStore, content_type, output_key

log = logging.getLogger(__name__)

_UPLOAD_THREADS = 8


@dataclass(frozen=True)
class Output:
    """One rendition (or the thumbnails) a job wrote, checked and measured."""

    job: TranscodeJob  # the single job it is the output of (a group's member)
    out_dir: Path
    uploads: tuple[list[str], ...]  # batches of file names, each uploaded after the last
    result: JobResult | ThumbnailsResult


@dataclass(frozen=True)
class Encoding:
    """A job's one FFmpeg process, and how to collect the outputs it wrote."""

    description: str  # what the log says it does
    command: list[str]
    collect: Callable[[EncodeStats], list[Output]]


def run_job(
    job: TranscodeJob, settings: Settings, store: MediaStore
) -> JobResult | ThumbnailsResult | list[JobResult | ThumbnailsResult]:
    """A grouped job's results as a list, one per member; any other job's result."""
    with (
        tempfile.TemporaryDirectory(prefix="streamforge-", dir=settings.work_dir) as tmp,
        store.serve_source(job.source_key, job.source_version) as source_url,
    ):
        work_dir = Path(tmp)
        spec = job.rendition
        encoding = (
            prepare_thumbnails(job, spec, source_url, work_dir, settings)
            if isinstance(spec, ThumbnailsRendition)
            else prepare_renditions(job, source_url, work_dir, settings)
        )
        log.info(
            "%s",
            encoding.description,
            extra={"fields": {**_source_fields(job), "command": redact(encoding.command)}},
        )
        outputs = encoding.collect(run_ffmpeg(encoding.command, work_dir / "ffmpeg.log"))
        for output in outputs:
            for names in output.uploads:
                upload_files(store, output.job, output.out_dir, names)
        # The results last, once every output's media is up.
        for output in outputs:
            key = result_key(output.job.video_id, output.job.name, output.job.chunk)
            store.put_json(key, output.result.model_dump_json(), made_by(job))
    results = [output.result for output in outputs]
    return results if job.group else results[0]


def prepare_renditions(
    job: TranscodeJob, source_url: str, work_dir: Path, settings: Settings
) -> Encoding:
    """A single job's rendition into `out`; a grouped job's, from one decode, each into
    `out/NAME`. The encode wall, CPU and peak memory are the one process's, in every result."""
    members = job.members()
    out_root = work_dir / "out"
    out_dirs = [out_root / member.name if job.group else out_root for member in members]
    for out_dir in out_dirs:
        out_dir.mkdir(parents=True)
    plans = plan_loudness(members, source_url, settings)
    command = build_job_command(
        job, source_url, out_root, ffmpeg=settings.ffmpeg_binary, audio_filters=filters(plans)
    )

    def collect(stats: EncodeStats) -> list[Output]:
        ssims = _ssims_by_rendition(members, stats)
        return [
            collect_rendition(
                member,
                out_dir,
                replace(stats, ssim=ssims.get(member.name)),
                plans=plans,
                settings=settings,
            )
            for member, out_dir in zip(members, out_dirs, strict=True)
        ]

    together = " in one process" if job.group else ""
    return Encoding(f"encoding {job.label} of {job.video_id}{together}", command, collect)


def collect_rendition(
    job: TranscodeJob,
    out_dir: Path,
    stats: EncodeStats,
    *,
    plans: dict[str, loudness.LoudnessPlan],
    settings: Settings,
) -> Output:
    """The rendition's playlist and files checked, its stream probed, its result measured.

    Its media goes up first, then its playlist: whoever can read the playlist can fetch all
    it names. A chunk's init segment is byte-identical in every chunk of its rung (`-hls_
    segment_options movflags=+frag_discont`), so each chunk may write it; its playlist lists
    only its own segments and is not published: the rung's playlist is the finaliser's."""
    playlist = read_playlist(out_dir)
    stream = probe_output(settings.ffprobe_binary, out_dir, playlist)
    result = measure(job, out_dir, playlist, stream, stats)
    result = with_audio_facts(
        job, result, out_dir, playlist, plans=plans, stats=stats, settings=settings
    )
    playlist_upload = [[PLAYLIST_NAME]] if job.chunk is None else []
    return Output(job, out_dir, (_media_files(playlist), *playlist_upload), result)


def prepare_thumbnails(
    job: TranscodeJob,
    spec: ThumbnailsRendition,
    source_url: str,
    work_dir: Path,
    settings: Settings,
) -> Encoding:
    out_dir = work_dir / "out"
    out_dir.mkdir()
    command = thumbnails.build_thumbnails_command(
        job, source_url, out_dir, work_dir, ffmpeg=settings.ffmpeg_binary
    )

    def collect(stats: EncodeStats) -> list[Output]:
        names, result = thumbnails.collect(job, spec, out_dir, work_dir, stats)
        return [Output(job, out_dir, (names,), result)]

    return Encoding(f"making thumbnails of {job.video_id}", command, collect)


def _ssims_by_rendition(members: Sequence[TranscodeJob], stats: EncodeStats) -> dict[str, float]:
    """Each video encoder prints its SSIM when FFmpeg closes it, in output order; matched
    to the video renditions only when there is exactly one figure per video rendition."""
    videos = [member.name for member in members if _measures_ssim(member)]
    if len(stats.ssims) != len(videos):
        return {}
    return dict(zip(videos, stats.ssims, strict=True))


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
    completed = run_capturing(command)
    if completed.returncode != 0:
        tail = redact(completed.stderr.splitlines()[-STDERR_TAIL_LINES:])
        message = f"measuring the loudness of {job.name} failed (exit {completed.returncode})"
        raise failure(completed.returncode, message, tail)
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
    completed = run_capturing(loudness.ebur128_command(ffmpeg, loudness.measure_target(files)))
    if completed.returncode != 0:
        log.warning("ebur128 could not measure the output (exit %s)", completed.returncode)
        return None, None
    return loudness.parse_ebur128(completed.stderr)


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
    completed = run_capturing(build_probe_command(concat_target(files), ffprobe=ffprobe))
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


def upload_files(store: MediaStore, job: TranscodeJob, out_dir: Path, names: list[str]) -> None:
    kind = job.rendition.kind

    def upload(name: str) -> None:
        store.upload_file(out_dir / name, _key(job, name), content_type(name, kind))

    with ThreadPoolExecutor(max_workers=_UPLOAD_THREADS) as pool:
        list(pool.map(upload, names))  # re-raises the first failure


def _source_fields(job: TranscodeJob) -> dict[str, str]:
    return {"source_key": job.source_key, "source_version": job.source_version}


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
    return output_key(job.output_prefix, name)
