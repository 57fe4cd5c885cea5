"""The DASH manifest, read back with xml.etree (an independent parser of the XML)."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from lambdas.pipeline.contract import JobResult
from lambdas.pipeline.dash import (
    build_mpd,
    frame_rate_attribute,
    segment_template,
    segment_timeline,
)

NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
MPD_KEY = "vid/dash/manifest.mpd"


def result(name: str, kind: str, durations: list[float], **extra: Any) -> JobResult:
    fields: dict[str, Any] = {
        "video_id": "vid",
        "name": name,
        "kind": kind,
        "playlist_key": f"vid/hls/{name}/index.m3u8",
        "init_key": f"vid/hls/{name}/init.mp4",
        "segment_keys": [f"vid/hls/{name}/seg_{n:05d}.m4s" for n in range(len(durations))],
        "segment_durations": durations,
        "codecs": "avc1.64001f" if kind == "video" else "mp4a.40.2",
        "duration_seconds": sum(durations),
        "start_seconds": 10.0,
        "target_duration": 4,
        "average_bitrate_bps": 1_000_000,
        "peak_bitrate_bps": 1_200_000,
        "output_bytes": 1000,
        "encode_wall_seconds": 1.0,
        "encode_cpu_seconds": 1.0,
        "peak_memory_bytes": 1,
    }
    if kind == "video":
        fields |= {"width": 1280, "height": 720, "frame_rate": 25.0}
    else:
        fields |= {"channels": 2, "sample_rate": 48000, "start_seconds": 9.978}
    return JobResult(**(fields | extra))


LADDER = [
    result("720p", "video", [4.0, 4.0, 1.52], peak_bitrate_bps=3_000_000),
    result("360p", "video", [4.0, 4.0, 1.52], width=640, height=360, peak_bitrate_bps=800_000),
    result("audio", "audio", [4.010667, 3.989333, 1.541333], peak_bitrate_bps=130_000),
]


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def test_the_manifest_is_a_static_mpd_with_one_period() -> None:
    mpd = parse(build_mpd(LADDER, MPD_KEY, min_buffer_seconds=4))

    assert mpd.tag == "{urn:mpeg:dash:schema:mpd:2011}MPD"
    assert mpd.get("type") == "static"
    assert mpd.get("profiles") == "urn:mpeg:dash:profile:isoff-live:2011"
    assert mpd.get("mediaPresentationDuration") == "PT9.520S"
    assert mpd.get("minBufferTime") == "PT4.000S"
    assert len(mpd.findall("mpd:Period", NS)) == 1


def test_video_representations_describe_the_hls_segments_in_place() -> None:
    mpd = parse(build_mpd(LADDER, MPD_KEY, min_buffer_seconds=4))
    (video_set,) = mpd.findall(".//mpd:AdaptationSet[@contentType='video']", NS)
    first, second = video_set.findall("mpd:Representation", NS)

    assert (first.get("id"), second.get("id")) == ("720p", "360p")
    assert first.get("codecs") == "avc1.64001f"
    assert first.get("bandwidth") == "3000000"  # the measured peak
    assert (first.get("width"), first.get("height"), first.get("frameRate")) == (
        "1280",
        "720",
        "25",
    )
    assert first.findtext("mpd:BaseURL", namespaces=NS) == "../hls/720p/"
    template = first.find("mpd:SegmentTemplate", NS)
    assert template is not None
    assert template.get("initialization") == "init.mp4"
    assert template.get("media") == "seg_$Number%05d$.m4s"
    assert template.get("startNumber") == "0"
    # Every URL the template yields, resolved against the manifest, is a segment key.
    base = posixpath.normpath(posixpath.join("vid/dash", "../hls/720p"))
    assert [f"{base}/seg_{n:05d}.m4s" for n in range(3)] == LADDER[0].segment_keys


def test_the_timeline_starts_at_the_10_second_offset_and_says_so() -> None:
    mpd = parse(build_mpd(LADDER, MPD_KEY, min_buffer_seconds=4))
    template = mpd.find(".//mpd:Representation[@id='720p']/mpd:SegmentTemplate", NS)
    assert template is not None

    assert template.get("timescale") == "90000"
    assert template.get("presentationTimeOffset") == "900000"
    entries = [dict(s.attrib) for s in template.findall("mpd:SegmentTimeline/mpd:S", NS)]
    assert entries == [{"t": "900000", "d": "360000", "r": "1"}, {"d": "136800"}]


def test_audio_is_its_own_adaptation_set_on_its_sample_clock() -> None:
    mpd = parse(build_mpd(LADDER, MPD_KEY, min_buffer_seconds=4))
    (audio_set,) = mpd.findall(".//mpd:AdaptationSet[@contentType='audio']", NS)
    (audio,) = audio_set.findall("mpd:Representation", NS)
    template = audio.find("mpd:SegmentTemplate", NS)
    assert template is not None

    assert audio.get("codecs") == "mp4a.40.2"
    assert audio.get("audioSamplingRate") == "48000"
    channels = audio.find("mpd:AudioChannelConfiguration", NS)
    assert channels is not None and channels.get("value") == "2"
    assert template.get("timescale") == "48000"
    assert template.get("presentationTimeOffset") == "480000"
    first = template.find("mpd:SegmentTimeline/mpd:S", NS)
    assert first is not None and first.get("t") == "478944"  # 10 s less the AAC priming


def test_no_audio_means_no_audio_set_and_hevc_gets_its_own_video_set() -> None:
    hevc = result("720p-hevc", "video", [4.0, 4.0, 1.52], codecs="hvc1.1.6.L93.B0")

    mpd = parse(build_mpd([LADDER[1], hevc], MPD_KEY, min_buffer_seconds=4))

    sets = mpd.findall(".//mpd:AdaptationSet", NS)
    assert [s.get("contentType") for s in sets] == ["video", "video"]
    assert [[r.get("codecs") for r in s.findall("mpd:Representation", NS)] for s in sets] == [
        ["avc1.64001f"],
        ["hvc1.1.6.L93.B0"],
    ]


def test_av1_gets_its_own_video_set_after_h264_and_hevc() -> None:
    hevc = result("720p-hevc", "video", [4.0, 4.0, 1.52], codecs="hvc1.1.6.L93.B0")
    av1 = result("720p-av1", "video", [4.0, 4.0, 1.52], codecs="av01.0.05M.08")
    small_av1 = result("360p-av1", "video", [4.0, 4.0, 1.52], codecs="av01.0.01M.08",
                       width=640, height=360, peak_bitrate_bps=500_000)  # fmt: skip

    mpd = parse(build_mpd([av1, small_av1, hevc, *LADDER], MPD_KEY, min_buffer_seconds=4))

    sets = mpd.findall(".//mpd:AdaptationSet", NS)
    assert [[r.get("codecs") for r in s.findall("mpd:Representation", NS)] for s in sets] == [
        ["avc1.64001f", "avc1.64001f"],
        ["hvc1.1.6.L93.B0"],
        ["av01.0.05M.08", "av01.0.01M.08"],
        ["mp4a.40.2"],
    ]
    assert [s.get("id") for s in sets[:3]] == ["1", "2", "3"]


def test_a_manifest_needs_video() -> None:
    with pytest.raises(ValueError, match="video"):
        build_mpd([LADDER[2]], MPD_KEY, min_buffer_seconds=4)


def test_segment_names_must_follow_one_numbered_pattern() -> None:
    assert segment_template(LADDER[0]) == ("seg_$Number%05d$.m4s", 0)
    gap = LADDER[0].model_copy(
        update={"segment_keys": [k.replace("00002", "00003") for k in LADDER[0].segment_keys]}
    )
    with pytest.raises(ValueError, match="consecutively"):
        segment_template(gap)
    short = LADDER[0].model_copy(update={"segment_durations": [4.0]})
    with pytest.raises(ValueError, match="do not match"):
        segment_template(short)


def test_the_timeline_does_not_drift_over_an_hour_of_ntsc_segments() -> None:
    durations = [4.004] * 899 + [0.5]  # 29.97 fps, 120-frame segments

    runs = segment_timeline(10.0, durations, 90_000)

    assert runs == [(900_000, 360_360, 898), (900_000 + 899 * 360_360, 45_000, 0)]


def test_rounding_never_accumulates() -> None:
    durations = [1 / 3] * 9

    runs = segment_timeline(0.0, durations, 1000)

    total = sum(duration * (repeat + 1) for _, duration, repeat in runs)
    assert total == 3000


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(25.0, "25"), (29.97, "30000/1001"), (59.94, "60000/1001"), (12.5, "25/2")],
)
def test_frame_rates_are_dash_frame_rate_types(rate: float, expected: str) -> None:
    assert frame_rate_attribute(rate) == expected
