"""The measured balanced entry of results.json, from a made-up balanced pipeline run."""

from __future__ import annotations

from typing import Any

import pytest

from bench.per_source import balanced_measured
from bench.pipeline import PipelineRun
from bench.planning import plan_file
from bench.run import Options
from lambdas.core.settings import JobStrategy
from lambdas.pipeline.source import SourceInfo

INFO = SourceInfo(
    duration_seconds=30.0,
    display_width=1280,
    display_height=720,
    frame_rate=25.0,
    video_codec="h264",
    has_audio=True,
    format_name="mov,mp4,m4a,3gp,3g2,mj2",
    size_bytes=1000,
)
OPTIONS = Options.smoke()


def result(name: str, cpu: float, peak: int) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "audio" if name == "audio" else "video",
        "average_bitrate_bps": 1000,
        "peak_bitrate_bps": 1200,
        "ssim": None if name == "audio" else 0.98,
        "encode_wall_seconds": cpu / 2,
        "encode_cpu_seconds": cpu,
        "peak_memory_bytes": peak,
    }


def balanced_run(strategy: JobStrategy = "balanced") -> PipelineRun:
    jobs = plan_file(INFO, OPTIONS.preset, strategy)
    shared = ("480p", "360p", "240p", "audio")
    results = {"720p": result("720p", 40.0, 300)}
    results |= {name: result(name, 30.0, 250) for name in shared}
    results["thumbnails"] = {"kind": "thumbnails", "encode_cpu_seconds": 5.0}
    return PipelineRun(
        video_id="v",
        status="COMPLETED",
        wall_seconds=50.0,
        cpu_seconds=90.0,
        jobs=jobs,
        results=results,
        task_walls={job.name: 20.0 if job.name == "720p" else 16.0 for job in jobs},
        critical_path_seconds=48.0,
        overhead_parts={},
    )


def test_a_grouped_tasks_shared_process_counts_once() -> None:
    entry = balanced_measured(balanced_run(), INFO, OPTIONS.preset, floor_cpu_seconds=50.0)

    assert entry.measured is True and entry.plan_matches_pipeline is True
    assert entry.groups == [["720p"], ["480p", "360p", "240p", "audio"]]
    assert entry.cpu_seconds == 70.0  # 40 + 30, not 40 + 4 x 30
    assert entry.cpu_over_floor_cpu == pytest.approx(1.4)
    assert entry.tasks == 2 and entry.peak_memory_bytes == 300
    assert [task.renditions for task in entry.tasks_detail] == entry.groups
    assert entry.wall_seconds_one_worker == 50.0
    assert entry.orchestration_overhead_seconds == 2.0
    assert entry.renditions["480p"].ssim == 0.98
    assert entry.renditions["audio"].ssim is None
    assert "thumbnails" not in entry.renditions


def test_a_run_that_did_not_group_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not the balanced plan"):
        balanced_measured(balanced_run("per_rung"), INFO, OPTIONS.preset, floor_cpu_seconds=50.0)
