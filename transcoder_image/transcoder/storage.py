"""The S3 side of a job: a presigned URL for the source, uploads to the media bucket."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# FFmpeg keeps making fresh range requests with this URL for the whole encode.
# (A URL signed with temporary credentials also dies when they expire.)
SOURCE_URL_SECONDS = 6 * 3600


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
    """An S3 client that presigns with SigV4; AWS_ENDPOINT_URL is honoured by boto3 itself."""
    return boto3.client("s3", config=Config(signature_version="s3v4"))


class MediaStore:
    def __init__(self, s3: S3Client, *, uploads_bucket: str, media_bucket: str) -> None:
        self._s3 = s3
        self._uploads_bucket = uploads_bucket
        self._media_bucket = media_bucket

    def source_url(self, source_key: str) -> str:
        return self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._uploads_bucket, "Key": source_key},
            ExpiresIn=SOURCE_URL_SECONDS,
        )

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        # upload_file streams from disk and switches to multipart for big files.
        self._s3.upload_file(
            str(path), self._media_bucket, key, ExtraArgs={"ContentType": content_type}
        )

    def put_json(self, key: str, body: str) -> None:
        self._s3.put_object(
            Bucket=self._media_bucket,
            Key=key,
            Body=body.encode(),
            ContentType="application/json",
        )
