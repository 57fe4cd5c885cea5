"""Presigned upload instructions for a video's source object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdas.api.schemas import UploadInstructions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def single_put_upload(
    s3: S3Client, *, bucket: str, key: str, content_type: str, ttl_seconds: int
) -> UploadInstructions:
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=ttl_seconds,
    )
    return UploadInstructions(
        method="PUT",
        url=url,
        headers={"Content-Type": content_type},
        expires_in_seconds=ttl_seconds,
    )
