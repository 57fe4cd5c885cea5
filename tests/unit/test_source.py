from typing import Any

import pytest

from lambdas.pipeline.errors import IncompleteFile, NotAVideo, NoVideoStream, UnusableVideo
from lambdas.pipeline.source import (
    ACCEPTED_DEMUXERS,
    input_safety_options,
    parse_ffprobe,
    sniff,
    unreadable,
    verified_duration,
)


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


@pytest.mark.parametrize(
    ("fmt", "named"),
    [
        ("tty", "a text file"),
        ("image2", "an image"),
        ("png_pipe", "an image \\(PNG\\)"),
        ("hls", "an HLS playlist"),
        ("concat", "an FFmpeg concat list"),
        ("h264", "a file FFmpeg reads as 'h264'"),  # a raw stream: outside the list too
    ],
)
def test_a_format_outside_the_allow_list_is_not_a_video_and_is_named(fmt: str, named: str) -> None:
    with pytest.raises(NotAVideo, match=f"The uploaded file is {named}, not a video"):
        parse_ffprobe(report(VIDEO, fmt=fmt), size_bytes=1)


@pytest.mark.parametrize("fmt", ACCEPTED_DEMUXERS)
def test_every_accepted_container_is_read(fmt: str) -> None:
    assert parse_ffprobe(report(VIDEO, fmt=fmt), size_bytes=1).format_name == fmt


def test_a_video_codec_that_is_also_used_for_stills_is_a_video_in_a_video_container() -> None:
    # Motion JPEG (old cameras' AVI) and PNG-in-MOV are videos; a still image is refused by
    # its demuxer (image2, png_pipe, ...), which is outside the allow-list.
    info = parse_ffprobe(report({**VIDEO, "codec_name": "mjpeg"}, fmt="avi"), size_bytes=1)
    assert info.video_codec == "mjpeg"


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


# --- what FFmpeg may open -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "protocols"),
    [
        ("https://uploads.s3.amazonaws.com/v/source?X-Amz-Signature=1", "https,tls,tcp"),
        ("http://127.0.0.1:5000/uploads/v/source?X-Amz-Signature=1", "http,tcp"),
        ("/tmp/clip.mp4", "file"),
        ("img%03d.png", "file"),
    ],
)
def test_the_protocol_allow_list_is_what_the_sources_scheme_needs(url: str, protocols: str) -> None:
    options = input_safety_options(url)

    assert options[options.index("-protocol_whitelist") + 1] == protocols
    demuxers = options[options.index("-format_whitelist") + 1]
    assert demuxers == ",".join(ACCEPTED_DEMUXERS)
    assert not {"hls", "dash", "concat", "image2", "srt"} & set(demuxers.split(","))


@pytest.mark.parametrize("url", ["concat:/a|/b", "subfile:/a", "data:,x", "crypto:/a", "ftp://h/x"])
def test_a_source_url_of_any_other_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="no protocol allow-list"):
        input_safety_options(url)


# --- naming what ffprobe refused ------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "named", "points_elsewhere"),
    [
        (b"#EXTM3U\n#EXTINF:10,\nhttp://h/a.ts\n", "an HLS playlist", True),
        (
            b"\xef\xbb\xbf#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
            "an HLS master playlist",
            True,
        ),
        (
            b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">',
            "a DASH manifest",
            True,
        ),
        (b"ffconcat version 1.0\nfile a.mp4\n", "an FFmpeg concat list", True),
        (b"file '/etc/passwd'\nfile 'http://h/a.mp4'\n", "an FFmpeg concat list", True),
        (b"1\r\n00:00:01,000 --> 00:00:02,000\r\nhello\r\n", "a subtitle file (SubRip)", False),
        (b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", "a subtitle file (WebVTT)", False),
        (b"\x89PNG\r\n\x1a\n....", "an image (PNG)", False),
    ],
)
def test_the_first_bytes_name_playlists_lists_subtitles_and_images(
    head: bytes, named: str, points_elsewhere: bool
) -> None:
    assert sniff(head) == (named, points_elsewhere)


def test_the_first_bytes_of_a_video_or_of_prose_name_nothing() -> None:
    assert sniff(b"\x00\x00\x00\x20ftypisom") is None
    assert sniff(b"Dear diary, today I filed my taxes.") is None


def test_a_refused_playlist_says_what_it_is_and_that_links_are_never_followed() -> None:
    stderr = (
        "[hls @ 0x55d] Format not on whitelist 'mov,mp4,m4a,3gp,3g2,mj2,...'\nx: Invalid argument"
    )

    rejection = unreadable(stderr, b"#EXTM3U\n")

    assert isinstance(rejection, NotAVideo)
    assert str(rejection).startswith("The uploaded file is an HLS playlist, not a video.")
    assert "never fetches what a playlist or list points to" in str(rejection)


def test_ffprobes_own_name_for_a_refused_format_is_used_when_the_bytes_say_nothing() -> None:
    stderr = "[mp3 @ 0x1] Format not on whitelist 'mov,...'\nhttp://h/s?sig: Invalid argument"

    assert str(unreadable(stderr, b"ID3")).startswith("The uploaded file is an audio file (MP3)")


def test_a_list_named_mp4_is_a_list_not_an_incomplete_mp4() -> None:
    # FFmpeg falls back to the MP4 demuxer by the name's extension and misses its index.
    stderr = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found\nc.mp4: Invalid data"

    assert "an FFmpeg concat list" in str(unreadable(stderr, b"file 'a.mp4'\n"))
    assert isinstance(unreadable(stderr, b"\x00\x00\x00\x20ftypisom"), IncompleteFile)


def test_an_unreadable_file_never_quotes_the_presigned_url() -> None:
    stderr = "https://b.s3.amazonaws.com/v/source?X-Amz-Signature=abc: Invalid data found"

    message = str(unreadable(stderr, b"\x00garbage"))

    assert "Signature" not in message and "(Invalid data found)" in message


# --- the duration is what the data holds ----------------------------------------------


def packet(pts: float, duration: float = 0.04) -> dict[str, str]:
    return {"pts_time": f"{pts:.6f}", "duration_time": f"{duration:.6f}"}


def test_a_declared_duration_confirmed_by_packets_near_its_end_is_kept() -> None:
    assert verified_duration(12.5, 0.0, [packet(12.0), packet(12.46)], []) == 12.5


def test_a_header_claiming_ten_hours_over_three_seconds_of_data_gets_three() -> None:
    # The backward seek to 35,999 s lands on the last keyframe there is, at 2 s.
    ends = [packet(2.0), packet(2.96)]

    assert verified_duration(36_000.0, 0.0, ends, [packet(0.0)]) == 3.0


def test_the_container_start_time_is_not_counted_as_duration() -> None:
    # MPEG-TS timestamps start anywhere; 3 s of data from 1.4 s confirms 3 s.
    assert verified_duration(3.0, 1.4, [packet(4.36)], []) == 3.0
    assert verified_duration(3_000.0, 1.4, [packet(4.36)], []) == 3.0


def test_when_nothing_can_be_read_near_the_end_the_first_frames_bound_it() -> None:
    # A file cut after its index: the index promises frames its bytes do not hold.
    frames = [{"best_effort_timestamp_time": "1.880000", "pkt_duration_time": "0.040000"}]

    assert verified_duration(3.0, 0.0, [], frames) == 1.92
    assert verified_duration(36_000.0, 0.0, [], [{"best_effort_timestamp_time": "N/A"}]) == 0.0
