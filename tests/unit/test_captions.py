"""Caption files: language tags, checking and converting SubRip and WebVTT, and the
subtitle tracks in the master playlist and the MPD."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import m3u8
import pytest
import webvtt

from lambdas.core import captions
from lambdas.core.errors import CaptionInvalid, FieldError
from lambdas.pipeline import dash
from lambdas.pipeline.dash import build_mpd, with_text_tracks
from lambdas.pipeline.master_playlist import SubtitleTrack, build_master_playlist, with_subtitles
from lambdas.pipeline.subtitles import track_playlist
from tests.unit.test_master_playlist import MASTER, result, video

MPD = "vid/dash/manifest.mpd"
NS = {"mpd": dash.MPD_NAMESPACE}

SRT = (
    "1\n00:00:00,500 --> 00:00:01,750\nHarbour at dusk\n\n"
    "2\n00:00:02,000 --> 00:00:03,500\n<i>Boats</i> coming in\nline two\n"
)


def track(language: str, name: str) -> SubtitleTrack:
    return SubtitleTrack(
        language=language,
        name=name,
        playlist_key=captions.playlist_key("vid", language),
        vtt_key=captions.vtt_key("vid", language),
    )


# --- language tags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"), [("en", "en"), ("pt-br", "pt-BR"), ("zh-Hant-TW", "zh-Hant-TW")]
)
def test_valid_language_tags_come_back_in_canonical_case(given: str, canonical: str) -> None:
    assert captions.canonical_language(given) == canonical


@pytest.mark.parametrize("tag", ["", "english", "en_US", "xx-ZZZ", "en/../x", "qqqq", "e n"])
def test_invalid_language_tags_are_refused_naming_the_field(tag: str) -> None:
    with pytest.raises(FieldError) as raised:
        captions.canonical_language(tag)
    assert raised.value.field == "language"


# --- SubRip and WebVTT ------------------------------------------------------------------


def test_subrip_becomes_webvtt_with_the_timestamp_map_and_the_same_cues() -> None:
    cues = captions.parse_captions(SRT.encode(), "srt")
    text = captions.render_webvtt(cues)

    assert text.splitlines()[:2] == ["WEBVTT", "X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"]
    parsed = webvtt.from_string(text, strict=True)
    assert [(c.start, c.end) for c in parsed.captions] == [
        ("00:00:00.500", "00:00:01.750"),
        ("00:00:02.000", "00:00:03.500"),
    ]
    assert parsed.captions[1].raw_text == "<i>Boats</i> coming in\nline two"


def test_the_timestamp_map_puts_cue_time_zero_at_the_media_start() -> None:
    # The transcoder's media timeline starts at 10 s; hls.js maps MPEGTS to the video's
    # first timestamp, so cue time 0 is the video's first frame.
    assert captions.MEDIA_START_SECONDS == dash.MEDIA_START_SECONDS
    assert f"MPEGTS:{dash.MEDIA_START_SECONDS * 90_000}," in captions.TIMESTAMP_MAP


def test_webvtt_keeps_settings_and_identifiers_and_sorts_cues() -> None:
    text = (
        "\ufeffWEBVTT - a title\r\n\r\nNOTE a comment\r\n\r\n"
        "later\r\n00:00:05.000 --> 00:00:06.000 align:start line:0\r\nSecond\r\n\r\n"
        "00:01.000 --> 00:02.000\r\nFirst\r\n"
    )
    cues = captions.parse_captions(text.encode(), "vtt")
    assert [c.text for c in cues] == ["First", "Second"]
    rendered = captions.render_webvtt(cues)
    assert "later\n00:00:05.000 --> 00:00:06.000 align:start line:0\nSecond" in rendered
    assert len(webvtt.from_string(rendered, strict=True).captions) == 2


def test_a_payload_cannot_end_its_cue_early() -> None:
    cue = captions.Cue(start_ms=0, end_ms=1000, text="a --> b\n\nc")
    rendered = captions.render_webvtt([cue])
    (parsed,) = webvtt.from_string(rendered, strict=True).captions
    assert parsed.lines == ["a --&gt; b", "c"]


@pytest.mark.parametrize(
    ("text", "source_format", "line"),
    [
        # the second cue's start time is not a time
        (
            "1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:0x,000 --> 00:00:03,000\nW\n",
            "srt",
            5,
        ),
        ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:03,000 -> 00:00:04,000\nB\n", "srt", 5),
        ("\n\nnot a cue\n\n1\n00:00:01,000 --> 00:00:02,000\nA\n", "srt", 3),
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n\n00:00:0x.000 --> 00:00:03.000\nW\n",
            "vtt",
            6,
        ),
        ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:04,000 --> 00:00:03,000\nB\n", "srt", 6),
        ("WEBVTT\n\n00:00:03.000 --> 00:00:03.000\nzero length\n", "vtt", 3),
        ("00:00:01.000 --> 00:00:02.000\nno header\n", "vtt", 1),
    ],
)
def test_a_bad_cue_is_refused_naming_its_line(text: str, source_format: str, line: int) -> None:
    with pytest.raises(CaptionInvalid) as raised:
        captions.parse_captions(text.encode(), source_format)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"line {line}: ")
    assert raised.value.field == "file"


def test_bytes_that_are_not_utf8_are_refused_naming_their_line() -> None:
    data = b"1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n"
    with pytest.raises(CaptionInvalid, match=r"^line 3: the file is not UTF-8"):
        captions.parse_captions(data, "srt")


@pytest.mark.parametrize(("text", "source_format"), [("", "srt"), ("WEBVTT\n\n", "vtt")])
def test_a_file_without_cues_is_refused(text: str, source_format: str) -> None:
    with pytest.raises(CaptionInvalid, match="no cues"):
        captions.parse_captions(text.encode(), source_format)


# --- manifests --------------------------------------------------------------------------


def media() -> list:  # type: ignore[type-arg]
    return [
        video("720p", 1280, 720, 3_000_000, 2_000_000),
        video("360p", 640, 360, 900_000, 700_000),
        result("audio", "audio", 130_000, 128_000),
    ]


def test_the_master_lists_each_track_and_every_variant_names_the_group() -> None:
    tracks = [track("fr", 'Français "CC"'), track("en", "English")]
    playlist = m3u8.loads(build_master_playlist(media(), MASTER, tracks))

    subtitles = [m for m in playlist.media if m.type == "SUBTITLES"]
    assert [(m.language, m.name, m.uri) for m in subtitles] == [
        ("en", "English", "subs/en/index.m3u8"),
        ("fr", "Français 'CC'", "subs/fr/index.m3u8"),
    ]
    assert {(m.group_id, m.default, m.autoselect) for m in subtitles} == {("subs", "NO", "YES")}
    assert len(playlist.playlists) == 2
    assert all(p.stream_info.subtitles == "subs" for p in playlist.playlists)
    assert all(p.stream_info.audio == "audio" for p in playlist.playlists)


def test_rewriting_a_master_replaces_its_tracks_and_none_removes_them() -> None:
    plain = build_master_playlist(media(), MASTER)
    with_two = with_subtitles(plain, [track("en", "English"), track("de", "Deutsch")], MASTER)
    with_one = with_subtitles(with_two, [track("de", "Deutsch")], MASTER)

    languages = [m.language for m in m3u8.loads(with_one).media if m.type == "SUBTITLES"]
    assert languages == ["de"]
    assert with_one == with_subtitles(plain, [track("de", "Deutsch")], MASTER)
    assert with_subtitles(with_one, [], MASTER) == plain


def test_a_track_playlist_is_one_webvtt_segment_over_the_whole_video() -> None:
    playlist = m3u8.loads(track_playlist(7.25))
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert [(s.uri, s.duration) for s in playlist.segments] == [("captions.vtt", 7.25)]
    assert playlist.target_duration == 8


def text_sets(text: str) -> list[ET.Element]:
    root = ET.fromstring(text)
    return root.findall("mpd:Period/mpd:AdaptationSet[@contentType='text']", NS)


def test_the_mpd_has_a_text_adaptation_set_per_track_pointing_at_the_webvtt() -> None:
    text = build_mpd(media(), MPD, min_buffer_seconds=4, subtitles=[track("en", "English")])
    (subs,) = text_sets(text)
    assert subs.get("mimeType") == "text/vtt" and subs.get("lang") == "en"
    representation = subs.find("mpd:Representation", NS)
    assert representation is not None
    base = representation.find("mpd:BaseURL", NS)
    assert base is not None and base.text == "../hls/subs/en/captions.vtt"
    role = subs.find("mpd:Role", NS)
    assert role is not None and role.get("value") == "subtitle"
    assert subs.findtext("mpd:Label", namespaces=NS) == "English"
    ids = [a.get("id") for a in ET.fromstring(text).iter(f"{{{dash.MPD_NAMESPACE}}}AdaptationSet")]
    assert len(set(ids)) == len(ids)


def test_rewriting_an_mpd_replaces_its_text_sets_and_keeps_the_rest() -> None:
    plain = build_mpd(media(), MPD, min_buffer_seconds=4)
    with_two = with_text_tracks(plain, [track("en", "English"), track("es", "Español")], MPD)
    assert [s.get("lang") for s in text_sets(with_two)] == ["en", "es"]
    assert with_text_tracks(with_two, [], MPD) == plain
