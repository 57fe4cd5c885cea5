"""The grouping rules of the balanced and chunk_ladder job strategies
(`lambdas.pipeline.strategy`)."""

from __future__ import annotations

import pytest

from lambdas.pipeline.contract import AudioRendition, Rendition, VideoRendition
from lambdas.pipeline.strategy import (
    DECODE_WEIGHT,
    FILTER_WEIGHT,
    balanced_groups,
    chunk_ladder_groups,
    groups_for,
    pixel_rate,
)


def rung(name: str, width: int, height: int, frame_rate: float = 30.0) -> VideoRendition:
    return VideoRendition(
        name=name, width=width, height=height, frame_rate=frame_rate, crf=22, max_bitrate_kbps=1
    )


LADDER = [
    rung("1080p", 1920, 1080),
    rung("720p", 1280, 720),
    rung("480p", 854, 480),
    rung("360p", 640, 360),
    rung("240p", 426, 240),
    AudioRendition(),
]


def names(groups: list[list[Rendition]]) -> list[list[str]]:
    return [[rendition.name for rendition in group] for group in groups]


def same(rendition: Rendition) -> Rendition:
    return rendition


def test_each_task_pays_one_decode_and_each_rung_its_filters_on_source_size_frames() -> None:
    source = pixel_rate(LADDER[0])
    top_task = DECODE_WEIGHT * source + pixel_rate(LADDER[0]) + FILTER_WEIGHT * source
    shared = DECODE_WEIGHT * source + sum(
        pixel_rate(r) + FILTER_WEIGHT * source
        for r in LADDER[1:5]  # type: ignore[arg-type]
    )
    assert shared > top_task  # so the four cheaper rungs do not all fit in one task

    groups = balanced_groups(LADDER, same, source_pixel_rate=source)

    assert names(groups) == [["1080p"], ["720p", "480p", "360p"], ["240p", "audio"]]


def test_a_smaller_source_is_cheaper_to_filter_so_one_shared_task_holds_the_rest() -> None:
    ladder = [r for r in LADDER if r.name != "1080p"]
    groups = balanced_groups(ladder, same, source_pixel_rate=1280 * 720 * 30.0)
    assert names(groups) == [["720p"], ["480p", "360p", "240p", "audio"]]


def test_a_larger_source_than_the_top_rung_costs_more_to_filter_per_rung() -> None:
    ladder = [r for r in LADDER if r.name != "1080p"]
    groups = balanced_groups(ladder, same, source_pixel_rate=3840 * 2160 * 30.0)
    assert len(groups) > 2
    assert names(groups)[0] == ["720p"]


def test_items_keep_their_plan_order_within_a_task_and_audio_alone_is_one_task() -> None:
    shuffled = [LADDER[5], LADDER[3], LADDER[1], LADDER[0]]
    assert names(balanced_groups(shuffled, same)) == [["1080p"], ["audio", "360p", "720p"]]
    assert names(balanced_groups([AudioRendition()], same)) == [["audio"]]
    assert balanced_groups([], same) == []


def test_per_rung_and_unknown_strategies() -> None:
    assert names(groups_for("per_rung", LADDER, same)) == [[r.name] for r in LADDER]
    with pytest.raises(ValueError, match="unknown strategy"):
        groups_for("fastest", LADDER, same)


def test_chunk_ladder_puts_every_rendition_in_one_task() -> None:
    assert names(groups_for("chunk_ladder", LADDER, same)) == [[r.name for r in LADDER]]
    assert groups_for("chunk_ladder", [], same) == []


def test_chunk_ladder_publishing_early_keeps_the_smallest_picture_in_a_task_of_its_own() -> None:
    # A 60 fps 240p still has the smallest picture: it is what the first wave publishes.
    ladder = [LADDER[0], rung("240p", 426, 240, frame_rate=60.0), *LADDER[1:4], LADDER[5]]
    groups = chunk_ladder_groups(ladder, same, early_rung=True)
    assert names(groups) == [["240p"], ["1080p", "720p", "480p", "360p", "audio"]]


def test_chunk_ladder_of_one_rung_has_no_rung_to_set_apart() -> None:
    assert names(chunk_ladder_groups([LADDER[4]], same, early_rung=True)) == [["240p"]]
