"""The ladder's options end to end, on the session's offline stack with the AV1 ladder on:
one 5 s 656x280 clip (between the 240p and 360p rungs) gets a native 280p top rung, and an
AV1 rung beside each H.264 one. Checked with ffprobe, FFmpeg and the m3u8 package."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8
import pytest

from local.media import download_media
from local.stack import OfflineStack
from tests.e2e.checks import check_media_playlist
from tests.e2e.test_media_quality import upload_and_wait
from tests.support.media import keyframe_packet_times, make_clip, probe

MPD = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
H264_RUNGS = {"280p": (656, 280), "240p": (562, 240)}
AV1_RUNGS = {f"{name}-av1": size for name, size in H264_RUNGS.items()}


@dataclass(frozen=True)
class Processed:
    video: dict[str, Any]  # the API's record
    out: Path  # the media, downloaded

    @property
    def hls(self) -> Path:
        return self.out / "hls"

    def master(self) -> m3u8.M3U8:
        return m3u8.load(str(self.hls / "master.m3u8"))


@pytest.fixture(scope="module")
def processed(
    offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Processed]:
    """The clip through the stack once, with AV1_LADDER on; the stack's own setting after."""
    folder = tmp_path_factory.mktemp("ladder-options")
    clip = make_clip(folder / "between-rungs.mp4", width=656, height=280, seconds=5, fps=25)
    original = offline_stack.config.av1_ladder
    offline_stack.use_av1_ladder(True)
    try:
        video = upload_and_wait(offline_stack, clip, user="ladder-options")
    finally:
        offline_stack.use_av1_ladder(original)
    assert video["status"] == "COMPLETED", video.get("error")
    out = folder / "out"
    download_media(
        offline_stack.client("s3"), offline_stack.config.names.media_bucket, video["id"], out
    )
    yield Processed(video, out)
    offline_stack.wait_for_executions(timeout_seconds=120)


def video_stream(path: Path) -> dict[str, Any]:
    (stream,) = [s for s in probe(path)["streams"] if s["codec_type"] == "video"]
    return dict(stream)


def test_a_source_between_rungs_gets_a_native_top_rung_in_the_master(
    processed: Processed,
) -> None:
    master = processed.master()

    h264 = [p for p in master.playlists if p.stream_info.codecs.startswith("avc1.")]
    assert [(p.uri.split("/")[0], p.stream_info.resolution) for p in h264] == list(
        H264_RUNGS.items()
    )
    # The outputs really are that size: the 280-line rung at the source's own 656x280
    for rung, size in {**H264_RUNGS, **AV1_RUNGS}.items():
        stream = video_stream(processed.hls / rung / "init.mp4")
        assert (stream["width"], stream["height"]) == size, rung
    names = {r["name"] for r in processed.video["renditions"]}
    assert names == {*H264_RUNGS, *AV1_RUNGS, "audio"}


def test_the_av1_rungs_decode_after_h264_in_the_master_with_av01_codecs(
    processed: Processed,
) -> None:
    master = processed.master()

    families = [p.stream_info.codecs.split(".")[0] for p in master.playlists]
    assert families == ["avc1", "avc1", "av01", "av01"]  # H.264 first: every player starts
    for variant in master.playlists[2:]:
        folder = (processed.hls / variant.uri).parent
        stream = video_stream(folder / "init.mp4")
        assert stream["codec_name"] == "av1"
        codecs = variant.stream_info.codecs.split(",")
        assert codecs == [f"av01.0.{int(stream['level']):02d}M.08", "mp4a.40.2"]
        check_media_playlist(processed.hls / variant.uri)  # first and last segments decode
        # and the whole rung decodes, every frame, without an error
        subprocess.run(
            ["ffmpeg", "-v", "error", "-xerror", "-i", str(processed.hls / variant.uri),
             "-f", "null", "-"],
            check=True, capture_output=True,
        )  # fmt: skip


def test_the_av1_rungs_have_keyframes_at_the_h264_rungs_instants(processed: Processed) -> None:
    keyframes = {
        rung: keyframe_packet_times(processed.hls / rung / "index.m3u8")
        for rung in (*H264_RUNGS, *AV1_RUNGS)
    }

    assert keyframes["280p"] == [10.0, 12.0, 14.0]  # 2 s GOPs from the common media start
    assert all(times == keyframes["280p"] for times in keyframes.values()), keyframes


def test_the_dash_manifest_has_an_av1_adaptation_set_and_plays(processed: Processed) -> None:
    manifest = processed.out / "dash" / "manifest.mpd"

    sets = ET.parse(manifest).getroot().findall(".//mpd:AdaptationSet", MPD)

    video_sets = [
        sorted(r.get("id", "") for r in s.findall("mpd:Representation", MPD))
        for s in sets
        if s.get("contentType") == "video"
    ]
    assert video_sets == [sorted(H264_RUNGS), sorted(AV1_RUNGS)]
    streams = probe(manifest)["streams"]
    assert sorted(s["codec_name"] for s in streams) == ["aac", "av1", "av1", "h264", "h264"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(manifest), "-map", "0", "-f", "null", "-"],
        check=True,
        capture_output=True,
    )
