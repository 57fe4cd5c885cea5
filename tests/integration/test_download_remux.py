"""The download's remux against S3 (moto) and real FFmpeg, when the segments are not media."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from lambdas.pipeline.download import DownloadFailed, make_download
from tests.integration.conftest import Buckets
from tests.unit.test_download import result

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_segments_ffmpeg_cannot_read_fail_with_its_reason_and_upload_nothing(
    s3: S3Client, make_buckets: Callable[[], Buckets]
) -> None:
    # Given a rung whose init and segment are not MP4 at all
    bucket = make_buckets().media
    rung = result("360p", 640, 360)
    for key in (rung.init_key, *rung.segment_keys):
        s3.put_object(Bucket=bucket, Key=key, Body=b"not an mp4 " * 100)
    # When Finalise makes the download, then FFmpeg's refusal names the rung ...
    with pytest.raises(DownloadFailed, match=r"FFmpeg could not remux 360p \(exit \d+\): .+"):
        make_download(s3, bucket, "vid", "Title", [rung], max_height=1080)
    # ... and no download object is left
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="vid/download/")


def test_downloads_off_make_nothing_and_read_nothing(
    s3: S3Client, make_buckets: Callable[[], Buckets]
) -> None:
    bucket = make_buckets().media  # empty: reading a segment would fail
    assert (
        make_download(s3, bucket, "vid", "Title", [result("360p", 640, 360)], max_height=0) is None
    )
