"""How `python -m transcoder` ends when it cannot finish, with real FFmpeg: a SIGTERM in
the middle of an encode (a Spot reclaim gives two minutes) and an input FFmpeg refuses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.conftest import upload_source
from tests.integration.test_transcoder import video_job
from tests.support.media import make_clip
from transcoder import contract as transcoder_contract
from transcoder.runner import failure_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderEnv, TranscoderRun

# ECS sends SIGKILL two minutes after SIGTERM; the transcoder must be gone long before.
SPOT_NOTICE_SECONDS = 120


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that FFmpeg is still encoding when the signal comes."""
    return make_clip(tmp_path_factory.mktemp("long") / "long.mp4", seconds=40.0)


def _ffmpeg_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if "ffmpeg" in Path(f"/proc/{c}/cmdline").read_text()]


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_sigterm_mid_encode_stops_real_ffmpeg_and_uploads_nothing(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    transcoder_env: TranscoderEnv,
    long_clip: Path,
    tmp_path: Path,
) -> None:
    # Given a real FFmpeg encoding 40 s of 720p at a slow preset
    buckets = make_buckets()
    slow = video_job("720p", 1280, 720).model_copy(update={"output_prefix": "vid/hls/720p/"})
    rendition = slow.rendition.model_copy(update={"preset": "slow"})
    job = upload_source(
        s3, buckets.uploads, long_clip, slow.model_copy(update={"rendition": rendition})
    )
    env = transcoder_env(job.model_dump_json(), buckets)
    work = tmp_path / "work"
    work.mkdir()
    env["WORK_DIR"] = str(work)
    process = subprocess.Popen(
        [sys.executable, "-m", "transcoder"], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not (ffmpeg := _ffmpeg_children(process.pid)):
        assert process.poll() is None and time.monotonic() < deadline, "FFmpeg never started"
        time.sleep(0.05)
    while not list(work.glob("*/out/seg_*.m4s")):  # FFmpeg has written segments
        assert process.poll() is None and time.monotonic() < deadline, "no segment written"
        time.sleep(0.05)

    # When the task is told to stop, as ECS does on a Spot reclaim
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)

    # Then it exits 143 within the notice, FFmpeg is gone, and nothing reached the bucket
    assert process.wait(timeout=SPOT_NOTICE_SECONDS) == 128 + signal.SIGTERM
    assert time.monotonic() - sent < SPOT_NOTICE_SECONDS
    assert process.stderr is not None
    assert b"terminated by signal 15" in process.stderr.read()
    process.stderr.close()
    assert all(_gone(pid) for pid in ffmpeg)
    assert s3.list_objects_v2(Bucket=buckets.media)["KeyCount"] == 0
    assert not any(work.iterdir())  # the half-encoded rendition went with it


def test_an_input_ffmpeg_refuses_exits_3_and_leaves_ffmpegs_reason(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    long_clip: Path,
) -> None:
    # Given a rendition libx264 cannot encode (an odd width)
    buckets = make_buckets()
    odd = video_job("360p", 641, 360)
    job = upload_source(s3, buckets.uploads, long_clip, odd)

    run = run_transcoder(job.model_dump_json(), buckets)

    assert run.returncode == 3, run.stderr
    key = failure_key(transcoder_contract.TranscodeJob.model_validate_json(job.model_dump_json()))
    note = json.loads(s3.get_object(Bucket=buckets.media, Key=key)["Body"].read())
    assert "width not divisible by 2 (641x360)" in note["reason"]
    assert "@ 0x" not in note["reason"]
    # the note alone: no media, no result
    listed = s3.list_objects_v2(Bucket=buckets.media)
    assert [item["Key"] for item in listed["Contents"]] == [key]
    assert os.path.basename(key) == "360p.failed.json"
