"""Adapters for the pipeline functions, built on first use, never at import.

The clients come from botocore itself: importing boto3 (its resource layer, and the
transfer manager it loads with multiprocessing) costs about 15 ms of CPU in every cold
start, and the pipeline uses neither but for the download's upload
(lambdas/pipeline/download.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, cast

from botocore.config import Config
from botocore.session import get_session

from lambdas.core.models import use_table
from lambdas.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@lru_cache(maxsize=1)
def pipeline_adapters() -> tuple[Settings, S3Client]:
    settings = get_settings()
    use_table(settings.videos_table_name)
    s3 = get_session().create_client("s3", config=Config(signature_version="s3v4"))
    return settings, cast("S3Client", s3)
