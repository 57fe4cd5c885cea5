"""results.json fields and the Markdown summary, from made-up measurements."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from bench import report
from bench.report import (
    render_summary,
    strategy_costs,
    targets,
    task_overhead_seconds,
    workers_table,
)


def strategy(**fields: Any) -> dict[str, Any]:
    return {
        "by_workers": workers_table([20.0, 10.0], 1.0, [1, 2]),
        **strategy_costs([20.0, 10.0], 30.0),
        **fields,
    }


def source(name: str = "1080p30-noisy", balanced_ratio: float = 1.08) -> dict[str, Any]:
    rung = {
        "name": "1080p",
        "kind": "video",
        "width": 1920,
        "height": 1080,
        "average_bitrate_bps": 5_000_000,
        "peak_bitrate_bps": 6_000_000,
        "ssim": 0.98,
        "floor_average_bitrate_bps": 5_000_000,
        "floor_peak_bitrate_bps": 6_100_000,
        "task_wall_seconds": 20.0,
        "encode_wall_seconds": 19.0,
        "encode_cpu_seconds": 35.0,
        "peak_memory_bytes": 300 * 1024 * 1024,
    }
    measured = {"wall_seconds": 10.0, "cpu_seconds": 18.0, "realtime_factor": 3.0}
    return {
        "name": name,
        "description": "test source",
        "path": f"bench/work/sources/{name}.mp4",
        "width": 1920,
        "height": 1080,
        "frame_rate": 30.0,
        "duration_seconds": 30.0,
        "bitrate_bps": 50_000_000,
        "size_bytes": 187_500_000,
        "plan": ["1080p", "audio"],
        "plan_matches_pipeline": True,
        "rungs": [rung, {**rung, "name": "audio", "kind": "audio", "width": None, "ssim": None}],
        "other_tasks": [],
        "decode": {**measured, "peak_memory_bytes": 100 * 1024 * 1024},
        "floor": {
            **measured,
            "peak_memory_bytes": 500 * 1024 * 1024,
            "task_wall_seconds": 11.0,
            **strategy_costs([11.0], 30.0),
        },
        "strategies": {
            "per_rung": strategy(
                video_id="v1",
                transcoders_critical_path_seconds=31.2,
                orchestration_overhead_parts_seconds={},
                task_overhead_seconds=1.0,
                wall_seconds=32.0,
                cpu_seconds=40.0,
                encode_cpu_seconds=36.0,
                realtime_factor=0.94,
                pipeline_cpu_over_floor_cpu=2.22,
                encode_cpu_over_floor_cpu=2.0,
                orchestration_overhead_seconds=0.8,
                transcoder_peak_memory_bytes=300 * 1024 * 1024,
            ),
            "balanced_modelled": strategy(
                measured=False,
                modelled=True,
                groups=[["1080p"], ["audio"]],
                shared_tasks=[],
                cpu_seconds=19.4,
                cpu_over_floor_cpu=balanced_ratio,
                wall_seconds_one_worker=31.0,
                realtime_factor_one_worker=0.97,
                peak_memory_bytes=300 * 1024 * 1024,
            ),
        },
        "mediaconvert_per_source_minute_usd": 0.045,
    }


def results(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "generated_at": "2026-11-21T08:00:00+00:00",
        "machine": {
            "cpus": 2,
            "ffmpeg": "ffmpeg version 5.1",
            "load_average_start": "1.00 1.00 1.00",
            "load_average_1min_during_run": {"mean": 2.5, "max": 4.0, "samples": 10},
        },
        "settings": {
            "command": "make bench",
            "quick": False,
            "preset": "veryfast",
            "max_parallel_jobs": 1,
        },
        "sources": [source()],
        "memory_bound": {
            "source": "1080p30-noisy",
            "rung": "1080p",
            "short_seconds": 10.0,
            "long_seconds": 30.0,
            "growth": 1.02,
            "runs": [
                {"source_seconds": 10.0, "peak_memory_bytes": 300, "encode_cpu_seconds": 12.0},
                {"source_seconds": 30.0, "peak_memory_bytes": 306, "encode_cpu_seconds": 35.0},
            ],
        },
        "lambda_cold_import": {
            "samples": 7,
            "interpreter_startup_seconds": 0.02,
            "modules": {"lambdas.api.handler": 0.45, "lambdas.pipeline.probe_handler": 0.41},
            "modules_cpu": {"lambdas.api.handler": 0.25, "lambdas.pipeline.probe_handler": 0.39},
            "heaviest_packages_ms": {"lambdas.api.handler": [["botocore", 40.0]]},
        },
        "gateway_latency": {
            phase: {
                "threads": threads,
                "requests_per_thread_per_operation": 50,
                "time_limit_seconds": 90.0,
                "elapsed_seconds": 3.0,
                "operations": {
                    op: {"count": 50, "errors": 0, "p50_ms": 5.0, "p99_ms": p99, "max_ms": 70.0}
                    for op in ("create", "get", "list")
                },
            }
            for phase, threads, p99 in (("one_client", 1, 8.0), ("concurrent", 8, 60.0))
        },
        "offline_stack_lifecycle": {
            "runs": [
                {
                    "signal": "SIGINT",
                    "start_seconds": 4.0,
                    "first_api_answer_seconds": 4.6,
                    "stop_seconds": 2.5,
                    "exit_code": 0,
                    "processes_left": [],
                }
            ],
            "start_seconds_max": 4.0,
            "stop_seconds_max": 2.5,
            "processes_left": [],
        },
        "run_seconds": 700.0,
    }
    base.update(changes)
    base["targets"] = targets(base)
    return base


def by_name(rows: list[dict[str, Any]], fragment: str) -> dict[str, Any]:
    return next(row for row in rows if fragment in row["name"])


def test_every_target_of_the_issue_is_reported_with_whether_it_was_met() -> None:
    rows = targets(results())
    assert by_name(rows, "balanced CPU / floor CPU")["met"] is True
    assert by_name(rows, "one job per rung")["met"] is None  # reported, no target
    assert by_name(rows, "orchestration overhead")["met"] is True
    assert by_name(rows, "peak memory")["met"] is True
    assert by_name(rows, "cold import lambdas.api.handler")["met"] is True
    assert by_name(rows, "cold import lambdas.pipeline.probe_handler")["met"] is False
    assert by_name(rows, "gateway p99 get")["met"] is False
    assert by_name(rows, "gateway p99 create")["met"] is False
    assert by_name(rows, "gateway p50 list (ms), one client")["met"] is True
    assert by_name(rows, "local up: start")["met"] is True
    assert by_name(rows, "local up: stop")["met"] is False
    assert by_name(rows, "processes left after stop")["met"] is True
    assert by_name(rows, "run time")["met"] is True


def test_a_balanced_plan_over_the_target_is_not_met() -> None:
    rows = targets(results(sources=[source(balanced_ratio=1.3)]))
    assert by_name(rows, "balanced CPU / floor CPU")["met"] is False


def test_a_quick_run_does_not_claim_the_run_time_target() -> None:
    quick = results(settings={**results()["settings"], "quick": True})
    assert not [row for row in quick["targets"] if "run time" in row["name"]]
    assert "Quick smoke run" in render_summary(quick)


def test_the_summary_has_a_table_per_question_of_the_issue() -> None:
    summary = render_summary(results())
    for heading in (
        "## Targets",
        "## 1080p30-noisy",
        "## Cost per source minute",
        "## Transcoder peak memory against source length",
        "## Lambda handler cold import",
        "## Gateway emulator latency",
        "## What is modelled, not measured",
    ):
        assert heading in summary
    assert "| 1080p | 1920x1080 | 5000 | 6000 | 0.9800 |" in summary
    assert "MediaConvert" in summary


def test_strategy_costs_carry_the_fields_results_json_promises() -> None:
    costs = strategy_costs([20.0, 10.0], 30.0)
    assert costs["tasks"] == 2
    assert set(costs["cost_per_source_minute_usd"]) == {"with_minimum", "without_minimum"}


def test_modelled_walls_add_the_measured_overhead_to_the_makespan() -> None:
    rows = workers_table([20.0, 10.0, 5.0], 1.5, [1, 2, 3])
    assert [row["wall_seconds"] for row in rows] == [36.5, 21.5, 21.5]


def test_task_overhead_is_the_median_time_outside_ffmpeg() -> None:
    assert task_overhead_seconds([3.0, 5.0, 10.0], [2.0, 3.5, 9.0]) == pytest.approx(1.0)
    assert task_overhead_seconds([], []) == 0.0


def measured_balanced_source() -> dict[str, Any]:
    base = source()
    base["strategies"]["balanced"] = strategy(
        measured=True,
        video_id="v2",
        groups=[["1080p"], ["audio"]],
        plan_matches_pipeline=True,
        tasks_detail=[
            {
                "renditions": ["1080p"],
                "task_wall_seconds": 21.0,
                "encode_wall_seconds": 19.5,
                "encode_cpu_seconds": 35.5,
                "peak_memory_bytes": 300 * 1024 * 1024,
            },
            {
                "renditions": ["audio"],
                "task_wall_seconds": 2.0,
                "encode_wall_seconds": 1.0,
                "encode_cpu_seconds": 0.8,
                "peak_memory_bytes": 60 * 1024 * 1024,
            },
        ],
        renditions={
            "1080p": {
                "average_bitrate_bps": 5_100_000,
                "peak_bitrate_bps": 6_200_000,
                "ssim": 0.9811,
            }
        },
        wall_seconds=30.0,
        pipeline_cpu_seconds=41.0,
        pipeline_cpu_over_floor_cpu=2.28,
        cpu_seconds=36.3,
        cpu_over_floor_cpu=1.15,
        wall_seconds_one_worker=30.0,
        realtime_factor_one_worker=1.0,
        orchestration_overhead_seconds=1.25,
        peak_memory_bytes=300 * 1024 * 1024,
    )
    return base


def test_a_measured_balanced_run_is_reported_as_measured_with_the_model_beside_it() -> None:
    measured = results(sources=[measured_balanced_source()])
    summary = render_summary(measured)

    assert by_name(measured["targets"], "balanced CPU / floor CPU (measured)")["value"] == 1.15
    assert "balanced (measured)" in summary and "balanced (model)" in summary
    assert "Balanced, as the pipeline ran it (JOB_STRATEGY=balanced):" in summary
    assert "| 1080p | 21.0 | 19.5 | 35.5 | 300 |" in summary
    assert "The model of it (before grouped jobs existed): CPU 19.4 s" in summary
    assert "| 1080p | 1920x1080 | 5000 | 6000 | 0.9800 | 5100 | 0.9811 |" in summary
    # Without a measured run, the model keeps its old label.
    assert "balanced (modelled)" in render_summary(results())


def test_the_overhead_line_names_what_the_claim_probe_and_finalise_took() -> None:
    parts = {
        "upload_to_execution_start": 0.01,
        "execution_start_to_first_task": 0.8,
        "between_tasks": 0.15,
        "last_task_to_completed": 0.2,
        "claim": 0.05,
        "probe": 0.7,
        "map_to_first_task": 0.05,
        "finalise": 0.18,
    }
    per_rung = cast(Any, SimpleNamespace(orchestration_overhead_parts_seconds=parts))

    line = report._overhead_parts_lines(per_rung)[-1]

    assert "0.80 s to the first transcoder (claim 0.05 s, probe 0.70 s, the rest" in line
    assert "0.20 s after the last (Finalise 0.18 s)" in line
