"""What viewers get, on the offline stack, from the sources real uploads bring: rotated,
portrait, ultra-wide, silent, HDR 10-bit, variable frame rate, one second, above 60 fps.

Every claim is checked with a parser or decoder that is not ours: the m3u8 package for
the playlists, xml.etree for the DASH manifest (and FFmpeg's DASH demuxer playing it),
ffprobe for sizes, frame rates, keyframes and colour, FFmpeg for decoding segments.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import m3u8
import pytest

from local.client import ApiClient
from local.media import download_media
from local.stack import OfflineStack
from tests.e2e.checks import check_media_playlist, rung_keyframes
from tests.support.media import (
    make_audio_only,
    make_clip,
    make_undecodable,
    probe,
    read_storyboard,
)

MPD = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
_NUMBER = re.compile(r"\$Number(?:%0(\d+)d)?\$")


@dataclass(frozen=True)
class Source:
    clip: dict[str, Any]  # make_clip's arguments
    rungs: dict[str, tuple[int, int]]  # the ladder it must get: name -> (width, height)
    frame_rates: dict[str, float] = field(default_factory=dict)  # rungs to check, if any
    audio: bool = True


SOURCES = {
    "landscape": Source(
        {"width": 640, "height": 360, "seconds": 3},
        {"360p": (640, 360), "240p": (426, 240)},
        {"360p": 25, "240p": 25},
    ),
    "rotated": Source(
        {"width": 640, "height": 360, "seconds": 2, "rotate": 90},
        {"360p": (360, 640), "240p": (240, 426)},
    ),
    "portrait": Source(
        {"width": 360, "height": 640, "seconds": 2}, {"360p": (360, 640), "240p": (240, 426)}
    ),
    "ultrawide": Source(
        {"width": 840, "height": 360, "seconds": 2}, {"360p": (840, 360), "240p": (560, 240)}
    ),
    "no-audio": Source(
        {"width": 360, "height": 360, "seconds": 2, "audio": False},
        {"360p": (360, 360), "240p": (240, 240)},
        audio=False,
    ),
    "hdr-10bit": Source(
        {"width": 640, "height": 360, "seconds": 2, "hdr": "hlg"},
        {"360p": (640, 360), "240p": (426, 240)},
    ),
    "vfr": Source(
        {"width": 640, "height": 360, "seconds": 2, "fps": 30, "variable_frame_rate": True},
        {"360p": (640, 360), "240p": (426, 240)},
        {"360p": 24, "240p": 24},
    ),
    "one-second": Source({"width": 320, "height": 180, "seconds": 1}, {"180p": (320, 180)}),
    "above-60fps": Source(
        {"width": 854, "height": 480, "seconds": 1.5, "fps": 120},
        {"480p": (854, 480), "360p": (640, 360), "240p": (428, 240)},  # 427 -> even
        {"480p": 60, "360p": 30, "240p": 30},  # halved; the small rungs at most 30
    ),
}
QUICK = {"landscape", "rotated"}  # the rest run in `make test`, not in `make test-fast`
CASES = [
    pytest.param(name, id=name, marks=() if name in QUICK else pytest.mark.slow) for name in SOURCES
]


@dataclass
class Processed:
    source: Source
    clip: Path
    video: dict[str, Any]  # the API's record
    item: dict[str, Any]  # the table's item, as DynamoDB returns it
    out: Path  # the media, downloaded

    @property
    def hls(self) -> Path:
        return self.out / "hls"

    def master(self) -> m3u8.M3U8:
        return m3u8.load(str(self.hls / "master.m3u8"))


def upload_and_wait(stack: OfflineStack, clip: Path, user: str = "media-quality") -> Any:
    client = ApiClient(stack.api_url, stack.token(user))
    created = client.create_video(clip, clip.stem, "video/mp4")
    video_id = created["video"]["id"]
    client.upload(created["upload"], clip)
    return client.wait_until_done(video_id, timeout_seconds=300)


@pytest.fixture(scope="module")
def processed(
    offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Processed]]:
    """Each source goes through the stack once, on first use, and is then shared."""
    done: dict[str, Processed] = {}
    folder = tmp_path_factory.mktemp("media-quality")

    def get(name: str) -> Processed:
        if name not in done:
            source = SOURCES[name]
            clip = make_clip(folder / f"{name}.mp4", **source.clip)
            video = upload_and_wait(offline_stack, clip)
            assert video["status"] == "COMPLETED", video.get("error")
            item = offline_stack.client("dynamodb").get_item(
                TableName=offline_stack.config.names.table,
                Key={"pk": {"S": video["id"]}, "sk": {"S": "VIDEO"}},
                ConsistentRead=True,
            )["Item"]
            out = folder / f"{name}-out"
            download_media(
                offline_stack.client("s3"),
                offline_stack.config.names.media_bucket,
                video["id"],
                out,
            )
            done[name] = Processed(source, clip, video, item, out)
        return done[name]

    yield get
    offline_stack.wait_for_executions(timeout_seconds=120)


def video_stream(path: Path) -> dict[str, Any]:
    streams = [s for s in probe(path)["streams"] if s["codec_type"] == "video"]
    assert len(streams) == 1
    return dict(streams[0])


def joined(folder: Path, playlist: m3u8.M3U8, segment: str) -> Path:
    target = folder / f"joined-{segment}.mp4"
    target.write_bytes(
        (folder / playlist.segment_map[0].uri).read_bytes() + (folder / segment).read_bytes()
    )
    return target


def measured_bitrates(playlist_path: Path) -> tuple[float, float]:
    """(peak, average) in bits per second, from the files' sizes and the EXTINF durations."""
    playlist = m3u8.load(str(playlist_path))
    sized = [
        ((playlist_path.parent / s.uri).stat().st_size * 8, s.duration) for s in playlist.segments
    ]
    peak = max(bits / seconds for bits, seconds in sized)
    average = sum(bits for bits, _ in sized) / sum(seconds for _, seconds in sized)
    return peak, average


# --- every source -----------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_the_ladder_fits_the_source_shape_upright(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)

    master = done.master()

    sizes = {p.uri.split("/")[0]: p.stream_info.resolution for p in master.playlists}
    assert sizes == done.source.rungs
    for rung, size in done.source.rungs.items():
        stream = video_stream(done.hls / rung / "init.mp4")
        assert (stream["width"], stream["height"]) == size
    names = {r["name"] for r in done.video["renditions"]}
    assert names == set(done.source.rungs) | ({"audio"} if done.source.audio else set())


@pytest.mark.parametrize("name", CASES)
def test_every_playlist_parses_and_its_segments_decode(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    master = done.master()

    assert master.is_variant and master.is_independent_segments
    playlists = [done.hls / p.uri for p in master.playlists]
    if done.source.audio:
        (audio,) = master.media
        assert (audio.type, audio.default) == ("AUDIO", "YES")
        playlists.append(done.hls / audio.uri)
    else:
        assert not master.media
        assert all(p.stream_info.audio is None for p in master.playlists)
    for path in playlists:
        playlist = check_media_playlist(path)  # VOD, ENDLIST, EXT-X-MAP; first, last decode
        assert all(round(s.duration) <= playlist.target_duration for s in playlist.segments)


@pytest.mark.parametrize("name", CASES)
def test_keyframes_sit_at_the_same_times_in_every_rung(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)

    keyframes = {rung: rung_keyframes(done.hls / rung / "index.m3u8") for rung in done.source.rungs}

    first = next(iter(keyframes.values()))
    assert first and first[0] == pytest.approx(10.0)  # the transcoder's common media start
    assert all(times == first for times in keyframes.values()), keyframes


@pytest.mark.parametrize("name", CASES)
def test_the_master_declares_what_was_measured(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    master = done.master()
    audio_peak, audio_average = (
        measured_bitrates(done.hls / master.media[0].uri) if done.source.audio else (0.0, 0.0)
    )

    for variant in master.playlists:
        info = variant.stream_info
        peak, average = measured_bitrates(done.hls / variant.uri)
        # BANDWIDTH: at least the busiest segment of the rung plus the busiest of the audio
        assert peak + audio_peak <= info.bandwidth + 1
        assert info.average_bandwidth == pytest.approx(average + audio_average, rel=0.01)
        playlist = m3u8.load(str(done.hls / variant.uri))
        folder = (done.hls / variant.uri).parent
        stream = video_stream(joined(folder, playlist, playlist.segments[0].uri))
        codecs = info.codecs.split(",")
        assert codecs[0] == f"avc1.6400{stream['level']:02x}" and stream["profile"] == "High"
        assert codecs[1:] == (["mp4a.40.2"] if done.source.audio else [])
        frame_rate = float(Fraction(stream["avg_frame_rate"]))
        assert info.frame_rate == pytest.approx(frame_rate, abs=0.001)
        rung = variant.uri.split("/")[0]
        if rung in done.source.frame_rates:
            assert frame_rate == pytest.approx(done.source.frame_rates[rung], abs=0.01)


@pytest.mark.parametrize("name", CASES)
def test_the_dash_manifest_describes_the_same_segments_and_plays(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    manifest = done.out / "dash" / "manifest.mpd"

    mpd = ET.parse(manifest).getroot()

    assert mpd.get("type") == "static"
    representations = mpd.findall(".//mpd:Representation", MPD)
    assert {r.get("id") for r in representations} == set(done.source.rungs) | (
        {"audio"} if done.source.audio else set()
    )
    for representation in representations:
        base = representation.findtext("mpd:BaseURL", namespaces=MPD)
        template = representation.find("mpd:SegmentTemplate", MPD)
        assert base and template is not None
        assert template.get("presentationTimeOffset") == str(10 * int(template.get("timescale", 0)))
        folder = (manifest.parent / base).resolve()
        assert (folder / template.get("initialization", "")).is_file()
        count = sum(1 + int(s.get("r", 0)) for s in template.findall(".//mpd:S", MPD))
        first = int(template.get("startNumber", 1))
        media = template.get("media", "")
        named = [
            _NUMBER.sub(lambda m, n=n: f"{n:0{int(m.group(1) or 1)}d}", media)
            for n in range(first, first + count)
        ]
        hls = m3u8.load(str(folder / "index.m3u8"))
        assert named == [s.uri for s in hls.segments]  # the very files HLS lists
        assert all((folder / file).is_file() for file in named)
    # FFmpeg's own DASH demuxer reads the manifest and decodes every stream to the end.
    subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(manifest), "-map", "0", "-f", "null", "-"],
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("name", CASES)
def test_the_storyboard_covers_the_whole_video_and_the_poster_is_there(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    thumbs = done.out / "thumbs"
    sprite = video_stream(thumbs / "storyboard.jpg")

    cues = read_storyboard(thumbs / "storyboard.vtt")

    assert cues[0][0] == 0.0
    assert all(a[1] == b[0] for a, b in pairwise(cues))
    assert cues[-1][1] >= float(done.item["duration_seconds"]["N"]) - 0.05
    for _, _, image, (x, y, w, h) in cues:
        assert image == "storyboard.jpg"
        assert x + w <= sprite["width"] and y + h <= sprite["height"]
    poster = video_stream(thumbs / "poster.jpg")
    width, height = next(iter(done.source.rungs.values()))
    assert poster["width"] / poster["height"] == pytest.approx(width / height, rel=0.02)


@pytest.mark.parametrize("name", CASES)
def test_the_record_points_at_the_manifest_thumbnails_and_quality(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    item = done.item
    video_id = done.video["id"]

    assert item["dash_manifest_key"]["S"] == f"{video_id}/dash/manifest.mpd"
    thumbnails = item["thumbnails"]["M"]
    assert thumbnails["poster_key"]["S"] == f"{video_id}/thumbs/poster.jpg"
    assert thumbnails["storyboard_vtt_key"]["S"] == f"{video_id}/thumbs/storyboard.vtt"
    assert len(thumbnails["preview_keys"]["L"]) == 4
    for rendition in item["renditions"]["L"]:
        fields = rendition["M"]
        if fields["kind"]["S"] == "video":
            assert 0.8 < float(fields["ssim"]["N"]) <= 1.0, fields["name"]


# --- what only some sources need ---------------------------------------------------------


def frame_count(path: Path) -> int:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # an HLS playlist lists its stream once per program too: the first count is the stream's
    return int(completed.stdout.split()[0].rstrip(","))


@pytest.mark.parametrize("name", CASES)
def test_the_download_is_the_top_rung_with_its_audio_and_plays(
    processed: Callable[[str], Processed], name: str
) -> None:
    done = processed(name)
    download = done.out / "download" / "video.mp4"
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", "-i", str(download), "-map", "0", "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert decoded.returncode == 0 and decoded.stderr == "", decoded.stderr
    streams = probe(download)["streams"]
    assert sorted(s["codec_type"] for s in streams) == (
        ["audio", "video"] if done.source.audio else ["video"]
    )
    # The top rung (every source here is at most 1080p), every one of its frames, upright
    top = max(done.source.rungs, key=lambda rung: min(done.source.rungs[rung]))
    stream = video_stream(download)
    assert (stream["width"], stream["height"]) == done.source.rungs[top]
    assert frame_count(download) == frame_count(done.hls / top / "index.m3u8")


@pytest.mark.slow
def test_hdr_10_bit_comes_out_8_bit_sdr_bt709(processed: Callable[[str], Processed]) -> None:
    done = processed("hdr-10bit")
    assert video_stream(done.clip)["pix_fmt"] == "yuv420p10le"

    for rung in done.source.rungs:
        playlist = m3u8.load(str(done.hls / rung / "index.m3u8"))
        stream = video_stream(joined(done.hls / rung, playlist, playlist.segments[0].uri))
        assert (stream["pix_fmt"], stream["color_transfer"], stream["color_primaries"]) == (
            "yuv420p",
            "bt709",
            "bt709",
        )


@pytest.mark.slow
def test_variable_frame_rate_comes_out_constant(processed: Callable[[str], Processed]) -> None:
    done = processed("vfr")
    playlist = m3u8.load(str(done.hls / "360p" / "index.m3u8"))
    whole = joined(done.hls / "360p", playlist, playlist.segments[0].uri)

    durations = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=duration_time", "-of", "csv=p=0", str(whole)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip

    assert {round(float(d.strip(",")), 4) for d in durations} == {round(1 / 24, 4)}


def test_an_audio_only_upload_fails_saying_so(offline_stack: OfflineStack, tmp_path: Path) -> None:
    video = upload_and_wait(offline_stack, make_audio_only(tmp_path / "podcast.mp4"))

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "NO_VIDEO_STREAM"
    assert "audio only" in video["error"]["message"]


def test_an_undecodable_upload_fails_saying_so(offline_stack: OfflineStack, tmp_path: Path) -> None:
    video = upload_and_wait(offline_stack, make_undecodable(tmp_path / "broken.mp4"))

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "UNUSABLE_VIDEO"
    assert "could not be decoded" in video["error"]["message"]
    assert "h264" in video["error"]["message"]
