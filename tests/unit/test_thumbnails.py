"""The thumbnails job's pure parts: its FFmpeg command, the poster choice and the storyboard's
WebVTT."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from transcoder.contract import SourceHints, ThumbnailsRendition, TranscodeJob
from transcoder.ffmpeg_process import EncodeStats, JobFailedError
from transcoder.thumbnails import (
    CANDIDATE_PATTERN,
    CANDIDATE_STATS_NAME,
    POSTER_NAME,
    PREVIEW_PATTERN,
    STORYBOARD_IMAGE_NAME,
    STORYBOARD_VTT_NAME,
    TILE_TIMES_NAME,
    FrameStats,
    build_thumbnails_command,
    choose_poster,
    collect,
    first_frames_at,
    parse_frame_metadata,
    poster_candidate_times,
    preview_times,
    storyboard_vtt,
    tile_selection,
)

OUT = Path("/work/out")
WORK = Path("/work")
URL = "https://uploads.s3.amazonaws.com/v1/source.mov?X-Amz-Signature=abc"


def spec(**changes: Any) -> ThumbnailsRendition:
    fields: dict[str, Any] = {
        "duration_seconds": 10.0,
        "poster_width": 640,
        "poster_height": 360,
        "tile_width": 160,
        "tile_height": 90,
        "tile_interval_seconds": 1,
        "columns": 10,
        "rows": 1,
    }
    return ThumbnailsRendition(**(fields | changes))


def job(rendition: ThumbnailsRendition | None = None, **hints: Any) -> TranscodeJob:
    return TranscodeJob(
        video_id="v1",
        source_key="v1/source.mov",
        source_version="1",
        output_prefix="v1/thumbs/",
        source=SourceHints(**hints),
        rendition=rendition or spec(),
    )


def option_values(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == name]


# --- command --------------------------------------------------------------------------


def test_one_pass_writes_storyboard_candidates_and_previews() -> None:
    command = build_thumbnails_command(job(), URL, OUT, WORK, ffmpeg="/opt/ffmpeg")

    assert command[0] == "/opt/ffmpeg"
    assert option_values(command, "-i") == [URL]
    assert option_values(command, "-map") == ["[storyboard]", "[candidates]", "[previews]"]
    outputs = [arg for arg in command if arg.endswith(".jpg")]
    assert outputs == [
        "/work/out/storyboard.jpg",
        "/work/candidate_%03d.jpg",  # not published: the winner becomes poster.jpg
        "/work/out/preview_%02d.jpg",
    ]
    assert set(option_values(command, "-fps_mode")) == {"passthrough"}  # no duplicated frames
    assert option_values(command, "-reconnect") == ["1"]


def test_the_graph_decodes_once_and_selects_before_scaling() -> None:
    command = build_thumbnails_command(job(), URL, OUT, WORK)
    graph = command[command.index("-filter_complex") + 1]
    chains = graph.split(";")

    assert chains[0] == ("[0:V:0]setpts=PTS-STARTPTS,split=3[tiles_in][candidates_in][previews_in]")
    for chain in chains[1:]:
        filters = chain.split("]", 1)[1].split(",")
        assert filters[0].startswith("select=")
    assert "tile=10x1" in chains[1]
    assert "scale=160:90:flags=bicubic" in chains[1]
    assert "metadata=mode=print:file=/work/tiles.txt" in chains[1]
    assert "signalstats" in chains[2] and "scale=640:360:flags=lanczos" in chains[2]
    assert "metadata=mode=print:file=/work/candidates.txt" in chains[2]


def test_hdr_and_interlaced_sources_are_handled_as_for_the_rungs() -> None:
    command = build_thumbnails_command(job(interlaced=True, transfer="pq"), URL, OUT, WORK)
    graph = command[command.index("-filter_complex") + 1]

    assert graph.startswith("[0:V:0]setpts=PTS-STARTPTS,bwdif=mode=send_frame:")
    assert graph.count("tonemap=tonemap=hable") == 3  # on the selected frames of each branch


def test_without_previews_there_is_no_preview_branch() -> None:
    command = build_thumbnails_command(job(spec(preview_count=0)), URL, OUT, WORK)

    assert "[previews]" not in command
    assert "split=2" in command[command.index("-filter_complex") + 1]


def test_work_paths_that_would_need_escaping_are_refused() -> None:
    with pytest.raises(ValueError, match="filtergraph"):
        build_thumbnails_command(job(), URL, OUT, Path("/tmp/it's here"))


# --- which frames -----------------------------------------------------------------------


def test_poster_candidates_spread_over_10_to_50_percent() -> None:
    assert poster_candidate_times(spec(poster_candidates=5)) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert poster_candidate_times(spec(poster_candidates=1)) == [3.0]


def test_previews_spread_over_the_whole_video_avoiding_both_ends() -> None:
    assert preview_times(spec(preview_count=4)) == [2.0, 4.0, 6.0, 8.0]


def test_select_expressions_pick_the_first_frame_at_or_after_each_time() -> None:
    assert (
        first_frames_at([1.0, 2.5]) == "gte(t,1.000)*lt(prev_t,1.000)+gte(t,2.500)*lt(prev_t,2.500)"
    )
    assert first_frames_at([]) == "0"
    assert tile_selection(spec(tile_interval_seconds=2, columns=3, rows=2)) == (
        "(isnan(prev_t)+gt(floor(t/2),floor(prev_t/2)))*lt(t,12)"
    )


METADATA = """\
frame:0    pts:0       pts_time:0
lavfi.signalstats.YLOW=16
lavfi.signalstats.YAVG=16.5
lavfi.signalstats.YHIGH=17
frame:1    pts:7680    pts_time:0.6
lavfi.signalstats.YLOW=12
lavfi.signalstats.YAVG=50.4949
lavfi.signalstats.YHIGH=90
frame:2    pts:17920   pts_time:1.4
lavfi.signalstats.YLOW=27
lavfi.signalstats.YAVG=117.275
lavfi.signalstats.YHIGH=208
frame:3    pts:28160   pts_time:2.2
lavfi.signalstats.YLOW=27
lavfi.signalstats.YAVG=120
lavfi.signalstats.YHIGH=208
"""


def test_frame_metadata_is_read_per_frame() -> None:
    frames = parse_frame_metadata(METADATA)

    assert [frame.time for frame in frames] == [0.0, 0.6, 1.4, 2.2]
    assert frames[1].stats == {"YLOW": 12.0, "YAVG": 50.4949, "YHIGH": 90.0}


def test_the_poster_is_the_widest_luma_spread_not_a_fade_nor_black() -> None:
    # frame 1 is mid fade-in, frame 0 black; 2 and 3 tie: the earlier wins
    assert choose_poster(parse_frame_metadata(METADATA)) == 2


def test_a_frame_that_is_almost_black_or_white_on_average_is_marked_down() -> None:
    dark = FrameStats(1.0, {"YLOW": 0, "YAVG": 12, "YHIGH": 120})  # a few bright specks
    plain = FrameStats(2.0, {"YLOW": 80, "YAVG": 120, "YHIGH": 160})

    assert choose_poster([dark, plain]) == 1


def test_the_first_frame_is_only_the_last_resort() -> None:
    first = FrameStats(0.0, {"YLOW": 0, "YAVG": 128, "YHIGH": 255})
    later = FrameStats(0.5, {"YLOW": 100, "YAVG": 128, "YHIGH": 140})

    assert choose_poster([first, later]) == 1
    assert choose_poster([first]) == 0
    with pytest.raises(ValueError):
        choose_poster([])


# --- storyboard WebVTT ----------------------------------------------------------------

_CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


def cues(text: str) -> list[tuple[float, float, str]]:
    lines = text.splitlines()
    assert lines[0] == "WEBVTT"
    found = []
    for index, line in enumerate(lines):
        match = _CUE.match(line)
        if match:
            h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
            start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
            end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
            found.append((start, end, lines[index + 1]))
    return found


def test_storyboard_cues_are_back_to_back_from_zero_to_the_end() -> None:
    text = storyboard_vtt([0.0, 1.0, 2.04, 3.0], spec(duration_seconds=3.5, columns=2, rows=2))

    assert cues(text) == [
        (0.0, 1.0, "storyboard.jpg#xywh=0,0,160,90"),
        (1.0, 2.04, "storyboard.jpg#xywh=160,0,160,90"),
        (2.04, 3.0, "storyboard.jpg#xywh=0,90,160,90"),
        (3.0, 3.5, "storyboard.jpg#xywh=160,90,160,90"),
    ]
    assert text.endswith("\n")


def test_a_late_first_tile_still_covers_the_start_and_extra_tiles_are_ignored() -> None:
    text = storyboard_vtt([0.2, 1.0, 2.0], spec(duration_seconds=1.5, columns=2, rows=1))

    assert [(start, end) for start, end, _ in cues(text)] == [(0.0, 1.0), (1.0, 1.5)]


def test_hour_long_videos_get_hour_timestamps() -> None:
    text = storyboard_vtt([0.0, 3600.0], spec(duration_seconds=3636.25, columns=2))

    assert "01:00:00.000 --> 01:00:36.250" in text


def test_a_storyboard_without_tiles_is_an_error() -> None:
    with pytest.raises(ValueError):
        storyboard_vtt([], spec())


# --- collecting what the pass wrote -------------------------------------------------------

TILES = "frame:0 pts:0 pts_time:0\nframe:1 pts:25 pts_time:1\nframe:2 pts:50 pts_time:2\n"
STATS = EncodeStats(wall_seconds=1.23456, cpu_seconds=2.5, peak_memory_bytes=1000)


def pass_output(tmp_path: Path, *, previews: int = 2) -> tuple[Path, Path]:
    """What the FFmpeg pass leaves: frame logs and candidates in work, the rest in out."""
    work, out = tmp_path, tmp_path / "out"
    out.mkdir()
    (work / TILE_TIMES_NAME).write_text(TILES)
    (work / CANDIDATE_STATS_NAME).write_text(METADATA)
    for index in range(1, 5):
        (work / (CANDIDATE_PATTERN % index)).write_bytes(b"candidate %d" % index)
    for index in range(1, previews + 1):
        (out / (PREVIEW_PATTERN % index)).write_bytes(b"preview")
    (out / STORYBOARD_IMAGE_NAME).write_bytes(b"sheet")
    return work, out


def test_collect_makes_the_best_candidate_the_poster_and_the_tiles_the_cues(
    tmp_path: Path,
) -> None:
    work, out = pass_output(tmp_path)
    rendition = spec(columns=3, rows=1, duration_seconds=3.0)

    names, result = collect(job(rendition), rendition, out, work, STATS)

    # candidate 2 (0-based) has the widest spread: image2 numbered it 3
    assert (out / POSTER_NAME).read_bytes() == b"candidate 3"
    assert result.poster_time_seconds == 1.4
    assert names == [
        POSTER_NAME,
        "preview_01.jpg",
        "preview_02.jpg",
        "storyboard.jpg",
        "storyboard.vtt",
    ]
    assert (out / STORYBOARD_VTT_NAME).read_text() == storyboard_vtt([0, 1, 2], rendition)
    assert result.tile_count == 3
    assert result.poster_key == "v1/thumbs/poster.jpg"
    assert result.preview_keys == ["v1/thumbs/preview_01.jpg", "v1/thumbs/preview_02.jpg"]
    assert result.output_bytes == sum((out / name).stat().st_size for name in names)
    assert (result.encode_wall_seconds, result.peak_memory_bytes) == (1.235, 1000)


def test_collect_fails_the_job_when_the_pass_left_something_out(tmp_path: Path) -> None:
    work, out = pass_output(tmp_path)
    (out / STORYBOARD_IMAGE_NAME).unlink()
    with pytest.raises(JobFailedError, match=r"storyboard\.jpg"):
        collect(job(), spec(), out, work, STATS)

    (work / TILE_TIMES_NAME).unlink()
    with pytest.raises(JobFailedError, match="no storyboard tiles"):
        collect(job(), spec(), out, work, STATS)
