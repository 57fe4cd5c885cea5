"""Configuration, validated once at cold start from the environment CDK (or local/) sets."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    videos_table_name: str
    uploads_bucket: str
    media_bucket: str
    max_upload_bytes: int = Field(default=50 * 1024**3, gt=0)
    upload_url_ttl_seconds: int = Field(default=3600, gt=0)
    # Transcoding plan (read by the probe)
    x264_preset: str = "veryfast"
    ladder_max_height: int = Field(default=1440, gt=0)
    max_parallel_jobs: int = Field(default=0, ge=0)  # 0: one container per job at once
    job_timeout_min_seconds: int = Field(default=600, gt=0)
    job_timeout_per_source_second: float = Field(default=6.0, gt=0)
    ffprobe_binary: str = "ffprobe"
    ffprobe_timeout_seconds: int = Field(default=60, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # fields come from the environment
