"""From measurements to results.json and the Markdown summary: pure functions of data."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from bench.av1 import av1_section
from bench.chunking_report import chunking_section, chunking_targets
from bench.costs import RATES, costs_by_rate, cpu_bound_per_source_minute, makespan
from bench.results import (
    BalancedMeasured,
    BalancedModelled,
    Floor,
    PerRung,
    RenditionQuality,
    SourceResult,
    Strategies,
    TaskCosts,
    WorkersRow,
)

# The targets (reported, never asserted by a timed test).
BALANCED_CPU_OVER_FLOOR_MAX = 1.10
ORCHESTRATION_OVERHEAD_MAX_SECONDS = 1.0
# "Bounded independent of source length": a 3x longer source may not need much more memory.
MEMORY_GROWTH_MAX = 1.25
COLD_IMPORT_MAX_SECONDS = 0.300
GATEWAY_P99_MAX_MS = 50.0  # with the concurrent clients
GATEWAY_ONE_CLIENT_P50_MAX_MS = 15.0
STACK_START_MAX_SECONDS = 5.0
STACK_STOP_MAX_SECONDS = 2.0
RUN_MAX_SECONDS = 15 * 60

MIB = 1024 * 1024


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator > 0 else None


def task_overhead_seconds(process_walls: Sequence[float], encode_walls: Sequence[float]) -> float:
    """Median time a transcoder task spends outside FFmpeg (start-up, probe, upload)."""
    gaps = [
        max(0.0, wall - encode) for wall, encode in zip(process_walls, encode_walls, strict=True)
    ]
    return statistics.median(gaps) if gaps else 0.0


def workers_table(
    durations: Sequence[float], overhead_seconds: float, counts: Sequence[int]
) -> list[dict[str, Any]]:
    """Modelled wall with N workers, each task on its own 2-vCPU worker: the Map's makespan
    plus the orchestration overhead measured offline."""
    return [
        {
            "workers": count,
            "makespan_seconds": round(makespan(durations, count), 3),
            "wall_seconds": round(makespan(durations, count) + overhead_seconds, 3),
        }
        for count in counts
    ]


def strategy_costs(
    task_walls: Sequence[float], source_seconds: float, cpu_seconds: float | None = None
) -> dict[str, Any]:
    costs: dict[str, Any] = costs_by_rate(task_walls, source_seconds)
    if cpu_seconds is not None:
        costs["cpu_bound"] = {
            rate.key: cpu_bound_per_source_minute(cpu_seconds, source_seconds, rate)
            for rate in RATES
        }
    return {
        "tasks": len(task_walls),
        "task_walls_seconds": [round(wall, 3) for wall in task_walls],
        "cost_per_source_minute_usd": _rounded(costs),
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def typed_sources(results: Mapping[str, Any]) -> list[SourceResult]:
    """The sources of results.json (as written, or as a test makes them) as their types."""
    return [SourceResult.model_validate(source) for source in results["sources"]]


# --- targets ---------------------------------------------------------------------------------


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for source in typed_sources(results):
        rows.extend(_source_targets(source))
    memory = results.get("memory_bound")
    if memory:
        rows.append(
            _target(
                f"transcoder peak memory, {memory['rung']} rung, "
                f"{memory['long_seconds']:g} s / {memory['short_seconds']:g} s source",
                f"<= {MEMORY_GROWTH_MAX:.2f}x",
                memory["growth"],
                _at_most(memory["growth"], MEMORY_GROWTH_MAX),
            )
        )
    imports = results.get("lambda_cold_import")
    if imports:
        # CPU seconds: on an idle machine import wall is its CPU; on a shared one, wall is
        # stretched by others' work and CPU is not (both are in the summary).
        cpu = imports.get("modules_cpu", imports["modules"])
        for module, seconds in cpu.items():
            rows.append(
                _target(
                    f"cold import {module} (CPU ms; wall "
                    f"{imports['modules'][module] * 1000:.0f} ms)",
                    f"<= {COLD_IMPORT_MAX_SECONDS * 1000:g}",
                    round(seconds * 1000, 1),
                    _at_most(seconds, COLD_IMPORT_MAX_SECONDS),
                )
            )
    gateway = results.get("gateway_latency")
    if gateway:
        for operation in ("create", "get", "list"):
            p99 = gateway["concurrent"]["operations"][operation].get("p99_ms")
            rows.append(
                _target(
                    f"gateway p99 {operation} (ms), {gateway['concurrent']['threads']} clients",
                    f"<= {GATEWAY_P99_MAX_MS:g}",
                    p99,
                    _at_most(p99, GATEWAY_P99_MAX_MS),
                )
            )
        for operation in ("create", "get", "list"):
            p50 = gateway["one_client"]["operations"][operation].get("p50_ms")
            rows.append(
                _target(
                    f"gateway p50 {operation} (ms), one client",
                    f"<= {GATEWAY_ONE_CLIENT_P50_MAX_MS:g}",
                    p50,
                    _at_most(p50, GATEWAY_ONE_CLIENT_P50_MAX_MS),
                )
            )
    stack = results.get("offline_stack_lifecycle")
    if stack:
        rows.append(
            _target(
                "python -m local up: start, to its ready line (s)",
                f"<= {STACK_START_MAX_SECONDS:g}",
                stack["start_seconds_max"],
                _at_most(stack["start_seconds_max"], STACK_START_MAX_SECONDS),
            )
        )
        rows.append(
            _target(
                "python -m local up: stop on SIGINT / SIGTERM (s)",
                f"<= {STACK_STOP_MAX_SECONDS:g}",
                stack["stop_seconds_max"],
                _at_most(stack["stop_seconds_max"], STACK_STOP_MAX_SECONDS),
            )
        )
        rows.append(
            _target(
                "python -m local up: processes left after stop",
                "0",
                len(stack["processes_left"]),
                not stack["processes_left"],
            )
        )
    rows.extend(_soak_targets(results.get("soak")))
    rows += chunking_targets(results)
    run_seconds = results.get("run_seconds")
    if run_seconds is not None and not results["settings"]["quick"]:
        rows.append(
            _target(
                "make bench run time (s)",
                f"< {RUN_MAX_SECONDS}",
                run_seconds,
                _at_most(run_seconds, RUN_MAX_SECONDS),
            )
        )
    return rows


def _source_targets(source: SourceResult) -> list[dict[str, Any]]:
    name = source.name
    balanced = source.strategies.balanced_compared()
    per_rung = source.strategies.per_rung
    return [
        _target(
            f"{name}: balanced CPU / floor CPU ({_how(balanced)})",
            f"<= {BALANCED_CPU_OVER_FLOOR_MAX:.2f}",
            balanced.cpu_over_floor_cpu,
            _at_most(balanced.cpu_over_floor_cpu, BALANCED_CPU_OVER_FLOOR_MAX),
        ),
        _target(
            f"{name}: one job per rung, encode CPU / floor CPU",
            "report",
            per_rung.encode_cpu_over_floor_cpu,
            None,
        ),
        _target(
            f"{name}: orchestration overhead (s)",
            f"<= {ORCHESTRATION_OVERHEAD_MAX_SECONDS:g}",
            per_rung.orchestration_overhead_seconds,
            _at_most(per_rung.orchestration_overhead_seconds, ORCHESTRATION_OVERHEAD_MAX_SECONDS),
        ),
    ]


def _soak_targets(soak: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """bench/soak.py: every video COMPLETED, none stuck, CPU within its ratio of no faults."""
    if not soak:
        return []
    rates = f"{soak['interrupted']} interrupted, {soak['refused']} refused"
    return [
        _target(
            f"soak: videos COMPLETED of {soak['videos']} ({rates})",
            f"= {soak['videos']}",
            soak["completed"],
            soak["completed"] == soak["videos"],
        ),
        _target("soak: videos stuck", "0", soak["stuck"], soak["stuck"] == 0),
        _target(
            "soak: CPU with faults / without",
            f"<= {soak['cpu_ratio_target']:.2f}",
            soak["cpu_ratio"],
            _at_most(soak["cpu_ratio"], soak["cpu_ratio_target"]),
        ),
    ]


def _target(name: str, target: str, value: Any, met: bool | None) -> dict[str, Any]:
    return {"name": name, "target": target, "value": value, "met": met}


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


# --- the Markdown summary --------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _load(machine: Mapping[str, Any]) -> str:
    during = machine.get("load_average_1min_during_run")
    if not during:
        return f"{machine['load_average_start']} (start)"
    return f"{during['mean']:.1f} on average, {during['max']:.1f} at most"


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MIB:.0f}"


def _kbps(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.0f}"


def _usd(value: float) -> str:
    return f"${value:.4f}"


def _gateway_cpu(gateway: dict[str, Any], cores: int) -> list[str]:
    """Where each request's CPU went, and the mean wait that CPU alone implies."""
    cpu = gateway["concurrent"].get("cpu_ms_per_request")
    if not cpu:
        return []
    clients = gateway["concurrent"]["threads"]
    one = gateway["one_client"].get("cpu_ms_per_request") or {}
    all_cores = clients * cpu["total"] / cores
    one_lock = clients * cpu["stack_process"]
    return [
        "",
        f"CPU per request with {clients} clients (one client: in brackets), ms: the stack's "
        f"process (gateway and moto, one interpreter lock) {cpu['stack_process']:.1f} "
        f"({_fmt(one.get('stack_process'), 1)}), the API instances {cpu['api_instances']:.1f} "
        f"({_fmt(one.get('api_instances'), 1)}), the load's client {cpu['client']:.1f} "
        f"({_fmt(one.get('client'), 1)}); {cpu['total']:.1f} in all. With {clients} clients "
        f"each waiting for its answer, a request waits on average at least {all_cores:.0f} ms "
        f"for the {cores} cores ({clients} x {cpu['total']:.1f} / {cores}) and "
        f"{one_lock:.0f} ms for the stack's lock ({clients} x {cpu['stack_process']:.1f}). "
        f"A p99 <= {GATEWAY_P99_MAX_MS:g} ms needs a mean of about half that, which takes at "
        f"most {GATEWAY_P99_MAX_MS / 2 * cores / clients:.1f} ms of CPU per request in all, "
        f"{GATEWAY_P99_MAX_MS / 2 / clients:.1f} of them in the stack's process.",
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_summary(results: Mapping[str, Any]) -> str:
    settings = results["settings"]
    machine = results["machine"]
    out = [
        "# StreamForge benchmark: summary",
        "",
        f"Generated by `{settings['command']}` on {results['generated_at']}; every number below "
        "comes from that one run on one machine "
        f"({machine['cpus']} cores; {machine['ffmpeg']}). The machine was shared: 1-minute "
        f"load average {_load(machine)} during the run; other work stretches walls (and so "
        "the Fargate costs, which bill wall time) but not CPU seconds. "
        f"x264 preset `{settings['preset']}`; the offline pipeline ran "
        f"{settings['max_parallel_jobs']} transcoder at a time, so each task's wall is that of "
        "a task with the machine's 2 cores to itself (a 2 vCPU Fargate task). "
        f"Whole run: {results['run_seconds']:.0f} s, of which "
        f"{settings.get('source_generation_seconds', 0):.0f} s generating the sources (0 when "
        "they were cached in bench/work). Method: docs/benchmark.md.",
        "",
    ]
    if settings["quick"]:
        out += ["**Quick smoke run** (short sources): not the project's numbers.", ""]
    for partial in results.get("partial_runs", []):
        out += [
            f"Re-measured later by `{partial['command']}` on {partial['generated_at']} "
            f"(1-minute load average {partial['load_average_start']} at its start): "
            f"{', '.join(partial['parts'])}; those sections and targets come from that run.",
            "",
        ]
    out += ["## Targets", ""]
    out += _table(
        ["what", "target", "measured", "met"],
        [
            [
                t["name"],
                t["target"],
                _fmt(t["value"], 3),
                "-" if t["met"] is None else _fmt(t["met"]),
            ]
            for t in results["targets"]
        ],
    )
    sources = typed_sources(results)
    for source in sources:
        out += ["", *_source_section(source)]
    out += ["", *_cost_section(sources)]
    if results.get("chunking"):
        out += ["", *chunking_section(results)]
    if results.get("av1_vs_h264"):
        out += ["", *av1_section(results)]
    out += ["", *_other_sections(results)]
    out += [
        "",
        "## What is modelled, not measured",
        "",
        *_balanced_model_notes(sources),
        "- **N workers**: each task on its own 2 vCPU worker, started in plan order; "
        "wall = makespan + the orchestration overhead measured offline. Fargate's task "
        "start-up (image pull) is not included.",
        "- **Costs**: Fargate 2 vCPU / 4 GB per task, billed per second with a one-minute "
        "minimum, at the task walls measured here (arm64 assumed as fast as this x86 "
        "machine). Prices and their dates: docs/benchmark.md.",
    ]
    return "\n".join(out) + "\n"


def _balanced_model_notes(sources: list[SourceResult]) -> list[str]:
    """How the balanced model is made, when the results hold one."""
    if all(source.strategies.balanced_modelled is None for source in sources):
        return []
    name, where = (
        ("balanced (model)", "beside the measured run, the model used before grouped jobs")
        if all(source.strategies.balanced is not None for source in sources)
        else ("balanced (modelled)", "no balanced run was measured, so the model stands in")
    )
    return [
        f"- **{name}**: {where}: the one-decode FFmpeg command for each shared "
        "group (measured in this run) plus the single-rung groups' own FFmpeg CPU from the "
        "per-rung run; its task walls add the median non-FFmpeg time of a pipeline task to "
        "the FFmpeg wall."
    ]


def _how(balanced: BalancedMeasured | BalancedModelled) -> str:
    return "measured" if balanced.measured else "modelled"


def _balanced_lines(strategies: Strategies, floor_cpu: float) -> list[str]:
    """The measured balanced run's tasks, and the model beside it when a run kept both."""
    balanced, model = strategies.balanced, strategies.balanced_modelled
    if balanced is None:
        return []
    out = ["", "Balanced, as the pipeline ran it (JOB_STRATEGY=balanced):", ""]
    out += _table(
        ["task (renditions)", "task wall s", "FFmpeg wall s", "FFmpeg CPU s", "peak MiB"],
        [
            [
                "+".join(task.renditions),
                _fmt(task.task_wall_seconds, 1),
                _fmt(task.encode_wall_seconds, 1),
                _fmt(task.encode_cpu_seconds, 1),
                _mib(task.peak_memory_bytes),
            ]
            for task in balanced.tasks_detail
        ],
    )
    if model is None:
        return out
    out += [
        "",
        f"The model of it (before grouped jobs existed): CPU {_fmt(model.cpu_seconds, 1)} s "
        f"({_fmt(ratio(model.cpu_seconds, floor_cpu))} of the floor), one worker "
        f"{_fmt(model.wall_seconds_one_worker, 1)} s, groups "
        f"{' | '.join('+'.join(g) for g in model.groups)}.",
    ]
    return out


def _source_section(source: SourceResult) -> list[str]:
    strategies = source.strategies
    per_rung, floor, decode = strategies.per_rung, source.floor, source.decode
    balanced = strategies.balanced_compared()
    out = [
        f"## {source.name}: {source.description}",
        "",
        f"{source.width}x{source.height} at {source.frame_rate:g} fps, "
        f"{source.duration_seconds:g} s, {source.bitrate_bps / 1e6:.1f} Mb/s; "
        f"ladder {', '.join(source.plan)}; "
        "the pipeline's plan is the planner's (`plan_jobs` / `plan_ladder`, called by the "
        f"benchmark on the same file): {_fmt(source.plan_matches_pipeline)}. "
        f"Balanced groups: {' | '.join('+'.join(g) for g in balanced.groups)}.",
        "",
    ]
    overhead = (
        balanced.orchestration_overhead_seconds if isinstance(balanced, BalancedMeasured) else "-"
    )
    out += _table(
        [
            "",
            "decode only",
            "floor (1 process)",
            "one job per rung (pipeline)",
            f"balanced ({_how(balanced)})",
        ],
        [
            [
                "wall s",
                _fmt(decode.wall_seconds, 1),
                _fmt(floor.wall_seconds, 1),
                _fmt(per_rung.wall_seconds, 1),
                _fmt(balanced.wall_seconds_one_worker, 1),
            ],
            [
                "CPU s (user+sys, children incl.)",
                _fmt(decode.cpu_seconds, 1),
                _fmt(floor.cpu_seconds, 1),
                f"{_fmt(per_rung.cpu_seconds, 1)} (FFmpeg {_fmt(per_rung.encode_cpu_seconds, 1)})",
                _fmt(balanced.cpu_seconds, 1),
            ],
            [
                "realtime factor (source s / wall s)",
                _fmt(decode.realtime_factor),
                _fmt(floor.realtime_factor),
                _fmt(per_rung.realtime_factor),
                _fmt(balanced.realtime_factor_one_worker),
            ],
            [
                "CPU / floor CPU",
                _fmt(ratio(decode.cpu_seconds, floor.cpu_seconds)),
                "1.00",
                f"{_fmt(per_rung.pipeline_cpu_over_floor_cpu)} "
                f"(FFmpeg only {_fmt(per_rung.encode_cpu_over_floor_cpu)})",
                _fmt(balanced.cpu_over_floor_cpu),
            ],
            [
                "orchestration overhead s",
                "-",
                "-",
                _fmt(per_rung.orchestration_overhead_seconds),
                _fmt(overhead),
            ],
            [
                "peak memory MiB (largest process)",
                _mib(decode.peak_memory_bytes),
                _mib(floor.peak_memory_bytes),
                _mib(per_rung.transcoder_peak_memory_bytes),
                _mib(balanced.peak_memory_bytes),
            ],
        ],
    )
    out += _balanced_lines(strategies, floor.cpu_seconds)
    out += _rung_lines(source, balanced)
    out += _overhead_parts_lines(per_rung)
    for other in source.other_tasks:
        out += [
            "",
            f"Besides the ladder, the pipeline ran the `{other.name}` job as its own task "
            f"({other.task_wall_seconds:.1f} s, FFmpeg CPU {other.encode_cpu_seconds:.1f} s, "
            f"{_mib(other.peak_memory_bytes)} MiB); it is the same in every strategy and is "
            "left out of the comparisons below (it is in the pipeline's wall and CPU).",
        ]
    out += ["", "Wall time with N parallel workers (modelled from the measured task walls):", ""]
    return out + _workers_table(per_rung, balanced, floor)


def _rung_lines(source: SourceResult, balanced: BalancedMeasured | BalancedModelled) -> list[str]:
    grouped = balanced.renditions if isinstance(balanced, BalancedMeasured) else {}
    out = ["", "Rungs (pipeline outputs; the floor's average bitrate beside, same settings):", ""]
    return out + _table(
        [
            "rung",
            "size",
            "avg kb/s",
            "peak kb/s",
            "SSIM",
            *(["balanced avg kb/s", "balanced SSIM"] if grouped else []),
            "floor avg kb/s",
            "task wall s",
            "FFmpeg wall s",
            "FFmpeg CPU s",
            "peak MiB",
        ],
        [
            [
                rung.name,
                f"{rung.width}x{rung.height}" if rung.width else "audio",
                _kbps(rung.average_bitrate_bps),
                _kbps(rung.peak_bitrate_bps),
                _fmt(rung.ssim, 4),
                *(_grouped_quality(grouped.get(rung.name)) if grouped else []),
                _kbps(rung.floor_average_bitrate_bps),
                _fmt(rung.task_wall_seconds, 1),
                _fmt(rung.encode_wall_seconds, 1),
                _fmt(rung.encode_cpu_seconds, 1),
                _mib(rung.peak_memory_bytes),
            ]
            for rung in source.rungs
        ],
    )


def _grouped_quality(quality: RenditionQuality | None) -> list[str]:
    """A rung's bitrate and SSIM in the measured balanced run (n/a if it has none)."""
    if quality is None:
        return ["n/a", "n/a"]
    return [_kbps(quality.average_bitrate_bps), _fmt(quality.ssim, 4)]


def _overhead_parts_lines(per_rung: PerRung) -> list[str]:
    parts = per_rung.orchestration_overhead_parts_seconds
    if not parts:
        return []
    before = "claim, probe, Map"
    if {"claim", "probe", "map_to_first_task"} <= parts.keys():
        before = (
            f"claim {parts['claim']:.2f} s, probe {parts['probe']:.2f} s, the rest "
            f"(Map, RunTask) {parts['map_to_first_task']:.2f} s"
        )
    after = f"Finalise {parts['finalise']:.2f} s" if "finalise" in parts else "Finalise"
    # Results from before the download was its own state name the part by the execution's end.
    after_last = parts.get("last_task_to_completed", parts.get("last_task_to_execution_end", 0.0))
    download = parts.get("download_after_completed")
    made_after = (
        f" The MP4 download was made in {download:.2f} s after COMPLETED (not in the overhead)."
        if download is not None
        else ""
    )
    return [
        "",
        "Orchestration overhead, where it goes: "
        f"{parts['upload_to_execution_start']:.2f} s from the upload to the execution's "
        f"start (S3 event, queue, pump), {parts['execution_start_to_first_task']:.2f} s "
        f"to the first transcoder ({before}), {parts['between_tasks']:.2f} s "
        "between transcoders (the Map starting the next task), "
        f"{after_last:.2f} s after the last ({after}).{made_after}",
    ]


def _workers_table(
    per_rung: PerRung, balanced: BalancedMeasured | BalancedModelled, floor: Floor
) -> list[str]:
    floor_wall = floor.task_wall_seconds + per_rung.orchestration_overhead_seconds
    return _table(
        ["workers", "one job per rung s", "balanced s", "floor s"],
        [
            [
                str(row.workers),
                _fmt(row.wall_seconds, 1),
                _fmt(_wall_for(balanced.by_workers, row.workers), 1),
                _fmt(floor_wall, 1),
            ]
            for row in per_rung.by_workers
        ],
    )


def _wall_for(rows: Sequence[WorkersRow], workers: int) -> float:
    fitting = [row for row in rows if row.workers <= workers]
    return max(fitting, key=lambda row: row.workers).wall_seconds


def _cost_section(sources: Sequence[SourceResult]) -> list[str]:
    out = [
        "## Cost per source minute (Fargate, us-east-1, 2 vCPU / 4 GB per task)",
        "",
        "From the measured task walls: with the one-minute minimum per task (what a clip of "
        "this length pays), and without it (what a long source tends to). Last column: from "
        "FFmpeg's CPU seconds, as if each task kept its 2 vCPU busy (a lower bound that other "
        "work on the benchmark machine cannot stretch).",
        "",
    ]
    header = ["source", "strategy", "tasks"]
    header += [f"{rate.label}" for rate in RATES]
    header += [f"{rate.key}, no minimum" for rate in RATES]
    header += ["x86, CPU-bound"]
    rows = []
    for source in sources:
        strategies = source.strategies
        balanced = strategies.balanced_compared()
        entries: list[tuple[str, TaskCosts]] = [
            ("one job per rung", strategies.per_rung),
            (f"balanced ({_how(balanced)})", balanced),
            *(
                [("balanced (model)", strategies.balanced_modelled)]
                if strategies.balanced is not None and strategies.balanced_modelled is not None
                else []
            ),
            ("floor (1 task)", source.floor),
        ]
        for label, entry in entries:
            costs = entry.cost_per_source_minute_usd
            cpu_bound = costs.get("cpu_bound", {}).get("x86")
            rows.append(
                [source.name, label, str(entry.tasks)]
                + [_usd(costs["with_minimum"][rate.key]) for rate in RATES]
                + [_usd(costs["without_minimum"][rate.key]) for rate in RATES]
                + [_usd(cpu_bound) if cpu_bound is not None else "n/a"]
            )
        rows.append(
            [source.name, "MediaConvert Basic (users' reports)", "-"]
            + [_usd(source.mediaconvert_per_source_minute_usd)] * len(RATES)
            + ["-"] * (len(RATES) + 1)
        )
    return out + _table(header, rows)


def _other_sections(results: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    memory = results.get("memory_bound")
    if memory:
        out += [
            "## Transcoder peak memory against source length",
            "",
            f"The {memory['rung']} rung of {memory['source']}, the same job on a "
            f"{memory['short_seconds']:g} s cut and on the {memory['long_seconds']:g} s source:",
            "",
        ]
        out += _table(
            ["source length s", "FFmpeg peak MiB", "FFmpeg CPU s"],
            [
                [
                    f"{row['source_seconds']:g}",
                    _mib(row["peak_memory_bytes"]),
                    _fmt(row["encode_cpu_seconds"], 1),
                ]
                for row in memory["runs"]
            ],
        )
        out += [
            "",
            f"Growth: {memory['growth']:.2f}x for "
            f"{memory['long_seconds'] / memory['short_seconds']:.1f}x the length.",
            "",
        ]
    imports = results.get("lambda_cold_import")
    if imports:
        out += [
            "## Lambda handler cold import",
            "",
            f"Median of {imports['samples']} fresh interpreters, less interpreter start-up "
            f"({imports['interpreter_startup_seconds'] * 1000:.0f} ms wall). CPU (user + "
            "system) is what the import costs whatever else the machine does; on an idle "
            "machine the wall is about the same:",
            "",
        ]
        heaviest = imports.get("heaviest_packages_ms", {})
        cpu = imports.get("modules_cpu", {})
        out += _table(
            [
                "module",
                "import wall ms",
                "import CPU ms",
                "heaviest packages (own import ms, one -X importtime run)",
            ],
            [
                [
                    module,
                    f"{seconds * 1000:.0f}",
                    _fmt(cpu[module] * 1000 if module in cpu else None, 0),
                    ", ".join(f"{name} {ms:.0f}" for name, ms in heaviest.get(module, [])),
                ]
                for module, seconds in imports["modules"].items()
            ],
        )
        out.append("")
    gateway = results.get("gateway_latency")
    if gateway:
        concurrent = gateway["concurrent"]
        out += [
            "## Gateway emulator latency (loopback)",
            "",
            "Create -> get (that video) -> list (own videos), in rounds, from a separate "
            f"process: first one client alone, then {concurrent['threads']} clients at once "
            f"(one user each, keep-alive), up to {concurrent['requests_per_thread_per_operation']}"
            f" rounds each and at most {concurrent['time_limit_seconds']:g} s per phase. The "
            "emulator runs each concurrent request on its own API instance (a worker "
            "process), as Lambda scales out.",
            "",
        ]
        cold = gateway.get("cold_start")
        if cold and cold.get("count"):
            out += [
                f"Cold starts, measured first: each of {cold['threads']} clients' first "
                "create, get and list, each operation for all clients at once (the first "
                "starting an instance per client: process start and handler import; each "
                "route's first call importing what it alone needs): p50 "
                f"{_fmt(cold.get('p50_ms'), 0)} ms, max {_fmt(cold.get('max_ms'), 0)} ms; "
                "the phases below ran on those warm instances.",
                "",
            ]
        rows = []
        for phase in ("one_client", "concurrent"):
            entry = gateway[phase]
            for operation, row in entry["operations"].items():
                rows.append(
                    [
                        f"{entry['threads']} client(s)",
                        operation,
                        str(row["count"]),
                        str(row["errors"]),
                        _fmt(row.get("p50_ms"), 1),
                        _fmt(row.get("p99_ms"), 1),
                        _fmt(row.get("max_ms"), 1),
                    ]
                )
        out += _table(
            ["load", "operation", "requests", "errors", "p50 ms", "p99 ms", "max ms"], rows
        )
        out += _gateway_cpu(gateway, int(results["machine"]["cpus"]))
    stack = results.get("offline_stack_lifecycle")
    if stack:
        out += [
            "",
            "## Offline stack start and stop",
            "",
            "`python -m local up` with the web app built: from launch to its ready line and to "
            "the API's first answer (an instance's cold start on top); then the signal, the "
            "exit, and the processes it had started that are still there after.",
            "",
        ]
        out += _table(
            ["signal", "start s", "first API answer s", "stop s", "exit", "processes left"],
            [
                [
                    run["signal"],
                    _fmt(run["start_seconds"]),
                    _fmt(run["first_api_answer_seconds"]),
                    _fmt(run["stop_seconds"]),
                    str(run["exit_code"]),
                    str(len(run["processes_left"])),
                ]
                for run in stack["runs"]
            ],
        )
    return out
