"""Job strategies: how the planned renditions are grouped into transcoder tasks.

- per_rung (the pipeline's default): one task per rendition, each decoding the source.
- balanced: the top rung keeps its own task; the cheaper rungs share one decode in as few
  tasks as keep each task's encoding work at or below the top rung's, so the plan's wall
  time (its slowest task) stays the top rung's while the repeated decodes go away.
  Audio rides with the cheapest task.
"""

from __future__ import annotations

from collections.abc import Sequence

from transcoder.contract import TranscodeJob, VideoRendition

PER_RUNG = "per_rung"
BALANCED = "balanced"
STRATEGIES = (PER_RUNG, BALANCED)


def pixel_rate(rendition: VideoRendition) -> float:
    """Output pixels per second: what x264's work grows with, to first order."""
    return rendition.width * rendition.height * rendition.frame_rate


def per_rung_groups(jobs: Sequence[TranscodeJob]) -> list[list[TranscodeJob]]:
    return [[job] for job in jobs]


def balanced_groups(jobs: Sequence[TranscodeJob]) -> list[list[TranscodeJob]]:
    videos = sorted(
        (job for job in jobs if isinstance(job.rendition, VideoRendition)),
        key=lambda job: pixel_rate(_video(job)),
        reverse=True,
    )
    others = [job for job in jobs if not isinstance(job.rendition, VideoRendition)]
    if not videos:
        return [list(others)] if others else []
    top, rest = videos[0], videos[1:]
    budget = pixel_rate(_video(top))
    shared: list[list[TranscodeJob]] = []
    loads: list[float] = []
    for job in rest:  # first fit, largest first
        cost = pixel_rate(_video(job))
        for index, load in enumerate(loads):
            if load + cost <= budget:
                shared[index].append(job)
                loads[index] += cost
                break
        else:
            shared.append([job])
            loads.append(cost)
    groups = [[top], *shared]
    if others:
        cheapest = min(range(len(groups)), key=lambda i: sum(map(_cost, groups[i])))
        groups[cheapest] = [*groups[cheapest], *others]
    return groups


def groups_for(strategy: str, jobs: Sequence[TranscodeJob]) -> list[list[TranscodeJob]]:
    if strategy == PER_RUNG:
        return per_rung_groups(jobs)
    if strategy == BALANCED:
        return balanced_groups(jobs)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def _video(job: TranscodeJob) -> VideoRendition:
    assert isinstance(job.rendition, VideoRendition)
    return job.rendition


def _cost(job: TranscodeJob) -> float:
    return pixel_rate(job.rendition) if isinstance(job.rendition, VideoRendition) else 0.0
