"""Loudness normalisation through `python -m transcoder` against moto, with real FFmpeg: a
grouped job writes two tracks of one source at the target, each with its own loudnorm pass
beside the video's filter graph; silent and short audio is encoded as it is, and says so.
Every figure is checked against FFmpeg's ebur128 run here on the uploaded output."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lambdas.pipeline.contract import (
    AudioRendition,
    JobResult,
    LoudnessTarget,
    TranscodeJob,
    result_key,
)
from tests.integration.conftest import UNPINNED, upload_source
from tests.integration.test_transcoder import video_job
from tests.support.media import make_clip

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

TARGET = LoudnessTarget(integrated_lufs=-16.0, true_peak_dbtp=-1.0)
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+) LUFS", re.DOTALL)


def audio(name: str, stream: int, **changes: object) -> AudioRendition:
    return AudioRendition(name=name, stream=stream, loudness=TARGET, **changes)


def job(video_id: str, first: AudioRendition | None, *group: AudioRendition) -> TranscodeJob:
    base = video_job("180p", 320, 180)
    grouped = first is None
    return TranscodeJob(
        video_id=video_id,
        source_key=f"{video_id}/source.mp4",
        source_version=UNPINNED,
        output_prefix=f"{video_id}/hls/" if grouped else f"{video_id}/hls/{first.name}/",  # type: ignore[union-attr]
        segment_seconds=base.segment_seconds,
        gop_seconds=base.gop_seconds,
        rendition=base.rendition if grouped else first,
        group=list(group),
    )


class Runner:
    def __init__(self, s3: S3Client, buckets: Buckets, run: TranscoderRun, folder: Path) -> None:
        self.s3, self.buckets, self.run, self.folder = s3, buckets, run, folder

    def __call__(self, clip: Path, planned: TranscodeJob) -> dict[str, JobResult]:
        pinned = upload_source(self.s3, self.buckets.uploads, clip, planned)
        done = self.run(pinned.model_dump_json(), self.buckets)
        assert done.returncode == 0, done.stderr[-3000:]
        results = {}
        for member in pinned.members():
            key = result_key(pinned.video_id, member.name)
            body = self.s3.get_object(Bucket=self.buckets.media, Key=key)["Body"].read()
            results[member.name] = JobResult.model_validate_json(body)
        return results

    def ebur128(self, result: JobResult) -> float:
        """The integrated loudness of the uploaded rendition, by FFmpeg's ebur128."""
        joined = self.folder / f"{result.video_id}-{result.name}.mp4"
        parts = [result.init_key, *result.segment_keys]
        bodies = [
            self.s3.get_object(Bucket=self.buckets.media, Key=k)["Body"].read() for k in parts
        ]
        joined.write_bytes(b"".join(bodies))
        log = subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(joined),
             "-af", "ebur128", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        ).stderr  # fmt: skip
        return float(_INTEGRATED.findall(log)[-1])


@pytest.fixture(scope="module")
def runner(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> Runner:
    return Runner(s3, make_buckets(), run_transcoder, tmp_path_factory.mktemp("loudness"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


def test_a_grouped_job_normalises_a_loud_and_a_quiet_track_beside_the_video(
    runner: Runner, clips: Path
) -> None:
    clip = make_clip(
        clips / "dubbed.mp4", width=320, height=180, seconds=4, audio_streams=2,
        audio_volumes=(0.9, 0.02),
    )  # fmt: skip
    planned = job("vid-group", None, audio("audio", 0), audio("audio-1", 1, default=False))

    results = runner(clip, planned)

    assert set(results) == {"180p", "audio", "audio-1"}
    loud, quiet = results["audio"], results["audio-1"]
    assert (loud.source_loudness_lufs or 0) > -6 and (quiet.source_loudness_lufs or 0) < -30
    for track in (loud, quiet):
        assert track.loudness == "normalised (linear)"  # FFmpeg's rule, two reports in one log
        assert runner.ebur128(track) == pytest.approx(-16.0, abs=1.0)
        assert track.loudness_lufs == pytest.approx(runner.ebur128(track), abs=0.2)
        assert track.true_peak_dbtp is not None and track.true_peak_dbtp <= -0.9
    assert (loud.default, quiet.default) == (True, False)
    assert results["180p"].loudness is None  # a video rendition has no loudness


def test_silent_audio_is_left_alone_and_says_so(runner: Runner, clips: Path) -> None:
    clip = make_clip(clips / "silent.mp4", width=320, height=180, seconds=4, audio_volumes=(0,))

    (result,) = runner(clip, job("vid-silent", audio("audio", 0))).values()

    assert result.loudness == "left alone: silent"
    assert (result.source_loudness_lufs, result.loudness_lufs) == (None, None)


def test_audio_shorter_than_three_seconds_is_left_alone_at_its_own_level(
    runner: Runner, clips: Path
) -> None:
    clip = make_clip(clips / "short.mp4", width=320, height=180, seconds=2)

    (result,) = runner(clip, job("vid-short", audio("audio", 0))).values()

    assert result.loudness == "left alone: shorter than 3 s"
    # lavfi's tone at 1/8 of full scale (about -18 LUFS), as it was: not at the target
    assert result.loudness_lufs is not None and abs(result.loudness_lufs + 16) > 1.5
    assert result.loudness_lufs == pytest.approx(result.source_loudness_lufs, abs=0.5)
