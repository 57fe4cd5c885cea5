"""Chunked encoding measured: per-chunk task walls and CPU on a 3-minute 1080p30 high-motion
source, the AWS times they model, and the quality at the joins.

Everything runs the transcoder's own FFmpeg commands (`transcoder.command`) on the local
file, one task at a time, so each wall is that of a task with the machine's cores to itself
(a 2 vCPU Fargate task), without the S3 transfers a real task adds.

- Work: the middle chunk of each planned job is measured, per strategy (`per_rung`,
  `balanced`, and one decode for every rung of the chunk, the floor of that chunk), and the
  audio over the whole source. The source repeats a 10 s tile, so every chunk of a job costs
  the same per source second: a chunk of L seconds is modelled as its rate times L.
- AWS: a task is STARTUP_SECONDS of Fargate start-up plus its encode. A plan runs in waves
  (lambdas.pipeline.probe): first playable after the cheapest rung's chunks and the audio,
  ready after the rest; without chunks one task per rung (or group), playable when all end.
- Joins: the 360p rung encoded in chunks and stitched (init segment + every chunk's
  segments) against the same rung encoded whole: frame counts, timestamp steps, per-frame
  SSIM against the source in the 2 s around each boundary, and where audio and video end.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.costs import X86, cost_per_source_minute, makespan
from bench.planning import probe_file
from bench.procs import run_measured
from bench.sources import SourceSpec, make_cut, make_source
from lambdas.core.settings import Settings
from lambdas.pipeline.probe import ProbeRequest, UploadedObject, plan_jobs
from transcoder.command import MEDIA_START_SECONDS, build_job_command, build_single_decode_command
from transcoder.contract import TranscodeJob

log = logging.getLogger("bench.chunking")

LONG_SOURCE = SourceSpec(
    "1080p30-motion",
    1920,
    1080,
    30,
    noise=2,
    scroll=0.004,
    crf=21,
    maxrate_mbps=16,
    description="high motion (every block scrolls), light noise, 16 Mb/s H.264",
)
LONG_SECONDS = 180.0
MEASURE_CHUNK_SECONDS = 40  # the middle chunk of each job is timed
JOIN_SOURCE_SECONDS = 48.0  # the joins: the first 48 s of the source in 16 s chunks
JOIN_CHUNK_SECONDS = 16
# Fargate start-up before FFmpeg runs (ENI, image pull, container start). No AWS figure is
# published; reports: ENI provisioning alone 11-44 s (opensearch-project/
# opensearch-migrations#2116), 20-40 s to pull an image inside a VPC and over a minute from
# Docker Hub (aws/containers-roadmap#358); AWS's ECS guide ties start time to image size
# ("Fargate container image pull behavior"). The model takes 45 s, and reports 30 and 60.
STARTUP_SECONDS = 45.0
STARTUP_RANGE = (30.0, 60.0)
# Outside the tasks: the probe, the provisional publish, the finaliser (measured offline at
# a few seconds in all; docs/benchmark.md's overhead breakdown).
ORCHESTRATION_SECONDS = 5.0
MODEL_SOURCE_SECONDS = 3600.0
MODEL_CHUNK_SECONDS = 120  # CHUNK_SECONDS' default
TASK_COUNTS = (10, 40)
JOIN_RUNG = "360p"
SSIM_WINDOW_SECONDS = 1.0  # either side of a boundary
SSIM_TOLERANCE = 0.005


@dataclass(frozen=True)
class Rates:
    """Encode seconds per source second of each job (chunk-independent) and its CPU."""

    wall: dict[str, float]
    cpu: dict[str, float]


def plan(info: Any, strategy: str, chunk_seconds: int, preset: str) -> list[TranscodeJob]:
    settings = Settings(
        videos_table_name="bench",
        uploads_bucket="bench",
        media_bucket="bench",
        x264_preset=preset,
        job_strategy=strategy,
        chunk_seconds=chunk_seconds,
    )
    request = ProbeRequest(
        video_id="bench",
        source_key="bench/source",
        source_object=UploadedObject(version_id="planned"),
    )
    jobs = plan_jobs(request, info, settings).jobs
    # The transcoder's side of the contract, as the transcoder receives each job.
    return [
        TranscodeJob.model_validate(job.model_dump(mode="json"))
        for job in jobs
        if job.rendition.kind != "thumbnails"
    ]


def measure_rates(
    source: Path, jobs: Sequence[TranscodeJob], work: Path, logs: Path, name: str
) -> Rates:
    """Each job's middle chunk (or the whole job if unchunked) run and timed."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for job in jobs:
        chunk = job.chunk
        if chunk is not None and chunk.index != chunk.count // 2:
            continue
        seconds = chunk.duration_seconds if chunk else _duration(source)
        out = work / name / job.name
        for folder in (out, *(out / member.name for member in job.members() if job.group)):
            folder.mkdir(parents=True, exist_ok=True)
        measured = run_measured(
            build_job_command(job, str(source), out), log_path=logs / f"{name}-{job.name}.log"
        )
        wall[job.name] = measured.wall_seconds / seconds
        cpu[job.name] = measured.cpu_seconds / seconds
        log.info("%s %s: %.1f s wall, %.1f s CPU", name, job.label, measured.wall_seconds,
                 measured.cpu_seconds)  # fmt: skip
    return Rates(wall, cpu)


def measure_one_decode(source: Path, jobs: Sequence[TranscodeJob], work: Path, logs: Path) -> Rates:
    """Every video rung of the middle chunk from one decode: the chunk's floor, and what a
    strategy of one task per chunk would run."""
    middle = [job for job in jobs if job.chunk and job.chunk.index == job.chunk.count // 2]
    out_dirs = [work / "one-decode" / job.name for job in middle]
    for folder in out_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    command = build_single_decode_command(middle, str(source), out_dirs)
    measured = run_measured(command, log_path=logs / "one-decode.log")
    seconds = middle[0].chunk.duration_seconds if middle[0].chunk else 1.0
    name = "+".join(job.name for job in middle)
    return Rates({name: measured.wall_seconds / seconds}, {name: measured.cpu_seconds / seconds})


def _duration(path: Path) -> float:
    info, _ = probe_file(path)
    return info.duration_seconds


# --- the AWS model (pure) --------------------------------------------------------------------


def chunk_lengths(source_seconds: float, chunk_seconds: int) -> list[float]:
    count = math.ceil(source_seconds / chunk_seconds)
    return [min(chunk_seconds, source_seconds - i * chunk_seconds) for i in range(count)]


def modelled_times(
    video_rates: dict[str, float],
    audio_rate: float,
    cheapest: str,
    *,
    source_seconds: float,
    chunk_seconds: int,
    tasks: int,
    startup_seconds: float,
) -> dict[str, float]:
    """First playable and ready (s), and every task's billed wall, for one plan on AWS."""
    audio = startup_seconds + audio_rate * source_seconds
    if chunk_seconds <= 0:
        walls = [startup_seconds + rate * source_seconds for rate in video_rates.values()]
        walls.append(audio)
        ready = ORCHESTRATION_SECONDS + makespan(walls, tasks)
        return {"first_playable_s": ready, "ready_s": ready, "task_walls": walls}  # type: ignore[dict-item]
    lengths = chunk_lengths(source_seconds, chunk_seconds)

    def chunks(name: str) -> list[float]:
        return [startup_seconds + video_rates[name] * length for length in lengths]

    fast = [*chunks(cheapest), audio]
    rest = [wall for name in video_rates if name != cheapest for wall in chunks(name)]
    first = ORCHESTRATION_SECONDS + makespan(fast, tasks)
    ready = first + makespan(rest, tasks)
    return {"first_playable_s": first, "ready_s": ready, "task_walls": [*fast, *rest]}  # type: ignore[dict-item]


# A 2 vCPU task with the machine to itself runs x264 at this many cores: the main bench's
# 1080p rung (65.7 CPU s in 35.9 s of wall). On a shared machine the walls stretch, so the
# model is also given from CPU seconds over this.
CORES_USED = 1.83
BASES = ("measured wall", f"CPU / {CORES_USED}")


def model(rates: dict[str, Rates], cheapest: dict[str, str]) -> list[dict[str, Any]]:
    """Every strategy, chunked (CHUNK_SECONDS default) and not, at 10 and 40 tasks, for a
    60-minute source, at the stated start-up and its range; from the measured walls and
    from the CPU seconds."""
    rows = []
    for basis in BASES:
        for strategy, measured in rates.items():
            source = (
                measured.wall
                if basis == BASES[0]
                else {name: cpu / CORES_USED for name, cpu in measured.cpu.items()}
            )
            rows += _model_rows(basis, strategy, source, cheapest[strategy])
    return rows


def _model_rows(
    basis: str, strategy: str, rates: dict[str, float], cheapest: str
) -> list[dict[str, Any]]:
    rows = []
    audio = rates.get("audio", 0.0)
    video = {name: rate for name, rate in rates.items() if name != "audio"}
    for chunk_seconds in (MODEL_CHUNK_SECONDS, 0):
        for tasks in TASK_COUNTS:
            times = {
                startup: modelled_times(
                    video, audio, cheapest, source_seconds=MODEL_SOURCE_SECONDS,
                    chunk_seconds=chunk_seconds, tasks=tasks, startup_seconds=startup,
                )
                for startup in (STARTUP_SECONDS, *STARTUP_RANGE)
            }  # fmt: skip
            central = times[STARTUP_SECONDS]
            walls: list[float] = central["task_walls"]  # type: ignore[assignment]
            rows.append(
                {
                    "basis": basis,
                    "strategy": strategy,
                    "chunk_seconds": chunk_seconds,
                    "tasks": tasks,
                    "startup_seconds": STARTUP_SECONDS,
                    "first_playable_s": round(central["first_playable_s"], 1),
                    "ready_s": round(central["ready_s"], 1),
                    "ready_s_range": [round(times[s]["ready_s"], 1) for s in STARTUP_RANGE],
                    "first_playable_s_range": [
                        round(times[s]["first_playable_s"], 1) for s in STARTUP_RANGE
                    ],
                    "task_count": len(walls),
                    "cost_per_source_minute_usd": round(
                        cost_per_source_minute(walls, MODEL_SOURCE_SECONDS, X86), 5
                    ),
                }
            )
    return rows


# --- joins ------------------------------------------------------------------------------------


def stitched_file(folders: Sequence[Path], target: Path) -> Path:
    """init.mp4 and every chunk's segments in order, as a player reads them: one fMP4."""
    with target.open("wb") as out:
        out.write((folders[0] / "init.mp4").read_bytes())
        for folder in folders:
            for segment in sorted(folder.glob("seg_*.m4s")):
                out.write(segment.read_bytes())
    return target


def _packets(path: Path, stream: str) -> list[dict[str, Any]]:
    """Each packet's pts_time and duration_time, by ffprobe, of one stream."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
         "packet=pts_time,duration_time", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    packets: list[dict[str, Any]] = json.loads(completed.stdout)["packets"]
    return packets


def frame_times(path: Path, stream: str = "v") -> list[float]:
    return sorted(float(p["pts_time"]) for p in _packets(path, stream))


def stream_end(path: Path, stream: str) -> float:
    packets = _packets(path, stream)
    return max(float(p["pts_time"]) + float(p.get("duration_time", 0)) for p in packets)


def window_ssim(  # noqa: PLR0917
    encoded: Path, offset: float, source: Path, start: float, size: tuple[int, int], stats: Path
) -> list[float]:
    """Per-frame SSIM (all planes) of `encoded` against the source at its size, over
    2 * SSIM_WINDOW_SECONDS from `start` (`offset`: where the encode's timeline starts)."""
    width, height = size
    graph = (
        f"[0:v]setpts=PTS-STARTPTS[e];[1:v]scale={width}:{height}:flags=bicubic,"
        f"setpts=PTS-STARTPTS[r];[e][r]ssim=stats_file={stats}"
    )
    span = f"{2 * SSIM_WINDOW_SECONDS:g}"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
         "-ss", f"{offset + start:.3f}", "-t", span, "-i", str(encoded),
         "-ss", f"{start:.3f}", "-t", span, "-i", str(source),
         "-lavfi", graph, "-f", "null", "-"],
        check=True,
    )  # fmt: skip
    values = []
    for line in stats.read_text().splitlines():
        field = next(part for part in line.split() if part.startswith("All:"))
        values.append(float(field.split(":")[1]))
    return values


def joins(  # noqa: PLR0917
    source: Path,
    chunked: Sequence[TranscodeJob],
    whole: TranscodeJob,
    work: Path,
    logs: Path,
    audio: Path,
) -> dict[str, Any]:
    """The join checks of one rung: its chunks stitched against its whole encode."""
    folders = []
    for job in sorted(chunked, key=lambda j: j.chunk.index if j.chunk else 0):
        folder = work / "joins" / f"chunk-{job.chunk.index if job.chunk else 0}"
        folder.mkdir(parents=True, exist_ok=True)
        run_measured(
            build_job_command(job, str(source), folder), log_path=logs / f"join-{folder.name}.log"
        )
        folders.append(folder)
    whole_dir = work / "joins" / "whole"
    whole_dir.mkdir(parents=True, exist_ok=True)
    run_measured(build_job_command(whole, str(source), whole_dir), log_path=logs / "join-whole.log")
    stitched = stitched_file(folders, work / "joins" / "stitched.mp4")
    unchunked = stitched_file([whole_dir], work / "joins" / "whole.mp4")
    rendition = whole.rendition
    fps = float(getattr(rendition, "frame_rate", 30.0))
    width, height = int(getattr(rendition, "width", 0)), int(getattr(rendition, "height", 0))
    source_gap = abs(stream_end(source, "v") - stream_end(source, "a"))
    stitched_times, whole_times = frame_times(stitched), frame_times(unchunked)
    steps = {round(b - a, 4) for a, b in pairwise(stitched_times)}
    boundaries = [job.chunk.start_seconds for job in chunked if job.chunk and job.chunk.index]
    worst_drop = 0.0
    for boundary in boundaries:
        start = boundary - SSIM_WINDOW_SECONDS
        scores = [
            window_ssim(encoded, MEDIA_START_SECONDS, source, start, (width, height),
                        work / "joins" / f"{encoded.stem}-{boundary:g}.ssim")
            for encoded in (stitched, unchunked)
        ]  # fmt: skip
        frames = min(len(scores[0]), len(scores[1]))
        worst_drop = max(worst_drop, *(scores[1][i] - scores[0][i] for i in range(frames)))
    audio_playlist = stitched_file([audio], work / "joins" / "audio.mp4")
    video_end = stream_end(stitched, "v")
    audio_end = stream_end(audio_playlist, "a")
    return {
        "rung": rendition.name,
        "boundaries_s": boundaries,
        "frames_stitched": len(stitched_times),
        "frames_whole": len(whole_times),
        "timestamp_steps_s": sorted(steps),
        "frame_duration_s": round(1 / fps, 4),
        "worst_ssim_drop_near_boundaries": round(worst_drop, 5),
        "media_start_s": MEDIA_START_SECONDS,
        "video_end_s": round(video_end, 4),
        "audio_end_s": round(audio_end, 4),
        "audio_video_end_gap_s": round(abs(video_end - audio_end), 4),
        "source_audio_video_end_gap_s": round(source_gap, 4),
    }


def measure(work_dir: Path, logs: Path, preset: str, seconds: float = LONG_SECONDS,
            chunk_seconds: int = MEASURE_CHUNK_SECONDS) -> dict[str, Any]:  # fmt: skip
    source = make_source(LONG_SOURCE, seconds, work_dir / "sources")
    info, _ = probe_file(source)
    work = work_dir / "chunking"
    rates: dict[str, Rates] = {}
    cheapest: dict[str, str] = {}
    chunked: dict[str, list[TranscodeJob]] = {}
    for strategy in ("per_rung", "balanced"):
        jobs = plan(info, strategy, chunk_seconds, preset)
        chunked[strategy] = jobs
        rates[strategy] = measure_rates(source, jobs, work, logs, strategy)
        video = [job for job in jobs if job.chunk]
        cheapest[strategy] = min(
            video,
            key=lambda j: min(r.width * r.height for r in j.renditions if r.kind == "video"),
        ).name
    one_decode = measure_one_decode(source, chunked["per_rung"], work, logs)
    floor_cpu = sum(one_decode.cpu.values())

    def video_cpu(r: Rates) -> float:
        return sum(value for name, value in r.cpu.items() if name != "audio")

    cut = make_cut(source, JOIN_SOURCE_SECONDS)
    cut_info, _ = probe_file(cut)
    join_jobs = [
        job
        for job in plan(cut_info, "per_rung", JOIN_CHUNK_SECONDS, preset)
        if job.name == JOIN_RUNG
    ]
    whole = plan(cut_info, "per_rung", 0, preset)
    (whole_rung,) = [job for job in whole if job.name == JOIN_RUNG]
    (audio_job,) = [job for job in whole if job.name == "audio"]
    audio_dir = work / "joins" / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    run_measured(
        build_job_command(audio_job, str(cut), audio_dir), log_path=logs / "join-audio.log"
    )
    result = {
        "source": {
            "name": LONG_SOURCE.name,
            "description": LONG_SOURCE.description,
            "seconds": info.duration_seconds,
            "size": f"{info.display_width}x{info.display_height}",
            "fps": info.frame_rate,
        },
        "measure_chunk_seconds": chunk_seconds,
        "rates_wall_per_source_s": {s: r.wall for s, r in rates.items()},
        "rates_cpu_per_source_s": {s: r.cpu for s, r in rates.items()},
        "one_decode_per_chunk": {"wall": one_decode.wall, "cpu": one_decode.cpu},
        "cpu_over_floor": {
            "per_rung": round(video_cpu(rates["per_rung"]) / floor_cpu, 3),
            "balanced": round(video_cpu(rates["balanced"]) / floor_cpu, 3),
            "one_decode_per_chunk": 1.0,
        },
        "cheapest": cheapest,
        "startup_seconds": STARTUP_SECONDS,
        "startup_range": list(STARTUP_RANGE),
        "orchestration_seconds": ORCHESTRATION_SECONDS,
        "model_source_seconds": MODEL_SOURCE_SECONDS,
        "model": model(
            {
                **rates,
                "one_decode_per_chunk": Rates(
                    {**one_decode.wall, "audio": rates["per_rung"].wall["audio"]},
                    one_decode.cpu,
                ),
            },
            {**cheapest, "one_decode_per_chunk": next(iter(one_decode.wall))},
        ),
        "joins": {
            "source_seconds": JOIN_SOURCE_SECONDS,
            "chunk_seconds": JOIN_CHUNK_SECONDS,
            **joins(cut, join_jobs, whole_rung, work, logs, audio_dir),
        },
    }
    return result
