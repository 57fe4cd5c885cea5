"""The S3 side of a job: the pinned source served to FFmpeg, uploads to the media bucket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.config import Config

from transcoder.source_server import SourceServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def output_key(output_prefix: str, name: str) -> str:
    """The media bucket key of the output file `name` of a job with this `output_prefix`."""
    prefix = output_prefix if output_prefix.endswith("/") else f"{output_prefix}/"
    return prefix + name


def content_type(filename: str, kind: Literal["video", "audio", "thumbnails"]) -> str:
    if filename.endswith(".jpg"):
        return "image/jpeg"
    if filename.endswith(".vtt"):
        return "text/vtt"
    if filename.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    if filename.endswith(".m4s"):
        return "video/iso.segment"
    if filename.endswith(".mp4"):  # the init segment
        return "audio/mp4" if kind == "audio" else "video/mp4"
    raise ValueError(f"no content type for output file {filename!r}")


def make_s3_client() -> S3Client:
    """An S3 client with SigV4; AWS_ENDPOINT_URL is honoured by boto3 itself, and so is the
    task role: its credentials are refreshed before they expire, however long the job."""
    return boto3.client("s3", config=Config(signature_version="s3v4"))


class MediaStore:
    def __init__(self, s3: S3Client, *, uploads_bucket: str, media_bucket: str) -> None:
        self._s3 = s3
        self._uploads_bucket = uploads_bucket
        self._media_bucket = media_bucket

    @contextmanager
    def serve_source(self, source_key: str, version_id: str) -> Iterator[str]:
        """A loopback http URL that reads exactly this version of the source while open."""
        with SourceServer(
            self._s3, bucket=self._uploads_bucket, key=source_key, version_id=version_id
        ) as server:
            yield server.url

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        # upload_file streams from disk and switches to multipart for big files.
        self._s3.upload_file(
            str(path), self._media_bucket, key, ExtraArgs={"ContentType": content_type}
        )

    def put_json(self, key: str, body: str, metadata: dict[str, str] | None = None) -> None:
        self._s3.put_object(
            Bucket=self._media_bucket,
            Key=key,
            Body=body.encode(),
            ContentType="application/json",
            Metadata=metadata or {},
        )
