"""Chunked encoding end to end: `python -m local process --chunk-seconds 8` on a 20 s clip
with audio runs each rung as three chunk tasks, and the stitched rungs play as one."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import m3u8
import pytest

from tests.e2e.checks import check_media_playlist, rung_keyframes
from tests.e2e.test_process_command import REPO, run_process
from tests.support.media import make_clip

CLIP_SECONDS = 20.0  # chunks of 8 s: 0-8, 8-16, 16-20
FPS = 25
MPD = "{urn:mpeg:dash:schema:mpd:2011}"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    clip = make_clip(
        tmp_path_factory.mktemp("clip") / "clip.mp4",
        width=640,
        height=360,
        seconds=CLIP_SECONDS,
        fps=FPS,
    )
    folder = tmp_path_factory.mktemp("out")
    done = run_process(str(clip), "--chunk-seconds", "8", "--out", str(folder), cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    video: dict[str, object] = json.loads(done.stdout)
    return folder, video


def ffmpeg_plays(target: Path, *extra: str) -> None:
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", *extra, "-i", str(target), "-map", "0",
         "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0 and completed.stderr == "", completed.stderr


def frame_times(playlist: Path) -> list[float]:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time",
         "-of", "csv=p=0", str(playlist)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sorted(float(line.rstrip(",")) for line in completed.stdout.split())


@pytest.mark.slow
def test_each_rung_ran_as_one_task_per_chunk_and_the_audio_as_one(
    out: tuple[Path, dict[str, object]],
) -> None:
    _, video = out
    assert video["status"] == "COMPLETED"
    stages = [entry["stage"] for entry in video["processingLog"]]  # type: ignore[attr-defined]
    for rung in ("360p", "240p"):
        assert {s for s in stages if s.startswith(f"transcode:{rung} ")} == {
            f"transcode:{rung} [0-8 s]",
            f"transcode:{rung} [8-16 s]",
            f"transcode:{rung} [16-20 s]",
        }
    assert stages.count("transcode:audio") == 1


@pytest.mark.slow
def test_the_stitched_rungs_parse_and_decode_across_every_join(
    out: tuple[Path, dict[str, object]],
) -> None:
    folder, _ = out
    master = m3u8.load(str(folder / "hls" / "master.m3u8"))
    assert [p.uri for p in master.playlists] == ["360p/index.m3u8", "240p/index.m3u8"]
    keyframes = []
    for variant in master.playlists:
        path = folder / "hls" / variant.uri
        playlist = check_media_playlist(path)
        assert [s.uri for s in playlist.segments] == [f"seg_{n:05d}.m4s" for n in range(5)]
        assert playlist.target_duration == 4
        times = frame_times(path)
        # Every frame once, evenly spaced over the joins at 8 s and 16 s: no gap, no overlap.
        assert len(times) == CLIP_SECONDS * FPS
        steps = {round(b - a, 4) for a, b in pairwise(times)}
        assert steps == {1 / FPS}
        keyframes.append(rung_keyframes(path))
    assert keyframes[0] == keyframes[1]
    ffmpeg_plays(folder / "hls" / "master.m3u8")


@pytest.mark.slow
def test_the_dash_manifest_covers_the_same_segments_and_plays(
    out: tuple[Path, dict[str, object]],
) -> None:
    folder, _ = out
    mpd = folder / "dash" / "manifest.mpd"
    root = ET.parse(mpd).getroot()
    for representation in root.iter(f"{MPD}Representation"):
        timeline = representation.find(f"{MPD}SegmentTemplate/{MPD}SegmentTimeline")
        assert timeline is not None
        count = sum(1 + int(s.get("r", "0")) for s in timeline.iter(f"{MPD}S"))
        name = representation.get("id")
        playlist = m3u8.load(str(folder / "hls" / str(name) / "index.m3u8"))
        assert count == len(playlist.segments), name
    ffmpeg_plays(mpd)
