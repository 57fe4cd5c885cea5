import pytest

from lambdas.pipeline.ladder import output_frame_rate, plan_ladder
from lambdas.pipeline.source import SourceInfo


def source(width: int, height: int, fps: float = 25.0) -> SourceInfo:
    return SourceInfo(
        duration_seconds=10,
        display_width=width,
        display_height=height,
        frame_rate=fps,
        video_codec="h264",
        has_audio=True,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        size_bytes=1000,
    )


def sizes(width: int, height: int, cap: int = 1440) -> list[tuple[str, int, int]]:
    rungs = plan_ladder(source(width, height), max_short_side=cap, preset="veryfast")
    return [(r.name, r.width, r.height) for r in rungs]


def test_720p_source_gets_720_480_360_and_nothing_larger() -> None:
    assert sizes(1280, 720) == [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]


def test_4k_source_is_capped_at_the_configured_top_rung() -> None:
    names = [name for name, _, _ in sizes(3840, 2160)]
    assert names == ["1440p", "1080p", "720p", "480p", "360p"]
    assert sizes(3840, 2160, cap=1080)[0][0] == "1080p"


def test_portrait_source_keeps_its_shape_with_the_short_side_as_the_rung() -> None:
    assert sizes(1080, 1920)[:2] == [("1080p", 1080, 1920), ("720p", 720, 1280)]


def test_source_smaller_than_the_lowest_rung_gets_one_rung_at_its_own_size() -> None:
    assert sizes(320, 240) == [("240p", 320, 240)]


@pytest.mark.parametrize(("width", "height"), [(1283, 721), (999, 333), (3000, 1000), (641, 359)])
def test_every_rung_is_even_no_larger_than_the_source_and_keeps_the_aspect(
    width: int, height: int
) -> None:
    for _, rung_width, rung_height in sizes(width, height):
        assert rung_width % 2 == 0 and rung_height % 2 == 0
        assert rung_width <= width and rung_height <= height
        assert abs(rung_width / rung_height - width / height) < 0.02


@pytest.mark.parametrize(
    ("source_fps", "expected"), [(25, 25), (59.94, 59.94), (120, 60), (240, 60)]
)
def test_frame_rate_kept_up_to_60_and_halved_above(source_fps: float, expected: float) -> None:
    assert output_frame_rate(source_fps) == expected
