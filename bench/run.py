"""The whole benchmark, in one run on one machine: sources, pipeline, floor, decode,
balanced model, memory bound, cold imports, gateway latency, the offline stack's start and
stop; then the three outputs. `run_parts` re-measures only the control-plane parts."""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import av1, chunking, lifecycle, report, soak
from bench.costs import mediaconvert_per_source_minute, price_table
from bench.floor import decode_only_command, single_decode_command
from bench.imports import cold_imports, handler_modules
from bench.pipeline import PipelineRun, run_one_job, run_source
from bench.planning import ladder, plan_file, probe_file, same_renditions
from bench.plans import balanced_groups
from bench.procs import LoadSampler, Measured, run_measured
from bench.sources import SOURCES, SourceSpec, make_cut, make_source
from lambdas.pipeline.source import SourceInfo
from local.client import ApiClient
from local.config import REPO_ROOT, OfflineConfig
from local.resources import LAMBDA_HANDLERS, in_process_environment
from local.stack import OfflineStack
from transcoder.command import PLAYLIST_NAME
from transcoder.contract import TranscodeJob, VideoRendition
from transcoder.playlist import average_bitrate_bps, parse_media_playlist, peak_bitrate_bps

log = logging.getLogger("bench")

BENCH_DIR = REPO_ROOT / "bench"


@dataclass(frozen=True)
class Options:
    quick: bool
    preset: str
    source_seconds: float
    cut_seconds: float
    out_dir: Path
    work_dir: Path
    import_samples: int
    load_threads: int
    load_rounds: int
    load_time_limit_seconds: float
    command: str

    @classmethod
    def full(cls, preset: str = "veryfast") -> Options:
        return cls(
            quick=False,
            preset=preset,
            source_seconds=30,
            cut_seconds=10,
            out_dir=BENCH_DIR,
            work_dir=BENCH_DIR / "work",
            import_samples=5,
            load_threads=8,
            load_rounds=17,  # 8 clients x 51 requests (17 rounds of create, get, list)
            load_time_limit_seconds=90,
            command="make bench",
        )

    @classmethod
    def smoke(cls, preset: str = "veryfast") -> Options:
        return cls(
            quick=True,
            preset=preset,
            source_seconds=4,
            cut_seconds=2,
            out_dir=BENCH_DIR / "work" / "quick",
            work_dir=BENCH_DIR / "work",
            import_samples=3,
            load_threads=4,
            load_rounds=10,
            load_time_limit_seconds=30,
            command="python -m bench --quick",
        )


# --- measurements on local files ---------------------------------------------------------------


def _rendition_bitrates(out_dir: Path) -> dict[str, int]:
    playlist = parse_media_playlist((out_dir / PLAYLIST_NAME).read_text())
    sized = [((out_dir / seg.uri).stat().st_size, seg.duration) for seg in playlist.segments]
    return {
        "average_bitrate_bps": average_bitrate_bps(
            sum(size for size, _ in sized), playlist.duration_seconds
        ),
        "peak_bitrate_bps": peak_bitrate_bps(sized),
    }


def _single_decode(
    jobs: list[TranscodeJob], source: Path, out_root: Path, log_path: Path
) -> tuple[Measured, dict[str, dict[str, int]]]:
    if out_root.exists():
        shutil.rmtree(out_root)
    for job in jobs:
        (out_root / job.name).mkdir(parents=True)
    measured = run_measured(single_decode_command(jobs, source, out_root), log_path=log_path)
    return measured, {job.name: _rendition_bitrates(out_root / job.name) for job in jobs}


def _measured(entry: Measured, source_seconds: float) -> dict[str, Any]:
    return {
        "wall_seconds": round(entry.wall_seconds, 3),
        "cpu_seconds": round(entry.cpu_seconds, 3),
        "realtime_factor": round(source_seconds / entry.wall_seconds, 3),
        "peak_memory_bytes": entry.peak_memory_bytes,
    }


# --- one source ---------------------------------------------------------------------------------


def source_results(  # noqa: PLR0917
    spec: SourceSpec,
    path: Path,
    run: PipelineRun,
    balanced_run: PipelineRun | None,
    options: Options,
    logs: Path,
) -> dict[str, Any]:
    info, probed = probe_file(path)
    seconds = info.duration_seconds
    planned = plan_file(info, options.preset)
    jobs = ladder(planned)
    names = [job.name for job in jobs]
    missing = [name for name in names if name not in run.results]
    if missing:
        raise RuntimeError(f"{spec.name}: the pipeline has no result for {missing}")
    results = run.results
    work = options.work_dir / "out" / spec.name

    log.info("%s: floor (one process, %d outputs)", spec.name, len(jobs))
    floor, floor_rates = _single_decode(jobs, path, work / "floor", logs / f"{spec.name}-floor.log")
    log.info("%s: decode only", spec.name)
    decode = run_measured(decode_only_command(path), log_path=logs / f"{spec.name}-decode.log")

    # Per task: the transcoder's own FFmpeg figures, and the process wall from the history.
    encode_cpu = {name: float(r["encode_cpu_seconds"]) for name, r in results.items()}
    encode_wall = {name: float(r["encode_wall_seconds"]) for name, r in results.items()}
    task_walls = [run.task_walls[name] for name in names]
    overhead_per_task = report.task_overhead_seconds(task_walls, [encode_wall[n] for n in names])
    overhead = run.orchestration_overhead_seconds
    encode_total = sum(encode_cpu[name] for name in names)

    # Balanced, modelled (as before the pipeline could run it): shared groups measured here
    # as one-decode commands; single-job groups as in the per-rung pipeline run.
    groups = balanced_groups(
        jobs, source_pixel_rate=info.display_width * info.display_height * info.frame_rate
    )
    balanced_cpu = 0.0
    balanced_walls: list[float] = []
    balanced_peak = 0
    shared: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        if len(group) == 1:
            name = group[0].name
            balanced_cpu += encode_cpu[name]
            balanced_walls.append(run.task_walls[name])
            balanced_peak = max(balanced_peak, int(results[name]["peak_memory_bytes"]))
            continue
        log.info("%s: balanced shared task %s", spec.name, "+".join(j.name for j in group))
        measured, _ = _single_decode(
            group, path, work / f"balanced-{index}", logs / f"{spec.name}-balanced-{index}.log"
        )
        balanced_cpu += measured.cpu_seconds
        balanced_walls.append(measured.wall_seconds + overhead_per_task)
        balanced_peak = max(balanced_peak, measured.peak_memory_bytes)
        shared.append({"renditions": [j.name for j in group], **_measured(measured, seconds)})

    floor_task_wall = floor.wall_seconds + overhead_per_task
    rungs = [
        _rung(job.name, results[job.name], run.task_walls[job.name], floor_rates[job.name])
        for job in jobs
    ]
    others = [
        {
            "name": name,
            "kind": result.get("kind"),
            "task_wall_seconds": round(run.task_walls.get(name, 0.0), 3),
            "encode_wall_seconds": encode_wall[name],
            "encode_cpu_seconds": encode_cpu[name],
            "peak_memory_bytes": int(result["peak_memory_bytes"]),
            **report.strategy_costs([run.task_walls.get(name, 0.0)], seconds),
        }
        for name, result in results.items()
        if name not in names
    ]
    balanced_one_worker = sum(balanced_walls) + overhead
    video_sides = [
        min(j.rendition.width, j.rendition.height)
        for j in jobs
        if isinstance(j.rendition, VideoRendition)
    ]
    return {
        "name": spec.name,
        "description": spec.description,
        "path": str(path.relative_to(REPO_ROOT)),
        "width": info.display_width,
        "height": info.display_height,
        "frame_rate": info.frame_rate,
        "duration_seconds": seconds,
        "bitrate_bps": int(str(probed.get("format", {}).get("bit_rate", 0))),
        "size_bytes": info.size_bytes,
        "plan": names,
        "plan_matches_pipeline": same_renditions(planned, run.jobs),
        "rungs": rungs,
        "other_tasks": others,
        "decode": _measured(decode, seconds),
        "floor": {
            **_measured(floor, seconds),
            "task_wall_seconds": round(floor_task_wall, 3),
            **report.strategy_costs([floor_task_wall], seconds, floor.cpu_seconds),
        },
        "strategies": {
            "per_rung": {
                "measured": True,
                "video_id": run.video_id,
                "wall_seconds": round(run.wall_seconds, 3),
                "cpu_seconds": round(run.cpu_seconds, 3),
                "encode_cpu_seconds": round(encode_total, 3),
                "realtime_factor": round(seconds / run.wall_seconds, 3),
                "pipeline_cpu_over_floor_cpu": report.ratio(run.cpu_seconds, floor.cpu_seconds),
                "encode_cpu_over_floor_cpu": report.ratio(encode_total, floor.cpu_seconds),
                "transcoders_critical_path_seconds": round(run.critical_path_seconds, 3),
                "orchestration_overhead_seconds": round(overhead, 3),
                "orchestration_overhead_parts_seconds": run.overhead_parts,
                "task_overhead_seconds": round(overhead_per_task, 3),
                "transcoder_peak_memory_bytes": max(int(r["peak_memory_bytes"]) for r in rungs),
                "by_workers": report.workers_table(
                    task_walls, overhead, list(range(1, len(jobs) + 1))
                ),
                **report.strategy_costs(task_walls, seconds, encode_total),
            },
            **(
                {"balanced": _balanced_measured(balanced_run, info, options, seconds, floor)}
                if balanced_run is not None
                else {}
            ),
            ("balanced_modelled" if balanced_run is not None else "balanced"): {
                "measured": False,
                "modelled": True,
                "groups": [[job.name for job in group] for group in groups],
                "shared_tasks": shared,
                "cpu_seconds": round(balanced_cpu, 3),
                "cpu_over_floor_cpu": report.ratio(balanced_cpu, floor.cpu_seconds),
                "wall_seconds_one_worker": round(balanced_one_worker, 3),
                "realtime_factor_one_worker": round(seconds / balanced_one_worker, 3),
                "peak_memory_bytes": balanced_peak,
                "by_workers": report.workers_table(
                    balanced_walls, overhead, list(range(1, len(groups) + 1))
                ),
                **report.strategy_costs(balanced_walls, seconds, balanced_cpu),
            },
        },
        "mediaconvert_per_source_minute_usd": round(mediaconvert_per_source_minute(video_sides), 4),
    }


def _balanced_measured(
    run: PipelineRun, info: SourceInfo, options: Options, seconds: float, floor: Measured
) -> dict[str, Any]:
    """The balanced strategy as the pipeline ran it (JOB_STRATEGY=balanced): every task's
    wall from the execution history, its FFmpeg CPU and peak memory from the result JSON
    (the same figures in each result of a grouped task: one shared process)."""
    planned = plan_file(info, options.preset, "balanced")
    executed = [job.name for job in ladder(run.jobs)]
    if [job.name for job in ladder(planned)] != executed or not same_renditions(planned, run.jobs):
        raise RuntimeError(f"the balanced run planned {executed}, not the balanced plan")
    groups = {name: names for name, names in run.groups.items() if name in _ladder_jobs(run)}
    cpu = {job: float(run.results[names[0]]["encode_cpu_seconds"]) for job, names in groups.items()}
    peak = {job: int(run.results[names[0]]["peak_memory_bytes"]) for job, names in groups.items()}
    walls = [run.task_walls[job] for job in groups]
    encode_cpu = sum(cpu.values())
    overhead = run.orchestration_overhead_seconds
    return {
        "measured": True,
        "video_id": run.video_id,
        "groups": list(groups.values()),
        "plan_matches_pipeline": same_renditions(planned, run.jobs),
        "tasks_detail": [
            {
                "renditions": names,
                "task_wall_seconds": round(run.task_walls[job], 3),
                "encode_wall_seconds": float(run.results[names[0]]["encode_wall_seconds"]),
                "encode_cpu_seconds": cpu[job],
                "peak_memory_bytes": peak[job],
            }
            for job, names in groups.items()
        ],
        "renditions": {
            name: {
                "average_bitrate_bps": result["average_bitrate_bps"],
                "peak_bitrate_bps": result["peak_bitrate_bps"],
                "ssim": result.get("ssim"),
            }
            for name, result in run.results.items()
            if result.get("kind") in ("video", "audio")
        },
        "wall_seconds": round(run.wall_seconds, 3),
        "pipeline_cpu_seconds": round(run.cpu_seconds, 3),
        "pipeline_cpu_over_floor_cpu": report.ratio(run.cpu_seconds, floor.cpu_seconds),
        # FFmpeg's CPU of the ladder's tasks: what the strategies are compared by.
        "cpu_seconds": round(encode_cpu, 3),
        "cpu_over_floor_cpu": report.ratio(encode_cpu, floor.cpu_seconds),
        # One transcoder at a time (max_parallel_jobs=1): the pipeline's wall is one worker's.
        "wall_seconds_one_worker": round(run.wall_seconds, 3),
        "realtime_factor_one_worker": round(seconds / run.wall_seconds, 3),
        "orchestration_overhead_seconds": round(overhead, 3),
        "peak_memory_bytes": max(peak.values()),
        "by_workers": report.workers_table(walls, overhead, list(range(1, len(walls) + 1))),
        **report.strategy_costs(walls, seconds, encode_cpu),
    }


def _ladder_jobs(run: PipelineRun) -> set[str]:
    return {job.name for job in ladder(run.jobs)}


def _rung(
    name: str, result: dict[str, Any], task_wall: float, floor_rates: dict[str, int]
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": result["kind"],
        "width": result.get("width"),
        "height": result.get("height"),
        "average_bitrate_bps": result["average_bitrate_bps"],
        "peak_bitrate_bps": result["peak_bitrate_bps"],
        "ssim": result.get("ssim"),  # optional in the result JSON
        "floor_average_bitrate_bps": floor_rates["average_bitrate_bps"],
        "floor_peak_bitrate_bps": floor_rates["peak_bitrate_bps"],
        "task_wall_seconds": round(task_wall, 3),
        "encode_wall_seconds": float(result["encode_wall_seconds"]),
        "encode_cpu_seconds": float(result["encode_cpu_seconds"]),
        "peak_memory_bytes": int(result["peak_memory_bytes"]),
    }


# --- the run ------------------------------------------------------------------------------------


def _memory_bound(  # noqa: PLR0917
    stack: OfflineStack,
    spec: SourceSpec,
    source: Path,
    run: PipelineRun,
    options: Options,
    logs: Path,
) -> dict[str, Any]:
    top = next(j for j in run.jobs if isinstance(j.rendition, VideoRendition))
    cut = make_cut(source, options.cut_seconds)
    video_id = f"bench-cut-{int(time.time())}"
    job = top.model_copy(
        update={
            "video_id": video_id,
            # not ".../source": no upload event, so no workflow starts for this object
            "source_key": f"{video_id}/cut.mp4",
            "output_prefix": f"{video_id}/hls/{top.name}/",
        }
    )
    log.info("memory: %s rung on a %g s cut", top.name, options.cut_seconds)
    _, result = run_one_job(stack, job, cut, logs / "memory-cut.log")
    long_result = run.results[top.name]
    runs = [
        {
            "source_seconds": float(result["duration_seconds"]),
            "peak_memory_bytes": int(result["peak_memory_bytes"]),
            "encode_cpu_seconds": float(result["encode_cpu_seconds"]),
        },
        {
            "source_seconds": float(long_result["duration_seconds"]),
            "peak_memory_bytes": int(long_result["peak_memory_bytes"]),
            "encode_cpu_seconds": float(long_result["encode_cpu_seconds"]),
        },
    ]
    return {
        "source": spec.name,
        "rung": top.name,
        "short_seconds": runs[0]["source_seconds"],
        "long_seconds": runs[1]["source_seconds"],
        "runs": runs,
        "growth": round(runs[1]["peak_memory_bytes"] / runs[0]["peak_memory_bytes"], 3),
    }


def _gateway_load(stack: OfflineStack, options: Options) -> dict[str, Any]:
    request = {
        "base_url": stack.api_url,
        "tokens": [stack.token(f"load-{index}") for index in range(options.load_threads)],
        "requests_per_thread": options.load_rounds,
        "time_limit_seconds": options.load_time_limit_seconds,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.api_load"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        timeout=options.load_time_limit_seconds + 60,
        env=_python_env(),
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    paths = [str(REPO_ROOT), str(REPO_ROOT / "transcoder_image")]
    return {**os.environ, **(extra or {}), "PYTHONPATH": os.pathsep.join(paths)}


def _ffmpeg_version() -> str:
    out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split()[:3])


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(options: Options) -> dict[str, Any]:
    with LoadSampler() as load:
        results = _run(options)
    results["machine"]["load_average_1min_during_run"] = load.summary()
    return results


def _run(options: Options) -> dict[str, Any]:
    started = time.monotonic()
    logs = options.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "ffmpeg": _ffmpeg_version(),
        "load_average_start": _load_average(),
    }
    log.info("sources: %g s each", options.source_seconds)
    generated = time.monotonic()
    paths = {
        spec.name: make_source(spec, options.source_seconds, options.work_dir / "sources")
        for spec in SOURCES
    }
    sources_seconds = time.monotonic() - generated

    state_dir = options.work_dir / "state"
    shutil.rmtree(state_dir, ignore_errors=True)
    config = OfflineConfig(state_dir=state_dir, x264_preset=options.preset, max_parallel_jobs=1)
    runs: dict[str, PipelineRun] = {}
    balanced_runs: dict[str, PipelineRun] = {}
    with OfflineStack(config) as stack:
        client = ApiClient(stack.api_url, stack.token("bench"))
        for spec in SOURCES:
            log.info("%s: offline pipeline, one job per rung", spec.name)
            runs[spec.name] = run_source(
                stack, client, paths[spec.name], spec.name, timeout_seconds=1800
            )
            log.info("%s: pipeline %.1f s wall", spec.name, runs[spec.name].wall_seconds)
        stack.use_job_strategy("balanced")
        for spec in SOURCES:
            log.info("%s: offline pipeline, balanced", spec.name)
            balanced_runs[spec.name] = run_source(
                stack, client, paths[spec.name], spec.name, timeout_seconds=1800
            )
            log.info("%s: balanced %.1f s wall", spec.name, balanced_runs[spec.name].wall_seconds)
        stack.use_job_strategy("per_rung")
        first = SOURCES[0]
        memory = _memory_bound(stack, first, paths[first.name], runs[first.name], options, logs)
        imports = _cold_imports(config, options)
        log.info("gateway load")
        gateway = _gateway_load(stack, options)
    log.info("offline stack start and stop")
    stack_lifecycle = lifecycle.measure(_python_env())
    log.info("soak: videos at once with tasks interrupted and RunTasks refused")
    soaked = soak.measure(_python_env(), quick=options.quick)
    chunked = _chunking(options)

    sources = [
        source_results(
            spec, paths[spec.name], runs[spec.name], balanced_runs.get(spec.name), options, logs
        )
        for spec in SOURCES
    ]
    results: dict[str, Any] = {
        "schema": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine, "load_average_end": _load_average()},
        "settings": {
            "command": options.command,
            "quick": options.quick,
            "preset": options.preset,
            "max_parallel_jobs": config.max_parallel_jobs,
            "source_seconds": options.source_seconds,
            "default_strategy": "per_rung",
            "strategies_run": ["per_rung", "balanced"],
            "source_generation_seconds": round(sources_seconds, 1),
        },
        "prices": price_table(),
        "sources": sources,
        "memory_bound": memory,
        "lambda_cold_import": imports,
        "gateway_latency": gateway,
        "offline_stack_lifecycle": stack_lifecycle,
        "soak": soaked,
        "chunking": chunked,
    }
    results["run_seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = report.targets(results)
    return results


def _chunking(options: Options) -> dict[str, Any]:
    """Chunked encoding (bench/chunking.py): the 3-minute source, or a short one when quick."""
    log.info("chunked encoding")
    logs = options.work_dir / "logs"
    if options.quick:
        return chunking.measure(options.work_dir, logs, options.preset, seconds=24, chunk_seconds=8)
    return chunking.measure(options.work_dir, logs, options.preset)


def _cold_imports(config: OfflineConfig, options: Options) -> dict[str, Any]:
    log.info("cold imports of the Lambda handlers")
    return cold_imports(
        handler_modules(LAMBDA_HANDLERS.values()),
        _python_env(in_process_environment(config)),
        options.import_samples,
    )


# The parts `python -m bench --only` re-measures, each replacing its entry in results.json.
# `av1` is only measured when asked for: a whole run does not compare AV1 (bench/av1.py).
PARTS = ("imports", "api", "lifecycle", "soak", "chunking", "av1")


def run_parts(options: Options, parts: list[str]) -> dict[str, Any]:
    """Re-measures `parts` and merges them into the results.json of a whole run in
    `options.out_dir`; `partial_runs` records what was measured when, under what load."""
    results: dict[str, Any] = json.loads((options.out_dir / "results.json").read_text())
    load_start = _load_average()
    state_dir = options.work_dir / "state"
    shutil.rmtree(state_dir, ignore_errors=True)
    config = OfflineConfig(state_dir=state_dir, x264_preset=options.preset, max_parallel_jobs=1)
    if "imports" in parts:
        results["lambda_cold_import"] = _cold_imports(config, options)
    if "api" in parts:
        with OfflineStack(config) as stack:
            log.info("gateway load")
            results["gateway_latency"] = _gateway_load(stack, options)
    if "lifecycle" in parts:
        log.info("offline stack start and stop")
        results["offline_stack_lifecycle"] = lifecycle.measure(_python_env())
    if "soak" in parts:
        log.info("soak: videos at once with tasks interrupted and RunTasks refused")
        results["soak"] = soak.measure(_python_env(), quick=options.quick)
    if "chunking" in parts:
        results["chunking"] = _chunking(options)
    if "av1" in parts:
        log.info("AV1 against H.264 at the same rungs")
        results["av1_vs_h264"] = av1.measure(
            options.work_dir, options.work_dir / "logs", options.source_seconds, options.preset
        )
    results.setdefault("partial_runs", []).append(
        {
            "parts": parts,
            "command": options.command,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_start": load_start,
            "load_average_end": _load_average(),
        }
    )
    results["targets"] = report.targets(results)
    return results


def write_outputs(results: dict[str, Any], out_dir: Path) -> None:
    from bench.chart import write_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "summary.md").write_text(report.render_summary(results))
    write_chart(results, out_dir / "chart.png")


def main(options: Options, parts: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    results = run_parts(options, parts) if parts else run(options)
    write_outputs(results, options.out_dir)
    for target in results["targets"]:
        log.info(
            "target %s: %s (%s) met=%s",
            target["name"],
            target["value"],
            target["target"],
            target["met"],
        )
    log.info("wrote %s in %.0f s", options.out_dir, results["run_seconds"])
    return 0
