"""The API's adapters, built on first use (never at import) and replaceable in tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from lambdas.core.models import use_table
from lambdas.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class ApiDependencies:
    settings: Settings
    s3: S3Client


@lru_cache(maxsize=1)
def get_dependencies() -> ApiDependencies:
    settings = get_settings()
    use_table(settings.videos_table_name)
    # SigV4 presigning: browsers and the CDN emulator both expect it.
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    return ApiDependencies(settings=settings, s3=s3)
