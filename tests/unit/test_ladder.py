from typing import Any

import pytest

from lambdas.pipeline.ladder import LADDER, output_frame_rate, plan_ladder
from lambdas.pipeline.source import SourceInfo


def source(width: int, height: int, fps: float = 25.0, **facts: Any) -> SourceInfo:
    return SourceInfo(
        duration_seconds=10,
        display_width=width,
        display_height=height,
        frame_rate=fps,
        video_codec="h264",
        has_audio=True,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        size_bytes=1000,
        **facts,
    )


def sizes(width: int, height: int, cap: int = 1440) -> list[tuple[str, int, int]]:
    rungs = plan_ladder(source(width, height), max_short_side=cap, preset="veryfast")
    return [(r.name, r.width, r.height) for r in rungs]


def test_720p_source_gets_720_480_360_240_and_nothing_larger() -> None:
    assert sizes(1280, 720) == [
        ("720p", 1280, 720),
        ("480p", 854, 480),
        ("360p", 640, 360),
        ("240p", 426, 240),
    ]


def test_4k_source_is_capped_at_the_configured_top_rung() -> None:
    names = [name for name, _, _ in sizes(3840, 2160)]
    assert names == ["1440p", "1080p", "720p", "480p", "360p", "240p"]
    assert sizes(3840, 2160, cap=1080)[0][0] == "1080p"


def test_2160p_is_in_the_ladder_when_the_cap_allows_it() -> None:
    assert sizes(3840, 2160, cap=2160)[0] == ("2160p", 3840, 2160)


def test_portrait_source_keeps_its_shape_with_the_short_side_as_the_rung() -> None:
    assert sizes(1080, 1920)[:2] == [("1080p", 1080, 1920), ("720p", 720, 1280)]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (2560, 1080, [("1080p", 2560, 1080), ("720p", 1706, 720)]),  # 21:9 ultra-wide
        (1080, 1080, [("1080p", 1080, 1080), ("720p", 720, 720)]),  # square
    ],
)
def test_any_shape_keeps_its_aspect(
    width: int, height: int, expected: list[tuple[str, int, int]]
) -> None:
    assert sizes(width, height)[:2] == expected


def test_source_smaller_than_the_lowest_rung_gets_one_rung_at_its_own_size() -> None:
    assert sizes(320, 180) == [("180p", 320, 180)]
    assert sizes(320, 240) == [("240p", 320, 240)]


@pytest.mark.parametrize(("width", "height"), [(1283, 721), (999, 333), (3000, 1000), (641, 359)])
def test_every_rung_is_even_no_larger_than_the_source_and_keeps_the_aspect(
    width: int, height: int
) -> None:
    for _, rung_width, rung_height in sizes(width, height):
        assert rung_width % 2 == 0 and rung_height % 2 == 0
        assert rung_width <= width and rung_height <= height
        assert abs(rung_width / rung_height - width / height) < 0.02


def test_caps_follow_the_table_in_the_docs_and_fall_with_the_rung() -> None:
    caps = {f"{rung.short_side}p": (rung.h264_kbps, rung.hevc_kbps) for rung in LADDER}
    assert caps == {
        "2160p": (20_000, 12_000),
        "1440p": (10_000, 6_000),
        "1080p": (7_800, 4_700),
        "720p": (4_500, 2_700),
        "480p": (1_500, 900),
        "360p": (730, 440),
        "240p": (145, 145),
    }
    rungs = plan_ladder(source(1920, 1080), max_short_side=1440, preset="veryfast")
    assert [r.max_bitrate_kbps for r in rungs] == [7_800, 4_500, 1_500, 730, 145]
    assert {(r.codec, r.crf) for r in rungs} == {("h264", 22)}


def test_the_hevc_ladder_has_its_own_names_caps_and_crf() -> None:
    rungs = plan_ladder(source(1280, 720), max_short_side=1440, preset="fast", codec="hevc")

    assert [(r.name, r.codec, r.max_bitrate_kbps) for r in rungs] == [
        ("720p-hevc", "hevc", 2_700),
        ("480p-hevc", "hevc", 900),
        ("360p-hevc", "hevc", 440),
        ("240p-hevc", "hevc", 145),
    ]
    assert {(r.crf, r.preset) for r in rungs} == {(24, "fast")}


@pytest.mark.parametrize(
    ("source_fps", "expected"),
    [(25, 25), (59.94, 59.94), (120, 60), (240, 60), (100, 50), (119.88, 59.94), (90, 45)],
)
def test_frame_rate_kept_up_to_60_and_halved_above(source_fps: float, expected: float) -> None:
    assert output_frame_rate(source_fps) == expected


@pytest.mark.parametrize(
    ("measured", "expected"), [(29.6, 29.97), (30.4, 30.0), (24.1, 24.0), (12.3, 12.3)]
)
def test_variable_rate_sources_snap_to_the_nearest_natural_rate(
    measured: float, expected: float
) -> None:
    assert output_frame_rate(measured) == expected


def test_the_small_rungs_stay_at_or_below_30_fps_as_apples_spec_lists_them() -> None:
    rungs = plan_ladder(source(1280, 720, fps=59.94), max_short_side=1440, preset="veryfast")

    assert {r.name: r.frame_rate for r in rungs} == {
        "720p": 59.94,
        "480p": 59.94,
        "360p": 29.97,  # every other source frame: keyframe times stay the same
        "240p": 29.97,
    }


def test_interlaced_sources_keep_one_frame_per_field() -> None:
    rungs = plan_ladder(
        source(1920, 1080, fps=25, interlaced=True), max_short_side=1440, preset="veryfast"
    )

    assert {r.name: r.frame_rate for r in rungs} == {
        "1080p": 50,
        "720p": 50,
        "480p": 50,
        "360p": 25,
        "240p": 25,
    }
