"""Time-chunked encoding: the chunk plan, the jobs it makes, a chunk's FFmpeg command, the
stitching of a rung from its chunks' results, and the failure message of a chunk."""

from __future__ import annotations

import json
from pathlib import Path

import m3u8
import pytest

from lambdas.pipeline.chunks import chunk_length, plan_chunks
from lambdas.pipeline.contract import ChunkSpec, JobResult
from lambdas.pipeline.failure import StepError, describe_failure
from lambdas.pipeline.probe import plan_jobs
from lambdas.pipeline.stitch import StitchError, media_playlist, stitch
from tests.unit.test_probe_plan import REQUEST, HevcSettings, settings, settings_from, source
from tests.unit.test_transcoder_command import URL, option, video_job
from transcoder.command import build_ffmpeg_command, build_job_command
from transcoder.contract import ChunkSpec as TranscoderChunk

# --- the plan -------------------------------------------------------------------------


def spans(chunks: list[ChunkSpec]) -> list[tuple[float, float, int]]:
    return [(c.start_seconds, c.end_seconds, c.first_segment_number) for c in chunks]


def test_boundaries_are_multiples_of_the_segment_and_the_remainder_is_the_last_chunk() -> None:
    chunks = plan_chunks(30.0, 8, 4)

    assert spans(chunks) == [(0, 8, 0), (8, 16, 2), (16, 24, 4), (24, 30, 6)]
    assert all(c.start_seconds % 4 == 0 for c in chunks)
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert {c.count for c in chunks} == {4}
    assert [c.is_last for c in chunks] == [False, False, False, True]


def test_a_chunk_length_that_is_not_whole_segments_is_rounded_up_to_them() -> None:
    assert chunk_length(10, 4) == 12
    assert spans(plan_chunks(30.0, 10, 4)) == [(0, 12, 0), (12, 24, 3), (24, 30, 6)]


def test_a_remainder_shorter_than_a_segment_rides_with_the_chunk_before_it() -> None:
    # 16.5 s in 8 s chunks: no 0.5 s task of its own; the last chunk runs to the end.
    assert spans(plan_chunks(16.5, 8, 4)) == [(0, 8, 0), (8, 16.5, 2)]


@pytest.mark.parametrize(
    ("duration", "chunk_seconds"), [(8.0, 8), (5.0, 8), (7.9, 8), (600.0, 0), (9.0, 8)]
)
def test_no_chunks_when_off_or_when_the_source_fits_in_one(
    duration: float, chunk_seconds: int
) -> None:
    # 9 s in 8 s chunks: the 1 s remainder joins the first chunk, which is then the source.
    assert plan_chunks(duration, chunk_seconds, 4) == []


def test_a_source_shorter_than_one_chunk_is_planned_exactly_as_without_chunking() -> None:
    short = source(duration_seconds=12.5)
    assert plan_jobs(REQUEST, short, settings(chunk_seconds=60)) == plan_jobs(
        REQUEST, short, settings(chunk_seconds=0)
    )
    assert all(job.chunk is None for job in plan_jobs(REQUEST, short, settings()).jobs)


def test_per_rung_makes_one_job_per_rung_and_chunk_with_audio_and_thumbnails_whole() -> None:
    plan = plan_jobs(REQUEST, source(duration_seconds=14.0), settings(chunk_seconds=8))

    def labels(rungs: tuple[str, ...]) -> list[str]:
        return [f"{rung} [{a}-{b} s]" for rung in rungs for a, b in ((0, 8), (8, 14))]

    # The cheapest rung and the audio first, published early; then the rest.
    assert [[job.label for job in wave.jobs] for wave in plan.waves] == [
        [*labels(("240p",)), "audio"],
        [*labels(("720p", "480p", "360p")), "thumbnails"],
    ]
    assert [wave.provisional for wave in plan.waves] == [True, False]
    assert {job.output_prefix for job in plan.jobs if job.name == "480p"} == {"vid/hls/480p/"}


def test_balanced_groups_the_rungs_per_chunk_and_keeps_the_audio_whole() -> None:
    plan = plan_jobs(
        REQUEST,
        source(duration_seconds=14.0),
        settings(chunk_seconds=8, job_strategy="balanced"),
    )

    names = [(job.name, job.chunk.index if job.chunk else None) for job in plan.jobs]
    assert names == [
        ("480p+360p+240p", 0), ("480p+360p+240p", 1), ("audio", None),
        ("720p", 0), ("720p", 1), ("thumbnails", None),
    ]  # fmt: skip
    assert [len(wave.jobs) for wave in plan.waves] == [3, 3]


def test_chunk_ladder_encodes_every_rung_of_a_chunk_in_one_job_after_the_early_rung() -> None:
    plan = plan_jobs(
        REQUEST,
        source(duration_seconds=14.0),
        settings(chunk_seconds=8, job_strategy="chunk_ladder"),
    )

    # The first wave: the cheapest rung of every chunk, alone, and the audio whole; the
    # second: per chunk, one job (one decode) of every other rung.
    assert [[job.label for job in wave.jobs] for wave in plan.waves] == [
        ["240p [0-8 s]", "240p [8-14 s]", "audio"],
        ["720p+480p+360p [0-8 s]", "720p+480p+360p [8-14 s]", "thumbnails"],
    ]
    assert [wave.provisional for wave in plan.waves] == [True, False]
    for chunk in plan_chunks(14.0, 8, 4):
        rungs = [r.name for job in plan.jobs if job.chunk == chunk for r in job.renditions]
        assert rungs == ["240p", "720p", "480p", "360p"]  # every rung of the chunk, once
    grouped = [job for job in plan.jobs if job.group]
    assert {job.output_prefix for job in grouped} == {"vid/hls/"}


def test_chunk_ladder_with_both_ladders_publishes_the_h264_240p_first() -> None:
    plan = plan_jobs(
        REQUEST,
        source(duration_seconds=14.0),
        HevcSettings(
            videos_table_name="t", uploads_bucket="u", media_bucket="m",
            chunk_seconds=8, job_strategy="chunk_ladder",
        ),
    )  # fmt: skip

    first, second = plan.waves
    assert [job.name for job in first.jobs] == ["240p", "240p", "audio"]
    assert {job.name for job in second.jobs if job.chunk} == {
        "720p+480p+360p+720p-hevc+480p-hevc+360p-hevc+240p-hevc"
    }


def test_chunk_ladder_on_a_short_source_is_one_job_of_the_whole_ladder_and_audio() -> None:
    plan = plan_jobs(
        REQUEST,
        source(duration_seconds=7.0),
        settings(chunk_seconds=8, job_strategy="chunk_ladder"),
    )

    assert [[job.name for job in wave.jobs] for wave in plan.waves] == [
        ["720p+480p+360p+240p+audio", "thumbnails"]
    ]
    assert plan.waves[0].provisional is False


def test_the_chunk_length_setting_is_read_from_the_environment() -> None:
    assert settings_from({"CHUNK_SECONDS": "0"}).chunk_seconds == 0
    with pytest.raises(ValueError, match="chunk_seconds"):
        settings_from({"CHUNK_SECONDS": "-1"})


# --- a chunk's FFmpeg command ---------------------------------------------------------

SECOND = TranscoderChunk(
    index=1, count=3, start_seconds=120, duration_seconds=120, first_segment_number=30
)
LAST = TranscoderChunk(
    index=2, count=3, start_seconds=240, duration_seconds=50.5, first_segment_number=60
)


def test_a_chunk_seeks_the_input_encodes_its_length_and_continues_the_timeline() -> None:
    command = build_ffmpeg_command(video_job(chunk=SECOND), URL, Path("/out"))

    at_input = command.index("-i")
    assert command[command.index("-ss") + 1] == "120" and command.index("-ss") < at_input
    assert option(command, "-t") == "120" and command.index("-t") > at_input
    assert option(command, "-start_number") == "30"
    assert option(command, "-output_ts_offset") == "130"  # 10 s media start + 120 s
    assert option(command, "-hls_segment_options") == "movflags=+frag_discont"


def test_the_last_chunk_runs_to_the_end_of_the_source() -> None:
    command = build_ffmpeg_command(video_job(chunk=LAST), URL, Path("/out"))
    assert "-t" not in command
    assert option(command, "-ss") == "240"


def test_an_unchunked_job_neither_seeks_nor_stops_early() -> None:
    command = build_ffmpeg_command(video_job(), URL, Path("/out"))
    assert "-ss" not in command and "-t" not in command
    assert option(command, "-start_number") == "0"
    assert option(command, "-output_ts_offset") == "10"


def test_a_grouped_chunk_seeks_once_and_stops_every_output() -> None:
    first = video_job(chunk=SECOND, output_prefix="v1/hls/")
    group = first.model_copy(
        update={"group": [video_job(name="360p", width=640, height=360).rendition]}
    )
    command = build_job_command(group, URL, Path("/out"))
    assert command.count("-ss") == 1 and command.count("-i") == 1
    assert command.count("-t") == 2 and command.count("-start_number") == 2


# --- stitching --------------------------------------------------------------------------

CHUNKS = plan_chunks(19.5, 8, 4)  # 0-8, 8-19.5 (a 3.5 s remainder joins the last)


def chunk_result(chunk: ChunkSpec, sizes: list[int], durations: list[float]) -> JobResult:
    first = chunk.first_segment_number
    return JobResult(
        video_id="vid",
        name="720p",
        kind="video",
        playlist_key="vid/hls/720p/index.m3u8",
        init_key="vid/hls/720p/init.mp4",
        segment_keys=[f"vid/hls/720p/seg_{first + i:05d}.m4s" for i in range(len(sizes))],
        segment_durations=durations,
        segment_bytes=sizes,
        codecs="avc1.64001f",
        duration_seconds=sum(durations),
        start_seconds=10.0 + chunk.start_seconds,
        target_duration=4,
        average_bitrate_bps=round(sum(sizes) * 8 / sum(durations)),
        peak_bitrate_bps=round(max(s * 8 / d for s, d in zip(sizes, durations, strict=True))),
        output_bytes=1000 + sum(sizes),  # an init segment and playlist of 1000 bytes
        width=1280,
        height=720,
        frame_rate=25.0,
        ssim=0.98 if chunk.index == 0 else 0.95,
        encode_wall_seconds=10,
        encode_cpu_seconds=18,
        peak_memory_bytes=100 + chunk.index,
        chunk=chunk,
    )


RESULTS = [
    chunk_result(CHUNKS[0], [400_000, 100_000], [4.0, 4.0]),
    chunk_result(CHUNKS[1], [200_000, 200_000, 50_000], [4.0, 4.0, 3.5]),
]


def test_a_stitched_rung_lists_every_chunks_segments_with_bitrates_over_the_whole_rung() -> None:
    rung = stitch("720p", CHUNKS, RESULTS)

    assert [k.rsplit("_", 1)[1] for k in rung.segment_keys] == [f"{n:05d}.m4s" for n in range(5)]
    assert rung.duration_seconds == 19.5
    assert rung.start_seconds == 10.0
    assert rung.average_bitrate_bps == round(950_000 * 8 / 19.5)
    assert rung.peak_bitrate_bps == 800_000  # chunk 0's first segment
    assert rung.output_bytes == 1000 + 950_000  # the init segment and playlist once
    assert rung.ssim == pytest.approx((0.98 * 8 + 0.95 * 11.5) / 19.5, abs=1e-6)
    assert rung.encode_cpu_seconds == 36 and rung.peak_memory_bytes == 101
    assert rung.chunk is None


def test_the_stitched_playlist_is_a_vod_playlist_of_every_segment_under_one_map() -> None:
    text = media_playlist(stitch("720p", CHUNKS, RESULTS))
    parsed = m3u8.loads(text)

    assert parsed.is_endlist and parsed.playlist_type == "vod"
    assert parsed.target_duration == 4
    assert [s.uri for s in parsed.segments] == [f"seg_{n:05d}.m4s" for n in range(5)]
    assert [s.duration for s in parsed.segments] == [4.0, 4.0, 4.0, 4.0, 3.5]
    assert text.count("#EXT-X-MAP:") == 1 and 'URI="init.mp4"' in text


def test_the_target_duration_covers_the_longest_segment_of_any_chunk() -> None:
    long_last = [RESULTS[0], chunk_result(CHUNKS[1], [1, 1, 1], [4.0, 4.0, 4.6])]
    assert stitch("720p", CHUNKS, long_last).target_duration == 5


def test_nothing_is_stitched_while_a_chunk_has_no_result() -> None:
    with pytest.raises(StitchError, match="1 chunk results for 2 chunks"):
        stitch("720p", CHUNKS, RESULTS[:1])


def test_a_result_that_does_not_match_the_plan_is_refused() -> None:
    other = CHUNKS[1].model_copy(update={"start_seconds": 12})
    with pytest.raises(StitchError, match="another chunk"):
        stitch("720p", CHUNKS, [RESULTS[0], RESULTS[1].model_copy(update={"chunk": other})])


def test_chunks_whose_segments_do_not_join_are_refused() -> None:
    # Chunk 0 ended after two segments, but chunk 1 starts at segment 2 with only one
    # before it: a gap in the numbering.
    short_first = chunk_result(CHUNKS[0], [1], [4.0])
    with pytest.raises(StitchError, match="starts at segment 2, not 1"):
        stitch("720p", CHUNKS, [short_first, RESULTS[1]])


# --- failure ----------------------------------------------------------------------------


def test_a_failed_chunk_names_its_rendition_and_time_range() -> None:
    job = {
        "rendition": {"name": "1080p"},
        "chunk": {
            "index": 1, "count": 40, "start_seconds": 120, "duration_seconds": 120,
            "first_segment_number": 30,
        },
    }  # fmt: skip
    task = {
        "TaskArn": "arn:aws:ecs:us-east-1:1:task/c/abc",
        "Containers": [{"ExitCode": 1}],
        "Overrides": {
            "ContainerOverrides": [
                {"Environment": [{"Name": "STREAMFORGE_JOB", "Value": json.dumps(job)}]}
            ]
        },
    }
    error = StepError.model_validate({"Error": "States.TaskFailed", "Cause": json.dumps(task)})
    failure = describe_failure(error)
    assert failure.code == "TRANSCODE_FAILED"
    assert "the 1080p rendition from 2:00 to 4:00 failed" in failure.message
