"""Fixtures for tests that run real code against moto's server and real FFmpeg."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from lambdas.pipeline.contract import TranscodeJob
from tests.support.moto_server import aws_env, moto_endpoint

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[2]
TRANSCODER_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Buckets:
    uploads: str
    media: str


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server (S3 and friends over real HTTP) for the whole session."""
    with moto_endpoint() as url:
        yield url


@pytest.fixture(scope="session")
def s3(moto_url: str) -> S3Client:
    env = aws_env(moto_url)
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    return session.client("s3", endpoint_url=moto_url)


@pytest.fixture(scope="session")
def make_buckets(s3: S3Client) -> Callable[[], Buckets]:
    """Fresh, uniquely named uploads and media buckets, so tests never see each other's keys."""

    def make() -> Buckets:
        suffix = uuid.uuid4().hex[:12]
        buckets = Buckets(uploads=f"uploads-{suffix}", media=f"media-{suffix}")
        s3.create_bucket(Bucket=buckets.uploads)
        # Versioned, as deployed: jobs read the source version they were planned for.
        s3.put_bucket_versioning(
            Bucket=buckets.uploads, VersioningConfiguration={"Status": "Enabled"}
        )
        s3.create_bucket(Bucket=buckets.media)
        return buckets

    return make


# A job's source_version until upload_source pins it: S3 has no such version, so a job run
# unpinned reads nothing.
UNPINNED = "unpinned"


def upload_source(s3: S3Client, bucket: str, path: Path, job: TranscodeJob) -> TranscodeJob:
    """Stores `path` as the job's source; returns the job pinned to the version stored."""
    with path.open("rb") as body:
        stored = s3.put_object(Bucket=bucket, Key=job.source_key, Body=body)
    return job.model_copy(update={"source_version": stored["VersionId"]})


TranscoderEnv = Callable[[str, Buckets], dict[str, str]]
TranscoderRun = Callable[[str, Buckets], "subprocess.CompletedProcess[str]"]
TRANSCODER_COMMAND = [sys.executable, "-m", "transcoder"]


@pytest.fixture(scope="session")
def transcoder_env(moto_url: str) -> TranscoderEnv:
    """The environment the container gets: the job JSON, the buckets, the AWS endpoint."""

    def env(job_json: str, buckets: Buckets) -> dict[str, str]:
        return {
            **os.environ,
            **aws_env(moto_url),
            "STREAMFORGE_JOB": job_json,
            "UPLOADS_BUCKET": buckets.uploads,
            "MEDIA_BUCKET": buckets.media,
            # Only the image's own folder: nothing it does not ship can be imported.
            "PYTHONPATH": str(REPO / "transcoder_image"),
        }

    return env


@pytest.fixture(scope="session")
def run_transcoder(
    transcoder_env: TranscoderEnv, tmp_path_factory: pytest.TempPathFactory
) -> TranscoderRun:
    """Run `python -m transcoder` to the end, as its container would, from outside the checkout."""
    cwd = tmp_path_factory.mktemp("transcoder-cwd")

    def run(job_json: str, buckets: Buckets) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            TRANSCODER_COMMAND,
            env=transcoder_env(job_json, buckets),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TRANSCODER_TIMEOUT_SECONDS,
            check=False,
        )

    return run
