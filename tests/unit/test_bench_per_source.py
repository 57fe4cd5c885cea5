"""A source's per-rung entries from a made-up per-rung pipeline run (no FFmpeg): the ladder's
figures, the jobs beside it, and the typed entries they make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.per_source import (
    Bitrates,
    PerRungSource,
    TaskFigures,
    _other_tasks,
    _per_rung,
    _rung,
)
from bench.pipeline import PipelineRun
from bench.planning import ladder, plan_file
from bench.results import Floor, MemoryRun
from bench.run import _memory_run
from bench.sources import SOURCES
from tests.unit.test_bench_balanced import INFO, OPTIONS

PLANNED = plan_file(INFO, OPTIONS.preset)
LADDER = ladder(PLANNED)


def result(name: str, cpu: float, wall: float, peak: int) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "audio" if name == "audio" else "video",
        "width": None if name == "audio" else 640,
        "height": None if name == "audio" else 360,
        "average_bitrate_bps": 1000,
        "peak_bitrate_bps": 1200,
        "ssim": None if name == "audio" else 0.97,
        "encode_wall_seconds": wall,
        "encode_cpu_seconds": cpu,
        "peak_memory_bytes": peak,
        "playlist_key": "ignored/by/the/bench.m3u8",
    }


def per_rung_source() -> PerRungSource:
    results = {job.name: result(job.name, 10.0, 6.0, 100 + i) for i, job in enumerate(LADDER)}
    results["thumbnails"] = {
        "kind": "thumbnails",
        "encode_wall_seconds": 3.0,
        "encode_cpu_seconds": 4.0,
        "peak_memory_bytes": 9999,
    }
    # Each ladder task spends 1.5 s outside FFmpeg but the last, which spends 4 s.
    walls = {job.name: 7.5 for job in LADDER} | {LADDER[-1].name: 10.0, "thumbnails": 5.0}
    run = PipelineRun(
        video_id="v",
        status="COMPLETED",
        wall_seconds=60.0,
        cpu_seconds=80.0,
        jobs=PLANNED,
        results=results,
        task_walls=walls,
        critical_path_seconds=57.0,
        overhead_parts={"between_tasks": 0.5},
    )
    return PerRungSource(
        spec=SOURCES[1],
        path=Path("source.mp4"),
        info=INFO,
        jobs=LADDER,
        run=run,
        figures={name: TaskFigures.model_validate(r) for name, r in results.items()},
        work=Path("work"),
        logs=Path("logs"),
    )


def floor(cpu_seconds: float) -> Floor:
    return Floor(
        wall_seconds=20.0,
        cpu_seconds=cpu_seconds,
        realtime_factor=1.5,
        peak_memory_bytes=500,
        task_wall_seconds=21.5,
        tasks=1,
        task_walls_seconds=[21.5],
        cost_per_source_minute_usd={"with_minimum": {"x86": 0.01}},
    )


def test_the_per_rung_entry_counts_the_ladder_only() -> None:
    source = per_rung_source()

    entry = _per_rung(source, floor(cpu_seconds=25.0))

    assert entry.encode_cpu_seconds == 10.0 * len(LADDER)  # not the thumbnails' 4 s
    assert entry.encode_cpu_over_floor_cpu == pytest.approx(10.0 * len(LADDER) / 25.0, abs=1e-3)
    assert entry.transcoder_peak_memory_bytes == 100 + len(LADDER) - 1
    assert entry.task_overhead_seconds == 1.5  # the median, not the mean
    assert entry.orchestration_overhead_seconds == 3.0
    assert entry.tasks == len(LADDER)
    assert [row.workers for row in entry.by_workers] == list(range(1, len(LADDER) + 1))


def test_a_rung_carries_its_task_and_the_floors_bitrates() -> None:
    rung = _rung(per_rung_source(), "audio", Bitrates(average_bps=900, peak_bps=1100))

    assert (rung.kind, rung.width, rung.ssim) == ("audio", None, None)
    assert (rung.floor_average_bitrate_bps, rung.floor_peak_bitrate_bps) == (900, 1100)
    assert rung.task_wall_seconds == 10.0


def test_the_jobs_beside_the_ladder_are_other_tasks() -> None:
    others = _other_tasks(per_rung_source())

    assert [(task.name, task.kind) for task in others] == [("thumbnails", "thumbnails")]
    assert others[0].task_wall_seconds == 5.0 and others[0].tasks == 1


def test_a_memory_run_reads_the_transcoder_result_json_with_its_other_keys() -> None:
    run = _memory_run(result("720p", cpu=12.5, wall=7.0, peak=300) | {"duration_seconds": 9.96})

    assert run == MemoryRun(source_seconds=9.96, peak_memory_bytes=300, encode_cpu_seconds=12.5)
