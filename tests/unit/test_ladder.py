from typing import Any

import pytest

from lambdas.pipeline.ladder import LADDER, native_rung, output_frame_rate, plan_ladder
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


def sizes(
    width: int, height: int, cap: int = 1440, *, native_top_rung: bool = True
) -> list[tuple[str, int, int]]:
    rungs = plan_ladder(
        source(width, height),
        max_short_side=cap,
        preset="veryfast",
        native_top_rung=native_top_rung,
    )
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
    caps = {
        f"{rung.short_side}p": (rung.h264_kbps, rung.hevc_kbps, rung.av1_kbps) for rung in LADDER
    }
    assert caps == {
        "2160p": (20_000, 12_000, 10_000),
        "1440p": (10_000, 6_000, 5_000),
        "1080p": (7_800, 4_700, 3_900),
        "720p": (4_500, 2_700, 2_250),
        "480p": (1_500, 900, 750),
        "360p": (730, 440, 365),
        "240p": (145, 145, 145),
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


def test_the_av1_ladder_has_its_own_names_caps_crf_and_svt_preset() -> None:
    rungs = plan_ladder(source(1280, 720), max_short_side=1440, preset="veryfast", codec="av1")

    assert [(r.name, r.codec, r.max_bitrate_kbps) for r in rungs] == [
        ("720p-av1", "av1", 2_250),
        ("480p-av1", "av1", 750),
        ("360p-av1", "av1", 365),
        ("240p-av1", "av1", 145),
    ]
    assert {(r.crf, r.preset) for r in rungs} == {(35, "8")}  # SVT-AV1's own preset scale


# --- native-resolution top rung -------------------------------------------------------


def test_a_source_between_rungs_gets_a_top_rung_at_its_own_size_above_the_others() -> None:
    assert sizes(656, 280) == [("280p", 656, 280), ("240p", 562, 240)]
    assert sizes(1400, 1000)[:2] == [("1000p", 1400, 1000), ("720p", 1008, 720)]
    assert sizes(280, 656)[0] == ("280p", 280, 656)  # portrait: named after its width


def test_the_native_rungs_cap_is_interpolated_by_pixel_count_between_its_neighbours() -> None:
    rungs = plan_ladder(source(656, 280), max_short_side=1440, preset="veryfast")
    # 280 lines: (280² - 240²) / (360² - 240²) = 0.289 of the way from 240p to 360p
    assert [(r.name, r.max_bitrate_kbps) for r in rungs] == [("280p", 314), ("240p", 145)]
    rung = native_rung(280, LADDER)
    assert (rung.h264_kbps, rung.hevc_kbps, rung.av1_kbps) == (314, 230, 209)
    assert rung.max_frame_rate == 30.0  # the rung above's (360p: at most 30 fps)
    assert native_rung(600, LADDER).max_frame_rate == 60.0  # 720p's
    # exactly a rung's size gets exactly its cap; between two, strictly between theirs
    assert native_rung(720, LADDER).h264_kbps == 4_500
    caps = [native_rung(side, LADDER).h264_kbps for side in range(242, 2160, 2)]
    assert caps == sorted(caps) and len(set(caps)) > 500


def test_above_the_highest_rung_the_cap_keeps_its_bits_per_pixel() -> None:
    rung = native_rung(2880, LADDER)
    assert rung.h264_kbps == round(20_000 * 2880**2 / 2160**2)


def test_a_near_miss_within_5_percent_of_a_rung_uses_that_rung() -> None:
    # 250 lines is 4 % above 240p: no 250p; 350 is 3 % below 360p: 360p at the source's size
    assert sizes(584, 250) == [("240p", 560, 240)]
    assert sizes(816, 350) == [("360p", 816, 350), ("240p", 560, 240)]
    assert sizes(1916, 1076)[0] == ("1080p", 1916, 1076)
    # 7.5 % below 360p is not a near miss
    assert sizes(777, 333)[0] == ("332p", 774, 332)  # an odd short side: the even size below


def test_the_native_rung_is_never_above_the_ladder_cap() -> None:
    assert sizes(2400, 1700, cap=1440)[0] == ("1440p", 2032, 1440)
    assert sizes(2400, 1700, cap=2160)[0] == ("1700p", 2400, 1700)
    assert sizes(1400, 1000, cap=720)[0] == ("720p", 1008, 720)


def test_the_native_top_rung_can_be_switched_off() -> None:
    assert sizes(656, 280, native_top_rung=False) == [("240p", 562, 240)]
    assert sizes(816, 350, native_top_rung=False) == [("240p", 560, 240)]
    assert sizes(320, 180, native_top_rung=False) == [("180p", 320, 180)]
