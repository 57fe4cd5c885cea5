"""`python -m local process` as a person runs it: a subprocess with its own offline stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import m3u8

from tests.e2e.checks import check_media_playlist, rung_keyframes, rung_size
from tests.support.media import make_not_a_video

REPO = Path(__file__).resolve().parents[2]


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'transcoder_image'}"}
    for leaked in ("AWS_ENDPOINT_URL", "MOTO_PORT"):  # the session stack's, not this one's
        env.pop(leaked, None)
    return subprocess.run(
        [sys.executable, "-m", "local", "process", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_720p_clip_with_audio_completes_with_a_playable_ladder(
    clip_720p: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run_process(str(clip_720p), "--title", "My clip", "--out", str(out), cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    video = json.loads(done.stdout)  # stdout is exactly the final record
    assert video["status"] == "COMPLETED" and video["title"] == "My clip"
    for rendition in video["renditions"]:  # quality is measured and reported per rung
        if rendition["kind"] == "video":
            assert 0.9 < rendition["ssim"] <= 1.0, rendition
    names = sorted(r["name"] for r in video["renditions"])
    assert names == ["240p", "360p", "480p", "720p", "audio"]

    master = m3u8.load(str(out / "hls" / "master.m3u8"))
    assert [p.uri for p in master.playlists] == [
        "720p/index.m3u8",
        "480p/index.m3u8",
        "360p/index.m3u8",
        "240p/index.m3u8",
    ]
    assert master.media[0].uri == "audio/index.m3u8"
    expected_sizes = {
        "720p": (1280, 720),
        "480p": (854, 480),
        "360p": (640, 360),
        "240p": (426, 240),
    }
    keyframes = {}
    for variant in master.playlists:
        name = variant.uri.split("/")[0]
        playlist_path = out / "hls" / variant.uri
        check_media_playlist(playlist_path)
        assert rung_size(playlist_path) == expected_sizes[name]
        assert variant.stream_info.resolution == expected_sizes[name]
        keyframes[name] = rung_keyframes(playlist_path)
    check_media_playlist(out / "hls" / "audio" / "index.m3u8")
    assert len(keyframes["720p"]) >= 2
    assert keyframes["720p"] == keyframes["480p"] == keyframes["360p"] == keyframes["240p"]
    assert (out / "dash" / "manifest.mpd").is_file()
    assert {p.name for p in (out / "thumbs").iterdir()} >= {
        "poster.jpg",
        "storyboard.jpg",
        "storyboard.vtt",
    }
    assert not (out / "jobs").exists()  # bookkeeping is not media


def test_a_file_that_is_not_a_video_ends_failed_with_exit_code_1(tmp_path: Path) -> None:
    fake = make_not_a_video(tmp_path / "holiday.mp4")
    done = run_process(str(fake), "--out", str(tmp_path / "out"), cwd=REPO)
    assert done.returncode == 1, done.stderr[-3000:]
    video = json.loads(done.stdout)
    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "NOT_A_VIDEO"
    assert "not a video" in video["error"]["message"]
    assert not (tmp_path / "out").exists()


def test_the_balanced_strategy_completes_with_the_same_renditions_from_fewer_tasks(
    clip_720p: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run_process(str(clip_720p), "--job-strategy", "balanced", "--out", str(out), cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    video = json.loads(done.stdout)
    assert video["status"] == "COMPLETED"
    renditions = {r["name"]: r for r in video["renditions"]}
    assert sorted(renditions) == ["240p", "360p", "480p", "720p", "audio"]  # as per_rung
    # The top rung had a task of its own; the cheaper rungs and audio shared one.
    arns = {name: r["taskArn"] for name, r in renditions.items()}
    assert all(arns.values())
    shared = {arns[name] for name in ("480p", "360p", "240p", "audio")}
    assert len(shared) == 1 and arns["720p"] not in shared
    probe = [e for e in video["processingLog"] if e["stage"] == "probe"]
    assert "planned 720p, 480p+360p+240p+audio, thumbnails" in probe[-1]["message"]
    assert all(0.9 < r["ssim"] <= 1.0 for r in renditions.values() if r["kind"] == "video")

    master = m3u8.load(str(out / "hls" / "master.m3u8"))
    assert [p.uri for p in master.playlists] == [
        "720p/index.m3u8",
        "480p/index.m3u8",
        "360p/index.m3u8",
        "240p/index.m3u8",
    ]
    keyframes = {}
    for variant in master.playlists:
        playlist_path = out / "hls" / variant.uri
        check_media_playlist(playlist_path)
        keyframes[variant.uri.split("/")[0]] = rung_keyframes(playlist_path)
    check_media_playlist(out / "hls" / "audio" / "index.m3u8")
    assert len(keyframes["720p"]) >= 2
    assert keyframes["720p"] == keyframes["480p"] == keyframes["360p"] == keyframes["240p"]
    assert (out / "dash" / "manifest.mpd").is_file()
