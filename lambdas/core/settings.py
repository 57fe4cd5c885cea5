"""Configuration, validated once at cold start from the environment CDK (or local/) sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIB = 1024**2
S3_MIN_PART_BYTES = 5 * MIB  # every part but the last
S3_MAX_PART_BYTES = 5 * 1024**3
S3_MAX_PARTS = 10_000
S3_MAX_SINGLE_PUT_BYTES = 5 * 1024**3

# How the probe groups renditions into tasks (lambdas/pipeline/strategy.py); CDK's
# jobStrategy and the offline config take the same names from here
JobStrategy = Literal["per_rung", "balanced", "chunk_ladder"]


class EnvironmentSettings(BaseModel):
    """Fields read from environment variables named as the fields upper-cased, validated by
    pydantic (strings to ints, "true"/"false" to bools). Plain pydantic, no settings
    library: a Lambda cold start imports it anyway, and nothing more is needed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """A required variable that is missing fails here, at cold start, naming it."""
        environ = os.environ if environ is None else environ
        present = {
            name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ
        }
        return cls.model_validate(present)


class Settings(EnvironmentSettings):
    """What every function reads. Field names upper-cased are the environment variables."""

    videos_table_name: str
    uploads_bucket: str
    media_bucket: str
    max_upload_bytes: int = Field(default=50 * 1024**3, gt=0)
    upload_url_ttl_seconds: int = Field(default=3600, gt=0, le=7 * 24 * 3600)
    # VideoReady / VideoFailed go to this bus (the account's default bus unless told)
    event_bus_name: str = "default"
    # Transcoding plan (read by the probe)
    x264_preset: str = "veryfast"
    ladder_max_height: int = Field(default=1440, gt=0)
    hevc_ladder: bool = False  # a second, HEVC ladder in the same master playlist
    av1_ladder: bool = False  # an SVT-AV1 ladder too, listed after H.264 (and HEVC)
    # A source between two rungs also gets a top rung at its own size (lambdas/pipeline/ladder.py)
    native_top_rung: bool = True
    max_parallel_jobs: int = Field(default=0, ge=0)  # 0: one container per job at once
    # per_rung: one task per rendition; balanced: the top rung alone, the cheaper rungs and
    # audio sharing one decode; chunk_ladder: every rung of a chunk from one decode
    # (lambdas/pipeline/strategy.py, docs/benchmark.md)
    job_strategy: JobStrategy = "per_rung"
    # A source longer than this is encoded in chunks of this length (rounded up to whole
    # 4 s segments), each its own task; 0 turns chunking off (docs/decisions.md: the default)
    chunk_seconds: int = Field(default=120, ge=0)
    # Every audio rendition is normalised to this integrated loudness (LUFS, two-pass
    # loudnorm, true peak at most -1 dBTP); "off" (or empty) leaves audio levels as they are
    loudness_target_lufs: float | None = Field(default=-16.0, ge=-70, le=-5)
    job_timeout_min_seconds: int = Field(default=600, gt=0)
    job_timeout_per_source_second: float = Field(default=6.0, gt=0)
    ffprobe_binary: str = "ffprobe"
    # The MP4 download (read by Finalise): the largest H.264 rung up to this short side; 0: none
    download_max_height: int = Field(default=1080, ge=0)
    ffmpeg_binary: str = "ffmpeg"
    ffprobe_timeout_seconds: int = Field(default=60, gt=0)

    @field_validator("loudness_target_lufs", mode="before")
    @classmethod
    def _off_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in {"", "off"} else value


class ApiSettings(Settings):
    """The API function's settings: everything above plus what only the API needs."""

    state_machine_arn: str  # reprocess starts executions
    idempotency_table_name: str  # Idempotency-Key on create
    # Signed playback (CloudFront, or the offline CDN emulator)
    cdn_domain: str  # host[:port] of the media distribution
    cdn_key_pair_id: str  # the CloudFront public key's id
    cdn_private_key_secret_arn: str  # Secrets Manager secret holding the PEM private key
    cdn_scheme: Literal["https", "http"] = "https"  # http only for the offline emulator
    playback_url_ttl_seconds: int = Field(default=4 * 3600, ge=60, le=7 * 24 * 3600)
    # Uploads: a declared size above the threshold gets a multipart plan (Uppy's default)
    multipart_threshold_bytes: int = Field(default=100 * MIB, ge=S3_MIN_PART_BYTES)
    multipart_part_bytes: int = Field(default=16 * MIB, ge=S3_MIN_PART_BYTES, le=S3_MAX_PART_BYTES)
    idempotency_ttl_seconds: int = Field(default=3600, ge=60)
    tombstone_ttl_days: int = Field(default=30, ge=1)
    # Videos of one user UPLOADED or PROCESSING at once; one more is refused with 429
    max_active_videos_per_user: int = Field(default=5, ge=1)


def loudness_setting(target_lufs: float | str | None) -> str:
    """LOUDNESS_TARGET_LUFS as CDK and the offline stack write it: the target, or "off"."""
    if target_lufs is None or target_lufs == "off":
        return "off"
    return f"{float(target_lufs):g}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings.from_environment()


def reset_settings() -> None:
    """Forgets the cached settings, for a process that changes its environment first
    (the offline stack learns the state machine's ARN only after deploying it)."""
    get_settings.cache_clear()
    get_api_settings.cache_clear()
