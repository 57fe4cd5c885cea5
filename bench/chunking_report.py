"""The chunked-encoding part of results.json (bench/chunking.py) as targets and a summary
section: pure functions of data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

READY_MAX_SECONDS = 300.0  # a 60-minute 1080p source, 40 tasks: full ladder
FIRST_PLAYABLE_MAX_SECONDS = 60.0
CPU_OVER_FLOOR_MAX = 1.10
SSIM_DROP_MAX = 0.005
TARGET_TASKS = 40


def _row(
    model: Sequence[Mapping[str, Any]], basis: str, strategy: str, chunk_seconds: int, tasks: int
) -> Mapping[str, Any]:
    wanted = (basis, strategy, chunk_seconds, tasks)
    return next(
        row
        for row in model
        if (row.get("basis", basis), row["strategy"], row["chunk_seconds"], row["tasks"]) == wanted
    )


def _target(name: str, target: str, value: Any, met: bool | None) -> dict[str, Any]:
    return {"name": name, "target": target, "value": value, "met": met}


def chunking_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    chunking = results.get("chunking")
    if not chunking:
        return []
    model, ratios = chunking["model"], chunking["cpu_over_floor"]
    chunk = max(row["chunk_seconds"] for row in model)
    ranked = sorted(("per_rung", "balanced"), key=lambda name: ratios[name])
    best = ranked[0]
    rows = []
    bases = list(dict.fromkeys(row.get("basis", "") for row in model))
    for basis, strategy in ((b, s) for b in bases for s in dict.fromkeys([best, "per_rung"])):
        row = _row(model, basis, strategy, chunk, TARGET_TASKS)
        label = f"60-min 1080p, {TARGET_TASKS} tasks, {chunk} s chunks, {strategy}"
        label += f" ({basis})" if basis else ""
        rows += [
            _target(
                f"{label}: ready (s, modelled)",
                f"<= {READY_MAX_SECONDS:g}",
                row["ready_s"],
                row["ready_s"] <= READY_MAX_SECONDS,
            ),
            _target(
                f"{label}: first playable (s, modelled)",
                f"<= {FIRST_PLAYABLE_MAX_SECONDS:g}",
                row["first_playable_s"],
                row["first_playable_s"] <= FIRST_PLAYABLE_MAX_SECONDS,
            ),
        ]
    rows += [
        _target(
            f"chunked {best} (best of the two) CPU / floor CPU",
            f"<= {CPU_OVER_FLOOR_MAX:g}",
            ratios[best],
            ratios[best] <= CPU_OVER_FLOOR_MAX,
        ),
        _target("chunked per_rung CPU / floor CPU", "report", ratios["per_rung"], None),
        _target(
            "one decode per chunk (every rung) CPU / floor CPU",
            "report",
            ratios["one_decode_per_chunk"],
            None,
        ),
    ]
    joins = chunking["joins"]
    frame = joins["frame_duration_s"]
    gap, source_gap = joins["audio_video_end_gap_s"], joins["source_audio_video_end_gap_s"]
    rows += [
        _target(
            f"joins ({joins['rung']}): frames stitched = whole encode",
            str(joins["frames_whole"]),
            joins["frames_stitched"],
            joins["frames_stitched"] == joins["frames_whole"],
        ),
        _target(
            f"joins ({joins['rung']}): timestamp steps (s), no gap or overlap",
            f"[{frame}]",
            joins["timestamp_steps_s"],
            joins["timestamp_steps_s"] == [frame],
        ),
        _target(
            f"joins ({joins['rung']}): worst SSIM drop vs whole encode, 2 s around joins",
            f"<= {SSIM_DROP_MAX}",
            joins["worst_ssim_drop_near_boundaries"],
            joins["worst_ssim_drop_near_boundaries"] <= SSIM_DROP_MAX,
        ),
        _target(
            f"joins: audio/video end gap beyond the source's own ({gap} s vs {source_gap} s), s",
            f"<= {frame}",
            round(abs(gap - source_gap), 4),
            abs(gap - source_gap) <= frame + 1e-6,
        ),
    ]
    return rows


def chunking_section(results: Mapping[str, Any]) -> list[str]:
    chunking = results.get("chunking")
    if not chunking:
        return []
    source = chunking["source"]
    out = [
        f"## Chunked encoding: {source['name']}, {source['seconds']:.0f} s",
        "",
        f"{source['size']} at {source['fps']:g} fps, {source['description']}. Each job's "
        f"middle {chunking['measure_chunk_seconds']} s chunk run alone with the transcoder's "
        "own FFmpeg command (local file, no S3), one at a time; the audio over the whole "
        "source. Encode seconds per source second (wall; CPU):",
        "",
        "| strategy | job | wall / source s | CPU / source s |",
        "|---|---|---|---|",
    ]
    walls, cpus = chunking["rates_wall_per_source_s"], chunking["rates_cpu_per_source_s"]
    for strategy, rates in walls.items():
        for job, wall in rates.items():
            out.append(f"| {strategy} | {job} | {wall:.3f} | {cpus[strategy][job]:.3f} |")
    one = chunking["one_decode_per_chunk"]
    for job, wall in one["wall"].items():
        out.append(f"| one decode per chunk | {job} | {wall:.3f} | {one['cpu'][job]:.3f} |")
    ratios = chunking["cpu_over_floor"]
    out += [
        "",
        "CPU / floor CPU (the video rungs; the floor is every rung of the chunk from one "
        f"decode): per_rung {ratios['per_rung']:.3f}, balanced {ratios['balanced']:.3f}.",
        "",
        f"Modelled on AWS for a {chunking['model_source_seconds'] / 60:.0f}-minute source of "
        "the same content: each task is Fargate start-up "
        f"({chunking['startup_seconds']:g} s; the range shows "
        f"{' and '.join(f'{s:g}' for s in chunking['startup_range'])} s) plus its encode at "
        f"the rates above; {chunking['orchestration_seconds']:g} s of probe and publishing. "
        "Chunked plans run in two waves (cheapest rung and audio, then the rest); "
        "unchunked, one task per job and playable only when all end. "
        "Cost: x86 on-demand, 2 vCPU / 4 GB, one-minute minimum, start-up billed.",
        "",
        "| from | strategy | chunk s | tasks | first playable s | ready s | ready s (range) "
        "| tasks run | USD / source min |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in chunking["model"]:
        low, high = row["ready_s_range"]
        out.append(
            f"| {row.get('basis', '')} | {row['strategy']} | {row['chunk_seconds'] or 'off'} "
            f"| {row['tasks']} "
            f"| {row['first_playable_s']:.0f} | {row['ready_s']:.0f} | {low:.0f}-{high:.0f} "
            f"| {row['task_count']} | {row['cost_per_source_minute_usd']:.4f} |"
        )
    joins = chunking["joins"]
    out += [
        "",
        f"Joins: the {joins['rung']} rung of the first {joins['source_seconds']:g} s in "
        f"{joins['chunk_seconds']} s chunks, stitched (init segment + every chunk's segments), "
        f"against the same rung encoded whole: {joins['frames_stitched']} frames against "
        f"{joins['frames_whole']}; timestamp steps {joins['timestamp_steps_s']} s; worst "
        f"per-frame SSIM drop within 1 s of a join {joins['worst_ssim_drop_near_boundaries']}; "
        f"video ends at {joins['video_end_s']} s, audio at {joins['audio_end_s']} s (the "
        f"source's own streams end {joins['source_audio_video_end_gap_s']} s apart).",
    ]
    return out
