"""The probe's plan: which jobs, with which hints, where their outputs go; the decode check;
and the thumbnails job's geometry."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.core.settings import Settings
from lambdas.pipeline.contract import ThumbnailsRendition, VideoRendition
from lambdas.pipeline.errors import SourceTimeout, UnusableVideo
from lambdas.pipeline.probe import (
    END_CHECK_PACKETS,
    ProbeBudget,
    ProbeRequest,
    UnpinnedSource,
    UploadedObject,
    check_decodes,
    decode_check_command,
    end_check_command,
    ffprobe_command,
    plan_jobs,
)
from lambdas.pipeline.source import SourceInfo
from lambdas.pipeline.thumbnails import plan_thumbnails, tile_interval_seconds

REQUEST = ProbeRequest(
    video_id="vid", source_key="vid/source", source_object=UploadedObject(version_id="v1")
)


def settings(**changes: Any) -> Settings:
    return Settings(videos_table_name="t", uploads_bucket="u", media_bucket="m", **changes)


def settings_from(environment: dict[str, str]) -> Settings:
    """The probe's settings as its cold start reads them, from this environment."""
    required = {"VIDEOS_TABLE_NAME": "t", "UPLOADS_BUCKET": "u", "MEDIA_BUCKET": "m"}
    return Settings.from_environment({**required, **environment})


class HevcSettings(Settings):
    """Settings with the HEVC switch on (the field lives in lambdas/core/settings.py)."""

    hevc_ladder: bool = True


def source(width: int = 1280, height: int = 720, **facts: Any) -> SourceInfo:
    fields: dict[str, Any] = {
        "duration_seconds": 12.5,
        "display_width": width,
        "display_height": height,
        "frame_rate": 25.0,
        "video_codec": "h264",
        "has_audio": True,
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "size_bytes": 1000,
    }
    return SourceInfo(**(fields | facts))


def test_a_720p_source_with_audio_gets_its_rungs_the_audio_and_the_thumbnails() -> None:
    plan = plan_jobs(REQUEST, source(), settings())

    assert [(job.name, job.output_prefix) for job in plan.jobs] == [
        ("720p", "vid/hls/720p/"),
        ("480p", "vid/hls/480p/"),
        ("360p", "vid/hls/360p/"),
        ("240p", "vid/hls/240p/"),
        ("audio", "vid/hls/audio/"),
        ("thumbnails", "vid/thumbs/"),
    ]
    assert all((job.source_key, job.source_version) == ("vid/source", "v1") for job in plan.jobs)


@pytest.mark.parametrize("event_object", [{}, {"version-id": None}], ids=["absent", "null"])
def test_an_upload_event_without_an_object_version_is_refused(
    event_object: dict[str, Any],
) -> None:
    # An unversioned bucket's event: nothing to pin, so no job may read "whatever is there".
    request = ProbeRequest.model_validate(
        {"video_id": "vid", "source_key": "vid/source", "source_object": event_object}
    )

    with pytest.raises(UnpinnedSource, match="versioned"):
        plan_jobs(request, source(), settings())


def test_no_audio_stream_means_no_audio_job() -> None:
    plan = plan_jobs(REQUEST, source(has_audio=False), settings())

    assert "audio" not in [job.name for job in plan.jobs]
    assert plan.jobs[-1].name == "thumbnails"


def test_what_the_probe_learned_travels_with_every_job() -> None:
    facts = source(interlaced=True, transfer="hlg", audio_stream=1)

    plan = plan_jobs(REQUEST, facts, settings())

    assert {job.source.model_dump_json() for job in plan.jobs} == {
        '{"interlaced":true,"transfer":"hlg","audio_stream":1}'
    }


def test_the_hevc_ladder_is_planned_only_when_switched_on() -> None:
    plain = plan_jobs(REQUEST, source(), settings())
    with_hevc = plan_jobs(
        REQUEST, source(), HevcSettings(videos_table_name="t", uploads_bucket="u", media_bucket="m")
    )

    assert not any(
        isinstance(job.rendition, VideoRendition) and job.rendition.codec == "hevc"
        for job in plain.jobs
    )
    hevc = [job for job in with_hevc.jobs if job.name.endswith("-hevc")]
    assert [job.output_prefix for job in hevc] == [
        "vid/hls/720p-hevc/",
        "vid/hls/480p-hevc/",
        "vid/hls/360p-hevc/",
        "vid/hls/240p-hevc/",
    ]


def test_the_av1_ladder_is_planned_only_when_switched_on_after_the_others() -> None:
    plain = plan_jobs(REQUEST, source(640, 360), settings(hevc_ladder=True))
    with_av1 = plan_jobs(REQUEST, source(640, 360), settings(hevc_ladder=True, av1_ladder=True))

    assert not any(job.name.endswith("-av1") for job in plain.jobs)
    videos = [job for job in with_av1.jobs if isinstance(job.rendition, VideoRendition)]
    assert [job.name for job in videos] == [
        "360p", "240p", "360p-hevc", "240p-hevc", "360p-av1", "240p-av1"
    ]  # fmt: skip
    av1 = [job.rendition for job in videos if job.name.endswith("-av1")]
    assert {(r.codec, r.preset, r.crf) for r in av1 if isinstance(r, VideoRendition)} == {
        ("av1", "8", 35)
    }


def test_the_native_top_rung_follows_the_setting() -> None:
    def names(**changes: Any) -> list[str]:
        plan = plan_jobs(REQUEST, source(656, 280), settings(**changes))
        return [job.name for job in plan.jobs if isinstance(job.rendition, VideoRendition)]

    assert names() == ["280p", "240p"]
    assert names(native_top_rung=False) == ["240p"]


def test_the_ladder_cap_comes_from_the_settings() -> None:
    plan = plan_jobs(REQUEST, source(3840, 2160), settings(ladder_max_height=2160))

    assert plan.jobs[0].name == "2160p"
    assert plan_jobs(REQUEST, source(3840, 2160), settings()).jobs[0].name == "1440p"


# --- decode check ---------------------------------------------------------------------


def test_the_decode_check_decodes_the_first_packets_of_the_real_video_stream() -> None:
    command = decode_check_command("ffprobe", "https://u/s?sig")

    assert command[0] == "ffprobe" and command[-1] == "https://u/s?sig"
    assert command[command.index("-select_streams") + 1] == "V:0"
    assert command[command.index("-read_intervals") + 1].startswith("%+#")


@pytest.mark.parametrize("build", [ffprobe_command, decode_check_command])
def test_every_probe_command_reads_through_the_allow_lists(build: Any) -> None:
    command = build("ffprobe", "https://u/s?sig")

    assert command[command.index("-protocol_whitelist") + 1] == "https,tls,tcp"
    assert command.index("-format_whitelist") < command.index("https://u/s?sig")


def test_the_end_check_seeks_just_before_the_declared_end_and_lists_packets() -> None:
    command = end_check_command("ffprobe", "https://u/s?sig", 36_000.0)

    assert command[command.index("-read_intervals") + 1] == f"35999.000%+#{END_CHECK_PACKETS}"
    assert command[command.index("-show_entries") + 1] == "packet=pts_time,duration_time"
    assert "-protocol_whitelist" in command


def test_each_ffprobe_call_gets_what_is_left_of_the_probes_budget() -> None:
    assert ProbeBudget(per_call_seconds=60, total_seconds=70).next_timeout() == 60
    assert ProbeBudget(per_call_seconds=60, total_seconds=5).next_timeout() <= 5
    with pytest.raises(SourceTimeout, match="longer than 0 s"):
        ProbeBudget(per_call_seconds=60, total_seconds=0).next_timeout()


def test_a_stream_that_decodes_to_nothing_is_refused_naming_the_codec() -> None:
    check_decodes({"frames": [{"width": 640, "height": 360}]}, source())

    with pytest.raises(UnusableVideo, match=r"video stream \(h264\) could not be decoded"):
        check_decodes({"frames": []}, source())
    with pytest.raises(UnusableVideo):
        check_decodes({}, source())


# --- thumbnails plan ------------------------------------------------------------------


def test_thumbnails_fit_their_boxes_and_the_storyboard_covers_the_duration() -> None:
    spec = plan_thumbnails(source(1920, 1080, duration_seconds=12.5))

    assert isinstance(spec, ThumbnailsRendition)
    assert (spec.poster_width, spec.poster_height) == (1280, 720)
    assert (spec.tile_width, spec.tile_height) == (160, 90)
    assert spec.tile_interval_seconds == 1
    assert (spec.columns, spec.rows) == (10, 2)  # 13 tiles
    assert spec.columns * spec.rows * spec.tile_interval_seconds >= spec.duration_seconds


@pytest.mark.parametrize(
    ("width", "height", "poster", "tile"),
    [
        (1080, 1920, (720, 1280), (90, 160)),  # portrait
        (2560, 1080, (1280, 540), (160, 66)),  # ultra-wide
        (320, 180, (320, 180), (160, 90)),  # never enlarged
        (100, 100, (100, 100), (100, 100)),
    ],
)
def test_thumbnails_keep_the_shape_and_are_never_enlarged(
    width: int, height: int, poster: tuple[int, int], tile: tuple[int, int]
) -> None:
    spec = plan_thumbnails(source(width, height))

    assert (spec.poster_width, spec.poster_height) == poster
    assert (spec.tile_width, spec.tile_height) == tile


@pytest.mark.parametrize(
    ("duration", "interval", "tiles"),
    [(0.4, 1, 1), (1.0, 1, 1), (3.0, 1, 3), (100.0, 1, 100), (101.0, 2, 51), (3600.0, 36, 100)],
)
def test_a_long_video_gets_sparser_tiles_never_more_than_100(
    duration: float, interval: int, tiles: int
) -> None:
    spec = plan_thumbnails(source(duration_seconds=duration))

    assert tile_interval_seconds(duration) == interval == spec.tile_interval_seconds
    assert spec.columns * spec.rows >= tiles
    assert spec.columns * (spec.rows - 1) < tiles  # no empty row


# --- job strategies ---------------------------------------------------------------------------


def test_per_rung_is_the_default_and_plans_one_single_job_per_rendition() -> None:
    plan = plan_jobs(REQUEST, source(), settings())

    assert settings().job_strategy == "per_rung"
    assert plan == plan_jobs(REQUEST, source(), settings(job_strategy="per_rung"))
    assert all(not job.group for job in plan.jobs)
    dumped = plan.model_dump(mode="json")
    assert all("group" not in job for wave in dumped["waves"] for job in wave["jobs"])


@pytest.mark.parametrize(
    ("size", "frame_rate", "expected"),
    [
        # The top rung alone; the rest (and audio) share one decode.
        ((1280, 720), 25.0, ["720p", "480p+360p+240p+audio"]),
        # A 1080p source: each rung's filter chain reads 1080p frames, so sharing all four
        # cheaper rungs would outgrow the top rung's task; 240p and audio get another.
        ((1920, 1080), 30.0, ["1080p", "720p+480p+360p", "240p+audio"]),
        ((640, 360), 30.0, ["360p", "240p+audio"]),
    ],
)
def test_balanced_keeps_the_top_rung_alone_and_groups_the_cheaper_rungs_and_audio(
    size: tuple[int, int], frame_rate: float, expected: list[str]
) -> None:
    plan = plan_jobs(
        REQUEST, source(*size, frame_rate=frame_rate), settings(job_strategy="balanced")
    )
    per_rung = plan_jobs(REQUEST, source(*size, frame_rate=frame_rate), settings())

    assert [job.name for job in plan.jobs] == [*expected, "thumbnails"]
    # The same renditions as one job per rung, each once, each writing where it would alone.
    members = [member for job in plan.jobs for member in job.members()]
    assert sorted(m.model_dump_json() for m in members) == sorted(
        job.model_dump_json() for job in per_rung.jobs
    )
    for job in plan.jobs:
        assert job.output_prefix == ("vid/hls/" if job.group else per_rung_prefix(job.name))


def per_rung_prefix(name: str) -> str:
    return "vid/thumbs/" if name == "thumbnails" else f"vid/hls/{name}/"


def test_balanced_without_audio_and_with_one_rung() -> None:
    silent = plan_jobs(
        REQUEST, source(1280, 720, has_audio=False), settings(job_strategy="balanced")
    )
    assert [job.name for job in silent.jobs] == ["720p", "480p+360p+240p", "thumbnails"]

    tiny = plan_jobs(REQUEST, source(426, 240), settings(job_strategy="balanced"))
    assert [job.name for job in tiny.jobs] == ["240p+audio", "thumbnails"]
    assert tiny.jobs[0].output_prefix == "vid/hls/"


def test_the_strategy_comes_from_the_environment() -> None:
    assert settings_from({"JOB_STRATEGY": "balanced"}).job_strategy == "balanced"
    with pytest.raises(ValueError, match="job_strategy"):
        settings_from({"JOB_STRATEGY": "fastest"})
