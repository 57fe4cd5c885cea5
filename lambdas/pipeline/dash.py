"""The DASH manifest (MPD) of the same fMP4 (CMAF) segments the HLS playlists list.

Static (VOD), isoff-live profile: one SegmentTemplate per Representation with a
SegmentTimeline built from each rendition's own segment durations, so every segment's
start is known exactly. The transcoder starts every media timeline at 10 s (so that
separately encoded audio and video line up); presentationTimeOffset says so, and the
presentation starts at 0. BaseURL points each Representation at its HLS folder.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction
from itertools import groupby, pairwise

from lambdas.pipeline.codec_order import codec_rank
from lambdas.pipeline.contract import JobResult
from lambdas.pipeline.master_playlist import SubtitleTrack, audio_renditions

MPD_NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILE = "urn:mpeg:dash:profile:isoff-live:2011"
AUDIO_CHANNELS_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
# Our audio roles (main, alternate, commentary, description) are values of this scheme's
# Role (ISO/IEC 23009-1, 5.8.5.5), as they are
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
VIDEO_TIMESCALE = 90_000  # exact for 23.976/29.97/59.94 fps frame durations
MEDIA_START_SECONDS = 10  # transcoder's MEDIA_START_SECONDS: source time 0
_SEGMENT_NUMBER = re.compile(r"^(.*?)(\d+)(\.m4s)$")
TEXT_SET_FIRST_ID = 100  # AdaptationSet@id is a number: text sets from 100 up
TEXT_BANDWIDTH = 256  # a Representation must state one; a sidecar file has no rate


def build_mpd(
    results: Sequence[JobResult],
    mpd_key: str,
    *,
    min_buffer_seconds: int,
    subtitles: Sequence[SubtitleTrack] = (),
) -> str:
    videos = [r for r in results if r.kind == "video"]
    if not videos:
        raise ValueError("a DASH manifest needs at least one video rendition")
    audios = audio_renditions(results)
    duration = max(r.duration_seconds for r in videos)
    ET.register_namespace("", MPD_NAMESPACE)
    mpd = ET.Element(
        _tag("MPD"),
        {
            "profiles": PROFILE,
            "type": "static",
            "mediaPresentationDuration": _duration(duration),
            "minBufferTime": _duration(min_buffer_seconds),
        },
    )
    period = ET.SubElement(mpd, _tag("Period"), {"id": "0", "start": "PT0S"})
    # One adaptation set per codec: a player switches seamlessly only within one.
    # H.264's set first, then HEVC's, then AV1's (codec_order)
    ordered = sorted(videos, key=lambda r: (codec_rank(r.codecs), _codec_family(r)))
    by_codec = groupby(ordered, key=_codec_family)
    set_id = 0
    for set_id, (_, group) in enumerate(by_codec, start=1):
        _video_set(period, set_id, list(group), mpd_key)
    # One adaptation set per audio track (a language or a role each): the first keeps id 0
    for index, audio in enumerate(audios):
        _audio_set(period, audio, mpd_key, set_id=0 if index == 0 else set_id + index)
    _text_sets(period, subtitles, mpd_key)
    return _serialise(mpd)


def with_text_tracks(mpd_text: str, tracks: Sequence[SubtitleTrack], mpd_key: str) -> str:
    """The manifest with exactly these text adaptation sets (none removes them); the rest
    is kept as it was published."""
    ET.register_namespace("", MPD_NAMESPACE)
    mpd = ET.fromstring(mpd_text)
    for period in mpd.iter(_tag("Period")):
        for adaptation in period.findall(_tag("AdaptationSet")):
            if adaptation.get("contentType") == "text":
                period.remove(adaptation)
    first_period = mpd.find(_tag("Period"))
    if first_period is None:
        raise ValueError(f"{mpd_key} has no Period")
    _text_sets(first_period, tracks, mpd_key)
    return _serialise(mpd)


def _text_sets(period: ET.Element, tracks: Sequence[SubtitleTrack], mpd_key: str) -> None:
    """One text AdaptationSet per track: its Representation's BaseURL is the WebVTT file."""
    ordered = sorted(tracks, key=lambda t: t.language)
    for set_id, track in enumerate(ordered, start=TEXT_SET_FIRST_ID):
        adaptation = ET.SubElement(
            period,
            _tag("AdaptationSet"),
            {
                "id": str(set_id),
                "contentType": "text",
                "mimeType": "text/vtt",
                "lang": track.language,
            },
        )
        # Label comes from the common (RepresentationBase) part, so before Role.
        ET.SubElement(adaptation, _tag("Label")).text = track.name
        ET.SubElement(adaptation, _tag("Role"), {"schemeIdUri": ROLE_SCHEME, "value": "subtitle"})
        representation = ET.SubElement(
            adaptation,
            _tag("Representation"),
            {"id": f"subs-{track.language}", "bandwidth": str(TEXT_BANDWIDTH)},
        )
        base = posixpath.relpath(track.vtt_key, posixpath.dirname(mpd_key))
        ET.SubElement(representation, _tag("BaseURL")).text = base


def _serialise(mpd: ET.Element) -> str:
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _video_set(period: ET.Element, set_id: int, videos: list[JobResult], mpd_key: str) -> None:
    videos.sort(key=lambda r: r.peak_bitrate_bps, reverse=True)
    adaptation = ET.SubElement(
        period,
        _tag("AdaptationSet"),
        {
            "id": str(set_id),
            "contentType": "video",
            "mimeType": "video/mp4",
            "segmentAlignment": "true",
            "startWithSAP": "1",
            "maxWidth": str(max(r.width or 0 for r in videos)),
            "maxHeight": str(max(r.height or 0 for r in videos)),
        },
    )
    for video in videos:
        attributes = {
            "id": video.name,
            "codecs": video.codecs,
            "bandwidth": str(video.peak_bitrate_bps),
            "width": str(video.width),
            "height": str(video.height),
            "sar": "1:1",
        }
        if video.frame_rate:
            attributes["frameRate"] = frame_rate_attribute(video.frame_rate)
        representation = ET.SubElement(adaptation, _tag("Representation"), attributes)
        _segments(representation, video, VIDEO_TIMESCALE, mpd_key)


def _audio_set(period: ET.Element, audio: JobResult, mpd_key: str, *, set_id: int = 0) -> None:
    adaptation = ET.SubElement(
        period,
        _tag("AdaptationSet"),
        {
            "id": str(set_id),
            "contentType": "audio",
            "mimeType": "audio/mp4",
            "lang": audio.language or "und",
            "segmentAlignment": "true",
            "startWithSAP": "1",
        },
    )
    role = audio.role or ("main" if audio.default is not False else "alternate")
    ET.SubElement(adaptation, _tag("Role"), {"schemeIdUri": ROLE_SCHEME, "value": role})
    sample_rate = audio.sample_rate or 48_000
    representation = ET.SubElement(
        adaptation,
        _tag("Representation"),
        {
            "id": audio.name,
            "codecs": audio.codecs,
            "bandwidth": str(audio.peak_bitrate_bps),
            "audioSamplingRate": str(sample_rate),
        },
    )
    ET.SubElement(
        representation,
        _tag("AudioChannelConfiguration"),
        {"schemeIdUri": AUDIO_CHANNELS_SCHEME, "value": str(audio.channels or 2)},
    )
    _segments(representation, audio, sample_rate, mpd_key)


def _segments(representation: ET.Element, result: JobResult, timescale: int, mpd_key: str) -> None:
    folder = posixpath.dirname(result.init_key)
    base = posixpath.relpath(folder, posixpath.dirname(mpd_key)) + "/"
    ET.SubElement(representation, _tag("BaseURL")).text = base
    media, start_number = segment_template(result)
    template = ET.SubElement(
        representation,
        _tag("SegmentTemplate"),
        {
            "timescale": str(timescale),
            "presentationTimeOffset": str(MEDIA_START_SECONDS * timescale),
            "initialization": posixpath.basename(result.init_key),
            "media": media,
            "startNumber": str(start_number),
        },
    )
    timeline = ET.SubElement(template, _tag("SegmentTimeline"))
    for index, (start, duration, repeat) in enumerate(
        segment_timeline(result.start_seconds, result.segment_durations, timescale)
    ):
        entry = {"d": str(duration)}
        if index == 0:
            entry = {"t": str(start), **entry}
        if repeat:
            entry["r"] = str(repeat)
        ET.SubElement(timeline, _tag("S"), entry)


def segment_template(result: JobResult) -> tuple[str, int]:
    """The `$Number$` template of the rendition's segment names, and the first number;
    refuses names that are not consecutively numbered in one pattern."""
    if len(result.segment_keys) != len(result.segment_durations) or not result.segment_keys:
        raise ValueError(f"{result.name}: segment keys and durations do not match")
    folder = posixpath.dirname(result.init_key)
    matches = [_SEGMENT_NUMBER.match(posixpath.basename(key)) for key in result.segment_keys]
    if any(m is None for m in matches) or any(
        posixpath.dirname(key) != folder for key in result.segment_keys
    ):
        raise ValueError(f"{result.name}: segment names do not follow one numbered pattern")
    parsed = [(m.group(1), m.group(2), m.group(3)) for m in matches if m is not None]
    prefix, first_digits, suffix = parsed[0]
    width = len(first_digits)
    first = int(first_digits)
    for offset, (p, digits, s) in enumerate(parsed):
        if (p, s) != (prefix, suffix) or digits != f"{first + offset:0{width}d}":
            raise ValueError(f"{result.name}: segment names are not numbered consecutively")
    return f"{prefix}$Number%0{width}d${suffix}", first


def segment_timeline(
    start_seconds: float, durations: Sequence[float], timescale: int
) -> list[tuple[int, int, int]]:
    """(start, duration, repeat) runs in timescale units. Each boundary is rounded from
    the exact cumulative time, so rounding never accumulates over a long video."""
    boundaries = [round(start_seconds * timescale)]
    elapsed = start_seconds
    for duration in durations:
        elapsed += duration
        boundaries.append(round(elapsed * timescale))
    runs: list[tuple[int, int, int]] = []
    for start, end in pairwise(boundaries):
        duration = end - start
        if runs and runs[-1][1] == duration:
            first, _, repeat = runs[-1]
            runs[-1] = (first, duration, repeat + 1)
        else:
            runs.append((start, duration, 0))
    return runs


def frame_rate_attribute(rate: float) -> str:
    """DASH's FrameRateType: an integer or a fraction (30000/1001 for 29.97)."""
    ntsc = round(rate * 1.001)
    if abs(rate - round(rate)) > 1e-3 and abs(rate - ntsc / 1.001) < 1e-3:
        return f"{ntsc * 1000}/1001"
    fraction = Fraction(rate).limit_denominator(1000)
    return str(fraction.numerator) if fraction.denominator == 1 else str(fraction)


def _codec_family(result: JobResult) -> str:
    return result.codecs.split(".", 1)[0]


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _tag(name: str) -> str:
    return f"{{{MPD_NAMESPACE}}}{name}"
