"""The MP4 download's plan: which rung, its file name, FFmpeg's arguments."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from lambdas.pipeline.contract import JobResult
from lambdas.pipeline.download import (
    content_disposition,
    download_key_for,
    pick_audio,
    pick_video,
    remux_command,
)


def result(name: str, width: int, height: int, codecs: str = "avc1.64001f") -> JobResult:
    fields: dict[str, Any] = {
        "video_id": "vid",
        "name": name,
        "kind": "video",
        "playlist_key": f"vid/hls/{name}/index.m3u8",
        "init_key": f"vid/hls/{name}/init.mp4",
        "segment_keys": [f"vid/hls/{name}/seg_00000.m4s"],
        "segment_durations": [4.0],
        "codecs": codecs,
        "duration_seconds": 4.0,
        "start_seconds": 10.0,
        "target_duration": 4,
        "average_bitrate_bps": 1_000_000,
        "peak_bitrate_bps": 1_200_000,
        "output_bytes": 1000,
        "encode_wall_seconds": 1.0,
        "encode_cpu_seconds": 1.0,
        "peak_memory_bytes": 1,
        "width": width,
        "height": height,
        "frame_rate": 25.0,
    }
    return JobResult(**fields)


AUDIO = result("audio", 1, 1).model_copy(
    update={"kind": "audio", "codecs": "mp4a.40.2", "width": None, "height": None}
)
LANDSCAPE = [
    result("1440p", 2560, 1440),
    result("1080p", 1920, 1080),
    result("720p", 1280, 720),
    result("1080p-hevc", 1920, 1080, "hvc1.1.6.L120.90"),
    AUDIO,
]


def disposition_params(header: str) -> dict[str, str]:
    """The parameters as a browser reads them (RFC 6266: quoted-string or token)."""
    return {
        name: value.strip('"')
        for name, value in re.findall(r';\s*([\w*]+)=("[^"]*"|[^;]*)', header)
    }


def test_the_download_is_the_largest_h264_rung_up_to_the_limit() -> None:
    assert pick_video(LANDSCAPE, 1080).name == "1080p"  # type: ignore[union-attr]
    assert pick_video(LANDSCAPE, 1000).name == "720p"  # type: ignore[union-attr]
    assert pick_video(LANDSCAPE, 2160).name == "1440p"  # type: ignore[union-attr]
    assert pick_audio(LANDSCAPE) is AUDIO


def test_a_portrait_rung_is_chosen_by_its_short_side_like_its_name() -> None:
    portrait = [result("1080p", 1080, 1920), result("720p", 720, 1280)]
    assert pick_video(portrait, 1080).name == "1080p"  # type: ignore[union-attr]


def test_no_download_when_turned_off_or_no_rung_is_small_enough() -> None:
    assert pick_video(LANDSCAPE, 0) is None
    assert pick_video(LANDSCAPE, 480) is None
    assert pick_video([AUDIO], 1080) is None


def test_the_file_name_is_sanitised_ascii_with_the_utf8_title_beside_it() -> None:
    header = content_disposition('Café: été/2024 "final"\\cut')
    assert header.startswith("attachment; ")
    assert header.isascii()
    params = disposition_params(header)
    assert params["filename"] == "Cafe_ ete_2024 _final_cut.mp4"
    assert params["filename*"].startswith("UTF-8''")
    assert unquote(params["filename*"].removeprefix("UTF-8''")) == "Café_ été_2024 _final_cut.mp4"


@pytest.mark.parametrize("title", ["東京", "...", "  "])
def test_a_title_with_nothing_ascii_left_is_named_video(title: str) -> None:
    params = disposition_params(content_disposition(title))
    assert params["filename"] == "video.mp4"
    assert unquote(params["filename*"].removeprefix("UTF-8''")) in {f"{title}.mp4", "video.mp4"}


def test_a_long_title_is_cut_to_a_hundred_characters_before_the_extension() -> None:
    params = disposition_params(content_disposition("a" * 300))
    assert params["filename"] == "a" * 100 + ".mp4"


def test_the_remux_copies_both_streams_and_starts_the_video_at_zero() -> None:
    command = remux_command("ffmpeg", Path("/tmp/a.mp4"), Path("/tmp/out.mp4"), 10.0)
    assert command[command.index("-c") + 1] == "copy"
    assert command[command.index("-movflags") + 1] == "+faststart"
    assert command[command.index("-output_ts_offset") + 1] == "-10.000000"
    assert "-copyts" in command  # one offset for both inputs keeps them in sync
    assert [command[i + 1] for i, arg in enumerate(command) if arg == "-i"] == [
        "pipe:0",
        "/tmp/a.mp4",
    ]
    assert [command[i + 1] for i, arg in enumerate(command) if arg == "-map"] == [
        "0:v:0",
        "1:a:0",
    ]


def test_a_video_without_audio_remuxes_the_video_alone() -> None:
    command = remux_command("ffmpeg", None, Path("/tmp/out.mp4"), 10.0)
    assert [command[i + 1] for i, arg in enumerate(command) if arg == "-map"] == ["0:v:0"]


def test_the_download_lives_in_its_own_signed_folder() -> None:
    assert download_key_for("vid") == "vid/download/video.mp4"
