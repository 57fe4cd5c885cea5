"""`python -m transcoder` end to end: real FFmpeg, S3 played by moto's server.

Jobs run in a subprocess exactly as the container's entrypoint would (one in-process
run checks the order of writes), and the output is judged by the pipeline's own
(lambdas-side) contract and by ffprobe.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import m3u8
import pytest

from lambdas.pipeline.contract import (
    AudioRendition,
    JobResult,
    TranscodeJob,
    VideoRendition,
    result_key,
)
from tests.integration.conftest import UNPINNED, upload_source
from tests.support.media import keyframe_times, make_clip, make_not_a_video, probe
from transcoder import contract as transcoder_contract
from transcoder.runner import run_job
from transcoder.settings import Settings
from transcoder.storage import MediaStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderEnv, TranscoderRun

VIDEO_ID = "vid-abc123"
SOURCE_KEY = f"{VIDEO_ID}/source.mp4"
CLIP_SECONDS = 3.0
# Short segments and GOPs so a 3 s clip has several segments and keyframes.
SEGMENT_SECONDS = 2
GOP_SECONDS = 1.0
MEDIA_START = 10.0  # where the transcoder starts every rendition's media timeline

CONTENT_TYPES = {
    "video": {"playlist": "application/vnd.apple.mpegurl", "init": "video/mp4"},
    "audio": {"playlist": "application/vnd.apple.mpegurl", "init": "audio/mp4"},
}


def video_job(name: str, width: int, height: int) -> TranscodeJob:
    return TranscodeJob(
        video_id=VIDEO_ID,
        source_key=SOURCE_KEY,
        source_version=UNPINNED,
        output_prefix=f"{VIDEO_ID}/hls/{name}/",
        segment_seconds=SEGMENT_SECONDS,
        gop_seconds=GOP_SECONDS,
        rendition=VideoRendition(
            name=name,
            width=width,
            height=height,
            frame_rate=25.0,
            crf=26,
            max_bitrate_kbps=800,
            preset="veryfast",  # not ultrafast: that one drops to Baseline features
        ),
    )


def audio_job() -> TranscodeJob:
    return TranscodeJob(
        video_id=VIDEO_ID,
        source_key=SOURCE_KEY,
        source_version=UNPINNED,
        output_prefix=f"{VIDEO_ID}/hls/audio/",
        segment_seconds=SEGMENT_SECONDS,
        gop_seconds=GOP_SECONDS,
        rendition=AudioRendition(),
    )


JOBS = {
    "360p": video_job("360p", 640, 360),
    "240p": video_job("240p", 426, 240),
    "audio": audio_job(),
}


@dataclass(frozen=True)
class Published:
    buckets: Buckets
    runs: dict[str, subprocess.CompletedProcess[str]]
    downloads: Path

    def result(self, name: str, s3: S3Client) -> JobResult:
        run = self.runs[name]
        assert run.returncode == 0, run.stderr
        body = s3.get_object(Bucket=self.buckets.media, Key=result_key(VIDEO_ID, name))["Body"]
        return JobResult.model_validate_json(body.read())

    def local(self, name: str, s3: S3Client) -> Path:
        """The rendition downloaded: index.m3u8, init.mp4 and the segments, side by side."""
        folder = self.downloads / name
        if not folder.exists():
            result = self.result(name, s3)
            folder.mkdir()
            for key in [result.playlist_key, result.init_key, *result.segment_keys]:
                s3.download_file(self.buckets.media, key, str(folder / key.rsplit("/", 1)[1]))
        return folder


@pytest.fixture(scope="module")
def source_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("source") / "source.mp4", seconds=CLIP_SECONDS)


@pytest.fixture(scope="module")
def published(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    source_clip: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Published:
    # Given an uploaded 1280x720 25 fps clip with audio
    buckets = make_buckets()
    jobs = {
        name: upload_source(s3, buckets.uploads, source_clip, job) for name, job in JOBS.items()
    }

    # When the two video rungs and the audio rendition are transcoded, one process each
    runs = {name: run_transcoder(job.model_dump_json(), buckets) for name, job in jobs.items()}

    return Published(buckets, runs, tmp_path_factory.mktemp("published"))


def concatenated(folder: Path, segment: str) -> Path:
    """init.mp4 + one segment as one file: what a player feeds its decoder."""
    target = folder / f"whole-{segment}.mp4"
    with target.open("wb") as out:
        for name in ("init.mp4", segment):
            with (folder / name).open("rb") as part:
                shutil.copyfileobj(part, out)
    return target


def first_packet_pts(path: Path) -> float:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-read_intervals", "%+#1", "-show_entries", "packet=pts_time",
         "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    return float(completed.stdout.split()[0].rstrip(","))


def decode(path: Path) -> dict[str, Any]:
    """Decode every frame of the only stream; ffprobe's counts prove it decoded."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    streams: list[dict[str, Any]] = json.loads(completed.stdout)["streams"]
    assert len(streams) == 1
    return streams[0]


# --- successful jobs ------------------------------------------------------------------


@pytest.mark.parametrize("name", JOBS)
def test_each_job_exits_zero_and_leaves_a_pipeline_readable_result(
    published: Published, s3: S3Client, name: str
) -> None:
    result = published.result(name, s3)  # validated by the lambdas-side model

    job = JOBS[name]
    assert (result.video_id, result.name, result.kind) == (VIDEO_ID, name, job.rendition.kind)
    assert result.playlist_key == f"{job.output_prefix}index.m3u8"
    assert result.init_key == f"{job.output_prefix}init.mp4"
    assert len(result.segment_keys) == 2  # 3 s in 2 s segments
    assert all(key.startswith(job.output_prefix) for key in result.segment_keys)
    assert result.duration_seconds == pytest.approx(CLIP_SECONDS, abs=0.1)
    assert result.target_duration == SEGMENT_SECONDS
    assert result.encode_wall_seconds > 0
    assert result.encode_cpu_seconds > 0
    assert 2**20 < result.peak_memory_bytes < 4 * 2**30


@pytest.mark.parametrize("name", JOBS)
def test_every_key_in_the_result_exists_with_its_content_type(
    published: Published, s3: S3Client, name: str
) -> None:
    result = published.result(name, s3)
    expected = {
        result.playlist_key: "application/vnd.apple.mpegurl",
        result.init_key: CONTENT_TYPES[result.kind]["init"],
        **dict.fromkeys(result.segment_keys, "video/iso.segment"),
    }

    found = {key: s3.head_object(Bucket=published.buckets.media, Key=key) for key in expected}

    assert {key: head["ContentType"] for key, head in found.items()} == expected
    assert sum(head["ContentLength"] for head in found.values()) == result.output_bytes


def test_nothing_but_the_renditions_and_their_results_is_published(
    published: Published, s3: S3Client
) -> None:
    listed = s3.list_objects_v2(Bucket=published.buckets.media)["Contents"]
    named = {result_key(VIDEO_ID, name) for name in JOBS}
    for name in JOBS:
        result = published.result(name, s3)
        named |= {result.playlist_key, result.init_key, *result.segment_keys}

    assert {item["Key"] for item in listed} == named


@pytest.mark.parametrize("name", JOBS)
def test_the_playlist_is_a_finished_fmp4_vod_playlist(
    published: Published, s3: S3Client, name: str
) -> None:
    result = published.result(name, s3)

    playlist = m3u8.loads((published.local(name, s3) / "index.m3u8").read_text())

    assert playlist.is_endlist
    assert playlist.playlist_type == "vod"
    # FFmpeg 5.1 writes EXT-X-INDEPENDENT-SEGMENTS for video only (AAC frames always are).
    assert playlist.is_independent_segments == (result.kind == "video")
    assert playlist.target_duration == result.target_duration
    assert [segment.init_section.uri for segment in playlist.segments] == ["init.mp4"] * 2
    assert [f"{result.playlist_key.rsplit('/', 1)[0]}/{s.uri}" for s in playlist.segments] == (
        result.segment_keys
    )
    durations = [segment.duration for segment in playlist.segments]
    assert sum(durations) == pytest.approx(result.duration_seconds, abs=1e-3)
    assert max(durations) <= SEGMENT_SECONDS + 0.05


@pytest.mark.parametrize("name", JOBS)
def test_first_and_last_segments_decode(published: Published, s3: S3Client, name: str) -> None:
    folder = published.local(name, s3)
    result = published.result(name, s3)
    first, last = (
        key.rsplit("/", 1)[1] for key in (result.segment_keys[0], result.segment_keys[-1])
    )

    for segment in (first, last):
        stream = decode(concatenated(folder, segment))
        assert stream["codec_type"] == result.kind
        assert int(stream["nb_read_frames"]) > 0


@pytest.mark.parametrize(("name", "width", "height"), [("360p", 640, 360), ("240p", 426, 240)])
def test_video_is_scaled_exactly_and_described_from_the_output(
    published: Published, s3: S3Client, name: str, width: int, height: int
) -> None:
    result = published.result(name, s3)

    stream = probe(concatenated(published.local(name, s3), "seg_00000.m4s"))["streams"][0]

    assert (stream["width"], stream["height"]) == (width, height)
    assert (result.width, result.height) == (width, height)
    assert stream["pix_fmt"] == "yuv420p"
    assert stream["sample_aspect_ratio"] == "1:1"
    assert stream["profile"] == "High"
    assert result.codecs == f"avc1.6400{stream['level']:02x}"
    assert result.frame_rate == pytest.approx(25.0)


def test_audio_is_aac_lc_at_the_asked_rate_and_channels(published: Published, s3: S3Client) -> None:
    result = published.result("audio", s3)

    streams = probe(concatenated(published.local("audio", s3), "seg_00000.m4s"))["streams"]

    assert [s["codec_type"] for s in streams] == ["audio"]
    assert (streams[0]["codec_name"], streams[0]["profile"]) == ("aac", "LC")
    assert (streams[0]["channels"], streams[0]["sample_rate"]) == (2, "48000")
    assert result.codecs == "mp4a.40.2"
    assert (result.width, result.height, result.frame_rate) == (None, None, None)


def test_keyframes_sit_at_the_same_times_in_every_rung(published: Published, s3: S3Client) -> None:
    times = {
        name: keyframe_times(published.local(name, s3) / "index.m3u8") for name in ("360p", "240p")
    }

    assert times["360p"] == times["240p"]
    # One keyframe per GOP and no others (no scene-cut keyframes), from the common start.
    assert [round(t - MEDIA_START, 3) for t in times["360p"]] == [0.0, 1.0, 2.0]


def test_audio_and_video_renditions_start_together(published: Published, s3: S3Client) -> None:
    # Encoded by separate processes, the first picture and the first audio sample
    # must still share a presentation time, or lips and voices drift apart.
    video = first_packet_pts(published.local("360p", s3) / "index.m3u8")
    audio = first_packet_pts(published.local("audio", s3) / "index.m3u8")

    assert video == pytest.approx(MEDIA_START, abs=1e-3)
    aac_priming = 1024 / 48000  # one AAC frame, decoded and dropped by players
    assert MEDIA_START - aac_priming - 2e-3 <= audio <= MEDIA_START


@pytest.mark.parametrize("name", JOBS)
def test_peak_bitrate_is_at_least_the_average(
    published: Published, s3: S3Client, name: str
) -> None:
    result = published.result(name, s3)

    assert result.peak_bitrate_bps >= result.average_bitrate_bps > 0
    # Average covers media segments only (not init.mp4), over the playlist's duration.
    segment_bytes = sum(
        s3.head_object(Bucket=published.buckets.media, Key=key)["ContentLength"]
        for key in result.segment_keys
    )
    assert result.average_bitrate_bps == round(segment_bytes * 8 / result.duration_seconds)


class RecordingStore(MediaStore):
    """A MediaStore that serves a local source and records what would be uploaded, in order."""

    def __init__(self, source: Path) -> None:
        super().__init__(cast("S3Client", None), uploads_bucket="uploads", media_bucket="media")
        self._source = source
        self.written: list[tuple[str, str]] = []  # (key, content type)

    @contextmanager
    def serve_source(self, source_key: str, version_id: str) -> Iterator[str]:
        yield str(self._source)

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        assert path.is_file()
        self.written.append((key, content_type))

    def put_json(self, key: str, body: str, metadata: dict[str, str] | None = None) -> None:
        JobResult.model_validate_json(body)
        self.written.append((key, "application/json"))


def test_the_playlist_follows_its_segments_and_the_result_comes_last(
    source_clip: Path, tmp_path: Path
) -> None:
    # Given a store that records the order of writes
    store = RecordingStore(source_clip)
    job = transcoder_contract.TranscodeJob.model_validate_json(JOBS["360p"].model_dump_json())

    # When the job runs in-process
    result = run_job(job, Settings(uploads_bucket="u", media_bucket="m", work_dir=tmp_path), store)

    # Then media goes first, the playlist after every segment, and the result last
    keys = [key for key, _ in store.written]
    assert keys[-1] == result_key(VIDEO_ID, "360p")
    assert keys[-2] == result.playlist_key
    assert sorted(keys[:-2]) == sorted([result.init_key, *result.segment_keys])
    assert list(tmp_path.iterdir()) == []  # the work directory is cleaned up


# --- failures -------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenSource:
    job: TranscodeJob
    write: Callable[[Path], Path] | None  # None: nothing at the source key
    ffmpeg_says: str


BROKEN_SOURCES = {
    "text-file": BrokenSource(
        JOBS["360p"],
        lambda folder: make_not_a_video(folder / "source.mp4"),
        "Invalid data found when processing input",
    ),
    "missing-object": BrokenSource(JOBS["360p"], None, "404 Not Found"),
    "audio-job-on-silent-video": BrokenSource(
        JOBS["audio"],
        lambda folder: make_clip(folder / "source.mp4", width=320, height=240, audio=False),
        "matches no streams",
    ),
}


@pytest.mark.parametrize("case", BROKEN_SOURCES.values(), ids=BROKEN_SOURCES.keys())
def test_an_unreadable_source_fails_and_publishes_nothing(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path: Path,
    case: BrokenSource,
) -> None:
    # Given a source FFmpeg cannot use (or none at all)
    buckets = make_buckets()
    job = case.job
    if case.write is not None:
        job = upload_source(s3, buckets.uploads, case.write(tmp_path), job)

    # When the transcoder runs
    run = run_transcoder(job.model_dump_json(), buckets)

    # Then it fails as FFmpeg refusing the input (exit 3), says why in FFmpeg's words, and
    # leaves no result and no media: only FFmpeg's reason, for the video's message
    assert run.returncode == 3, run.stderr
    assert case.ffmpeg_says in run.stderr
    assert "X-Amz-Signature" not in run.stderr  # the presigned URL stays out of logs
    listed = s3.list_objects_v2(Bucket=buckets.media).get("Contents", [])
    assert [item["Key"] for item in listed] == [f"{VIDEO_ID}/jobs/{job.name}.failed.json"]


@pytest.mark.parametrize(
    ("job_json", "says"),
    [
        ("", "STREAMFORGE_JOB is not set"),
        ("{not json", "invalid job"),
        ('{"video_id": "v1"}', "invalid job"),
        (
            JOBS["360p"]
            .model_copy(update={"segment_seconds": 3, "gop_seconds": 2.0})
            .model_dump_json(),
            "multiple",
        ),
    ],
    ids=["missing", "not-json", "incomplete", "segments-not-whole-gops"],
)
def test_a_bad_job_exits_2_before_touching_anything(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    job_json: str,
    says: str,
) -> None:
    buckets = make_buckets()

    run = run_transcoder(job_json, buckets)

    assert run.returncode == 2, run.stderr
    assert says in run.stderr
    assert s3.list_objects_v2(Bucket=buckets.media)["KeyCount"] == 0


def test_sigterm_stops_ffmpeg_and_publishes_nothing(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    transcoder_env: TranscoderEnv,
    source_clip: Path,
    tmp_path: Path,
) -> None:
    # Given a job whose FFmpeg would run for a minute
    buckets = make_buckets()
    job = upload_source(s3, buckets.uploads, source_clip, JOBS["360p"])
    slow_ffmpeg = tmp_path / "ffmpeg"
    pid_file = tmp_path / "ffmpeg.pid"
    slow_ffmpeg.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    slow_ffmpeg.chmod(0o755)
    env = transcoder_env(job.model_dump_json(), buckets)
    env["FFMPEG_BINARY"] = str(slow_ffmpeg)
    process = subprocess.Popen(
        [sys.executable, "-m", "transcoder"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()):  # FFmpeg has started
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)

    # When ECS stops the task
    process.send_signal(signal.SIGTERM)

    # Then the transcoder exits promptly with 128 + SIGTERM, FFmpeg with it, and
    # nothing is published
    assert process.wait(timeout=10) == 128 + signal.SIGTERM
    assert "terminated by signal" in process.stderr.read()
    process.stderr.close()
    ffmpeg_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(ffmpeg_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(ffmpeg_pid)
    assert s3.list_objects_v2(Bucket=buckets.media)["KeyCount"] == 0


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
