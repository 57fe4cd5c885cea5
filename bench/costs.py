"""What a set of transcoder tasks costs on Fargate, and how long it takes with N workers.

Pure functions of measured task walls; the price table and where each figure comes from is
in docs/benchmark.md.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

# The transcoder's task definition (local/resources.py and cdk/): 2 vCPU, 4 GB.
TASK_VCPU = 2.0
TASK_MEMORY_GB = 4.0
# Fargate bills per second, rounded up, with a one-minute minimum per task (Linux).
MINIMUM_BILLED_SECONDS = 60
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class FargateRate:
    key: str
    label: str
    vcpu_hour: float  # USD per vCPU-hour
    gb_hour: float  # USD per GB-hour
    source: str

    def per_task_second(self, vcpu: float = TASK_VCPU, memory_gb: float = TASK_MEMORY_GB) -> float:
        return (vcpu * self.vcpu_hour + memory_gb * self.gb_hour) / SECONDS_PER_HOUR


X86 = FargateRate(
    "x86",
    "x86 on-demand",
    0.04048,
    0.004445,
    "AWS list price, us-east-1 (docs: performance-facts.md, Nov 2026)",
)
ARM64 = FargateRate(
    "arm64",
    "arm64 (Graviton) on-demand",
    0.03238,
    0.00356,
    "us-east-1 list price as quoted by fortem.dev ('verified June 2026') and vantage.sh",
)
SPOT_DISCOUNT = 0.70  # assumption: AWS's "up to 70 %" off; the live Spot rate varies
X86_SPOT = FargateRate(
    "x86_spot",
    "x86 Spot (assumed 70 % off)",
    round(X86.vcpu_hour * (1 - SPOT_DISCOUNT), 8),
    round(X86.gb_hour * (1 - SPOT_DISCOUNT), 8),
    "assumption: x86 on-demand less 70 % (AWS: 'up to 70 %'); check the live Spot table",
)
RATES: tuple[FargateRate, ...] = (X86, ARM64, X86_SPOT)

# What users report paying for the same ladder elsewhere: MediaConvert Basic tier, per
# output minute, as quoted by third parties (docs: performance-facts.md).
MEDIACONVERT_SD_PER_MINUTE = 0.0075
MEDIACONVERT_HD_PER_MINUTE = 0.015
HD_MIN_SHORT_SIDE = 720


def billed_seconds(wall_seconds: float, minimum: int = MINIMUM_BILLED_SECONDS) -> int:
    return max(minimum, math.ceil(wall_seconds))


def tasks_cost(
    task_walls: Sequence[float], rate: FargateRate, *, minimum: int = MINIMUM_BILLED_SECONDS
) -> float:
    """USD for running each task on its own 2 vCPU / 4 GB Fargate task."""
    return sum(billed_seconds(wall, minimum) for wall in task_walls) * rate.per_task_second()


def cost_per_source_minute(
    task_walls: Sequence[float],
    source_seconds: float,
    rate: FargateRate,
    *,
    minimum: int = MINIMUM_BILLED_SECONDS,
) -> float:
    if source_seconds <= 0:
        raise ValueError("source duration must be positive")
    return tasks_cost(task_walls, rate, minimum=minimum) * 60.0 / source_seconds


def costs_by_rate(task_walls: Sequence[float], source_seconds: float) -> dict[str, object]:
    """Per source minute at every rate, with Fargate's one-minute minimum and without it
    (without: what a long source tends to, where the minimum no longer matters)."""
    return {
        "with_minimum": {
            rate.key: cost_per_source_minute(task_walls, source_seconds, rate) for rate in RATES
        },
        "without_minimum": {
            rate.key: cost_per_source_minute(task_walls, source_seconds, rate, minimum=0)
            for rate in RATES
        },
    }


def cpu_bound_per_source_minute(
    cpu_seconds: float, source_seconds: float, rate: FargateRate
) -> float:
    """What the work would cost if every task kept its 2 vCPU busy from start to end (wall =
    CPU / 2, no minimum): a lower bound that other work on a shared benchmark machine cannot
    stretch, unlike measured walls."""
    if source_seconds <= 0:
        raise ValueError("source duration must be positive")
    return cpu_seconds / TASK_VCPU * rate.per_task_second() * 60.0 / source_seconds


def mediaconvert_per_source_minute(short_sides: Sequence[int]) -> float:
    """MediaConvert Basic for the same video outputs (audio-only outputs not counted)."""
    return sum(
        MEDIACONVERT_HD_PER_MINUTE if side >= HD_MIN_SHORT_SIDE else MEDIACONVERT_SD_PER_MINUTE
        for side in short_sides
    )


def makespan(durations: Sequence[float], workers: int) -> float:
    """Wall time of `durations` on `workers` parallel workers, started in plan order as a
    Step Functions Map with MaxConcurrency does: each job takes the first worker to free up."""
    if workers < 1:
        raise ValueError("at least one worker")
    free_at = [0.0] * min(workers, max(1, len(durations)))
    heapq.heapify(free_at)
    end = 0.0
    for duration in durations:
        start = heapq.heappop(free_at)
        finish = start + duration
        end = max(end, finish)
        heapq.heappush(free_at, finish)
    return end


def union_seconds(intervals: Sequence[tuple[float, float]]) -> float:
    """Length of the union of [start, end] intervals: the time at least one task ran."""
    total = 0.0
    current_start: float | None = None
    current_end = 0.0
    for start, end in sorted(intervals):
        if current_start is None or start > current_end:
            if current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None:
        total += current_end - current_start
    return total


def price_table() -> dict[str, object]:
    """The prices the costs were computed with, for results.json."""
    return {
        "task": {"vcpu": TASK_VCPU, "memory_gb": TASK_MEMORY_GB},
        "minimum_billed_seconds": MINIMUM_BILLED_SECONDS,
        "fargate_us_east_1": [
            {
                "key": rate.key,
                "label": rate.label,
                "vcpu_hour": rate.vcpu_hour,
                "gb_hour": rate.gb_hour,
                "source": rate.source,
            }
            for rate in RATES
        ],
        "mediaconvert_basic_per_output_minute": {
            "sd": MEDIACONVERT_SD_PER_MINUTE,
            "hd": MEDIACONVERT_HD_PER_MINUTE,
        },
        "see": "docs/benchmark.md",
    }
