"""AV1 against H.264 at the same rungs: `python -m bench --only av1`.

For each compared rung of the 720p25 bench source (the ladder's own plan of it), the
transcoder's very command for the H.264 rung and for its AV1 twin (`{rung}-av1`) run on the
local file; each output is then judged the same way, by FFmpeg's `ssim` filter against the
source scaled to the rung's size (lanczos, as the encode), and by its segments' bytes. So a
reader sees the SSIM, bitrate and CPU of both at each rung, and the AV1 bitrate as a share
of H.264's.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.planning import probe_file
from bench.procs import Measured, run_measured
from bench.sources import SOURCES, make_source
from lambdas.pipeline.ladder import plan_ladder
from transcoder.command import PLAYLIST_NAME, build_ffmpeg_command
from transcoder.contract import TranscodeJob
from transcoder.playlist import average_bitrate_bps, parse_media_playlist

log = logging.getLogger("bench")

SOURCE_NAME = "720p25"
RUNGS = ("720p", "360p")
_SSIM_Y = re.compile(r"SSIM Y:([0-9.]+)")


def _job(rendition: Any) -> TranscodeJob:
    return TranscodeJob.model_validate(
        {
            "video_id": "bench-av1",
            "source_key": "bench-av1/source",
            "source_version": "1",
            "output_prefix": f"bench-av1/hls/{rendition.name}/",
            "rendition": rendition.model_dump(),
        }
    )


def joined_output(out_dir: Path) -> Path:
    """The rendition's init segment and media segments in one file."""
    playlist = parse_media_playlist((out_dir / PLAYLIST_NAME).read_text())
    target = out_dir / "joined.mp4"
    with target.open("wb") as joined:
        for name in [playlist.map_uri, *(s.uri for s in playlist.segments)]:
            if name:
                joined.write((out_dir / name).read_bytes())
    return target


def ssim_against_source(encoded: Path, source: Path, width: int, height: int) -> float:
    """FFmpeg's SSIM (Y) of the encode against the source scaled to the rung's size."""
    graph = (
        f"[1:v]scale={width}:{height}:flags=lanczos,format=yuv420p[ref];"
        "[0:v]setpts=PTS-STARTPTS[enc];[ref]setpts=PTS-STARTPTS[r];[enc][r]ssim"
    )
    completed = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(encoded), "-i", str(source),
         "-lavfi", graph, "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = _SSIM_Y.search(completed.stderr)
    if match is None:
        raise RuntimeError(f"no SSIM in FFmpeg's output for {encoded}")
    return float(match.group(1))


def _encode(job: TranscodeJob, source: Path, work: Path, logs: Path) -> tuple[Measured, Path]:
    out_dir = work / job.name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command = build_ffmpeg_command(job, str(source), out_dir)
    return run_measured(command, log_path=logs / f"av1-{job.name}.log"), out_dir


def measure_rung(job: TranscodeJob, source: Path, work: Path, logs: Path) -> dict[str, Any]:
    measured, out_dir = _encode(job, source, work, logs)
    playlist = parse_media_playlist((out_dir / PLAYLIST_NAME).read_text())
    size = sum((out_dir / s.uri).stat().st_size for s in playlist.segments)
    rendition = job.rendition
    assert rendition.kind == "video"
    return {
        "name": job.name,
        "crf": rendition.crf,
        "preset": rendition.preset,
        "cap_kbps": rendition.max_bitrate_kbps,
        "average_kbps": round(average_bitrate_bps(size, playlist.duration_seconds) / 1000, 1),
        "ssim": round(
            ssim_against_source(joined_output(out_dir), source, rendition.width, rendition.height),
            5,
        ),
        "cpu_seconds": round(measured.cpu_seconds, 3),
        "wall_seconds": round(measured.wall_seconds, 3),
    }


def measure(work_dir: Path, logs: Path, seconds: float, preset: str) -> dict[str, Any]:
    spec = next(s for s in SOURCES if s.name == SOURCE_NAME)
    source = make_source(spec, seconds, work_dir / "sources")
    info, _ = probe_file(source)
    work = work_dir / "av1"
    rows = []
    for rung in RUNGS:
        pair = {}
        for codec in ("h264", "av1"):
            (rendition,) = [
                r
                for r in plan_ladder(info, max_short_side=1440, preset=preset, codec=codec)
                if r.name.split("-")[0] == rung
            ]
            log.info("av1 comparison: %s", rendition.name)
            pair[codec] = measure_rung(_job(rendition), source, work, logs)
        h264, av1 = pair["h264"], pair["av1"]
        rows.append(
            {
                "rung": rung,
                "h264": h264,
                "av1": av1,
                "av1_bitrate_share": round(av1["average_kbps"] / h264["average_kbps"], 3),
                "av1_ssim_minus_h264": round(av1["ssim"] - h264["ssim"], 5),
                "av1_cpu_ratio": round(av1["cpu_seconds"] / h264["cpu_seconds"], 2),
            }
        )
    return {"source": SOURCE_NAME, "source_seconds": seconds, "rungs": rows}


def av1_section(results: Mapping[str, Any]) -> list[str]:
    comparison = results.get("av1_vs_h264")
    if not comparison:
        return []
    out = [
        "## AV1 against H.264 (opt-in: `python -m bench --only av1`)",
        "",
        f"The {comparison['source']} source ({comparison['source_seconds']:g} s): each rung "
        "encoded by the transcoder's own command as H.264 and as AV1 (SVT-AV1), SSIM (Y) by "
        "FFmpeg's ssim filter against the source scaled to the rung, bitrate from the "
        "segments' bytes, CPU of the FFmpeg process.",
        "",
        "| rung | H.264 kb/s | H.264 SSIM | H.264 CPU s | AV1 kb/s | AV1 SSIM | AV1 CPU s "
        "| AV1 bitrate / H.264 | AV1 CPU / H.264 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in comparison["rungs"]:
        h264, av1 = row["h264"], row["av1"]
        out.append(
            f"| {row['rung']} | {h264['average_kbps']:g} | {h264['ssim']:.4f} | "
            f"{h264['cpu_seconds']:.2f} | {av1['average_kbps']:g} | {av1['ssim']:.4f} | "
            f"{av1['cpu_seconds']:.2f} | {row['av1_bitrate_share']:.2f} | "
            f"{row['av1_cpu_ratio']:.2f} |"
        )
    return out
