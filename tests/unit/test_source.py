from typing import Any

import pytest

from lambdas.pipeline.errors import NotAVideo, NoVideoStream, UnusableVideo
from lambdas.pipeline.source import parse_ffprobe


def report(
    *streams: dict[str, Any], fmt: str = "mov,mp4,m4a,3gp,3g2,mj2", duration: str = "12.5"
) -> dict[str, Any]:
    return {"streams": list(streams), "format": {"format_name": fmt, "duration": duration}}


VIDEO = {
    "codec_type": "video",
    "codec_name": "h264",
    "width": 1920,
    "height": 1080,
    "avg_frame_rate": "30000/1001",
    "sample_aspect_ratio": "1:1",
}
AUDIO = {"codec_type": "audio", "codec_name": "aac"}


def test_reads_size_rate_duration_and_audio() -> None:
    info = parse_ffprobe(report(VIDEO, AUDIO), size_bytes=42)
    assert (info.display_width, info.display_height) == (1920, 1080)
    assert info.frame_rate == pytest.approx(29.97, abs=0.001)
    assert info.duration_seconds == 12.5
    assert info.has_audio and info.size_bytes == 42


def test_rotation_swaps_the_display_size() -> None:
    rotated = {**VIDEO, "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}
    info = parse_ffprobe(report(rotated), size_bytes=1)
    assert (info.display_width, info.display_height) == (1080, 1920)
    assert not info.has_audio


def test_non_square_pixels_widen_the_display_size() -> None:
    anamorphic = {**VIDEO, "width": 720, "height": 576, "sample_aspect_ratio": "16:11"}
    info = parse_ffprobe(report(anamorphic), size_bytes=1)
    assert (info.display_width, info.display_height) == (1047, 576)


def test_audio_only_is_refused_with_a_message_naming_the_cause() -> None:
    with pytest.raises(NoVideoStream, match="no video stream \\(audio only\\)"):
        parse_ffprobe(report(AUDIO), size_bytes=1)


@pytest.mark.parametrize("fmt", ["tty", "image2", "png_pipe"])
def test_text_and_still_images_are_not_videos(fmt: str) -> None:
    with pytest.raises(NotAVideo, match="not a video"):
        parse_ffprobe(report({**VIDEO, "codec_name": "ansi"}, fmt=fmt), size_bytes=1)


def test_missing_duration_is_unusable() -> None:
    with pytest.raises(UnusableVideo, match="no measurable duration"):
        parse_ffprobe(report(VIDEO, duration="N/A"), size_bytes=1)


def test_cover_art_is_not_taken_for_the_video_stream() -> None:
    cover = {**VIDEO, "codec_name": "mjpeg", "disposition": {"attached_pic": 1}}
    with pytest.raises(NoVideoStream):
        parse_ffprobe(report(cover, AUDIO), size_bytes=1)


def test_interlaced_video_is_recognised_from_its_field_order() -> None:
    assert parse_ffprobe(report({**VIDEO, "field_order": "tt"}), size_bytes=1).interlaced
    assert parse_ffprobe(report({**VIDEO, "field_order": "bb"}), size_bytes=1).interlaced
    assert not parse_ffprobe(
        report({**VIDEO, "field_order": "progressive"}), size_bytes=1
    ).interlaced
    assert not parse_ffprobe(report(VIDEO), size_bytes=1).interlaced


@pytest.mark.parametrize(
    ("color_transfer", "expected"),
    [("smpte2084", "pq"), ("arib-std-b67", "hlg"), ("bt709", "sdr"), (None, "sdr")],
)
def test_hdr_is_recognised_from_the_transfer_characteristics(
    color_transfer: str | None, expected: str
) -> None:
    stream = {**VIDEO, "pix_fmt": "yuv420p10le", "color_primaries": "bt2020"}
    if color_transfer:
        stream["color_transfer"] = color_transfer

    info = parse_ffprobe(report(stream), size_bytes=1)

    assert info.transfer == expected
    assert info.bit_depth == 10


def test_bit_depth_comes_from_the_raw_sample_size_or_the_pixel_format() -> None:
    assert (
        parse_ffprobe(report({**VIDEO, "bits_per_raw_sample": "10"}), size_bytes=1).bit_depth == 10
    )
    assert parse_ffprobe(report({**VIDEO, "pix_fmt": "yuv420p"}), size_bytes=1).bit_depth == 8
    assert parse_ffprobe(report({**VIDEO, "pix_fmt": "yuv422p12le"}), size_bytes=1).bit_depth == 12


def test_of_several_audio_streams_the_default_one_is_used() -> None:
    commentary = {**AUDIO, "disposition": {"default": 0}}
    main = {**AUDIO, "disposition": {"default": 1}}

    assert parse_ffprobe(report(VIDEO, commentary, main), size_bytes=1).audio_stream == 1
    assert parse_ffprobe(report(VIDEO, commentary, commentary), size_bytes=1).audio_stream == 0
