"""Job strategies: how the planned video and audio renditions are grouped into transcoder
tasks (the `job_strategy` setting; measured by `make bench`, see docs/benchmark.md).

- per_rung (the default): one task per rendition, each decoding the source.
- balanced: the top rung keeps its own task; the cheaper rungs share one decode, in as few
  tasks as keep each task's work at or below the top rung's task, so the plan's wall time
  (its slowest task) stays the top rung's while the repeated decodes go away. Audio rides
  with the cheapest task.
- chunk_ladder: every rendition in one task, one decode for the whole ladder (the CPU
  floor); chunks give it the parallelism. When the plan has a first wave to publish early,
  the cheapest video rung keeps a task of its own (see `chunk_ladder_groups`).

A task's work, in output pixels per second (what x264's work grows with, to first order):
one decode of the source, plus for each video rendition its encode and its filter chain,
which reads every decoded frame at the source's size before scaling it down. The decode
appears once in every task, the top rung's too, so it never tips a rendition into a task
of its own; each video rendition's filter work on source-size frames does, which is why
a source much larger than its lower rungs gets two shared tasks rather than one (the
noisy 1080p benchmark source: one shared task of 720p…240p took 68 CPU s against the
top rung's 64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from lambdas.core.settings import JobStrategy

PER_RUNG: JobStrategy = "per_rung"
BALANCED: JobStrategy = "balanced"
CHUNK_LADDER: JobStrategy = "chunk_ladder"
STRATEGIES: tuple[JobStrategy, ...] = (PER_RUNG, BALANCED, CHUNK_LADDER)

# One decode of the source, relative to encoding the same pixels per second at the ladder's
# preset (the noisy 1080p benchmark source: decode 24 CPU s, 1080p encode about 40).
DECODE_WEIGHT = 0.6
# A rendition's filter chain (fps, scale from the source's size, format), relative to
# encoding the source's pixels per second: fitted to the benchmark run above.
FILTER_WEIGHT = 0.08


class _VideoPicture(Protocol):
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def frame_rate(self) -> float: ...


Item = TypeVar("Item")


def pixel_rate(rendition: _VideoPicture) -> float:
    """Output pixels per second."""
    return rendition.width * rendition.height * rendition.frame_rate


def per_rung_groups(items: Sequence[Item]) -> list[list[Item]]:
    return [[item] for item in items]


def balanced_groups(
    items: Sequence[Item],
    rendition_of: Callable[[Item], object],
    *,
    source_pixel_rate: float | None = None,
) -> list[list[Item]]:
    """Groups `items` (renditions, or jobs of one rendition each, read by `rendition_of`).

    `source_pixel_rate`: the decoded source's pixels per second; unknown, the top rung's
    (a ladder never exceeds its source). Order: the top rung's task, then the shared tasks
    largest rung first; within a task, the items' own order.
    """
    videos = [item for item in items if _is_video(rendition_of(item))]
    others = [item for item in items if not _is_video(rendition_of(item))]
    if not videos:
        return [list(others)] if others else []

    def encode(item: Item) -> float:
        return pixel_rate(rendition_of(item))  # type: ignore[arg-type]

    ordered = sorted(videos, key=encode, reverse=True)  # stable: ties keep plan order
    top, rest = ordered[0], ordered[1:]
    source_rate = max(source_pixel_rate or 0.0, encode(top))
    decode = DECODE_WEIGHT * source_rate
    filters = FILTER_WEIGHT * source_rate

    def work(item: Item) -> float:
        return encode(item) + filters

    budget = decode + work(top)
    groups: list[list[Item]] = [[top]]
    loads: list[float] = [budget]
    for item in rest:  # first fit, largest first
        for index in range(1, len(groups)):
            if loads[index] + work(item) <= budget:
                groups[index].append(item)
                loads[index] += work(item)
                break
        else:
            groups.append([item])
            loads.append(decode + work(item))
    if others:
        cheapest = min(range(len(groups)), key=lambda index: loads[index])
        groups[cheapest] += others
    position = {id(item): index for index, item in enumerate(items)}
    return [sorted(group, key=lambda item: position[id(item)]) for group in groups]


def chunk_ladder_groups(
    items: Sequence[Item], rendition_of: Callable[[Item], object], *, early_rung: bool
) -> list[list[Item]]:
    """Every item in one group, in plan order. With `early_rung`, the cheapest video
    rendition (smallest picture, the first of equals) is a group of its own, first: a group
    of every rung finishes all of them at once, so nothing would be complete before the
    whole ladder is, and a first wave could publish nothing early."""
    if not items:
        return []
    videos = [item for item in items if _is_video(rendition_of(item))]
    if not early_rung or len(videos) < 2:
        return [list(items)]
    cheapest = min(videos, key=lambda item: _picture(rendition_of(item)))  # type: ignore[arg-type]
    return [[cheapest], [item for item in items if item is not cheapest]]


def groups_for(
    strategy: str,
    items: Sequence[Item],
    rendition_of: Callable[[Item], object],
    *,
    source_pixel_rate: float | None = None,
    early_rung: bool = False,
) -> list[list[Item]]:
    """`items` grouped into tasks by `strategy`. `early_rung`: the plan publishes its
    cheapest video rung in a first wave (per_rung and balanced give it a task of its own,
    or a group of cheap rungs, anyway)."""
    if strategy == PER_RUNG:
        return per_rung_groups(items)
    if strategy == BALANCED:
        return balanced_groups(items, rendition_of, source_pixel_rate=source_pixel_rate)
    if strategy == CHUNK_LADDER:
        return chunk_ladder_groups(items, rendition_of, early_rung=early_rung)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def _is_video(rendition: object) -> bool:
    return getattr(rendition, "kind", None) == "video"


def _picture(rendition: _VideoPicture) -> int:
    return rendition.width * rendition.height
