"""The thumbnails job as data: one FFmpeg pass over the source that writes a storyboard
sprite, poster candidates and previews; then the pure choices made from what it wrote.

One decode, three branches, each of which picks its own frames with `select` before any
scaling, so only the frames kept are scaled (or tone-mapped) and memory stays bounded:

- storyboard: the first frame of every `tile_interval_seconds`, tiled into one sprite
  sheet; the times of the frames it took go to a file, and become the WebVTT cues;
- poster candidates: frames evenly spread over 10-50 % of the duration, each measured
  by `signalstats`; the one with the widest luma spread wins (a black or fading frame
  has almost none);
- previews: `preview_count` frames evenly spread over the whole duration.

After the pass, `collect` chooses the poster, writes the storyboard's cues, checks every
file and makes the job's result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transcoder.command import deinterlace_filters, input_arguments, picture_filters
from transcoder.contract import SourceHints, ThumbnailsRendition, ThumbnailsResult, TranscodeJob
from transcoder.ffmpeg_process import EncodeStats, JobFailedError
from transcoder.storage import output_key

POSTER_NAME = "poster.jpg"
STORYBOARD_IMAGE_NAME = "storyboard.jpg"
STORYBOARD_VTT_NAME = "storyboard.vtt"
PREVIEW_PATTERN = "preview_%02d.jpg"  # preview_01.jpg, ... (image2 counts from 1)
CANDIDATE_PATTERN = "candidate_%03d.jpg"
TILE_TIMES_NAME = "tiles.txt"
CANDIDATE_STATS_NAME = "candidates.txt"
POSTER_WINDOW = (0.10, 0.50)  # fractions of the duration the poster is chosen from
_JPEG_QUALITY = {"poster": "2", "preview": "3", "storyboard": "4"}  # mjpeg qscale, 2 = best
_UNSAFE_IN_FILTERGRAPH = re.compile(r"[\\':,;\[\]=\s]")


@dataclass(frozen=True)
class FrameStats:
    time: float  # seconds from the source's first frame
    stats: dict[str, float]


def build_thumbnails_command(
    job: TranscodeJob, input_url: str, out_dir: Path, work_dir: Path, *, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """Published files go to out_dir, the candidates and the frame logs to work_dir."""
    spec = job.rendition
    if not isinstance(spec, ThumbnailsRendition):
        raise ValueError(f"a {spec.kind} job is not a thumbnails job")
    graph = filter_graph(spec, job.source, work_dir)
    outputs = [
        "-map", "[storyboard]", "-fps_mode", "passthrough", "-frames:v", "1", "-update", "1",
        "-q:v", _JPEG_QUALITY["storyboard"], str(out_dir / STORYBOARD_IMAGE_NAME),
        "-map", "[candidates]", "-fps_mode", "passthrough",
        "-q:v", _JPEG_QUALITY["poster"], str(work_dir / CANDIDATE_PATTERN),
    ]  # fmt: skip
    if spec.preview_count:
        outputs += [
            "-map", "[previews]", "-fps_mode", "passthrough",
            "-frames:v", str(spec.preview_count),
            "-q:v", _JPEG_QUALITY["preview"], str(out_dir / PREVIEW_PATTERN),
        ]  # fmt: skip
    return [
        ffmpeg,
        *input_arguments(job, input_url),  # a thumbnails job is never a chunk: no seek
        "-i",
        input_url,
        "-filter_complex",
        graph,
        "-map_metadata",
        "-1",
        *outputs,
    ]


def collect(
    job: TranscodeJob,
    spec: ThumbnailsRendition,
    out_dir: Path,
    work_dir: Path,
    stats: EncodeStats,
) -> tuple[list[str], ThumbnailsResult]:
    """What the pass wrote, made whole: the chosen candidate becomes the poster, the tiles'
    times the storyboard's cues. The files to publish (from `out_dir`) and the result."""
    tiles = read_frames(work_dir / TILE_TIMES_NAME)[: spec.columns * spec.rows]
    candidates = read_frames(work_dir / CANDIDATE_STATS_NAME)
    if not tiles or not candidates:
        raise JobFailedError("ffmpeg wrote no storyboard tiles or poster candidates")
    chosen = choose_poster(candidates)
    poster = work_dir / (CANDIDATE_PATTERN % (chosen + 1))  # image2 counts from 1
    if not poster.is_file():
        raise JobFailedError(f"ffmpeg did not write the chosen poster {poster.name}")
    poster.replace(out_dir / POSTER_NAME)
    (out_dir / STORYBOARD_VTT_NAME).write_text(storyboard_vtt([tile.time for tile in tiles], spec))
    previews = sorted(path.name for path in out_dir.glob("preview_*.jpg"))
    names = [POSTER_NAME, *previews, STORYBOARD_IMAGE_NAME, STORYBOARD_VTT_NAME]
    missing = [name for name in names if not (out_dir / name).is_file()]
    if missing:
        raise JobFailedError(f"ffmpeg did not write {missing}")
    prefix = job.output_prefix
    result = ThumbnailsResult(
        video_id=job.video_id,
        name=job.name,
        kind="thumbnails",
        poster_key=output_key(prefix, POSTER_NAME),
        poster_time_seconds=round(candidates[chosen].time, 3),
        preview_keys=[output_key(prefix, name) for name in previews],
        storyboard_image_key=output_key(prefix, STORYBOARD_IMAGE_NAME),
        storyboard_vtt_key=output_key(prefix, STORYBOARD_VTT_NAME),
        tile_count=len(tiles),
        output_bytes=sum((out_dir / name).stat().st_size for name in names),
        encode_wall_seconds=round(stats.wall_seconds, 3),
        encode_cpu_seconds=round(stats.cpu_seconds, 3),
        peak_memory_bytes=stats.peak_memory_bytes,
    )
    return names, result


def read_frames(path: Path) -> list[FrameStats]:
    """The frames a `metadata=mode=print` file lists; none if FFmpeg wrote no file."""
    return parse_frame_metadata(path.read_text()) if path.is_file() else []


def filter_graph(spec: ThumbnailsRendition, source: SourceHints, work_dir: Path) -> str:
    branches = ["tiles", "candidates"] + (["previews"] if spec.preview_count else [])
    decode = [
        "setpts=PTS-STARTPTS",  # times from the first frame, whatever the container's start
        *deinterlace_filters(source, keep_fields=False),
        f"split={len(branches)}",
    ]
    poster_size = picture_filters(spec.poster_width, spec.poster_height, source.transfer)
    tile_size = picture_filters(spec.tile_width, spec.tile_height, source.transfer, flags="bicubic")
    tiles = [
        f"select='{tile_selection(spec)}'",
        # metadata=print writes only frames that carry metadata: give each tile some.
        "metadata=mode=add:key=streamforge.tile:value=1",
        f"metadata=mode=print:file={_filter_path(work_dir / TILE_TIMES_NAME)}",
        *tile_size,
        "setsar=1",
        f"tile={spec.columns}x{spec.rows}",
    ]
    candidates = [
        # The first frame too, as a last resort for a clip too short to reach the others.
        f"select='eq(n,0)+{first_frames_at(poster_candidate_times(spec))}'",
        *poster_size,
        "setsar=1",
        "signalstats",
        f"metadata=mode=print:file={_filter_path(work_dir / CANDIDATE_STATS_NAME)}",
    ]
    chains = [
        "[0:V:0]" + ",".join(decode) + "".join(f"[{name}_in]" for name in branches),
        "[tiles_in]" + ",".join(tiles) + "[storyboard]",
        "[candidates_in]" + ",".join(candidates) + "[candidates]",
    ]
    if spec.preview_count:
        previews = [
            f"select='{first_frames_at(preview_times(spec))}'",
            *poster_size,
            "setsar=1",
        ]
        chains.append("[previews_in]" + ",".join(previews) + "[previews]")
    return ";".join(chains)


def tile_selection(spec: ThumbnailsRendition) -> str:
    """The first frame of each interval, up to as many tiles as the sheet holds."""
    interval = f"{spec.tile_interval_seconds:g}"
    end = f"{spec.columns * spec.rows * spec.tile_interval_seconds:g}"
    return f"(isnan(prev_t)+gt(floor(t/{interval}),floor(prev_t/{interval})))*lt(t,{end})"


def first_frames_at(times: Sequence[float]) -> str:
    """A select expression true for the first frame at or after each of the times."""
    if not times:
        return "0"
    return "+".join(f"gte(t,{time:.3f})*lt(prev_t,{time:.3f})" for time in times)


def poster_candidate_times(spec: ThumbnailsRendition) -> list[float]:
    start, end = (fraction * spec.duration_seconds for fraction in POSTER_WINDOW)
    count = spec.poster_candidates
    if count == 1:
        return [round((start + end) / 2, 3)]
    return [round(start + (end - start) * i / (count - 1), 3) for i in range(count)]


def preview_times(spec: ThumbnailsRendition) -> list[float]:
    count = spec.preview_count
    return [round(spec.duration_seconds * i / (count + 1), 3) for i in range(1, count + 1)]


def parse_frame_metadata(text: str) -> list[FrameStats]:
    """The file `metadata=mode=print` writes: a "frame:N pts:P pts_time:T" line per frame,
    then its "key=value" lines."""
    frames: list[FrameStats] = []
    for line in text.splitlines():
        if line.startswith("frame:"):
            fields = dict(part.split(":", 1) for part in line.split() if ":" in part)
            frames.append(FrameStats(float(fields["pts_time"]), {}))
        elif "=" in line and frames:
            key, _, value = line.partition("=")
            try:
                frames[-1].stats[key.rsplit(".", 1)[-1]] = float(value)
            except ValueError:
                continue
    return frames


def poster_score(frame: FrameStats) -> float:
    """Luma spread between the 10th and 90th percentile: 0 for a black or flat frame,
    low while fading; a frame near black or white on average is marked down as well."""
    spread = frame.stats.get("YHIGH", 0.0) - frame.stats.get("YLOW", 0.0)
    average = frame.stats.get("YAVG", 0.0)
    extreme = average < 24 or average > 232
    return spread / 4 if extreme else spread


def choose_poster(candidates: Sequence[FrameStats]) -> int:
    """Index of the best candidate, the earliest among equals; the first frame (time 0)
    only when there is no other."""
    if not candidates:
        raise ValueError("no poster candidates")
    pool = [i for i, frame in enumerate(candidates) if frame.time > 0] or [0]
    return max(pool, key=lambda i: (poster_score(candidates[i]), -i))


def storyboard_vtt(
    tile_times: Sequence[float], spec: ThumbnailsRendition, image: str = STORYBOARD_IMAGE_NAME
) -> str:
    """One cue per tile, back to back from 0 to the end: each tile shows from its frame's
    time (the first from 0) until the next one's, the last until the end of the video."""
    times = list(tile_times)[: spec.columns * spec.rows]
    if not times:
        raise ValueError("the storyboard has no tiles")
    lines = ["WEBVTT", ""]
    for index, time in enumerate(times):
        start = 0.0 if index == 0 else time
        end = times[index + 1] if index + 1 < len(times) else max(spec.duration_seconds, time)
        if end <= start:
            end = start + 0.001
        x = (index % spec.columns) * spec.tile_width
        y = (index // spec.columns) * spec.tile_height
        lines += [
            f"{_vtt_time(start)} --> {_vtt_time(end)}",
            f"{image}#xywh={x},{y},{spec.tile_width},{spec.tile_height}",
            "",
        ]
    return "\n".join(lines) + "\n"


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _filter_path(path: Path) -> str:
    # A file name inside a filtergraph would need two levels of escaping; refuse instead.
    if _UNSAFE_IN_FILTERGRAPH.search(str(path)):
        raise ValueError(f"path not usable inside a filtergraph: {path}")
    return str(path)
