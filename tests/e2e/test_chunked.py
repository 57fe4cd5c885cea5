"""Chunked encoding end to end: `python -m local process --chunk-seconds 8` on a 20 s clip
with audio runs each rung as three chunk tasks, and the stitched rungs play as one: in
FFmpeg, and in hls.js in Chromium across every join. With `--job-strategy chunk_ladder`,
one task per chunk encodes every rung but the early 240p, and the rungs play the same."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import m3u8
import pytest
from playwright.sync_api import Browser

from tests.e2e.checks import check_media_playlist, rung_keyframes
from tests.e2e.test_process_command import REPO, run_process
from tests.support.media import make_clip
from tests.support.static_site import serve_player_page

# One registration of the browser fixtures for the whole session: importing the fixture
# into this module would make a second session Browser, and Playwright's sync API refuses
# to start while the first one runs.
pytest_plugins = ["tests.e2e.web_fixtures"]

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
    # The 240p rung and the audio were published first, before the rest was encoded.
    assert stages.index("playable") < stages.index("finalise")
    assert video["playableAt"] <= video["processedAt"]  # type: ignore[operator]


@pytest.mark.slow
def test_the_stitched_rungs_parse_and_decode_across_every_join(
    out: tuple[Path, dict[str, object]],
) -> None:
    check_stitched_rungs(out[0], ["360p", "240p"])


def check_stitched_rungs(folder: Path, rungs: list[str]) -> None:
    """Every rung of the master parses as five segments, holds every frame once evenly
    spaced across the joins, has the others' keyframes, and decodes with -xerror."""
    master = m3u8.load(str(folder / "hls" / "master.m3u8"))
    assert [p.uri for p in master.playlists] == [f"{rung}/index.m3u8" for rung in rungs]
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
    assert all(rung == keyframes[0] for rung in keyframes[1:])
    ffmpeg_plays(folder / "hls" / "master.m3u8")


@pytest.mark.slow
def test_the_dash_manifest_covers_the_same_segments_and_plays(
    out: tuple[Path, dict[str, object]],
) -> None:
    check_dash(out[0])


@pytest.mark.slow
def test_the_download_is_remuxed_from_the_stitched_top_rung_and_plays_whole(
    out: tuple[Path, dict[str, object]],
) -> None:
    # The 360p rung, in three chunks, and the audio: one progressive MP4 of every frame
    download = out[0] / "download" / "video.mp4"
    ffmpeg_plays(download)
    times = frame_times(download)
    assert len(times) == CLIP_SECONDS * FPS
    assert times[0] == 0.0
    assert all(abs((b - a) - 1 / FPS) < 0.002 for a, b in pairwise(times))  # across the joins


def check_dash(folder: Path) -> None:
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


@pytest.fixture(scope="module")
def ladder_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The same length and chunks with --job-strategy chunk_ladder, on a 480p clip: three
    rungs, so that the one job per chunk after the early 240p holds two."""
    clip = make_clip(
        tmp_path_factory.mktemp("clip") / "clip.mp4",
        width=854,
        height=480,
        seconds=CLIP_SECONDS,
        fps=FPS,
    )
    folder = tmp_path_factory.mktemp("out")
    done = run_process(
        str(clip),
        *("--chunk-seconds", "8", "--job-strategy", "chunk_ladder", "--out", str(folder)),
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    video: dict[str, object] = json.loads(done.stdout)
    return folder, video


@pytest.mark.slow
def test_chunk_ladder_encodes_the_rest_of_each_chunk_from_one_decode_and_the_rungs_play(
    ladder_out: tuple[Path, dict[str, object]],
) -> None:
    folder, video = ladder_out
    assert video["status"] == "COMPLETED"
    stages = [entry["stage"] for entry in video["processingLog"]]  # type: ignore[attr-defined]
    transcodes = {s for s in stages if s.startswith("transcode:")}
    spans = ("[0-8 s]", "[8-16 s]", "[16-20 s]")
    assert transcodes == {
        *(f"transcode:240p {span}" for span in spans),
        *(f"transcode:480p+360p {span}" for span in spans),
        "transcode:audio",
        "transcode:thumbnails",
    }
    assert stages.index("playable") < stages.index("finalise")
    assert video["playableAt"] <= video["processedAt"]  # type: ignore[operator]
    check_stitched_rungs(folder, ["480p", "360p", "240p"])
    check_dash(folder)


HLS_JS = REPO / "web" / "node_modules" / "hls.js" / "dist" / "hls.js"
JOINS = (8.0, 16.0)
PLAYER_PAGE = """<!doctype html><html><body><video muted playsinline></video>
<script src="hls.js"></script><script>
  window.hls = new Hls({ capLevelToPlayerSize: false });
  window.hls.loadSource("media/hls/master.m3u8");
  window.hls.attachMedia(document.querySelector("video"));
  window.hlsErrors = [];
  // Fatal errors only: hls.js recovers from the others itself (a forced level switch
  // during a seek may report bufferAppendNoProgress, for one).
  window.hls.on(Hls.Events.ERROR, (_, data) => data.fatal && window.hlsErrors.push(data.details));
</script></body></html>"""


@pytest.fixture
def player_site(out: tuple[Path, dict[str, object]], tmp_path: Path) -> Iterator[str]:
    """The stitched output and hls.js served from one origin: the page plays the master."""
    with serve_player_page(tmp_path / "site", PLAYER_PAGE, HLS_JS, "hls.js", out[0]) as url:
        yield url


@pytest.mark.slow
def test_hls_js_in_chromium_plays_every_rung_across_every_join(
    browser: Browser,
    player_site: str,
) -> None:
    page = browser.new_page()
    try:
        page.goto(player_site)
        page.wait_for_function("() => window.hls.levels.length === 2", timeout=20_000)
        for level in (0, 1):
            for join in JOINS:
                # Given the rung forced and the playhead a second before the join
                page.evaluate(
                    """([level, at]) => {
                        window.hls.currentLevel = level;
                        const video = document.querySelector("video");
                        video.currentTime = at;
                        return video.play();
                    }""",
                    [level, join - 1.0],
                )
                # Then playback passes the join on that rung, with no error
                page.wait_for_function(
                    """([level, join]) => {
                        const video = document.querySelector("video");
                        return window.hls.currentLevel === level && !video.error
                            && video.currentTime > join + 0.5;
                    }""",
                    arg=[level, join],
                    timeout=30_000,
                )
        errors = page.evaluate("() => window.hlsErrors")
        assert errors == [], errors
    finally:
        page.close()
