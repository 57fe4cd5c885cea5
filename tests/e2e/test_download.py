"""The MP4 download end to end on the offline stack: one processed 3 s clip, its signed
`playback.downloadUrl` fetched from the CDN emulator, the file checked as a player would."""

from __future__ import annotations

import json
import struct
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from local.client import ApiClient
from local.stack import OfflineStack
from tests.support.media import make_clip

FPS = 25
TITLE = "Été à Paris: day/night"


@pytest.fixture(scope="module")
def downloaded(
    offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, Any], Any]:
    """The source, the downloaded MP4, the video and the download's response headers."""
    folder = tmp_path_factory.mktemp("download")
    source = make_clip(folder / "source.mp4", width=640, height=360, seconds=3.0, fps=FPS)
    client = ApiClient(offline_stack.api_url, offline_stack.token("dora"))
    created = client.create_video(source, TITLE, "video/mp4")
    client.upload(created["upload"], source)
    video = client.wait_until_done(created["video"]["id"], timeout_seconds=300)
    assert video["status"] == "COMPLETED", video.get("error")
    assert video["downloadStatus"] == "READY"
    url = video["playback"]["downloadUrl"]
    assert url, video["playback"]
    with urllib.request.urlopen(url, timeout=30) as response:
        target = folder / "download.mp4"
        target.write_bytes(response.read())
        return source, target, video, response.headers


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        assert size >= 8, f"a box of {size} bytes at {offset}"
        boxes.append(kind.decode("latin-1"))
        offset += size
    assert offset == len(data)
    return boxes


def probe_streams(path: Path) -> list[dict[str, Any]]:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,codec_name,width,height,duration,start_time,nb_frames",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(completed.stdout)["streams"]
    return streams


def first_packet_time(path: Path, stream: str) -> float:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-read_intervals", "%+#1",
         "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(completed.stdout.split()[0].rstrip(","))


def test_the_download_is_a_faststart_mp4_whose_both_streams_decode(
    downloaded: tuple[Path, Path, dict[str, Any], Any],
) -> None:
    _, target, video, _ = downloaded
    # moov (the index) before mdat: a player starts before the whole file has arrived
    boxes = top_level_boxes(target)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert "moof" not in boxes  # progressive, not fragmented
    # Both streams decode without an error
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(target), "-map", "0", "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert decoded.returncode == 0 and decoded.stderr == "", decoded.stderr
    streams = {s["codec_type"]: s for s in probe_streams(target)}
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    # The top rung (the clip is 360p), remuxed as it is
    top = max((r for r in video["renditions"] if r["kind"] == "video"), key=lambda r: r["height"])
    assert (streams["video"]["width"], streams["video"]["height"]) == (top["width"], top["height"])


def test_the_download_lasts_as_long_as_the_source_and_starts_at_zero(
    downloaded: tuple[Path, Path, dict[str, Any], Any],
) -> None:
    source, target, _, _ = downloaded
    source_video = next(s for s in probe_streams(source) if s["codec_type"] == "video")
    streams = {s["codec_type"]: s for s in probe_streams(target)}
    frame = 1 / FPS
    assert abs(float(streams["video"]["duration"]) - float(source_video["duration"])) <= 2 * frame
    assert int(streams["video"]["nb_frames"]) == int(source_video["nb_frames"])
    # Audio and video start together: the AAC priming (1024 samples at 48 kHz) stays before
    # 0, as in the HLS renditions, and the edit list trims it
    assert abs(float(streams["video"]["start_time"])) < 0.001
    assert abs(float(streams["audio"]["start_time"])) < 0.001
    assert abs(first_packet_time(target, "a") + 1024 / 48000) < 0.001


def test_the_signed_response_names_the_file_after_the_title(
    downloaded: tuple[Path, Path, dict[str, Any], Any],
) -> None:
    _, _, _, headers = downloaded
    assert headers["Content-Type"] == "video/mp4"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Ete a Paris_ day_night.mp4"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "Été à Paris_ day_night.mp4"


def test_the_download_is_refused_without_its_signature_or_with_another_folders(
    downloaded: tuple[Path, Path, dict[str, Any], Any],
) -> None:
    _, _, video, _ = downloaded
    url = video["playback"]["downloadUrl"]
    unsigned = url.split("?", 1)[0]
    with_hls_query = f"{unsigned}?{video['playback']['signedQuery']}"
    for refused in (unsigned, with_hls_query):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(refused, timeout=10)
        assert error.value.code == 403


def test_the_download_is_made_once_the_video_is_completed_and_the_log_says_so(
    downloaded: tuple[Path, Path, dict[str, Any], Any],
) -> None:
    _, _, video, _ = downloaded
    log = video["processingLog"]
    (finalise,) = [e for e in log if e["stage"] == "finalise"]
    (download,) = [e for e in log if e["stage"] == "download"]
    assert finalise["outcome"] == download["outcome"] == "SUCCEEDED"
    assert finalise["message"].endswith("; MP4 download next")
    assert download["message"] == "MP4 download made"
    # The video was COMPLETED (and played) before its download was made.
    assert video["processedAt"] <= finalise["endedAt"] <= download["startedAt"]
