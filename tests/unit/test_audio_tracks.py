"""Every audio track of a source: read from ffprobe's report, planned as one job each, and
described as separate renditions in the master playlist (read back with m3u8) and the
DASH manifest (read back with xml.etree)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import m3u8
import pytest

from lambdas.core.settings import Settings
from lambdas.pipeline.contract import AudioRendition, JobResult, LoudnessTarget
from lambdas.pipeline.dash import build_mpd
from lambdas.pipeline.master_playlist import DESCRIBES_VIDEO, build_master_playlist
from lambdas.pipeline.probe import ProbeRequest, UploadedObject, plan_jobs
from lambdas.pipeline.source import MAX_AUDIO_TRACKS, parse_ffprobe

REQUEST = ProbeRequest(
    video_id="vid", source_key="vid/source", source_object=UploadedObject(version_id="v1")
)
VIDEO = {
    "codec_type": "video",
    "codec_name": "h264",
    "width": 640,
    "height": 360,
    "avg_frame_rate": "25/1",
}
NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}


def audio(
    language: str | None = None, title: str | None = None, **disposition: int
) -> dict[str, Any]:
    tags = {k: v for k, v in (("language", language), ("title", title)) if v}
    return {"codec_type": "audio", "codec_name": "aac", "tags": tags, "disposition": disposition}


def report(*streams: dict[str, Any]) -> dict[str, Any]:
    return {
        "streams": list(streams),
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.0"},
    }


def settings(**changes: Any) -> Settings:
    return Settings(videos_table_name="t", uploads_bucket="u", media_bucket="m", **changes)


TWO_TRACKS = report(VIDEO, audio("eng", default=1), audio("fra", comment=1))


def test_two_tracks_are_read_with_language_name_default_and_role() -> None:
    tracks = parse_ffprobe(TWO_TRACKS, size_bytes=1).audio_tracks

    assert [(t.stream, t.language, t.title, t.default, t.role) for t in tracks] == [
        (0, "eng", "English", True, "main"),
        (1, "fra", "French Commentary", False, "commentary"),
    ]


def test_the_default_track_comes_first_and_the_first_is_default_when_none_is_marked() -> None:
    marked = parse_ffprobe(report(VIDEO, audio("eng"), audio("deu", default=1)), size_bytes=1)
    unmarked = parse_ffprobe(report(VIDEO, audio(), audio()), size_bytes=1)

    assert [(t.stream, t.default) for t in marked.audio_tracks] == [(1, True), (0, False)]
    assert [(t.stream, t.language, t.title, t.default) for t in unmarked.audio_tracks] == [
        (0, "und", "Track 1", True),
        (1, "und", "Track 2", False),
    ]


def test_a_title_tag_names_the_track_and_a_description_says_so() -> None:
    tracks = parse_ffprobe(
        report(VIDEO, audio("eng", "Director's cut", default=1), audio("eng", visual_impaired=1)),
        size_bytes=1,
    ).audio_tracks

    assert [(t.title, t.role) for t in tracks] == [
        ("Director's cut", "main"),
        ("English Audio Description", "description"),
    ]


def test_a_malformed_language_tag_is_undetermined() -> None:
    tracks = parse_ffprobe(
        report(VIDEO, audio('en"\n#EXT'), audio("pt-BR"), audio("zxx")), size_bytes=1
    ).audio_tracks

    assert [(t.language, t.title) for t in tracks] == [
        ("und", "Track 1"),
        ("pt-BR", "Portuguese"),  # well formed: kept as found, named by its language
        ("zxx", "Track 3"),
    ]


def test_repeated_names_are_made_unique() -> None:
    tracks = parse_ffprobe(report(VIDEO, audio("eng"), audio("eng")), size_bytes=1).audio_tracks

    assert [t.title for t in tracks] == ["English", "English (Track 2)"]


def test_at_most_eight_tracks_are_kept_the_default_among_them() -> None:
    streams = [audio(f"l{i:02d}") for i in range(12)]
    streams[10] = audio("eng", default=1)

    tracks = parse_ffprobe(report(VIDEO, *streams), size_bytes=1).audio_tracks

    assert len(tracks) == MAX_AUDIO_TRACKS == 8
    assert [t.stream for t in tracks] == [10, 0, 1, 2, 3, 4, 5, 6]


def test_each_track_is_its_own_audio_job_with_the_loudness_target() -> None:
    source = parse_ffprobe(TWO_TRACKS, size_bytes=1)

    plan = plan_jobs(REQUEST, source, settings(loudness_target_lufs=-18))

    audios = [job for job in plan.jobs if isinstance(job.rendition, AudioRendition)]
    assert [(job.name, job.output_prefix) for job in audios] == [
        ("audio", "vid/hls/audio/"),
        ("audio-1", "vid/hls/audio-1/"),
    ]
    first, second = (job.rendition for job in audios)
    assert isinstance(first, AudioRendition) and isinstance(second, AudioRendition)
    assert (first.stream, first.language, first.default, first.role) == (0, "eng", True, "main")
    assert (second.stream, second.language, second.default) == (1, "fra", False)
    assert second.role == "commentary"
    assert first.loudness == second.loudness == LoudnessTarget(integrated_lufs=-18)


@pytest.mark.parametrize("value", ["off", ""])
def test_loudness_normalisation_can_be_turned_off(value: str) -> None:
    source = parse_ffprobe(TWO_TRACKS, size_bytes=1)

    plan = plan_jobs(REQUEST, source, settings(loudness_target_lufs=value))

    audios = [j.rendition for j in plan.jobs if isinstance(j.rendition, AudioRendition)]
    assert len(audios) == 2 and all(r.loudness is None for r in audios)


def test_a_chunked_source_keeps_each_track_one_whole_source_job_in_the_first_wave() -> None:
    source = parse_ffprobe(TWO_TRACKS, size_bytes=1).model_copy(update={"duration_seconds": 30.0})

    plan = plan_jobs(REQUEST, source, settings(chunk_seconds=8))

    first = [job.name for job in plan.waves[0].jobs if job.chunk is None]
    assert first == ["audio", "audio-1"]


@pytest.mark.parametrize("strategy", ["balanced", "chunk_ladder"])
def test_grouping_strategies_keep_every_track(strategy: str) -> None:
    source = parse_ffprobe(TWO_TRACKS, size_bytes=1)

    plan = plan_jobs(REQUEST, source, settings(job_strategy=strategy))

    names = [r.name for job in plan.jobs for r in job.renditions]
    assert names.count("audio") == names.count("audio-1") == 1


def result(name: str, kind: str, peak: int, **extra: Any) -> JobResult:
    fields: dict[str, Any] = {
        "video_id": "vid",
        "name": name,
        "kind": kind,
        "playlist_key": f"vid/hls/{name}/index.m3u8",
        "init_key": f"vid/hls/{name}/init.mp4",
        "segment_keys": [f"vid/hls/{name}/seg_00000.m4s"],
        "segment_durations": [4.0],
        "codecs": "avc1.64001f" if kind == "video" else "mp4a.40.2",
        "duration_seconds": 4.0,
        "start_seconds": 10.0,
        "target_duration": 4,
        "average_bitrate_bps": peak - 10_000,
        "peak_bitrate_bps": peak,
        "output_bytes": 1000,
        "encode_wall_seconds": 1.0,
        "encode_cpu_seconds": 1.0,
        "peak_memory_bytes": 1,
    }
    if kind == "video":
        fields |= {"width": 640, "height": 360, "frame_rate": 25.0}
    else:
        fields |= {"channels": 2, "sample_rate": 48000}
    return JobResult(**(fields | extra))


RESULTS = [
    result("360p", "video", 900_000),
    result(
        "audio-2",
        "audio",
        100_000,
        language="deu",
        title="German Audio Description",
        default=False,
        role="description",
    ),
    result("audio", "audio", 130_000, language="eng", title="English", default=True, role="main"),
    result(
        "audio-1",
        "audio",
        160_000,
        language="fra",
        title="French Commentary",
        default=False,
        role="commentary",
    ),
]


def test_the_master_lists_every_track_in_one_group_and_budgets_for_the_largest() -> None:
    playlist = m3u8.loads(build_master_playlist(RESULTS, "vid/hls/master.m3u8"))

    media = playlist.media
    assert [m.uri for m in media] == [
        "audio/index.m3u8",
        "audio-2/index.m3u8",
        "audio-1/index.m3u8",
    ]
    assert {m.group_id for m in media} == {"audio"}
    assert [(m.language, m.name, m.default, m.autoselect) for m in media] == [
        ("eng", "English", "YES", "YES"),
        ("deu", "German Audio Description", "NO", "YES"),
        ("fra", "French Commentary", "NO", "NO"),  # never chosen for its language alone
    ]
    assert [m.characteristics for m in media] == [None, DESCRIBES_VIDEO, None]
    (variant,) = playlist.playlists
    assert variant.stream_info.bandwidth == 900_000 + 160_000  # the largest audio's peak
    assert variant.stream_info.average_bandwidth == 890_000 + 150_000
    assert variant.stream_info.codecs == "avc1.64001f,mp4a.40.2"
    assert variant.stream_info.audio == "audio"


def test_a_track_name_cannot_break_out_of_its_quoted_attribute() -> None:
    tricky = result("audio", "audio", 1, title='Bad "name"\n#EXT-X-ENDLIST', default=True)

    text = build_master_playlist([RESULTS[0], tricky], "vid/hls/master.m3u8")

    (media,) = m3u8.loads(text).media
    assert media.name == "Bad 'name' #EXT-X-ENDLIST"
    assert text.count("\n") == 6  # six lines: nothing was injected


def test_the_mpd_has_one_audio_set_per_track_with_language_and_role() -> None:
    root = ET.fromstring(build_mpd(RESULTS, "vid/dash/manifest.mpd", min_buffer_seconds=4))

    sets = root.findall(".//mpd:AdaptationSet[@contentType='audio']", NS)
    described = [
        (s.get("id"), s.get("lang"), s.find("mpd:Role", NS).get("value"))  # type: ignore[union-attr]
        for s in sets
    ]
    assert described == [
        ("0", "eng", "main"),
        ("2", "deu", "description"),
        ("3", "fra", "commentary"),
    ]
    ids = [s.get("id") for s in root.findall(".//mpd:AdaptationSet", NS)]
    assert len(ids) == len(set(ids))
    for adaptation in sets:
        (representation,) = adaptation.findall("mpd:Representation", NS)
        assert representation.find("mpd:BaseURL", NS) is not None
        # Role comes before the Representation, as the MPD schema orders them
        children = [child.tag.split("}")[1] for child in adaptation]
        assert children.index("Role") < children.index("Representation")
