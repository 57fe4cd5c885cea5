"""Adapters for the pipeline functions, built on first use, never at import."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from lambdas.core.models import use_table
from lambdas.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@lru_cache(maxsize=1)
def pipeline_adapters() -> tuple[Settings, S3Client]:
    settings = get_settings()
    use_table(settings.videos_table_name)
    return settings, boto3.client("s3", config=Config(signature_version="s3v4"))
