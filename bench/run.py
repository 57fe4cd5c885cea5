"""The whole benchmark, in one run on one machine: sources, pipeline, floor, decode,
balanced model, memory bound, cold imports, gateway latency, the offline stack's start and
stop; then the three outputs. `run_parts` re-measures only the control-plane parts."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import resource
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
from bench.api_load import PHASES
from bench.costs import price_table
from bench.imports import cold_imports, handler_modules
from bench.per_source import source_results
from bench.pipeline import PipelineRun, run_one_job, run_source
from bench.procs import LoadSampler
from bench.results import (
    BenchResults,
    LoadSummary,
    Machine,
    MemoryBound,
    MemoryRun,
    PartialRun,
    Settings,
    Target,
)
from bench.sources import SOURCES, SourceSpec, make_cut, make_source
from local.client import ApiClient
from local.config import REPO_ROOT, OfflineConfig
from local.resources import LAMBDA_HANDLERS, in_process_environment
from local.stack import OfflineStack
from transcoder.contract import VideoRendition

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


# --- the run ------------------------------------------------------------------------------------


def _memory_bound(  # noqa: PLR0917
    stack: OfflineStack,
    spec: SourceSpec,
    source: Path,
    run: PipelineRun,
    options: Options,
    logs: Path,
) -> MemoryBound:
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
    short, long = _memory_run(result), _memory_run(long_result)
    return MemoryBound(
        source=spec.name,
        rung=top.name,
        short_seconds=short.source_seconds,
        long_seconds=long.source_seconds,
        runs=[short, long],
        growth=round(long.peak_memory_bytes / short.peak_memory_bytes, 3),
    )


def _memory_run(result: dict[str, Any]) -> MemoryRun:
    """A transcoder result JSON's length, peak memory and CPU."""
    return MemoryRun(
        source_seconds=float(result["duration_seconds"]),
        peak_memory_bytes=int(result["peak_memory_bytes"]),
        encode_cpu_seconds=float(result["encode_cpu_seconds"]),
    )


def _gateway_load(stack: OfflineStack, options: Options) -> dict[str, Any]:
    """The load's three phases, each its own run of `bench.api_load`, with the CPU each
    phase cost in the three places a request runs: the stack's process (the gateway and
    moto, one interpreter lock), the API instances and the load's own client."""
    request = {
        "base_url": stack.api_url,
        "tokens": [stack.token(f"load-{index}") for index in range(options.load_threads)],
        "requests_per_thread": options.load_rounds,
        "time_limit_seconds": options.load_time_limit_seconds,
    }
    assert stack.gateway is not None
    instances = stack.gateway.functions
    result: dict[str, Any] = {}
    for phase in PHASES:
        before = _load_cpu(instances.pids())
        completed = subprocess.run(
            [sys.executable, "-m", "bench.api_load"],
            input=json.dumps({**request, "phase": phase}),
            capture_output=True,
            text=True,
            check=True,
            timeout=options.load_time_limit_seconds + 60,
            env=_python_env(),
        )
        spent = _load_cpu(instances.pids()).minus(before)
        result[phase] = json.loads(completed.stdout)[phase]
        spent = dataclasses.replace(spent, client=result[phase]["client_cpu_seconds"])
        requests = _request_count(result[phase])
        if requests:
            result[phase]["cpu_ms_per_request"] = spent.per_request_ms(requests)
    return result


@dataclass(frozen=True)
class LoadCpu:
    """CPU seconds: this process (the stack), each API instance, the load's client."""

    stack: float
    instances: dict[int, float]
    client: float

    def minus(self, before: LoadCpu) -> LoadCpu:
        return LoadCpu(
            stack=self.stack - before.stack,
            instances={
                pid: seconds - before.instances.get(pid, 0.0)
                for pid, seconds in self.instances.items()
            },
            client=self.client - before.client,
        )

    def per_request_ms(self, requests: int) -> dict[str, float]:
        parts = {
            "stack_process": self.stack,
            "api_instances": sum(self.instances.values()),
            "client": self.client,
        }
        per_request = {name: round(s / requests * 1000, 2) for name, s in parts.items()}
        return {**per_request, "total": round(sum(parts.values()) / requests * 1000, 2)}


def _load_cpu(instance_pids: list[int]) -> LoadCpu:
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return LoadCpu(
        stack=own.ru_utime + own.ru_stime,
        instances={pid: _process_cpu_seconds(pid) for pid in instance_pids},
        client=children.ru_utime + children.ru_stime,  # the load generator, once reaped
    )


def _process_cpu_seconds(pid: int) -> float:
    """utime + stime of a running process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _request_count(phase: dict[str, Any]) -> int:
    if "operations" in phase:
        return sum(int(row["count"]) + int(row["errors"]) for row in phase["operations"].values())
    return int(phase.get("count", 0)) + int(phase.get("errors", 0))


def _python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    paths = [str(REPO_ROOT), str(REPO_ROOT / "transcoder_image")]
    return {**os.environ, **(extra or {}), "PYTHONPATH": os.pathsep.join(paths)}


def _ffmpeg_version() -> str:
    out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split()[:3])


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(options: Options) -> BenchResults:
    with LoadSampler() as load:
        results = _run(options)
    results.machine.load_average_1min_during_run = LoadSummary.model_validate(load.summary())
    return results


def _run(options: Options) -> BenchResults:
    started = time.monotonic()
    logs = options.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    machine = Machine(
        cpus=os.cpu_count(),
        platform=platform.platform(),
        python=platform.python_version(),
        ffmpeg=_ffmpeg_version(),
        load_average_start=_load_average(),
    )
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
            spec,
            paths[spec.name],
            runs[spec.name],
            balanced_runs.get(spec.name),
            options.preset,
            options.work_dir,
            logs,
        )
        for spec in SOURCES
    ]
    machine.load_average_end = _load_average()
    results = BenchResults(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine,
        settings=Settings(
            command=options.command,
            quick=options.quick,
            preset=options.preset,
            max_parallel_jobs=config.max_parallel_jobs,
            source_seconds=options.source_seconds,
            default_strategy="per_rung",
            strategies_run=["per_rung", "balanced"],
            source_generation_seconds=round(sources_seconds, 1),
        ),
        prices=price_table(),
        sources=sources,
        memory_bound=memory,
        lambda_cold_import=imports,
        gateway_latency=gateway,
        offline_stack_lifecycle=stack_lifecycle,
        soak=soaked,
        chunking=chunked,
        run_seconds=round(time.monotonic() - started, 1),
    )
    return with_targets(results)


def with_targets(results: BenchResults) -> BenchResults:
    """The targets, computed from the results as they are written."""
    results.targets = [Target.model_validate(row) for row in report.targets(results.to_json())]
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


def run_parts(options: Options, parts: list[str]) -> BenchResults:
    """Re-measures `parts` and merges them into the results.json of a whole run in
    `options.out_dir`; `partial_runs` records what was measured when, under what load."""
    results = BenchResults.load(options.out_dir / "results.json")
    load_start = _load_average()
    state_dir = options.work_dir / "state"
    shutil.rmtree(state_dir, ignore_errors=True)
    config = OfflineConfig(state_dir=state_dir, x264_preset=options.preset, max_parallel_jobs=1)
    if "imports" in parts:
        results.lambda_cold_import = _cold_imports(config, options)
    if "api" in parts:
        with OfflineStack(config) as stack:
            log.info("gateway load")
            results.gateway_latency = _gateway_load(stack, options)
    if "lifecycle" in parts:
        log.info("offline stack start and stop")
        results.offline_stack_lifecycle = lifecycle.measure(_python_env())
    if "soak" in parts:
        log.info("soak: videos at once with tasks interrupted and RunTasks refused")
        results.soak = soak.measure(_python_env(), quick=options.quick)
    if "chunking" in parts:
        results.chunking = _chunking(options)
    if "av1" in parts:
        log.info("AV1 against H.264 at the same rungs")
        results.av1_vs_h264 = av1.measure(
            options.work_dir, options.work_dir / "logs", options.source_seconds, options.preset
        )
    partial = PartialRun(
        parts=parts,
        command=options.command,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        load_average_start=load_start,
        load_average_end=_load_average(),
    )
    results.partial_runs = [*(results.partial_runs or []), partial]
    return with_targets(results)


def write_outputs(results: BenchResults, out_dir: Path) -> None:
    from bench.chart import write_chart

    data = results.to_json()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    (out_dir / "summary.md").write_text(report.render_summary(data))
    write_chart(data, out_dir / "chart.png")


def main(options: Options, parts: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    results = run_parts(options, parts) if parts else run(options)
    write_outputs(results, options.out_dir)
    for target in results.targets:
        log.info("target %s: %s (%s) met=%s", target.name, target.value, target.target, target.met)
    log.info("wrote %s in %.0f s", options.out_dir, results.run_seconds)
    return 0
