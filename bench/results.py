"""The types of bench/results.json: what a run writes and what `--only` reads back.

A source's strategies name their balanced entries explicitly: `balanced` is the run the
pipeline made with JOB_STRATEGY=balanced (absent when none was made) and
`balanced_modelled` the model of it from one-decode FFmpeg commands, made only when no run
was (older files may hold both). Results written
before that (schema 1) kept the model under `balanced` when no measured run was there;
`Strategies` moves it to `balanced_modelled` on load. The sections other modules measure
(cold imports, gateway latency, stack lifecycle, soak, chunking, AV1) stay the JSON their
modules return.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

SCHEMA = 2

# rate key ("x86", "arm64", ...) by basis ("with_minimum", "without_minimum", "cpu_bound")
CostTable = dict[str, dict[str, float]]


class ResultModel(BaseModel):
    """Unknown keys are refused, so a renamed or mistyped field fails the load, not the
    summary. Fields named in `omitted_when_none` are left out of the JSON when unset."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)
    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in self.omitted_when_none:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Measurement(ResultModel):
    """One measured process (FFmpeg commands of the floor, decode only, a shared group)."""

    wall_seconds: float
    cpu_seconds: float
    realtime_factor: float
    peak_memory_bytes: int


class TaskCosts(ResultModel):
    """`report.strategy_costs`: the task walls a strategy needs and what they cost."""

    tasks: int
    task_walls_seconds: list[float]
    cost_per_source_minute_usd: CostTable


class WorkersRow(ResultModel):
    workers: int
    makespan_seconds: float
    wall_seconds: float


class Rung(ResultModel):
    """One rendition of the ladder as the per-rung pipeline encoded it, with the floor's
    bitrates for the same settings beside."""

    name: str
    kind: str
    width: int | None
    height: int | None
    average_bitrate_bps: int
    peak_bitrate_bps: int
    ssim: float | None
    floor_average_bitrate_bps: int
    floor_peak_bitrate_bps: int
    task_wall_seconds: float
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


class OtherTask(TaskCosts):
    """A job beside the ladder (thumbnails): the same in every strategy."""

    name: str
    kind: str | None
    task_wall_seconds: float
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


class Floor(Measurement, TaskCosts):
    """Every rung from one FFmpeg process, as one task."""

    task_wall_seconds: float


class PerRung(TaskCosts):
    """One job per rung, as the pipeline ran it."""

    measured: Literal[True] = True
    video_id: str
    wall_seconds: float
    cpu_seconds: float
    encode_cpu_seconds: float
    realtime_factor: float
    pipeline_cpu_over_floor_cpu: float | None
    encode_cpu_over_floor_cpu: float | None
    transcoders_critical_path_seconds: float
    orchestration_overhead_seconds: float
    orchestration_overhead_parts_seconds: dict[str, float]
    task_overhead_seconds: float
    transcoder_peak_memory_bytes: int
    by_workers: list[WorkersRow]


class BalancedTask(ResultModel):
    """One task of the measured balanced run: a shared process for its renditions."""

    renditions: list[str]
    task_wall_seconds: float
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


class RenditionQuality(ResultModel):
    average_bitrate_bps: int
    peak_bitrate_bps: int
    ssim: float | None


class BalancedMeasured(TaskCosts):
    """The balanced strategy as the pipeline ran it (JOB_STRATEGY=balanced)."""

    measured: Literal[True] = True
    video_id: str
    groups: list[list[str]]
    plan_matches_pipeline: bool
    tasks_detail: list[BalancedTask]
    renditions: dict[str, RenditionQuality]
    wall_seconds: float
    pipeline_cpu_seconds: float
    pipeline_cpu_over_floor_cpu: float | None
    cpu_seconds: float  # FFmpeg's CPU of the ladder's tasks: what strategies compare by
    cpu_over_floor_cpu: float | None
    wall_seconds_one_worker: float
    realtime_factor_one_worker: float
    orchestration_overhead_seconds: float
    peak_memory_bytes: int
    by_workers: list[WorkersRow]


class SharedTask(Measurement):
    """A shared group of the model, measured as one one-decode FFmpeg command."""

    renditions: list[str]


class BalancedModelled(TaskCosts):
    """The balanced strategy modelled: shared groups as one-decode commands, single-job
    groups as in the per-rung run."""

    measured: Literal[False] = False
    modelled: Literal[True] = True
    groups: list[list[str]]
    shared_tasks: list[SharedTask]
    cpu_seconds: float
    cpu_over_floor_cpu: float | None
    wall_seconds_one_worker: float
    realtime_factor_one_worker: float
    peak_memory_bytes: int
    by_workers: list[WorkersRow]


class Strategies(ResultModel):
    omitted_when_none = frozenset({"balanced", "balanced_modelled"})

    per_rung: PerRung
    balanced: BalancedMeasured | None = None
    # The model is made only when no balanced run was measured (runs before 2026-12-02
    # made both; their files keep it).
    balanced_modelled: BalancedModelled | None = None

    @model_validator(mode="before")
    @classmethod
    def _model_kept_under_balanced(cls, data: Any) -> Any:
        """Schema 1: without a measured run, the model was written as `balanced`."""
        if not isinstance(data, dict):
            return data
        balanced = data.get("balanced")
        if isinstance(balanced, dict) and balanced.get("measured") is False:
            if "balanced_modelled" in data:
                raise ValueError("two models of the balanced strategy")
            data = {key: value for key, value in data.items() if key != "balanced"}
            data["balanced_modelled"] = balanced
        return data

    @model_validator(mode="after")
    def _balanced_measured_or_modelled(self) -> Strategies:
        if self.balanced is None and self.balanced_modelled is None:
            raise ValueError("the balanced strategy is neither measured nor modelled")
        return self

    def balanced_compared(self) -> BalancedMeasured | BalancedModelled:
        """The balanced entry the targets, tables and chart compare: measured if run."""
        if self.balanced is not None:
            return self.balanced
        if self.balanced_modelled is not None:
            return self.balanced_modelled
        raise ValueError("the balanced strategy is neither measured nor modelled")


class SourceResult(ResultModel):
    name: str
    description: str
    path: str
    width: int
    height: int
    frame_rate: float
    duration_seconds: float
    bitrate_bps: int
    size_bytes: int
    plan: list[str]
    plan_matches_pipeline: bool
    rungs: list[Rung]
    other_tasks: list[OtherTask]
    decode: Measurement
    floor: Floor
    strategies: Strategies
    mediaconvert_per_source_minute_usd: float


class LoadSummary(ResultModel):
    mean: float | None
    max: float | None
    samples: int


class Machine(ResultModel):
    omitted_when_none = frozenset({"load_average_end", "load_average_1min_during_run"})

    cpus: int | None
    platform: str
    python: str
    ffmpeg: str
    load_average_start: str
    load_average_end: str | None = None
    load_average_1min_during_run: LoadSummary | None = None


class Settings(ResultModel):
    command: str
    quick: bool
    preset: str
    max_parallel_jobs: int
    source_seconds: float
    default_strategy: str
    strategies_run: list[str]
    source_generation_seconds: float


class MemoryRun(ResultModel):
    source_seconds: float
    peak_memory_bytes: int
    encode_cpu_seconds: float


class MemoryBound(ResultModel):
    """The top rung's peak memory on a cut and on the whole source."""

    source: str
    rung: str
    short_seconds: float
    long_seconds: float
    runs: list[MemoryRun]
    growth: float


class PartialRun(ResultModel):
    """A later `python -m bench --only` run merged into the results."""

    parts: list[str]
    command: str
    generated_at: str
    load_average_start: str
    load_average_end: str


class Target(ResultModel):
    name: str
    target: str
    value: Any
    met: bool | None


class BenchResults(ResultModel):
    omitted_when_none = frozenset(
        {
            "memory_bound",
            "lambda_cold_import",
            "gateway_latency",
            "offline_stack_lifecycle",
            "soak",
            "chunking",
            "av1_vs_h264",
            "partial_runs",
        }
    )

    schema_version: int = Field(default=SCHEMA, alias="schema")
    generated_at: str
    machine: Machine
    settings: Settings
    prices: dict[str, Any]
    sources: list[SourceResult]
    memory_bound: MemoryBound | None = None
    lambda_cold_import: dict[str, Any] | None = None
    gateway_latency: dict[str, Any] | None = None
    offline_stack_lifecycle: dict[str, Any] | None = None
    soak: dict[str, Any] | None = None
    chunking: dict[str, Any] | None = None
    av1_vs_h264: dict[str, Any] | None = None
    partial_runs: list[PartialRun] | None = None
    run_seconds: float
    targets: list[Target] = []

    @field_validator("schema_version")
    @classmethod
    def _migrated(cls, version: int) -> int:
        """Schema 1 loads as 2: its one difference is moved by `Strategies`."""
        if not 1 <= version <= SCHEMA:
            raise ValueError(f"results.json schema {version}; this bench reads 1 to {SCHEMA}")
        return SCHEMA

    def to_json(self) -> dict[str, Any]:
        """results.json as written: the JSON names, unset optional sections left out."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data

    @classmethod
    def load(cls, path: Path) -> BenchResults:
        return cls.model_validate_json(path.read_text())
