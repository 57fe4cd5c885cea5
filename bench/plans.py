"""Job strategies: how the planned renditions are grouped into transcoder tasks.

The grouping rule is the pipeline's own (`lambdas.pipeline.strategy`, which the probe
applies under `JOB_STRATEGY`); this module applies it to the benchmark's jobs.

- per_rung (the pipeline's default): one task per rendition, each decoding the source.
- balanced: the top rung keeps its own task; the cheaper rungs share one decode in as few
  tasks as keep each task's work at or below the top rung's, so the plan's wall time
  (its slowest task) stays the top rung's while the repeated decodes go away.
  Audio rides with the cheapest task.
"""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.pipeline import strategy
from lambdas.pipeline.strategy import BALANCED, PER_RUNG, STRATEGIES, pixel_rate
from transcoder.contract import TranscodeJob

__all__ = [
    "BALANCED",
    "PER_RUNG",
    "STRATEGIES",
    "balanced_groups",
    "groups_for",
    "per_rung_groups",
    "pixel_rate",
]


def _rendition(job: TranscodeJob) -> object:
    return job.rendition


def per_rung_groups(jobs: Sequence[TranscodeJob]) -> list[list[TranscodeJob]]:
    return strategy.per_rung_groups(jobs)


def balanced_groups(
    jobs: Sequence[TranscodeJob], *, source_pixel_rate: float | None = None
) -> list[list[TranscodeJob]]:
    return strategy.balanced_groups(jobs, _rendition, source_pixel_rate=source_pixel_rate)


def groups_for(
    name: str, jobs: Sequence[TranscodeJob], *, source_pixel_rate: float | None = None
) -> list[list[TranscodeJob]]:
    return strategy.groups_for(name, jobs, _rendition, source_pixel_rate=source_pixel_rate)
