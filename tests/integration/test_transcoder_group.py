"""A grouped job (the "balanced" strategy) through `python -m transcoder` against moto:
one FFmpeg process decodes once and writes every rendition of the group, each as its
own single job would, with one result per rendition."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import m3u8
import pytest

from lambdas.pipeline.contract import JobResult, TranscodeJob, result_key
from tests.integration.conftest import UNPINNED, upload_source
from tests.integration.test_transcoder import (
    CLIP_SECONDS,
    MEDIA_START,
    SEGMENT_SECONDS,
    VIDEO_ID,
    audio_job,
    concatenated,
    decode,
    first_packet_pts,
    video_job,
)
from tests.support.media import keyframe_packet_times, keyframe_times, make_clip

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

NAMES = ("360p", "240p", "audio")
GROUP = TranscodeJob(
    video_id=VIDEO_ID,
    source_key=f"{VIDEO_ID}/source.mp4",
    source_version=UNPINNED,
    output_prefix=f"{VIDEO_ID}/hls/",
    segment_seconds=SEGMENT_SECONDS,
    gop_seconds=1.0,
    rendition=video_job("360p", 640, 360).rendition,
    group=[video_job("240p", 426, 240).rendition, audio_job().rendition],  # type: ignore[list-item]
)
SINGLE = video_job("360p", 640, 360).model_copy(
    update={"video_id": "vid-single", "output_prefix": "vid-single/hls/360p/"}
)


@dataclass(frozen=True)
class Run:
    buckets: Buckets
    group: subprocess.CompletedProcess[str]
    single: subprocess.CompletedProcess[str]
    downloads: Path

    def result(self, s3: S3Client, name: str, video_id: str = VIDEO_ID) -> JobResult:
        body = s3.get_object(Bucket=self.buckets.media, Key=result_key(video_id, name))["Body"]
        return JobResult.model_validate_json(body.read())

    def local(self, s3: S3Client, name: str, video_id: str = VIDEO_ID) -> Path:
        folder = self.downloads / video_id / name
        if not folder.exists():
            result = self.result(s3, name, video_id)
            folder.mkdir(parents=True)
            for key in [result.playlist_key, result.init_key, *result.segment_keys]:
                s3.download_file(self.buckets.media, key, str(folder / key.rsplit("/", 1)[1]))
        return folder


@pytest.fixture(scope="module")
def run(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    source = make_clip(tmp_path_factory.mktemp("source") / "source.mp4", seconds=CLIP_SECONDS)
    buckets = make_buckets()
    group = upload_source(s3, buckets.uploads, source, GROUP)
    single = upload_source(s3, buckets.uploads, source, SINGLE)
    return Run(
        buckets,
        group=run_transcoder(group.model_dump_json(), buckets),
        single=run_transcoder(single.model_dump_json(), buckets),
        downloads=tmp_path_factory.mktemp("downloads"),
    )


def test_the_group_runs_one_ffmpeg_and_leaves_one_result_per_rendition(
    run: Run, s3: S3Client
) -> None:
    assert run.group.returncode == 0, run.group.stderr[-3000:]
    assert run.group.stderr.count('"encoding 360p+240p+audio of') == 1
    results = [run.result(s3, name) for name in NAMES]
    assert [(r.name, r.kind) for r in results] == [
        ("360p", "video"),
        ("240p", "video"),
        ("audio", "audio"),
    ]
    for result in results:
        assert result.playlist_key == f"{VIDEO_ID}/hls/{result.name}/index.m3u8"
        assert all(k.startswith(f"{VIDEO_ID}/hls/{result.name}/") for k in result.segment_keys)
        assert result.duration_seconds == pytest.approx(CLIP_SECONDS, abs=0.1)
    # One shared process: its wall, CPU and peak memory are reported in every result.
    shared = {(r.encode_wall_seconds, r.encode_cpu_seconds, r.peak_memory_bytes) for r in results}
    assert len(shared) == 1
    assert [(r.width, r.height) for r in results[:2]] == [(640, 360), (426, 240)]
    assert all(r.ssim is not None and 0.5 < r.ssim <= 1 for r in results[:2])


def test_nothing_else_is_published(run: Run, s3: S3Client) -> None:
    listed = s3.list_objects_v2(Bucket=run.buckets.media, Prefix=f"{VIDEO_ID}/")["Contents"]
    named = {result_key(VIDEO_ID, name) for name in NAMES}
    for name in NAMES:
        result = run.result(s3, name)
        named |= {result.playlist_key, result.init_key, *result.segment_keys}
    assert {item["Key"] for item in listed} == named


@pytest.mark.parametrize("name", NAMES)
def test_every_renditions_playlist_parses_and_its_segments_decode(
    run: Run, s3: S3Client, name: str
) -> None:
    result = run.result(s3, name)
    folder = run.local(s3, name)
    playlist = m3u8.loads((folder / "index.m3u8").read_text())
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert [s.init_section.uri for s in playlist.segments] == ["init.mp4"] * len(
        result.segment_keys
    )
    for key in (result.segment_keys[0], result.segment_keys[-1]):
        stream = decode(concatenated(folder, key.rsplit("/", 1)[1]))
        assert stream["codec_type"] == result.kind
        assert int(stream["nb_read_frames"]) > 0


def test_keyframes_match_a_single_jobs_rung_and_audio_starts_with_video(
    run: Run, s3: S3Client
) -> None:
    assert run.single.returncode == 0, run.single.stderr[-3000:]
    single = keyframe_times(run.local(s3, "360p", "vid-single") / "index.m3u8")
    grouped = {n: keyframe_times(run.local(s3, n) / "index.m3u8") for n in ("360p", "240p")}
    assert grouped["360p"] == grouped["240p"] == single
    assert [round(t - MEDIA_START, 3) for t in single] == [0.0, 1.0, 2.0]
    # The same encoder settings as the single job: the same picture quality and size.
    alone, shared = run.result(s3, "360p", "vid-single"), run.result(s3, "360p")
    assert shared.ssim == pytest.approx(alone.ssim, abs=1e-3)
    assert shared.average_bitrate_bps == pytest.approx(alone.average_bitrate_bps, rel=0.02)
    assert shared.codecs == alone.codecs
    video = first_packet_pts(run.local(s3, "360p") / "index.m3u8")
    audio = first_packet_pts(run.local(s3, "audio") / "index.m3u8")
    assert video == pytest.approx(MEDIA_START, abs=1e-3)
    assert MEDIA_START - 1024 / 48000 - 2e-3 <= audio <= MEDIA_START


def test_a_group_with_an_av1_rung_keeps_the_x264_ssim_and_aligns_keyframes(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path: Path,
) -> None:
    # Given chunk_ladder's kind of group: an H.264 rung, its AV1 twin and a second H.264 rung
    video_id = "vid-av1-group"
    av1 = video_job("240p-av1", 426, 240).rendition.model_copy(
        update={"codec": "av1", "crf": 35, "preset": "12", "max_bitrate_kbps": 145}
    )
    group = GROUP.model_copy(
        update={
            "video_id": video_id,
            "output_prefix": f"{video_id}/hls/",
            "group": [av1, video_job("240p", 426, 240).rendition],
        }
    )
    source = make_clip(tmp_path / "source.mp4", seconds=CLIP_SECONDS)
    buckets = make_buckets()
    job = upload_source(s3, buckets.uploads, source, group)

    # When the transcoder runs it
    done = run_transcoder(job.model_dump_json(), buckets)

    # Then the AV1 rung has no SSIM of its own, and each x264 rung still has its own
    assert done.returncode == 0, done.stderr[-3000:]
    results = {
        name: JobResult.model_validate_json(
            s3.get_object(Bucket=buckets.media, Key=result_key(video_id, name))["Body"].read()
        )
        for name in ("360p", "240p-av1", "240p")
    }
    assert results["240p-av1"].ssim is None and results["240p-av1"].codecs.startswith("av01.")
    assert all(0.5 < (results[name].ssim or 0) <= 1 for name in ("360p", "240p"))
    assert results["360p"].ssim != results["240p"].ssim
    # and the AV1 rung's keyframes are the H.264 rungs'
    folders = {}
    for name, result in results.items():
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for key in [result.playlist_key, result.init_key, *result.segment_keys]:
            s3.download_file(buckets.media, key, str(folders[name] / key.rsplit("/", 1)[1]))
    times = {name: keyframe_packet_times(f / "index.m3u8") for name, f in folders.items()}
    assert times["240p-av1"] == times["240p"] == times["360p"] == [10.0, 11.0, 12.0]
