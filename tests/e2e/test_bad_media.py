"""A corpus of bad uploads, generated here. Each ends in a terminal state: COMPLETED where
the media is usable; otherwise FAILED with a message naming the cause, exactly one
dead-letter message, and nothing published."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import m3u8
import pytest
import requests

from local.client import ApiClient, ApiError
from local.media import download_media
from local.stack import OfflineStack
from tests.e2e.test_pipeline import dead_letters, media_keys
from tests.support.media import make_clip, make_not_a_video


def _small(path: Path) -> Path:
    return make_clip(path, width=640, height=360, seconds=3.0)


def text_named_mp4(path: Path) -> Path:
    return make_not_a_video(path)


def truncated(path: Path) -> Path:
    """Cut in half: the index (moov), which FFmpeg writes last, is gone."""
    whole = _small(path.with_name("whole.mp4")).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def truncated_after_index(path: Path) -> Path:
    """Index first (faststart), then cut: the index promises frames the file lacks."""
    whole = _small(path.with_name("whole.mp4"))
    fast = path.with_name("fast.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(whole), "-c", "copy",
         "-movflags", "+faststart", str(fast)],
        check=True,
    )  # fmt: skip
    data = fast.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    return path


def corrupt_middle(path: Path) -> Path:
    data = bytearray(_small(path.with_name("whole.mp4")).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = os.urandom(20_000)
    path.write_bytes(bytes(data))
    return path


def single_frame(path: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def extreme_aspect(path: Path) -> Path:
    return make_clip(path, width=2000, height=100, seconds=1.0, audio=False)


CORPUS: dict[str, tuple[Callable[[Path], Path], str]] = {
    # name: (make it, expected outcome: a status or a failure code)
    "text named .mp4": (text_named_mp4, "NOT_A_VIDEO"),
    "truncated, index lost": (truncated, "INCOMPLETE_FILE"),
    "truncated after its index": (truncated_after_index, "COMPLETED"),
    "corrupted in the middle": (corrupt_middle, "COMPLETED"),
    "a single frame": (single_frame, "COMPLETED"),
    "2000x100": (extreme_aspect, "COMPLETED"),
}


def test_an_empty_file_never_reaches_storage(offline_stack: OfflineStack, tmp_path: Path) -> None:
    # Given an empty file: the API takes no zero size, so a client can only declare 1 byte
    source = tmp_path / "empty.mp4"
    source.write_bytes(b"")
    client = ApiClient(offline_stack.api_url, offline_stack.token("corpus"))
    with pytest.raises(ApiError) as refused:
        client.create_video(source, "empty", "video/mp4")
    assert refused.value.status == 400
    assert "sizeBytes" in str(refused.value.body)
    created = client.create_video(source, "empty", "video/mp4", size_bytes=1)

    # When its zero bytes are PUT to the URL signed for one
    upload = created["upload"]
    put = requests.put(upload["url"], data=b"", headers=upload["headers"], timeout=60)

    # Then S3 (the offline S3 front) refuses them, nothing is stored and the video still waits
    assert put.status_code == 403
    assert "SignatureDoesNotMatch" in put.text
    video = client.get_video(created["video"]["id"])
    assert video["status"] == "PENDING_UPLOAD"
    source_key = f"{video['id']}/source"
    uploads = offline_stack.client("s3").list_object_versions(
        Bucket=offline_stack.config.names.uploads_bucket, Prefix=source_key
    )
    assert uploads.get("Versions", []) == []


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CORPUS))
def test_bad_media_ends_in_a_terminal_state_and_publishes_nothing_unusable(
    offline_stack: OfflineStack, tmp_path: Path, case: str
) -> None:
    make, expected = CORPUS[case]
    source = make(tmp_path / "upload.mp4")
    client = ApiClient(offline_stack.api_url, offline_stack.token("corpus"))
    created = client.create_video(source, case, "video/mp4")
    video_id = created["video"]["id"]
    upload = created["upload"]
    stored = requests.put(
        upload["url"], data=source.read_bytes(), headers=upload["headers"], timeout=60
    )
    assert stored.status_code == 200, stored.text
    client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)
    video = client.get_video(video_id)
    letters = [m for m in dead_letters(offline_stack) if m["video_id"] == video_id]

    if expected == "COMPLETED":
        assert video["status"] == "COMPLETED", video["error"]
        assert letters == []
        out = tmp_path / "out"
        download_media(
            offline_stack.client("s3"), offline_stack.config.names.media_bucket, video_id, out
        )
        master = m3u8.load(str(out / "hls" / "master.m3u8"))
        assert master.playlists
        for variant in master.playlists:
            assert m3u8.load(str(out / "hls" / variant.uri)).segments
    else:
        assert video["status"] == "FAILED"
        assert video["error"]["code"] == expected
        assert len(video["error"]["message"]) > 40  # a sentence, not a bare code
        assert len(letters) == 1
        assert media_keys(offline_stack, video_id) == []
