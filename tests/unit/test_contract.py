"""The two sides of the job contract accept each other's JSON.

`lambdas/pipeline/contract.py` (state machine, probe, finaliser) and
`transcoder_image/transcoder/contract.py` (the container) are deliberate copies.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from lambdas.pipeline import contract as pipeline
from transcoder import contract as transcoder

MODEL_PAIRS = [
    (pipeline.TranscodeJob, transcoder.TranscodeJob),
    (pipeline.SourceHints, transcoder.SourceHints),
    (pipeline.ChunkSpec, transcoder.ChunkSpec),
    (pipeline.VideoRendition, transcoder.VideoRendition),
    (pipeline.AudioRendition, transcoder.AudioRendition),
    (pipeline.ThumbnailsRendition, transcoder.ThumbnailsRendition),
    (pipeline.JobResult, transcoder.JobResult),
    (pipeline.ThumbnailsResult, transcoder.ThumbnailsResult),
]

VIDEO_JOB = pipeline.TranscodeJob(
    video_id="vid-1",
    source_key="vid-1/source.mov",
    source_version="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    output_prefix="vid-1/hls/720p/",
    segment_seconds=4,
    gop_seconds=2.0,
    rendition=pipeline.VideoRendition(
        name="720p",
        width=1280,
        height=720,
        frame_rate=29.97,
        crf=22,
        max_bitrate_kbps=3000,
        preset="medium",
    ),
)
CHUNK_JOB = VIDEO_JOB.model_copy(
    update={
        "chunk": pipeline.ChunkSpec(
            index=2, count=5, start_seconds=240, duration_seconds=120, first_segment_number=60
        )
    }
)
HEVC_JOB = VIDEO_JOB.model_copy(
    update={
        "source": pipeline.SourceHints(interlaced=True, transfer="hlg"),
        "rendition": VIDEO_JOB.rendition.model_copy(update={"name": "720p-hevc", "codec": "hevc"}),
    }
)
AV1_JOB = VIDEO_JOB.model_copy(
    update={
        "rendition": VIDEO_JOB.rendition.model_copy(
            update={"name": "720p-av1", "codec": "av1", "crf": 35, "preset": "8"}
        ),
    }
)
AUDIO_JOB = pipeline.TranscodeJob(
    video_id="vid-1",
    source_key="vid-1/source.mov",
    source_version="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    output_prefix="vid-1/hls/audio/",
    source=pipeline.SourceHints(audio_stream=1),
    rendition=pipeline.AudioRendition(bitrate_kbps=96, channels=1, sample_rate=44100),
)
THUMBNAILS_JOB = pipeline.TranscodeJob(
    video_id="vid-1",
    source_key="vid-1/source.mov",
    source_version="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    output_prefix="vid-1/thumbs/",
    rendition=pipeline.ThumbnailsRendition(
        duration_seconds=7.5,
        poster_width=1280,
        poster_height=720,
        tile_width=160,
        tile_height=90,
        tile_interval_seconds=1,
        columns=8,
        rows=1,
    ),
)

VIDEO_RESULT = transcoder.JobResult(
    video_id="vid-1",
    name="720p",
    kind="video",
    playlist_key="vid-1/hls/720p/index.m3u8",
    init_key="vid-1/hls/720p/init.mp4",
    segment_keys=["vid-1/hls/720p/seg_00000.m4s", "vid-1/hls/720p/seg_00001.m4s"],
    segment_durations=[4.0, 3.5],
    codecs="avc1.64001f",
    duration_seconds=7.5,
    start_seconds=10.0,
    target_duration=4,
    average_bitrate_bps=2_100_000,
    peak_bitrate_bps=2_900_000,
    output_bytes=1_970_000,
    width=1280,
    height=720,
    frame_rate=29.97,
    ssim=0.987,
    encode_wall_seconds=6.2,
    encode_cpu_seconds=11.9,
    peak_memory_bytes=300 * 2**20,
)
AUDIO_RESULT = transcoder.JobResult(
    video_id="vid-1",
    name="audio",
    kind="audio",
    playlist_key="vid-1/hls/audio/index.m3u8",
    init_key="vid-1/hls/audio/init.mp4",
    segment_keys=["vid-1/hls/audio/seg_00000.m4s"],
    segment_durations=[3.03],
    codecs="mp4a.40.2",
    duration_seconds=3.03,
    start_seconds=9.978,
    target_duration=3,
    average_bitrate_bps=129_000,
    peak_bitrate_bps=129_000,
    output_bytes=50_000,
    channels=2,
    sample_rate=48_000,
    encode_wall_seconds=0.2,
    encode_cpu_seconds=0.15,
    peak_memory_bytes=60 * 2**20,
)
THUMBNAILS_RESULT = transcoder.ThumbnailsResult(
    video_id="vid-1",
    name="thumbnails",
    kind="thumbnails",
    poster_key="vid-1/thumbs/poster.jpg",
    poster_time_seconds=2.2,
    preview_keys=["vid-1/thumbs/preview_01.jpg"],
    storyboard_image_key="vid-1/thumbs/storyboard.jpg",
    storyboard_vtt_key="vid-1/thumbs/storyboard.vtt",
    tile_count=8,
    output_bytes=120_000,
    encode_wall_seconds=0.5,
    encode_cpu_seconds=0.4,
    peak_memory_bytes=80 * 2**20,
)


def _without_prose(schema: Any) -> Any:
    """The schema minus titles and descriptions: docstrings may differ, the data may not."""
    if isinstance(schema, dict):
        return {
            key: _without_prose(value)
            for key, value in schema.items()
            if key not in {"title", "description"}
        }
    if isinstance(schema, list):
        return [_without_prose(item) for item in schema]
    return schema


@pytest.mark.parametrize("mode", ["validation", "serialization"])
@pytest.mark.parametrize(
    ("pipeline_model", "transcoder_model"), MODEL_PAIRS, ids=lambda m: m.__name__
)
def test_json_schemas_match(
    pipeline_model: type[BaseModel],
    transcoder_model: type[BaseModel],
    mode: Literal["validation", "serialization"],
) -> None:
    ours = _without_prose(pipeline_model.model_json_schema(mode=mode))
    theirs = _without_prose(transcoder_model.model_json_schema(mode=mode))

    # Named separately first, so a failure says which field drifted.
    assert ours["properties"].keys() == theirs["properties"].keys()
    assert ours.get("required", []) == theirs.get("required", [])
    for name, field in ours["properties"].items():
        assert field == theirs["properties"][name], name
    assert ours == theirs


@pytest.mark.parametrize(
    "job",
    [VIDEO_JOB, CHUNK_JOB, HEVC_JOB, AV1_JOB, AUDIO_JOB, THUMBNAILS_JOB],
    ids=["video", "chunk", "hevc", "av1", "audio", "thumbnails"],
)
def test_a_planned_job_is_read_by_the_transcoder(job: pipeline.TranscodeJob) -> None:
    # Given the JSON the state machine passes in STREAMFORGE_JOB
    payload = job.model_dump_json()

    # When the transcoder parses it
    parsed = transcoder.TranscodeJob.model_validate_json(payload)

    # Then nothing is lost or changed on the way
    assert parsed.model_dump(mode="json") == job.model_dump(mode="json")
    assert parsed.name == job.name
    assert type(parsed.rendition).__name__ == type(job.rendition).__name__


@pytest.mark.parametrize(
    ("result", "model"),
    [
        (VIDEO_RESULT, pipeline.JobResult),
        (AUDIO_RESULT, pipeline.JobResult),
        (THUMBNAILS_RESULT, pipeline.ThumbnailsResult),
    ],
    ids=["video", "audio", "thumbnails"],
)
def test_a_transcoder_result_is_read_by_the_finaliser(
    result: transcoder.JobResult | transcoder.ThumbnailsResult, model: type[BaseModel]
) -> None:
    payload = result.model_dump_json()

    parsed = model.model_validate_json(payload)

    assert parsed.model_dump(mode="json") == result.model_dump(mode="json")


def test_a_job_without_source_hints_still_parses_on_both_sides() -> None:
    # Jobs planned before the hints existed (or by hand) decode the source as SDR progressive.
    payload = VIDEO_JOB.model_dump(mode="json")
    del payload["source"]

    parsed = transcoder.TranscodeJob.model_validate(payload)

    assert parsed.source == transcoder.SourceHints()
    assert parsed.rendition.kind == "video" and parsed.rendition.codec == "h264"


@pytest.mark.parametrize("side", [pipeline.TranscodeJob, transcoder.TranscodeJob])
@pytest.mark.parametrize("version", [None, ""], ids=["missing", "empty"])
def test_a_job_that_does_not_pin_the_source_version_is_refused_on_both_sides(
    side: type[BaseModel], version: str | None
) -> None:
    # An unpinned job would read whatever the source key holds when the task starts.
    payload = VIDEO_JOB.model_dump(mode="json")
    if version is None:
        del payload["source_version"]
    else:
        payload["source_version"] = version

    with pytest.raises(ValueError, match="source_version"):
        side.model_validate(payload)


def test_both_sides_agree_on_where_results_go_and_what_carries_the_job() -> None:
    assert transcoder.JOB_ENV_VAR == pipeline.JOB_ENV_VAR
    assert transcoder.result_key("vid-1", "720p") == pipeline.result_key("vid-1", "720p")


def test_the_transcoder_rejects_fields_it_does_not_know() -> None:
    # Both sides forbid extra fields: a field added on one side only fails here, loudly.
    payload = VIDEO_JOB.model_dump(mode="json") | {"surprise": 1}

    with pytest.raises(ValueError, match="surprise"):
        transcoder.TranscodeJob.model_validate(payload)


GROUP_JOB = pipeline.TranscodeJob(
    video_id="vid-1",
    source_key="vid-1/source.mov",
    source_version="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    output_prefix="vid-1/hls/",
    rendition=VIDEO_JOB.rendition.model_copy(update={"name": "480p", "width": 854, "height": 480}),
    group=[
        VIDEO_JOB.rendition.model_copy(update={"name": "360p", "width": 640, "height": 360}),
        pipeline.AudioRendition(),
    ],
)


def test_a_grouped_job_is_read_by_the_transcoder_with_each_members_own_prefix() -> None:
    parsed = transcoder.TranscodeJob.model_validate_json(GROUP_JOB.model_dump_json())

    assert parsed.model_dump(mode="json") == GROUP_JOB.model_dump(mode="json")
    assert parsed.name == GROUP_JOB.name == "480p+360p+audio"
    ours = [(m.name, m.output_prefix, m.model_dump_json()) for m in GROUP_JOB.members()]
    theirs = [(m.name, m.output_prefix, m.model_dump_json()) for m in parsed.members()]
    assert ours == theirs
    assert [(name, prefix) for name, prefix, _ in ours] == [
        ("480p", "vid-1/hls/480p/"),
        ("360p", "vid-1/hls/360p/"),
        ("audio", "vid-1/hls/audio/"),
    ]
    assert all('"group"' not in payload for _, _, payload in ours)


@pytest.mark.parametrize(
    "job", [VIDEO_JOB, AUDIO_JOB, THUMBNAILS_JOB], ids=["video", "audio", "thumbnails"]
)
def test_a_single_jobs_json_has_no_group_field(job: pipeline.TranscodeJob) -> None:
    # So the default (one job per rung) hands the transcoder the very JSON it did before.
    assert "group" not in job.model_dump(mode="json")
    assert job.members() == [job] and job.renditions == [job.rendition]


@pytest.mark.parametrize("side", [pipeline, transcoder], ids=["pipeline", "transcoder"])
def test_groups_refuse_thumbnails_and_repeated_names(side: Any) -> None:
    base = GROUP_JOB.model_dump(mode="json")
    with pytest.raises(ValueError, match="unique"):
        side.TranscodeJob.model_validate(base | {"group": [base["rendition"]]})
    with pytest.raises(ValueError, match="thumbnails"):
        side.TranscodeJob.model_validate(
            base | {"rendition": THUMBNAILS_JOB.model_dump(mode="json")["rendition"]}
        )
    with pytest.raises(ValueError):  # a thumbnails rendition is never a group member
        side.TranscodeJob.model_validate(
            base | {"group": [THUMBNAILS_JOB.model_dump(mode="json")["rendition"]]}
        )


def test_an_unchunked_jobs_json_has_no_chunk_field_and_a_chunks_result_has_its_own_key() -> None:
    assert "chunk" not in json.loads(VIDEO_JOB.model_dump_json())
    chunk = CHUNK_JOB.chunk
    assert pipeline.result_key("vid-1", "720p", chunk) == "vid-1/jobs/720p/chunk-0002.json"
    assert transcoder.result_key("vid-1", "720p", chunk) == pipeline.result_key(
        "vid-1", "720p", chunk
    )  # type: ignore[arg-type]
    assert pipeline.result_key("vid-1", "720p") == "vid-1/jobs/720p.json"


def test_only_video_renditions_are_chunked() -> None:
    with pytest.raises(ValueError, match="only video renditions"):
        pipeline.TranscodeJob.model_validate(AUDIO_JOB.model_dump() | {"chunk": CHUNK_JOB.chunk})
