"""The benchmark's pure parts: the cost model, the makespan model, percentiles, import-time
parsing and the balanced plan. No timing is asserted anywhere."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench.api_load import percentile, summarise
from bench.costs import (
    ARM64,
    MINIMUM_BILLED_SECONDS,
    X86,
    X86_SPOT,
    billed_seconds,
    cost_per_source_minute,
    costs_by_rate,
    cpu_bound_per_source_minute,
    makespan,
    mediaconvert_per_source_minute,
    tasks_cost,
    union_seconds,
)
from bench.imports import cold_imports, handler_modules, self_time_by_package
from bench.plans import BALANCED, PER_RUNG, balanced_groups, groups_for
from transcoder.contract import AudioRendition, TranscodeJob, VideoRendition


def job(name: str, width: int = 0, height: int = 0) -> TranscodeJob:
    rendition: VideoRendition | AudioRendition
    if name == "audio":
        rendition = AudioRendition()
    else:
        rendition = VideoRendition(
            name=name, width=width, height=height, frame_rate=30.0, crf=22, max_bitrate_kbps=1000
        )
    return TranscodeJob(
        video_id="v",
        source_key="v/source",
        source_version="1",
        output_prefix=f"v/hls/{name}/",
        rendition=rendition,
    )


LADDER_1080 = [
    job("1080p", 1920, 1080),
    job("720p", 1280, 720),
    job("480p", 854, 480),
    job("360p", 640, 360),
    job("audio"),
]


# --- cost model -------------------------------------------------------------------------------


def test_a_task_is_billed_per_started_second_with_a_one_minute_minimum() -> None:
    assert billed_seconds(0.2) == MINIMUM_BILLED_SECONDS
    assert billed_seconds(60.0) == 60
    assert billed_seconds(60.01) == 61
    assert billed_seconds(12.5, minimum=0) == 13


def test_a_two_vcpu_four_gb_x86_task_costs_the_list_price_per_hour() -> None:
    # 2 x $0.04048 + 4 x $0.004445 per hour
    assert X86.per_task_second() * 3600 == pytest.approx(0.09874)
    assert tasks_cost([3600], X86) == pytest.approx(0.09874)


def test_arm64_and_spot_are_cheaper_than_x86() -> None:
    assert ARM64.per_task_second() < X86.per_task_second()
    assert X86_SPOT.per_task_second() == pytest.approx(X86.per_task_second() * 0.3)


def test_five_short_tasks_pay_five_minimums_per_source_minute() -> None:
    # A 30 s source, five tasks of 10 s: five billed minutes for half a source minute.
    per_minute = cost_per_source_minute([10.0] * 5, 30.0, X86)
    assert per_minute == pytest.approx(5 * 60 * X86.per_task_second() * 2)
    without = cost_per_source_minute([10.0] * 5, 30.0, X86, minimum=0)
    assert without == pytest.approx(50 * X86.per_task_second() * 2)


def test_costs_by_rate_reports_every_rate_with_and_without_the_minimum() -> None:
    costs = costs_by_rate([90.0], 60.0)
    assert set(costs) == {"with_minimum", "without_minimum"}
    for table in costs.values():
        assert isinstance(table, dict)
        assert set(table) == {"x86", "arm64", "x86_spot"}
    # Above a minute the minimum no longer matters.
    assert costs["with_minimum"] == costs["without_minimum"]


def test_a_source_needs_a_duration() -> None:
    with pytest.raises(ValueError, match="positive"):
        cost_per_source_minute([1.0], 0.0, X86)


def test_the_cpu_bound_cost_bills_cpu_seconds_on_two_busy_vcpus_without_minimum() -> None:
    # 120 CPU s on 2 vCPU: a 60 s task, for a 60 s source.
    assert cpu_bound_per_source_minute(120.0, 60.0, X86) == pytest.approx(
        60 * X86.per_task_second()
    )


def test_mediaconvert_charges_hd_from_720p_and_sd_below() -> None:
    # The 1080p ladder: 1080p and 720p at the HD rate, 480p and 360p at the SD rate.
    assert mediaconvert_per_source_minute([1080, 720, 480, 360]) == pytest.approx(0.045)


# --- makespan model ---------------------------------------------------------------------------


def test_one_worker_runs_the_jobs_one_after_another() -> None:
    assert makespan([4.0, 2.0, 1.0], 1) == pytest.approx(7.0)


def test_jobs_start_in_plan_order_on_the_first_free_worker() -> None:
    # Worker A: 4; worker B: 2 then 1 then 3 (starts at 3, ends at 6).
    assert makespan([4.0, 2.0, 1.0, 3.0], 2) == pytest.approx(6.0)


def test_with_a_worker_per_job_the_longest_job_is_the_wall() -> None:
    assert makespan([4.0, 2.0, 1.0], 3) == pytest.approx(4.0)
    assert makespan([4.0, 2.0, 1.0], 10) == pytest.approx(4.0)


def test_no_jobs_take_no_time_and_workers_must_exist() -> None:
    assert makespan([], 2) == 0.0
    with pytest.raises(ValueError, match="worker"):
        makespan([1.0], 0)


def test_union_of_task_intervals_counts_overlaps_once_and_gaps_not_at_all() -> None:
    assert union_seconds([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == pytest.approx(4.0)
    assert union_seconds([]) == 0.0


# --- percentiles and import-time parsing ------------------------------------------------------


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([3.0], 0.99) == 3.0


def test_a_latency_summary_is_in_milliseconds_and_counts_errors() -> None:
    summary = summarise([0.010, 0.020, 0.030], errors=1)
    assert summary["count"] == 3
    assert summary["errors"] == 1
    assert summary["p50_ms"] == pytest.approx(20.0)
    assert summarise([], errors=2) == {"count": 0, "errors": 2}


def test_handler_modules_are_the_modules_of_the_handlers() -> None:
    handlers = ["lambdas.api.handler.lambda_handler", "lambdas.pipeline.probe_handler.handle"]
    assert handler_modules(handlers) == ["lambdas.api.handler", "lambdas.pipeline.probe_handler"]


def test_import_time_is_summed_per_top_level_package() -> None:
    log = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1000 |       1000 |   botocore.utils",
            "import time:      3000 |       4000 | botocore",
            "import time:      2500 |       2500 |     pydantic.main",
            "something else",
        ]
    )
    assert self_time_by_package(log) == [("botocore", 4.0), ("pydantic", 2.5)]


# --- strategies -------------------------------------------------------------------------------


def test_balanced_keeps_the_top_rung_alone_and_shares_one_decode_for_the_rest() -> None:
    groups = balanced_groups(LADDER_1080)
    assert [[j.name for j in g] for g in groups] == [
        ["1080p"],
        ["720p", "480p", "360p", "audio"],
    ]


def test_balanced_opens_another_task_when_the_shared_one_would_outgrow_the_top_rung() -> None:
    jobs = [job("720p", 1280, 720), job("704p", 1252, 704), job("480p", 854, 480)]
    groups = [[j.name for j in g] for g in balanced_groups(jobs)]
    assert groups == [["720p"], ["704p"], ["480p"]]


def test_with_one_rung_audio_joins_it() -> None:
    groups = balanced_groups([job("360p", 640, 360), job("audio")])
    assert [[j.name for j in g] for g in groups] == [["360p", "audio"]]


def test_per_rung_is_one_task_per_job_and_unknown_strategies_are_refused() -> None:
    assert [len(g) for g in groups_for(PER_RUNG, LADDER_1080)] == [1] * 5
    assert len(groups_for(BALANCED, LADDER_1080)) == 2
    with pytest.raises(ValueError, match="unknown strategy"):
        groups_for("fastest", LADDER_1080)


def test_cold_imports_read_bytecode_caches_even_where_writing_them_is_turned_off(
    tmp_path: Path,
) -> None:
    # Given a module without a cache, and an environment that turns writing caches off
    (tmp_path / "tiny_handler.py").write_text("VALUE = 1\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    # When the bench measures its cold import
    measured = cold_imports(["tiny_handler"], env, samples=1)
    # Then the samples had a cache to read, as a bundle with bytecode would
    assert list((tmp_path / "__pycache__").glob(f"tiny_handler.*{sys.implementation.cache_tag}*"))
    assert set(measured["modules_cpu"]) == {"tiny_handler"}
