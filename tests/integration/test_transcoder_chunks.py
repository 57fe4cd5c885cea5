"""One rung encoded in two chunks through `python -m transcoder` against moto, next to the
same rung encoded whole: the chunks together hold the same frames with the same
timestamps, continue one segment numbering, and write the very same init segment."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lambdas.pipeline.chunks import plan_chunks
from lambdas.pipeline.contract import JobResult, TranscodeJob, result_key
from tests.integration.conftest import upload_source
from tests.integration.test_transcoder import video_job
from tests.support.media import make_clip

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

CLIP_SECONDS = 10.0
SEGMENT_SECONDS = 2  # the module's jobs: 2 s segments of 1 s GOPs, so chunks of 4 s
CHUNKS = plan_chunks(CLIP_SECONDS, 4, SEGMENT_SECONDS)  # 0-4, 4-8, 8-10 (to the end)
WHOLE = video_job("360p", 640, 360).model_copy(
    update={"video_id": "vid-whole", "output_prefix": "vid-whole/hls/360p/"}
)
# Each chunk under its own video id, so that every chunk's init segment is kept to compare
# (in the pipeline they all write the rung's one init.mp4).
CHUNKED = [
    WHOLE.model_copy(
        update={
            "video_id": f"vid-chunk{c.index}",
            "output_prefix": f"vid-chunk{c.index}/hls/360p/",
            "chunk": c,
        }
    )
    for c in CHUNKS
]


@dataclass(frozen=True)
class Encoded:
    buckets: Buckets
    runs: list[subprocess.CompletedProcess[str]]
    folder: Path

    def result(self, s3: S3Client, job: TranscodeJob) -> JobResult:
        key = result_key(job.video_id, job.rendition.name, job.chunk)
        body = s3.get_object(Bucket=self.buckets.media, Key=key)["Body"].read()
        return JobResult.model_validate_json(body)

    def joined(self, s3: S3Client, results: list[JobResult], name: str) -> Path:
        """The init segment, then every segment of the results in order, as one file."""
        target = self.folder / f"{name}.mp4"
        with target.open("wb") as out:
            for key in [results[0].init_key, *(k for r in results for k in r.segment_keys)]:
                out.write(s3.get_object(Bucket=self.buckets.media, Key=key)["Body"].read())
        return target


@pytest.fixture(scope="module")
def encoded(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> Encoded:
    # Given a 10 s clip, encoded once whole and once as three chunks of one rung
    source = make_clip(tmp_path_factory.mktemp("source") / "source.mp4", seconds=CLIP_SECONDS)
    buckets = make_buckets()
    jobs = [upload_source(s3, buckets.uploads, source, job) for job in [WHOLE, *CHUNKED]]
    runs = [run_transcoder(job.model_dump_json(), buckets) for job in jobs]
    return Encoded(buckets, runs, tmp_path_factory.mktemp("joined"))


def packets(path: Path) -> list[tuple[str, str, str]]:
    """(pts, dts, flags) of every video packet, as ffprobe reads them."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
         "packet=pts_time,dts_time,flags", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [tuple(line.split(",")[:3]) for line in completed.stdout.split()]  # type: ignore[misc]


def test_the_plan_cuts_on_segment_boundaries_with_the_remainder_last() -> None:
    assert [(c.start_seconds, c.duration_seconds, c.first_segment_number) for c in CHUNKS] == [
        (0, 4, 0),
        (4, 4, 2),
        (8, 2, 4),
    ]


def test_every_chunk_runs_and_numbers_its_segments_where_the_last_one_stopped(
    encoded: Encoded, s3: S3Client
) -> None:
    assert all(run.returncode == 0 for run in encoded.runs), [
        r.stderr[-2000:] for r in encoded.runs
    ]
    results = [encoded.result(s3, job) for job in CHUNKED]
    names = [key.rsplit("/", 1)[1] for r in results for key in r.segment_keys]
    assert names == [f"seg_{n:05d}.m4s" for n in range(5)]
    assert [r.chunk for r in results] == CHUNKS
    # A chunk publishes no playlist: the finaliser writes the rung's from every chunk's result.
    for job in CHUNKED:
        listed = s3.list_objects_v2(Bucket=encoded.buckets.media, Prefix=job.output_prefix)
        assert not any(item["Key"].endswith(".m3u8") for item in listed["Contents"])


def test_the_chunks_hold_the_whole_encodes_frames_at_its_timestamps(
    encoded: Encoded, s3: S3Client
) -> None:
    whole = encoded.joined(s3, [encoded.result(s3, WHOLE)], "whole")
    chunked = encoded.joined(s3, [encoded.result(s3, job) for job in CHUNKED], "chunked")
    whole_packets, chunked_packets = packets(whole), packets(chunked)
    # Same frame count, same pts/dts for every frame: no gap, no overlap, keyframes alike.
    assert len(chunked_packets) == len(whole_packets) == 250  # 10 s at 25 fps
    assert chunked_packets == whole_packets
    assert float(chunked_packets[0][0]) == pytest.approx(10.0)  # the media timeline's start


def test_every_chunk_writes_the_init_segment_of_the_whole_encode(
    encoded: Encoded, s3: S3Client
) -> None:
    def init(job: TranscodeJob) -> bytes:
        key = encoded.result(s3, job).init_key
        return s3.get_object(Bucket=encoded.buckets.media, Key=key)["Body"].read()

    # Byte for byte: one EXT-X-MAP serves every chunk of the rung.
    assert {init(job) for job in CHUNKED} == {init(WHOLE)}
