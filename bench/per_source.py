"""One source's entry of results.json: its probe and plan, the one-process floor and the
decode-only command measured here, the per-rung pipeline run, the balanced run and the
balanced model beside it."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bench import report
from bench.costs import mediaconvert_per_source_minute
from bench.floor import decode_only_command, single_decode_command
from bench.pipeline import PipelineRun
from bench.planning import ladder, plan_file, probe_file, same_renditions
from bench.plans import balanced_groups
from bench.procs import Measured, run_measured
from bench.results import (
    BalancedMeasured,
    BalancedModelled,
    BalancedTask,
    Floor,
    Measurement,
    OtherTask,
    PerRung,
    RenditionQuality,
    Rung,
    SharedTask,
    SourceResult,
    Strategies,
)
from bench.sources import SourceSpec
from lambdas.pipeline.source import SourceInfo
from local.config import REPO_ROOT
from transcoder.command import PLAYLIST_NAME
from transcoder.contract import TranscodeJob, VideoRendition
from transcoder.playlist import average_bitrate_bps, parse_media_playlist, peak_bitrate_bps

log = logging.getLogger("bench")


class TaskFigures(BaseModel):
    """The figures the benchmark reads from a transcoder's result JSON (the rest of it,
    keys and playlists, is the pipeline's business)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: str | None = None
    width: int | None = None
    height: int | None = None
    average_bitrate_bps: int | None = None
    peak_bitrate_bps: int | None = None
    ssim: float | None = None  # optional in the result JSON
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


@dataclass(frozen=True)
class Bitrates:
    average_bps: int
    peak_bps: int


@dataclass(frozen=True)
class PerRungSource:
    """A source and its per-rung pipeline run: what the entry's parts are computed from."""

    spec: SourceSpec
    path: Path
    info: SourceInfo
    jobs: list[TranscodeJob]  # the ladder, in plan order
    run: PipelineRun
    figures: dict[str, TaskFigures]  # rendition name -> its task's figures
    work: Path
    logs: Path

    @property
    def seconds(self) -> float:
        return self.info.duration_seconds

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]

    @property
    def task_walls(self) -> list[float]:
        return [self.run.task_walls[name] for name in self.names]

    @property
    def task_overhead_seconds(self) -> float:
        """Median time a task spends outside FFmpeg, added to modelled FFmpeg walls."""
        encode_walls = [self.figures[name].encode_wall_seconds for name in self.names]
        return report.task_overhead_seconds(self.task_walls, encode_walls)


def measurement(entry: Measured, source_seconds: float) -> Measurement:
    return Measurement(
        wall_seconds=round(entry.wall_seconds, 3),
        cpu_seconds=round(entry.cpu_seconds, 3),
        realtime_factor=round(source_seconds / entry.wall_seconds, 3),
        peak_memory_bytes=entry.peak_memory_bytes,
    )


def source_results(  # noqa: PLR0917
    spec: SourceSpec,
    path: Path,
    run: PipelineRun,
    balanced_run: PipelineRun | None,
    preset: str,
    work_dir: Path,
    logs: Path,
) -> SourceResult:
    info, probed = probe_file(path)
    planned = plan_file(info, preset)
    jobs = ladder(planned)
    missing = [job.name for job in jobs if job.name not in run.results]
    if missing:
        raise RuntimeError(f"{spec.name}: the pipeline has no result for {missing}")
    source = PerRungSource(
        spec=spec,
        path=path,
        info=info,
        jobs=jobs,
        run=run,
        figures={name: TaskFigures.model_validate(r) for name, r in run.results.items()},
        work=work_dir / "out" / spec.name,
        logs=logs,
    )
    log.info("%s: floor (one process, %d outputs)", spec.name, len(jobs))
    floor, floor_rates = _floor(source)
    log.info("%s: decode only", spec.name)
    decode = run_measured(decode_only_command(path), log_path=logs / f"{spec.name}-decode.log")
    strategies = Strategies(
        per_rung=_per_rung(source, floor),
        balanced=None
        if balanced_run is None
        else balanced_measured(balanced_run, info, preset, floor.cpu_seconds),
        # Only without a measured run: the model is what stands in for it.
        balanced_modelled=_balanced_modelled(source, floor) if balanced_run is None else None,
    )
    return SourceResult(
        name=spec.name,
        description=spec.description,
        path=str(path.relative_to(REPO_ROOT)),
        width=info.display_width,
        height=info.display_height,
        frame_rate=info.frame_rate,
        duration_seconds=info.duration_seconds,
        bitrate_bps=int(str(probed.get("format", {}).get("bit_rate", 0))),
        size_bytes=info.size_bytes,
        plan=source.names,
        plan_matches_pipeline=same_renditions(planned, run.jobs),
        rungs=[_rung(source, job.name, floor_rates[job.name]) for job in jobs],
        other_tasks=_other_tasks(source),
        decode=measurement(decode, source.seconds),
        floor=floor,
        strategies=strategies,
        mediaconvert_per_source_minute_usd=round(
            mediaconvert_per_source_minute(_video_sides(jobs)), 4
        ),
    )


def _video_sides(jobs: list[TranscodeJob]) -> list[int]:
    return [
        min(job.rendition.width, job.rendition.height)
        for job in jobs
        if isinstance(job.rendition, VideoRendition)
    ]


# --- FFmpeg commands measured here ---------------------------------------------------------------


def _rendition_bitrates(out_dir: Path) -> Bitrates:
    playlist = parse_media_playlist((out_dir / PLAYLIST_NAME).read_text())
    sized = [((out_dir / seg.uri).stat().st_size, seg.duration) for seg in playlist.segments]
    return Bitrates(
        average_bps=average_bitrate_bps(sum(size for size, _ in sized), playlist.duration_seconds),
        peak_bps=peak_bitrate_bps(sized),
    )


def _single_decode(
    jobs: list[TranscodeJob], source: Path, out_root: Path, log_path: Path
) -> tuple[Measured, dict[str, Bitrates]]:
    if out_root.exists():
        shutil.rmtree(out_root)
    for job in jobs:
        (out_root / job.name).mkdir(parents=True)
    measured = run_measured(single_decode_command(jobs, source, out_root), log_path=log_path)
    return measured, {job.name: _rendition_bitrates(out_root / job.name) for job in jobs}


def _floor(source: PerRungSource) -> tuple[Floor, dict[str, Bitrates]]:
    """Every rung from one FFmpeg process; as a task, it has a pipeline task's overhead."""
    name = source.spec.name
    measured, rates = _single_decode(
        source.jobs, source.path, source.work / "floor", source.logs / f"{name}-floor.log"
    )
    task_wall = measured.wall_seconds + source.task_overhead_seconds
    floor = Floor(
        **measurement(measured, source.seconds).model_dump(),
        task_wall_seconds=round(task_wall, 3),
        **report.strategy_costs([task_wall], source.seconds, measured.cpu_seconds),
    )
    return floor, rates


# --- the per-rung run -------------------------------------------------------------------------


def _per_rung(source: PerRungSource, floor: Floor) -> PerRung:
    run, seconds = source.run, source.seconds
    encode_total = sum(source.figures[name].encode_cpu_seconds for name in source.names)
    overhead = run.orchestration_overhead_seconds
    return PerRung(
        video_id=run.video_id,
        wall_seconds=round(run.wall_seconds, 3),
        cpu_seconds=round(run.cpu_seconds, 3),
        encode_cpu_seconds=round(encode_total, 3),
        realtime_factor=round(seconds / run.wall_seconds, 3),
        pipeline_cpu_over_floor_cpu=report.ratio(run.cpu_seconds, floor.cpu_seconds),
        encode_cpu_over_floor_cpu=report.ratio(encode_total, floor.cpu_seconds),
        transcoders_critical_path_seconds=round(run.critical_path_seconds, 3),
        orchestration_overhead_seconds=round(overhead, 3),
        orchestration_overhead_parts_seconds=run.overhead_parts,
        task_overhead_seconds=round(source.task_overhead_seconds, 3),
        transcoder_peak_memory_bytes=max(source.figures[n].peak_memory_bytes for n in source.names),
        by_workers=report.workers_table(
            source.task_walls, overhead, list(range(1, len(source.jobs) + 1))
        ),
        **report.strategy_costs(source.task_walls, seconds, encode_total),
    )


def _rung(source: PerRungSource, name: str, floor_rates: Bitrates) -> Rung:
    figures = source.figures[name]
    return Rung(
        name=name,
        kind=figures.kind,
        width=figures.width,
        height=figures.height,
        average_bitrate_bps=figures.average_bitrate_bps,
        peak_bitrate_bps=figures.peak_bitrate_bps,
        ssim=figures.ssim,
        floor_average_bitrate_bps=floor_rates.average_bps,
        floor_peak_bitrate_bps=floor_rates.peak_bps,
        task_wall_seconds=round(source.run.task_walls[name], 3),
        encode_wall_seconds=figures.encode_wall_seconds,
        encode_cpu_seconds=figures.encode_cpu_seconds,
        peak_memory_bytes=figures.peak_memory_bytes,
    )


def _other_tasks(source: PerRungSource) -> list[OtherTask]:
    """The jobs beside the ladder (thumbnails), the same in every strategy."""
    others = []
    for name, figures in source.figures.items():
        if name in source.names:
            continue
        task_wall = source.run.task_walls.get(name, 0.0)
        others.append(
            OtherTask(
                name=name,
                kind=figures.kind,
                task_wall_seconds=round(task_wall, 3),
                encode_wall_seconds=figures.encode_wall_seconds,
                encode_cpu_seconds=figures.encode_cpu_seconds,
                peak_memory_bytes=figures.peak_memory_bytes,
                **report.strategy_costs([task_wall], source.seconds),
            )
        )
    return others


# --- balanced ------------------------------------------------------------------------------------


def _balanced_modelled(source: PerRungSource, floor: Floor) -> BalancedModelled:
    """Balanced, modelled (as before the pipeline could run it): shared groups measured here
    as one-decode commands; single-job groups as in the per-rung pipeline run."""
    info, seconds = source.info, source.seconds
    groups = balanced_groups(
        source.jobs, source_pixel_rate=info.display_width * info.display_height * info.frame_rate
    )
    cpu = 0.0
    walls: list[float] = []
    peak = 0
    shared: list[SharedTask] = []
    for index, group in enumerate(groups):
        if len(group) == 1:
            figures = source.figures[group[0].name]
            cpu += figures.encode_cpu_seconds
            walls.append(source.run.task_walls[group[0].name])
            peak = max(peak, figures.peak_memory_bytes)
            continue
        name = source.spec.name
        log.info("%s: balanced shared task %s", name, "+".join(j.name for j in group))
        measured, _ = _single_decode(
            group,
            source.path,
            source.work / f"balanced-{index}",
            source.logs / f"{name}-balanced-{index}.log",
        )
        cpu += measured.cpu_seconds
        walls.append(measured.wall_seconds + source.task_overhead_seconds)
        peak = max(peak, measured.peak_memory_bytes)
        shared.append(
            SharedTask(
                renditions=[j.name for j in group],
                **measurement(measured, seconds).model_dump(),
            )
        )
    overhead = source.run.orchestration_overhead_seconds
    one_worker = sum(walls) + overhead
    return BalancedModelled(
        groups=[[job.name for job in group] for group in groups],
        shared_tasks=shared,
        cpu_seconds=round(cpu, 3),
        cpu_over_floor_cpu=report.ratio(cpu, floor.cpu_seconds),
        wall_seconds_one_worker=round(one_worker, 3),
        realtime_factor_one_worker=round(seconds / one_worker, 3),
        peak_memory_bytes=peak,
        by_workers=report.workers_table(walls, overhead, list(range(1, len(groups) + 1))),
        **report.strategy_costs(walls, seconds, cpu),
    )


def balanced_measured(
    run: PipelineRun, info: SourceInfo, preset: str, floor_cpu_seconds: float
) -> BalancedMeasured:
    """The balanced strategy as the pipeline ran it (JOB_STRATEGY=balanced): every task's
    wall from the execution history, its FFmpeg CPU and peak memory from the result JSON
    (the same figures in each result of a grouped task: one shared process)."""
    planned = plan_file(info, preset, "balanced")
    executed = ladder(run.jobs)
    if [job.name for job in ladder(planned)] != [job.name for job in executed] or (
        not same_renditions(planned, run.jobs)
    ):
        raise RuntimeError(
            f"the balanced run planned {[job.name for job in executed]}, not the balanced plan"
        )
    seconds = info.duration_seconds
    groups = {job.name: [member.name for member in job.members()] for job in executed}
    # A grouped task's results all carry its one process's figures: read the first.
    figures = {
        job: TaskFigures.model_validate(run.results[names[0]]) for job, names in groups.items()
    }
    walls = [run.task_walls[job] for job in groups]
    encode_cpu = sum(f.encode_cpu_seconds for f in figures.values())
    overhead = run.orchestration_overhead_seconds
    return BalancedMeasured(
        video_id=run.video_id,
        groups=list(groups.values()),
        plan_matches_pipeline=same_renditions(planned, run.jobs),
        tasks_detail=[
            BalancedTask(
                renditions=names,
                task_wall_seconds=round(run.task_walls[job], 3),
                encode_wall_seconds=figures[job].encode_wall_seconds,
                encode_cpu_seconds=figures[job].encode_cpu_seconds,
                peak_memory_bytes=figures[job].peak_memory_bytes,
            )
            for job, names in groups.items()
        ],
        renditions={
            name: RenditionQuality.model_validate(result)
            for name, result in _quality_results(run).items()
        },
        wall_seconds=round(run.wall_seconds, 3),
        pipeline_cpu_seconds=round(run.cpu_seconds, 3),
        pipeline_cpu_over_floor_cpu=report.ratio(run.cpu_seconds, floor_cpu_seconds),
        cpu_seconds=round(encode_cpu, 3),
        cpu_over_floor_cpu=report.ratio(encode_cpu, floor_cpu_seconds),
        # One transcoder at a time (max_parallel_jobs=1): the pipeline's wall is one worker's.
        wall_seconds_one_worker=round(run.wall_seconds, 3),
        realtime_factor_one_worker=round(seconds / run.wall_seconds, 3),
        orchestration_overhead_seconds=round(overhead, 3),
        peak_memory_bytes=max(f.peak_memory_bytes for f in figures.values()),
        by_workers=report.workers_table(walls, overhead, list(range(1, len(walls) + 1))),
        **report.strategy_costs(walls, seconds, encode_cpu),
    )


def _quality_results(run: PipelineRun) -> dict[str, dict[str, object]]:
    """Each video and audio rendition's bitrates and SSIM from its result JSON."""
    return {
        name: {key: result.get(key) for key in ("average_bitrate_bps", "peak_bitrate_bps", "ssim")}
        for name, result in run.results.items()
        if result.get("kind") in ("video", "audio")
    }
