"""Every audio track of an upload, loudness-normalised, on the offline stack.

One 6 s clip with two audio streams goes through the stack once: an English track of a
loud tone (amplitude 0.9, marked default) and a French one of a quiet tone (0.02). The
checks use parsers and decoders that are not ours: m3u8 for the master playlist,
xml.etree for the DASH manifest, FFmpeg for decoding, and FFmpeg's `ebur128` filter run
here on the published audio for the loudness.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8
import pytest

from local.media import download_media
from local.stack import OfflineStack
from tests.e2e.checks import check_media_playlist
from tests.e2e.test_media_quality import upload_and_wait
from tests.support.media import make_clip

MPD = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
TARGET_LUFS = -16.0  # the offline stack's LOUDNESS_TARGET_LUFS (the default)
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+) LUFS", re.DOTALL)
_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+) dBFS", re.DOTALL)


@dataclass(frozen=True)
class Dubbed:
    video: dict[str, Any]  # the API's record
    out: Path  # the published media, downloaded

    def master(self) -> m3u8.M3U8:
        return m3u8.load(str(self.out / "hls" / "master.m3u8"))

    def audio(self, name: str) -> dict[str, Any]:
        return next(r for r in self.video["renditions"] if r["name"] == name)


@pytest.fixture(scope="module")
def dubbed(offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory) -> Dubbed:
    folder = tmp_path_factory.mktemp("audio-tracks")
    clip = make_clip(
        folder / "dubbed.mp4",
        width=320,
        height=180,
        seconds=6,
        audio_streams=2,
        audio_languages=("eng", "fra"),
        audio_volumes=(0.9, 0.02),
    )
    video = upload_and_wait(offline_stack, clip, user="audio-tracks")
    assert video["status"] == "COMPLETED", video.get("error")
    out = folder / "out"
    download_media(
        offline_stack.client("s3"), offline_stack.config.names.media_bucket, video["id"], out
    )
    return Dubbed(video, out)


def published_audio(folder: Path) -> Path:
    """The rendition's init segment and every segment, back to back: one playable file."""
    playlist = m3u8.load(str(folder / "index.m3u8"))
    joined = folder / "joined.mp4"
    parts = [playlist.segment_map[0].uri, *(segment.uri for segment in playlist.segments)]
    joined.write_bytes(b"".join((folder / part).read_bytes() for part in parts))
    return joined


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio, by FFmpeg's ebur128 filter."""
    log = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return float(_INTEGRATED.findall(log)[-1]), float(_TRUE_PEAK.findall(log)[-1])


def test_each_audio_track_is_its_own_rendition_in_the_master_playlist(dubbed: Dubbed) -> None:
    master = dubbed.master()

    media = {m.uri: m for m in master.media if m.type == "AUDIO"}
    assert set(media) == {"audio/index.m3u8", "audio-1/index.m3u8"}
    english, french = media["audio/index.m3u8"], media["audio-1/index.m3u8"]
    assert (english.language, english.name, english.default) == ("eng", "English", "YES")
    assert (french.language, french.name, french.default) == ("fra", "French", "NO")
    assert english.group_id == french.group_id
    assert all(p.stream_info.audio == english.group_id for p in master.playlists)
    for uri in media:
        check_media_playlist(dubbed.out / "hls" / uri)  # parses; first and last segments decode


def test_the_dash_manifest_has_one_audio_set_per_language_and_ffmpeg_plays_each(
    dubbed: Dubbed,
) -> None:
    mpd_path = dubbed.out / "dash" / "manifest.mpd"
    root = ET.parse(mpd_path).getroot()

    sets = root.findall(".//mpd:AdaptationSet[@contentType='audio']", MPD)
    roles = {s.get("lang"): s.find("mpd:Role", MPD) for s in sets}
    assert set(roles) == {"eng", "fra"}
    assert {lang: role.get("value") for lang, role in roles.items() if role is not None} == {
        "eng": "main",
        "fra": "alternate",
    }
    assert len({s.get("id") for s in root.findall(".//mpd:AdaptationSet", MPD)}) == len(
        root.findall(".//mpd:AdaptationSet", MPD)
    )
    # FFmpeg's DASH demuxer reads every representation, both audio sets too, to the end
    subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(mpd_path), "-map", "0", "-f", "null", "-"],
        check=True, capture_output=True,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["audio", "audio-1"], ids=["loud", "quiet"])
def test_a_loud_and_a_quiet_track_both_end_at_the_target_loudness(
    dubbed: Dubbed, name: str
) -> None:
    lufs, peak = ebur128(published_audio(dubbed.out / "hls" / name))

    assert lufs == pytest.approx(TARGET_LUFS, abs=1.0)
    assert peak <= -1.0 + 0.1  # the limit, within ebur128's reporting precision
    record = dubbed.audio(name)
    assert record["loudness"].startswith("normalised")
    assert record["loudnessLufs"] == pytest.approx(lufs, abs=0.2)
    assert record["truePeakDbtp"] == pytest.approx(peak, abs=0.2)
    assert record["language"] == ("eng" if name == "audio" else "fra")
