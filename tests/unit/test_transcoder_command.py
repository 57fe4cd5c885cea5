"""The transcoder's pure parts: FFmpeg arguments, playlist reading, codec strings, bitrates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdas.pipeline import source as probe_source_rules
from transcoder.codecs import (
    av01_codec,
    avc1_codec,
    codec_string,
    frame_rate,
    hvc1_codec,
    mp4a_codec,
    parse_hexdump,
)
from transcoder.command import (
    MEDIA_START_SECONDS,
    UnsupportedJobError,
    build_ffmpeg_command,
    build_job_command,
    build_probe_command,
    build_single_decode_command,
    concat_target,
    frame_rate_arg,
    gop_frames,
    input_safety_options,
    reports_ssim,
)
from transcoder.contract import AudioRendition, SourceHints, ThumbnailsRendition, TranscodeJob
from transcoder.ffmpeg_log import scan
from transcoder.ffmpeg_process import JobFailedError, MediaError, failure, redact
from transcoder.playlist import (
    Segment,
    average_bitrate_bps,
    conform_target_duration,
    parse_media_playlist,
    peak_bitrate_bps,
)
from transcoder.storage import content_type
from transcoder.thumbnails import build_thumbnails_command

OUT = Path("/work/out")
URL = "https://uploads.s3.amazonaws.com/v1/source.mov?X-Amz-Signature=abc"


def video_job(**changes: Any) -> TranscodeJob:
    """A 720p job; keyword arguments replace rendition, job or source-hint fields by name."""
    rendition: dict[str, Any] = {
        "kind": "video",
        "name": "720p",
        "width": 1280,
        "height": 720,
        "frame_rate": 25.0,
        "crf": 22,
        "max_bitrate_kbps": 3000,
        "preset": "medium",
    }
    job: dict[str, Any] = {
        "video_id": "v1",
        "source_key": "v1/source.mov",
        "source_version": "1",
        "output_prefix": "v1/hls/720p/",
        "segment_seconds": 4,
        "gop_seconds": 2.0,
        "rendition": rendition,
    }
    hints: dict[str, Any] = {}
    for key, value in changes.items():
        if key in {"interlaced", "transfer", "audio_stream"}:
            hints[key] = value
        elif key in rendition or key == "codec":
            rendition[key] = value
        else:
            job[key] = value
    job["source"] = hints
    return TranscodeJob.model_validate(job)


def audio_job(audio_stream: int = 0) -> TranscodeJob:
    return TranscodeJob(
        video_id="v1",
        source_key="v1/source.mov",
        source_version="1",
        output_prefix="v1/hls/audio/",
        source=SourceHints(audio_stream=audio_stream),
        rendition=AudioRendition(bitrate_kbps=96, channels=2, sample_rate=44100),
    )


def option(command: list[str], name: str) -> str:
    """The value that follows `name`, which must occur exactly once."""
    assert command.count(name) == 1, f"{name} occurs {command.count(name)} times"
    return command[command.index(name) + 1]


# --- FFmpeg command -------------------------------------------------------------------


def test_video_command_reads_the_url_and_writes_an_fmp4_vod_playlist() -> None:
    command = build_ffmpeg_command(video_job(), URL, OUT, ffmpeg="/opt/ffmpeg")

    assert command[0] == "/opt/ffmpeg"
    assert option(command, "-i") == URL
    assert {"-hide_banner", "-nostdin", "-y", "-nostats"} <= set(command)
    assert option(command, "-loglevel") == "level+info"  # the runner reads the encoder's SSIM
    assert option(command, "-f") == "hls"
    assert option(command, "-hls_time") == "4"
    assert option(command, "-hls_playlist_type") == "vod"
    assert option(command, "-hls_segment_type") == "fmp4"
    assert option(command, "-hls_fmp4_init_filename") == "init.mp4"
    assert option(command, "-hls_segment_filename") == "/work/out/seg_%05d.m4s"
    assert option(command, "-hls_flags") == "independent_segments"
    assert command[-1] == "/work/out/index.m3u8"


def test_video_command_maps_the_first_video_stream_that_is_not_cover_art() -> None:
    command = build_ffmpeg_command(video_job(), URL, OUT)

    assert option(command, "-map") == "0:V:0"
    assert "-an" in command


def test_video_comes_out_at_a_constant_frame_rate() -> None:
    command = build_ffmpeg_command(video_job(frame_rate=29.97), URL, OUT)

    assert option(command, "-fps_mode") == "cfr"
    assert option(command, "-vf").startswith("fps=30000/1001,")


def test_interlaced_sources_are_deinterlaced_first_keeping_every_field() -> None:
    command = build_ffmpeg_command(video_job(interlaced=True, frame_rate=50.0), URL, OUT)

    filters = option(command, "-vf").split(",")
    assert filters[:2] == ["bwdif=mode=send_field:parity=auto:deint=all", "fps=50"]


@pytest.mark.parametrize(("transfer", "zimg_name"), [("pq", "smpte2084"), ("hlg", "arib-std-b67")])
def test_hdr_sources_are_tone_mapped_to_8_bit_sdr_bt709(transfer: str, zimg_name: str) -> None:
    command = build_ffmpeg_command(video_job(transfer=transfer, width=854, height=480), URL, OUT)

    filters = option(command, "-vf").split(",")
    assert filters[0] == "fps=25"
    assert filters[1].startswith(f"zscale=w=854:h=480:filter=lanczos:tin={zimg_name}:")
    assert "tonemap=tonemap=hable:desat=0" in filters
    assert filters[-3:] == ["zscale=t=bt709:m=bt709:r=tv", "setsar=1", "format=yuv420p"]
    assert not any(f.startswith("scale=") for f in filters)
    assert option(command, "-color_primaries") == "bt709"
    assert option(command, "-color_trc") == "bt709"
    assert option(command, "-colorspace") == "bt709"


def test_sdr_sources_keep_their_colour_description() -> None:
    command = build_ffmpeg_command(video_job(), URL, OUT)

    assert not {"-color_primaries", "-color_trc", "-colorspace"} & set(command)


def test_x264_measures_ssim_while_encoding() -> None:
    command = build_ffmpeg_command(video_job(), URL, OUT)

    assert option(command, "-ssim") == "1"


def test_hevc_rungs_are_x265_tagged_hvc1_with_the_same_fixed_gop() -> None:
    job = video_job(codec="hevc", name="720p-hevc", crf=24, max_bitrate_kbps=2700)

    command = build_ffmpeg_command(job, URL, OUT)

    assert option(command, "-c:v") == "libx265"
    assert option(command, "-tag:v") == "hvc1"
    assert option(command, "-profile:v") == "main"
    assert (option(command, "-crf"), option(command, "-maxrate")) == ("24", "2700k")
    assert option(command, "-bufsize") == "5400k"
    params = option(command, "-x265-params").split(":")
    assert {"keyint=50", "min-keyint=50", "scenecut=0", "open-gop=0", "ssim=1"} <= set(params)
    assert option(command, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert "-ssim" not in command and "-sc_threshold" not in command
    assert option(command, "-hls_segment_type") == "fmp4"


@pytest.mark.parametrize(("frame_rate", "gop"), [(25.0, 50), (29.97, 60), (50.0, 100)])
def test_av1_rungs_are_svt_av1_capped_crf_with_a_gop_of_exactly_two_seconds(
    frame_rate: float, gop: int
) -> None:
    job = video_job(
        codec="av1", name="720p-av1", crf=35, max_bitrate_kbps=2250, preset="8",
        frame_rate=frame_rate,
    )  # fmt: skip

    command = build_ffmpeg_command(job, URL, OUT)

    assert option(command, "-c:v") == "libsvtav1"
    assert (option(command, "-preset"), option(command, "-crf")) == ("8", "35")
    assert (option(command, "-maxrate"), option(command, "-bufsize")) == ("2250k", "4500k")
    # Keyframes only every GOP: no scene-change keyframes, closed GOPs of key frames
    params = option(command, "-svtav1-params").split(":")
    assert set(params) == {f"keyint={gop}", "scd=0", "irefresh-type=2"}
    assert option(command, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert not {"-ssim", "-x265-params", "-profile:v", "-tag:v", "-g"} & set(command)
    assert option(command, "-hls_segment_type") == "fmp4"
    assert not reports_ssim(job.rendition)  # type: ignore[arg-type]


def test_a_thumbnails_job_is_not_an_hls_rendition() -> None:
    job = TranscodeJob(
        video_id="v1",
        source_key="v1/source.mov",
        source_version="1",
        output_prefix="v1/thumbs/",
        rendition=ThumbnailsRendition(
            duration_seconds=3,
            poster_width=640,
            poster_height=360,
            tile_width=160,
            tile_height=90,
            tile_interval_seconds=1,
            columns=3,
            rows=1,
        ),
    )

    with pytest.raises(UnsupportedJobError, match="thumbnails"):
        build_ffmpeg_command(job, URL, OUT)


def test_video_command_scales_exactly_to_8_bit_square_pixels() -> None:
    command = build_ffmpeg_command(video_job(width=854, height=480), URL, OUT)

    filters = option(command, "-vf").split(",")
    assert filters == ["fps=25", "scale=854:480:flags=lanczos", "setsar=1", "format=yuv420p"]


def test_video_command_is_x264_high_crf_capped_by_maxrate_with_twice_the_buffer() -> None:
    command = build_ffmpeg_command(video_job(crf=23, max_bitrate_kbps=1400), URL, OUT)

    assert option(command, "-c:v") == "libx264"
    assert option(command, "-profile:v") == "high"
    assert option(command, "-preset") == "medium"
    assert option(command, "-crf") == "23"
    assert option(command, "-maxrate") == "1400k"
    assert option(command, "-bufsize") == "2800k"


@pytest.mark.parametrize(
    ("frame_rate", "gop_seconds", "frames"),
    [(25.0, 2.0, 50), (30.0, 2.0, 60), (29.97, 2.0, 60), (23.976, 2.0, 48), (50.0, 1.0, 50)],
)
def test_gop_is_fixed_in_frames_from_the_output_frame_rate(
    frame_rate: float, gop_seconds: float, frames: int
) -> None:
    job = video_job(frame_rate=frame_rate, gop_seconds=gop_seconds, segment_seconds=4)

    command = build_ffmpeg_command(job, URL, OUT)

    assert option(command, "-g") == str(frames)
    assert option(command, "-keyint_min") == str(frames)
    assert option(command, "-sc_threshold") == "0"
    assert option(command, "-force_key_frames") == f"expr:gte(t,n_forced*{gop_seconds:g})"


@pytest.mark.parametrize(
    ("rate", "arg"),
    [(25.0, "25"), (29.97, "30000/1001"), (29.97002997, "30000/1001"), (23.976, "24000/1001"),
     (59.94, "60000/1001"), (12.5, "25/2"), (60.0, "60")],
)  # fmt: skip
def test_frame_rates_become_exact_rationals(rate: float, arg: str) -> None:
    assert frame_rate_arg(rate) == arg


def test_gop_frames_never_drops_below_one() -> None:
    assert gop_frames(0.01, 25.0) == 1


@pytest.mark.parametrize(("segment_seconds", "gop_seconds"), [(3, 2.0), (4, 3.0), (1, 2.0)])
def test_segments_that_are_not_whole_gops_are_refused(
    segment_seconds: int, gop_seconds: float
) -> None:
    job = video_job(segment_seconds=segment_seconds, gop_seconds=gop_seconds)

    with pytest.raises(UnsupportedJobError, match="not a multiple"):
        build_ffmpeg_command(job, URL, OUT)


def test_audio_command_maps_the_chosen_audio_stream_to_aac_lc() -> None:
    assert option(build_ffmpeg_command(audio_job(audio_stream=2), URL, OUT), "-map") == "0:a:2"

    command = build_ffmpeg_command(audio_job(), URL, OUT)

    assert option(command, "-map") == "0:a:0"
    assert "-vn" in command
    assert "-c:v" not in command
    assert "-vf" not in command
    assert option(command, "-c:a") == "aac"
    assert option(command, "-b:a") == "96k"
    assert option(command, "-ac") == "2"
    assert option(command, "-ar") == "44100"
    assert option(command, "-hls_segment_type") == "fmp4"
    assert option(command, "-hls_time") == "4"


def test_http_sources_reconnect_and_local_files_get_no_http_options() -> None:
    remote = build_ffmpeg_command(video_job(), URL, OUT)
    local = build_ffmpeg_command(video_job(), "/data/source.mov", OUT)

    assert option(remote, "-reconnect") == "1"
    assert option(remote, "-reconnect_streamed") == "1"
    assert option(remote, "-reconnect_delay_max") == "5"
    assert remote.index("-reconnect") < remote.index("-i")  # an input option
    assert not any(arg.startswith(("-reconnect", "-rw_timeout")) for arg in local)


def before_input(command: list[str]) -> list[str]:
    return command[: command.index("-i")]


def test_every_command_that_reads_the_upload_limits_what_ffmpeg_may_open() -> None:
    thumbnails = TranscodeJob(
        video_id="v1",
        source_key="v1/source.mov",
        source_version="1",
        output_prefix="v1/thumbs/",
        rendition=ThumbnailsRendition(
            duration_seconds=3, poster_width=640, poster_height=360, tile_width=160,
            tile_height=90, tile_interval_seconds=1, columns=3, rows=1,
        ),
    )  # fmt: skip
    commands = {
        "rendition": build_ffmpeg_command(video_job(), URL, OUT),
        "grouped": build_job_command(grouped_job(), URL, OUT),
        "thumbnails": build_thumbnails_command(thumbnails, URL, OUT, Path("/work/tmp")),
    }

    for name, command in commands.items():
        inputs = before_input(command)
        assert option(inputs, "-protocol_whitelist") == "https,tls,tcp", name
        assert option(inputs, "-format_whitelist").startswith("mov,mp4,m4a,3gp,3g2,mj2,"), name


@pytest.mark.parametrize(
    "url", [URL, "http://127.0.0.1:5000/uploads/v1/source?X-Amz-Signature=1", "img%03d.png"]
)
def test_the_transcoders_allow_lists_are_the_probes(url: str) -> None:
    # Two packages, one rule: the transcoder image cannot import the probe's module.
    assert input_safety_options(url) == probe_source_rules.input_safety_options(url)


@pytest.mark.parametrize("url", ["concat:/a.mp4|/b.mp4", "subfile:,,start,0,end,0,,:/a", "data:,x"])
def test_a_source_that_is_itself_a_protocol_trick_is_refused(url: str) -> None:
    with pytest.raises(UnsupportedJobError, match="no protocol allow-list"):
        build_ffmpeg_command(video_job(), url, OUT)


@pytest.mark.parametrize("job", [video_job(), audio_job()], ids=["video", "audio"])
def test_every_rendition_starts_its_media_timeline_at_the_same_offset(job: TranscodeJob) -> None:
    command = build_ffmpeg_command(job, URL, OUT)

    assert option(command, "-output_ts_offset") == str(MEDIA_START_SECONDS)
    assert command.index("-output_ts_offset") > command.index("-i")  # an output option


def test_probe_command_asks_for_streams_with_extradata_as_json() -> None:
    command = build_probe_command("concat:/a/init.mp4|/a/seg_00000.m4s", ffprobe="fp")

    assert command[0] == "fp"
    assert {"-show_streams", "-show_data"} <= set(command)
    assert option(command, "-of") == "json"
    assert command[-1] == "concat:/a/init.mp4|/a/seg_00000.m4s"


def test_concat_target_joins_paths_and_refuses_the_separator() -> None:
    assert concat_target([Path("/a/init.mp4"), Path("/a/s.m4s")]) == "concat:/a/init.mp4|/a/s.m4s"
    with pytest.raises(ValueError, match=r"containing '\|'"):
        concat_target([Path("/a|b/init.mp4")])


# --- playlist and bitrates ------------------------------------------------------------

FFMPEG_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000000,
seg_00000.m4s
#EXTINF:4.000000,
seg_00001.m4s
#EXTINF:1.520000,
seg_00002.m4s
#EXT-X-ENDLIST
"""


def test_playlist_segments_durations_and_map_are_read() -> None:
    playlist = parse_media_playlist(FFMPEG_PLAYLIST)

    assert playlist.target_duration == 4
    assert playlist.map_uri == "init.mp4"
    assert playlist.ended
    assert playlist.segments == (
        Segment("seg_00000.m4s", 4.0),
        Segment("seg_00001.m4s", 4.0),
        Segment("seg_00002.m4s", 1.52),
    )
    assert playlist.duration_seconds == pytest.approx(9.52)


def test_an_unfinished_playlist_is_reported_as_such() -> None:
    playlist = parse_media_playlist(FFMPEG_PLAYLIST.replace("#EXT-X-ENDLIST\n", ""))

    assert not playlist.ended


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "EXTM3U"),
        ("#EXTM3U\n#EXTINF:4.0,\nseg.m4s\n", "TARGETDURATION"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\nseg.m4s\n", "without EXTINF"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n", "without a segment"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:BYTERANGE=1@0\n", "without URI"),
    ],
)
def test_malformed_playlists_are_refused(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_media_playlist(text)


def test_average_bitrate_is_bytes_over_duration() -> None:
    assert average_bitrate_bps(1_000_000, 4.0) == 2_000_000
    with pytest.raises(ValueError):
        average_bitrate_bps(1, 0.0)


def test_peak_bitrate_is_the_busiest_segment_and_never_below_the_average() -> None:
    segments = [(1_000_000, 4.0), (1_500_000, 4.0), (400_000, 1.6)]

    peak = peak_bitrate_bps(segments)

    assert peak == 3_000_000
    total = sum(size for size, _ in segments)
    assert peak >= average_bitrate_bps(total, sum(seconds for _, seconds in segments))


def test_peak_bitrate_needs_a_segment_with_duration() -> None:
    with pytest.raises(ValueError):
        peak_bitrate_bps([(100, 0.0)])


# --- codec strings --------------------------------------------------------------------

# What ffprobe -show_data printed for a 640x360 High@3.0 init segment and an AAC-LC one.
H264_EXTRADATA = (
    "\n00000000: 0164 001e ffe1 001a 6764 001e acd9 40a0  .d......gd....@.\n"
    "00000010: 2ff9 7011 0000 0300 0100 0003 0032 0f16  /.p..........2..\n"
    "00000020: 2d96 0100 0568 ef84 f2c0 fdf8 f800       -....h........\n"
)
AAC_EXTRADATA = "\n00000000: 1190 56e5 00                             ..V..\n"


def test_hexdump_is_read_back_to_bytes() -> None:
    data = parse_hexdump(H264_EXTRADATA)

    assert len(data) == 46
    assert data[:4] == bytes.fromhex("0164001e")
    assert data[-2:] == bytes.fromhex("f800")


def test_h264_codec_string_comes_from_the_avcc_record() -> None:
    stream = {"codec_name": "h264", "profile": "High", "level": 30, "extradata": H264_EXTRADATA}

    assert codec_string(stream) == "avc1.64001e"


@pytest.mark.parametrize(
    ("avcc", "expected"),
    [
        ("0164001f", "avc1.64001f"),  # High 3.1
        ("01640028", "avc1.640028"),  # High 4.0
        ("0142c01e", "avc1.42c01e"),  # Constrained Baseline 3.0
        ("014d4029", "avc1.4d4029"),  # Main 4.1
    ],
)
def test_avc1_is_profile_constraints_and_level_in_hex(avcc: str, expected: str) -> None:
    assert avc1_codec(bytes.fromhex(avcc) + b"\xff\xe1") == expected


def test_annex_b_extradata_is_not_mistaken_for_avcc() -> None:
    with pytest.raises(ValueError, match="avcC"):
        avc1_codec(bytes.fromhex("0000000167640028"))


def test_aac_codec_string_carries_the_audio_object_type() -> None:
    assert codec_string({"codec_name": "aac", "extradata": AAC_EXTRADATA}) == "mp4a.40.2"
    assert mp4a_codec(bytes.fromhex("2b92")) == "mp4a.40.5"  # HE-AAC (SBR)
    assert mp4a_codec(bytes.fromhex("f8e0")) == "mp4a.40.39"  # escaped: 32 + 7


# The first 13 bytes of the hvcC that x265 (Main, level 2) wrote for a 426x240 rung.
HEVC_EXTRADATA = "\n00000000: 0101 6000 0000 9000 0000 0000 3cf0 00fc  ..`.........<...\n"


def test_hevc_codec_string_comes_from_the_hvcc_record() -> None:
    stream = {"codec_name": "hevc", "codec_tag_string": "hvc1", "extradata": HEVC_EXTRADATA}

    assert codec_string(stream) == "hvc1.1.6.L60.90"


@pytest.mark.parametrize(
    ("hvcc", "expected"),
    [
        ("01016000000090000000000078", "hvc1.1.6.L120.90"),  # Main, level 4
        ("01016000000090000000000099", "hvc1.1.6.L153.90"),  # Main, level 5.1
        ("01022000000090000000000096", "hvc1.2.4.L150.90"),  # Main 10, level 5
        ("0121600000009000000000005d", "hvc1.1.6.H93.90"),  # high tier
        ("010160000000b0000000000078", "hvc1.1.6.L120.B0"),
    ],
)
def test_hvc1_is_profile_flags_tier_level_and_constraints(hvcc: str, expected: str) -> None:
    assert hvc1_codec(bytes.fromhex(hvcc)) == expected


# What SVT-AV1 (FFmpeg 5.1) wrote as av1C: a 320x180 rung in an fMP4 init segment, and
# 1280x720p30, 1920x1080p60 and 10-bit 640x360p30 test encodes.
AV1_EXTRADATA = (
    "\n00000000: 8100 0d00 0a0b 0000 0004 3cfe cc02 f802  ..........<.....\n"
    "00000010: 40                                       @\n"
)


def test_av1_codec_string_comes_from_the_av1c_record() -> None:
    assert codec_string({"codec_name": "av1", "extradata": AV1_EXTRADATA}) == "av01.0.00M.08"


@pytest.mark.parametrize(
    ("av1c", "expected"),
    [
        ("81050c000a0b0000002d4cffb3c02f8004", "av01.0.05M.08"),  # 720p30: level 3.1
        ("81090c000a0b0000004aabbfc3700be001", "av01.0.09M.08"),  # 1080p60: level 4.1
        ("81014c000a0b0000000cc4ff6700be1010", "av01.0.01M.10"),  # 10-bit: high_bitdepth
        ("810c8c00", "av01.0.12H.08"),  # high tier, level 6.0
        ("814c6000", "av01.2.12M.12"),  # profile 2, twelve_bit
    ],
)
def test_av01_is_profile_level_tier_and_bit_depth(av1c: str, expected: str) -> None:
    assert av01_codec(bytes.fromhex(av1c)) == expected


def test_an_obu_stream_is_not_mistaken_for_av1c() -> None:
    with pytest.raises(ValueError, match="av1C"):
        av01_codec(bytes.fromhex("0a0b0000002d4cff"))  # a bare sequence header OBU


def test_unknown_codecs_are_refused() -> None:
    with pytest.raises(ValueError, match="vp9"):
        codec_string({"codec_name": "vp9", "extradata": ""})


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ({"avg_frame_rate": "25/1", "r_frame_rate": "25/1"}, 25.0),
        ({"avg_frame_rate": "30000/1001"}, 30000 / 1001),
        ({"avg_frame_rate": "0/0", "r_frame_rate": "24/1"}, 24.0),
        ({"avg_frame_rate": "0/0", "r_frame_rate": "0/0"}, None),
    ],
)
def test_frame_rate_is_read_from_ffprobe_rationals(
    stream: dict[str, str], expected: float | None
) -> None:
    assert frame_rate(stream) == expected


# --- uploads and logs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("index.m3u8", "video", "application/vnd.apple.mpegurl"),
        ("init.mp4", "video", "video/mp4"),
        ("init.mp4", "audio", "audio/mp4"),
        ("seg_00000.m4s", "video", "video/iso.segment"),
        ("seg_00000.m4s", "audio", "video/iso.segment"),
    ],
)
def test_outputs_are_uploaded_with_their_media_types(name: str, kind: str, expected: str) -> None:
    assert content_type(name, kind) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"), [("poster.jpg", "image/jpeg"), ("storyboard.vtt", "text/vtt")]
)
def test_thumbnails_are_uploaded_with_their_media_types(name: str, expected: str) -> None:
    assert content_type(name, "thumbnails") == expected


def test_unexpected_output_files_have_no_media_type() -> None:
    with pytest.raises(ValueError, match=r"ffmpeg\.log"):
        content_type("ffmpeg.log", "video")


def test_presigned_queries_are_kept_out_of_logs() -> None:
    line = f"[http @ 0x1] {URL}&X-Amz-Credential=AKIA: Server returned 403 Forbidden"

    assert redact([line]) == [
        "[http @ 0x1] https://uploads.s3.amazonaws.com/v1/source.mov?<redacted>: "
        "Server returned 403 Forbidden"
    ]


# --- FFmpeg's log -----------------------------------------------------------------------

FFMPEG_LOG = """\
[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'source.mp4':
[libx264 @ 0x1] [warning] --ssim used with psy on: results will be invalid!
[libx264 @ 0x1] [warning] --tune ssim should be used if attempting to benchmark ssim!
[hls @ 0x2] [info] Opening 'out/seg_00000.m4s' for writing
[h264 @ 0x3] [error] corrupt macroblock 4 2

[libx264 @ 0x1] [info] SSIM Mean Y:0.9817371 (17.384db)
[libx264 @ 0x1] [info] kb/s:181.93
"""


def test_the_log_yields_the_encoders_ssim_and_only_real_problems() -> None:
    summary = scan(FFMPEG_LOG.splitlines(keepends=True))

    assert summary.ssim == pytest.approx(0.9817371)
    assert summary.tail == ["[h264 @ 0x3] [error] corrupt macroblock 4 2"]


def test_x265_writes_its_own_untagged_summary() -> None:
    lines = [
        "x265 [info]: frame I:      3, Avg QP:23.07  kb/s: 1187.07   SSIM Mean: 0.996648\n",
        "x265 [warning]: Source height < 720p; disabling lookahead-slices\n",
        "encoded 75 frames in 0.42s (180.25 fps), 274.54 kb/s, Avg QP:29.71, "
        "SSIM Mean Y: 0.9895787 (19.821 dB)\n",
    ]

    summary = scan(lines)

    assert summary.ssim == pytest.approx(0.9895787)
    assert list(summary.problems) == []


def test_without_warnings_the_tail_is_the_last_lines() -> None:
    summary = scan([f"[info] line {n}\n" for n in range(100)], keep=3)

    assert summary.tail == ["[info] line 97", "[info] line 98", "[info] line 99"]
    assert summary.ssim is None


@pytest.mark.parametrize(
    ("durations", "target", "expected"),
    [
        ("1.500000", 1, 2),  # FFmpeg wrote 1 (it rounded 1.4999... half to even)
        ("4.004000", 4, 4),
        ("0.600000", 1, 1),
        ("2.499000", 2, 2),
    ],
)
def test_the_target_duration_covers_every_rounded_segment_duration(
    durations: str, target: int, expected: int
) -> None:
    text = FFMPEG_PLAYLIST.replace("#EXT-X-TARGETDURATION:4", f"#EXT-X-TARGETDURATION:{target}")
    text = text.replace("4.000000", durations).replace("1.520000", durations)

    fixed, playlist = conform_target_duration(text, parse_media_playlist(text))

    assert playlist.target_duration == expected
    assert f"#EXT-X-TARGETDURATION:{expected}\n" in fixed
    assert parse_media_playlist(fixed) == playlist


# --- a grouped job: one decode, every rendition as its own output ------------------------


def grouped_job() -> TranscodeJob:
    single = video_job(interlaced=True)
    return single.model_copy(
        update={
            "output_prefix": "v1/hls/",
            "group": [
                video_job(name="360p", width=640, height=360).rendition,
                audio_job(audio_stream=1).rendition,
            ],
            "source": SourceHints(interlaced=True, audio_stream=1),
        }
    )


def outputs_of(command: list[str]) -> list[str]:
    return command[command.index("-i") + 2 :]


def test_a_single_job_command_is_the_per_job_command() -> None:
    job = video_job()
    assert build_job_command(job, URL, OUT) == build_ffmpeg_command(job, URL, OUT)


def test_a_grouped_job_reads_the_source_once_and_splits_the_decoded_video() -> None:
    job = grouped_job()
    members = job.members()
    command = build_job_command(job, URL, OUT, ffmpeg="/opt/ffmpeg")
    own = [build_ffmpeg_command(m, URL, OUT / m.name, ffmpeg="/opt/ffmpeg") for m in members]

    assert command.count("-i") == 1 and command[0] == "/opt/ffmpeg"
    at = command.index("-i")
    assert command[:at] == own[0][: own[0].index("-i")]  # global and HTTP input options
    assert command[at + 1] == URL
    graph = command[command.index("-filter_complex") + 1].split(";")
    chains = [option(outputs_of(c), "-vf") for c in own[:2]]
    assert graph == [
        "[0:V:0]split=2[s0][s1]",
        f"[s0]{chains[0]}[v0]",
        f"[s1]{chains[1]}[v1]",
    ]
    assert "yadif" in chains[0] or "bwdif" in chains[0]  # the hints reach every member


def test_each_grouped_rendition_gets_its_single_jobs_output_arguments() -> None:
    job = grouped_job()
    members = job.members()
    command = build_job_command(job, URL, OUT)
    expected: list[str] = []
    for index, member in enumerate(members):
        after = outputs_of(build_ffmpeg_command(member, URL, OUT / member.name))
        if member.rendition.kind == "video":
            at = after.index("-vf")
            del after[at : at + 2]
            after[after.index("-map") + 1] = f"[v{index}]"
        expected += after

    assert outputs_of(command)[2:] == expected  # after -filter_complex GRAPH
    playlists = [a for a in command if a.endswith("index.m3u8")]
    assert playlists == [str(OUT / name / "index.m3u8") for name in ("720p", "360p", "audio")]
    maps = [command[i + 1] for i, arg in enumerate(command) if arg == "-map"]
    assert maps == ["[v0]", "[v1]", own_audio_map()]


def own_audio_map() -> str:
    after = outputs_of(build_ffmpeg_command(audio_job(audio_stream=1), URL, OUT))
    return after[after.index("-map") + 1]


def test_the_single_decode_builder_refuses_what_one_decode_cannot_do() -> None:
    with pytest.raises(ValueError, match="no jobs"):
        build_single_decode_command([], URL, [])
    with pytest.raises(ValueError, match="a group"):
        build_single_decode_command([grouped_job()], URL, [OUT])
    with pytest.raises(ValueError, match="output directories"):
        build_single_decode_command([video_job()], URL, [])
    first, second = (
        video_job(
            chunk={
                "index": i,
                "count": 2,
                "start_seconds": 8.0 * i,
                "duration_seconds": 8.0,
                "first_segment_number": 2 * i,
            }
        )
        for i in (0, 1)
    )
    with pytest.raises(ValueError, match="another chunk"):
        build_single_decode_command([first, second], URL, [OUT / "a", OUT / "b"])


def test_a_grouped_audio_rendition_keeps_its_own_filter_as_its_single_job_does() -> None:
    job = grouped_job()
    audio = job.members()[-1]
    command = build_job_command(job, URL, OUT, audio_filters={audio.name: "loudnorm=I=-16"})

    assert option(command, "-af") == "loudnorm=I=-16"  # an output option, not in the graph
    assert "loudnorm" not in option(command, "-filter_complex")
    own = outputs_of(
        build_ffmpeg_command(audio, URL, OUT / audio.name, audio_filter="loudnorm=I=-16")
    )
    assert outputs_of(command)[-len(own) :] == own


@pytest.mark.parametrize(("code", "error"), [(1, MediaError), (-9, JobFailedError)])
def test_ffmpeg_refusing_the_input_is_told_apart_from_being_killed(
    code: int, error: type[JobFailedError]
) -> None:
    raised = failure(code, "ffmpeg exited", ["[error] moov atom not found"])

    assert type(raised) is error
    assert raised.stderr_tail == ["[error] moov atom not found"]
