"""Hostile uploads against the real probe code and the real transcoder command, with real
ffprobe/FFmpeg reading from moto over HTTP: each playlist, list, pattern or subtitle file
is refused as NOT_A_VIDEO naming what it is, and the loopback server it points at counts
zero requests; a header claiming ten hours is planned at the seconds its data holds."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lambdas.core.settings import Settings
from lambdas.pipeline.errors import NotAVideo, SourceTimeout
from lambdas.pipeline.probe import (
    DECODE_CHECK_PACKETS,
    DECODE_FIRST_PACKETS,
    SNIFF_BYTES,
    ffprobe_command,
    read_source,
    run_ffprobe,
)
from lambdas.pipeline.source import SourceInfo
from tests.integration.conftest import Buckets
from tests.support.hostile import (
    REFUSED,
    CountingServer,
    counting_server,
    huge_declared_duration,
    stalling_server,
)
from tests.support.media import make_clip
from transcoder.command import build_ffmpeg_command
from transcoder.contract import TranscodeJob

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Probe = Callable[[Path], SourceInfo]


@pytest.fixture
def remote() -> Iterator[CountingServer]:
    with counting_server() as server:
        yield server


@pytest.fixture
def uploaded_url(s3: S3Client, make_buckets: Callable[[], Buckets]) -> Callable[[Path], str]:
    """Stores a file as a video's source in moto; returns the presigned URL the probe uses."""
    buckets = make_buckets()

    def upload(path: Path) -> str:
        key = f"{uuid.uuid4().hex}/source"
        s3.put_object(Bucket=buckets.uploads, Key=key, Body=path.read_bytes())
        return s3.generate_presigned_url(
            "get_object", Params={"Bucket": buckets.uploads, "Key": key}, ExpiresIn=300
        )

    return upload


@pytest.fixture
def probe(uploaded_url: Callable[[Path], str]) -> Probe:
    """The probe's own reading of an uploaded file (ffprobe over HTTP, the decode check, the
    duration check, the first bytes when ffprobe refuses it)."""
    settings = Settings(videos_table_name="t", uploads_bucket="u", media_bucket="m")

    def run(path: Path) -> SourceInfo:
        url = uploaded_url(path)
        return read_source(
            url, path.stat().st_size, settings, head=lambda: path.read_bytes()[:SNIFF_BYTES]
        )

    return run


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_probe_refuses_each_hostile_file_naming_it_and_fetches_nothing(
    probe: Probe, remote: CountingServer, tmp_path: Path, case: str
) -> None:
    hostile = REFUSED[case]
    path = hostile.make(tmp_path / hostile.file_name, remote.url)

    with pytest.raises(NotAVideo) as refused:
        probe(path)

    assert str(refused.value).startswith(f"The uploaded file is {hostile.named}, not a video.")
    assert remote.requests == []


def video_job() -> TranscodeJob:
    return TranscodeJob.model_validate(
        {
            "video_id": "v",
            "source_key": "v/source",
            "source_version": "1",
            "output_prefix": "v/hls/360p/",
            "rendition": {"kind": "video", "name": "360p", "width": 640, "height": 360,
                          "frame_rate": 25, "max_bitrate_kbps": 730, "crf": 22,
                          "preset": "ultrafast"},
        }
    )  # fmt: skip


@pytest.mark.parametrize("where", ["presigned URL", "local path"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_the_transcoder_command_opens_nothing_but_the_source(
    uploaded_url: Callable[[Path], str],
    remote: CountingServer,
    tmp_path: Path,
    case: str,
    where: str,
) -> None:
    hostile = REFUSED[case]
    path = hostile.make(tmp_path / hostile.file_name, remote.url)
    source = uploaded_url(path) if where == "presigned URL" else str(path)
    (tmp_path / "out").mkdir()

    command = build_ffmpeg_command(video_job(), source, tmp_path / "out")
    ran = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    assert ran.returncode != 0
    # refused by the demuxer list, or (a list without its header) taken for no format at all
    assert "Format not on whitelist" in ran.stderr or "Invalid data found" in ran.stderr
    assert remote.requests == []
    assert not list((tmp_path / "out").iterdir())


def test_without_the_allow_lists_ffprobe_would_fetch_what_a_playlist_names(
    uploaded_url: Callable[[Path], str], remote: CountingServer, tmp_path: Path
) -> None:
    # The control: proves the server counts, and that the refusals above are the lists' doing.
    path = REFUSED["HLS media playlist"].make(tmp_path / "playlist.mp4", remote.url)

    subprocess.run(
        ["ffprobe", "-v", "error", uploaded_url(path)], capture_output=True, timeout=60, check=False
    )

    assert remote.requests == ["GET /segment.ts"]


def test_a_header_claiming_ten_hours_is_planned_at_the_seconds_its_data_holds(
    probe: Probe, uploaded_url: Callable[[Path], str], tmp_path: Path
) -> None:
    path = huge_declared_duration(tmp_path / "long.mp4")
    declared = run_ffprobe(ffprobe_command("ffprobe", str(path)), 30)["format"]["duration"]

    source = probe(path)

    assert float(declared) == 36_000
    assert source.duration_seconds == pytest.approx(3.0, abs=0.1)


def test_an_honest_clip_keeps_its_declared_duration(probe: Probe, tmp_path: Path) -> None:
    source = probe(make_clip(tmp_path / "clip.mkv", width=320, height=240, seconds=3.0))

    assert source.duration_seconds == pytest.approx(3.0, abs=0.05)


def test_a_file_cut_after_its_index_is_planned_at_what_decodes(
    probe: Probe, tmp_path: Path
) -> None:
    whole = make_clip(tmp_path / "whole.mp4", width=320, height=240, seconds=3.0)
    fast = tmp_path / "fast.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(whole), "-c", "copy",
         "-movflags", "+faststart", str(fast)],
        check=True,
    )  # fmt: skip
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: fast.stat().st_size * 6 // 10])

    source = probe(cut)

    assert 0.5 < source.duration_seconds < 2.9  # the index says 3 s; the bytes hold less


def test_a_source_slower_than_the_probes_limit_ends_source_timeout() -> None:
    settings = Settings(
        videos_table_name="t", uploads_bucket="u", media_bucket="m", ffprobe_timeout_seconds=1
    )

    with stalling_server() as url, pytest.raises(SourceTimeout, match="took longer than 1 s"):
        read_source(url, 1000, settings)


# --- the decode check decodes the first packets, and all of them only when needed ----------


def _recording_ffprobe(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings whose ffprobe is a wrapper that logs when each call starts and when it
    ends, by its -read_intervals."""
    log = tmp_path / "ffprobe-calls.log"
    wrapper = tmp_path / "ffprobe"
    wrapper.write_text(
        '#!/bin/sh\nprev=""\nfor a in "$@"; do\n'
        '  [ "$prev" = "-read_intervals" ] && intervals="$a"\n  prev="$a"\ndone\n'
        f'echo "start $intervals" >> "{log}"\nffprobe "$@"\ncode=$?\n'
        f'echo "end $intervals" >> "{log}"\nexit $code\n'
    )
    wrapper.chmod(0o755)
    log.write_text("")
    settings = Settings(
        videos_table_name="t", uploads_bucket="u", media_bucket="m", ffprobe_binary=str(wrapper)
    )
    return settings, log


def _decode_checks(log: Path) -> list[str]:
    return [line.split()[1] for line in log.read_text().splitlines() if line.startswith("start %")]


def test_an_honest_clip_is_decode_checked_on_its_first_packets_only(
    uploaded_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings, log = _recording_ffprobe(tmp_path)
    path = make_clip(tmp_path / "clip.mp4", width=320, height=240, seconds=3.0)

    source = read_source(uploaded_url(path), path.stat().st_size, settings)

    assert source.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert _decode_checks(log) == [f"%+#{DECODE_FIRST_PACKETS}"]


def test_a_stream_cut_mid_gop_gets_the_whole_decode_check_and_passes_it(
    uploaded_url: Callable[[Path], str], tmp_path: Path
) -> None:
    # Given an MPEG-TS cut 30 % in: its first packets reference a picture it does not hold
    settings, log = _recording_ffprobe(tmp_path)
    whole = tmp_path / "whole.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=320x240:rate=25:duration=6", "-c:v", "libx264", "-g", "50", "-bf", "0",
         str(whole)],
        check=True,
    )  # fmt: skip
    data = whole.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[(len(data) // 188 * 3 // 10) * 188 :])  # on a TS packet boundary

    source = read_source(uploaded_url(cut), cut.stat().st_size, settings)

    # Then the first packets give no frame, and the whole check reaches the next keyframe
    assert source.duration_seconds > 3.0
    assert _decode_checks(log) == [f"%+#{DECODE_FIRST_PACKETS}", f"%+#{DECODE_CHECK_PACKETS}"]


def test_a_duration_not_confirmed_falls_back_to_the_whole_decode_checks_frames(
    uploaded_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings, log = _recording_ffprobe(tmp_path)
    path = huge_declared_duration(tmp_path / "long.mp4")

    source = read_source(uploaded_url(path), path.stat().st_size, settings)

    assert source.duration_seconds == pytest.approx(3.0, abs=0.1)
    assert _decode_checks(log) == [f"%+#{DECODE_FIRST_PACKETS}", f"%+#{DECODE_CHECK_PACKETS}"]


def test_the_first_packets_decode_check_starts_before_the_metadata_call_ends(
    uploaded_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings, log = _recording_ffprobe(tmp_path)
    path = make_clip(tmp_path / "clip.mp4", width=320, height=240, seconds=3.0)

    read_source(uploaded_url(path), path.stat().st_size, settings)

    calls = log.read_text().splitlines()  # the metadata call has no -read_intervals
    end_check = next(line for line in calls if line.startswith("start ") and "%+#1500" in line)
    assert calls.index(f"start %+#{DECODE_FIRST_PACKETS}") < calls.index("end ")
    assert calls.index(end_check) > calls.index("end ")  # it seeks by the declared duration
