"""The floor's FFmpeg command: one input, one decode split per rung, and for every job the
very output arguments the transcoder's own command has (tested by what it returns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.floor import decode_only_command, single_decode_command
from tests.unit.test_bench_models import LADDER_1080
from transcoder.command import PLAYLIST_NAME, build_ffmpeg_command
from transcoder.contract import TranscodeJob

SOURCE = Path("/work/source.mp4")
OUT = Path("/work/floor")


def own_command(job: TranscodeJob) -> list[str]:
    return build_ffmpeg_command(job, str(SOURCE), OUT / job.name)


def own_outputs(job: TranscodeJob) -> list[str]:
    """The job's own output arguments: everything after `-i SOURCE`."""
    command = own_command(job)
    return command[command.index("-i") + 2 :]


def option(arguments: list[str], name: str) -> str:
    return arguments[arguments.index(name) + 1]


def test_the_floor_reads_the_source_once() -> None:
    command = single_decode_command(LADDER_1080, SOURCE, OUT)
    assert command.count("-i") == 1
    assert option(command, "-i") == str(SOURCE)
    # the transcoder's global options come first, unchanged
    head = own_command(LADDER_1080[0])
    assert command[: head.index("-i")] == head[: head.index("-i")]


def test_one_decode_is_split_into_each_rungs_own_filter_chain() -> None:
    command = single_decode_command(LADDER_1080, SOURCE, OUT)
    graph = option(command, "-filter_complex").split(";")
    videos = LADDER_1080[:4]
    stream = option(own_outputs(videos[0]), "-map")
    assert graph[0] == f"[{stream}]split=4[s0][s1][s2][s3]"
    for index, job in enumerate(videos):
        assert graph[index + 1] == f"[s{index}]{option(own_outputs(job), '-vf')}[v{index}]"
    assert "-vf" not in command


def test_every_job_keeps_its_own_output_arguments_in_order() -> None:
    command = single_decode_command(LADDER_1080, SOURCE, OUT)
    outputs = command[command.index("-filter_complex") + 2 :]
    expected: list[str] = []
    for index, job in enumerate(LADDER_1080):
        own = own_outputs(job)
        if job.rendition.kind == "video":
            at = own.index("-vf")
            del own[at : at + 2]
            own[own.index("-map") + 1] = f"[v{index}]"
        expected += own
    assert outputs == expected


def test_each_rendition_is_its_own_hls_output_in_its_own_directory() -> None:
    command = single_decode_command(LADDER_1080, SOURCE, OUT)
    playlists = [arg for arg in command if arg.endswith(PLAYLIST_NAME)]
    assert playlists == [str(OUT / job.name / PLAYLIST_NAME) for job in LADDER_1080]
    # audio is mapped from the source as the audio job maps it, not through the graph
    audio = own_outputs(LADDER_1080[-1])
    assert option(audio, "-map") in command


def test_audio_alone_needs_no_filter_graph() -> None:
    command = single_decode_command(LADDER_1080[-1:], SOURCE, OUT)
    assert "-filter_complex" not in command
    assert command[command.index("-i") + 2 :] == own_outputs(LADDER_1080[-1])


def test_no_jobs_is_an_error() -> None:
    with pytest.raises(ValueError, match="no jobs"):
        single_decode_command([], SOURCE, OUT)


def test_decode_only_decodes_every_stream_into_nothing() -> None:
    command = decode_only_command(SOURCE)
    assert command[0] == "ffmpeg"
    assert command[-3:] == ["-f", "null", "-"]
    assert option(command, "-i") == str(SOURCE)
