"""Deployment settings, read once from CDK context (`cdk.json` or `-c key=value`) and validated.

Context keys are the camelCase field names: `-c fargateCpu=4096 -c fargateSpot=true`.
Values given on the command line arrive as strings; pydantic converts them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from aws_cdk import aws_logs as logs
from constructs import Node
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from lambdas.core.settings import JobStrategy

# Fargate task sizes: CPU units -> (min, max, step) memory in MiB
_FARGATE_MEMORY: dict[int, tuple[int, int, int]] = {
    256: (512, 2048, 512),
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}

_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_PEM_BEGIN = "-----BEGIN PUBLIC KEY-----"
_PEM_END = "-----END PUBLIC KEY-----"
_PEM_BY_FILE = "-c cdnPublicKeyFile=path/to/cdn_public.pem"
# Fargate Spot runs only x86_64 tasks.
_SPOT_ARCHITECTURES = ("x86_64",)

X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower"
]


class Settings(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    environment_name: str = Field(default="dev", pattern=r"^[a-z][a-z0-9-]{0,19}$")
    # Transcoding plan, handed to the probe
    ladder_max_height: int = Field(default=1440, ge=144, le=2160)
    hevc_ladder: bool = False  # adds an HEVC (hvc1) ladder beside the H.264 one
    av1_ladder: bool = False  # adds an SVT-AV1 (av01) ladder after the H.264 (and HEVC) one
    native_top_rung: bool = True  # a source between rungs also gets a rung at its own size
    # The MP4 download: the largest H.264 rung up to this height, remuxed by Finalise; 0: none
    download_max_height: int = Field(default=1080, ge=0, le=2160)
    # Map concurrency; 0: unbounded. Two 2-vCPU tasks fit a new account's Fargate vCPU quota.
    max_parallel_jobs: int = Field(default=2, ge=0, le=40)
    x264_preset: X264Preset = "veryfast"
    # per_rung: one task per rendition; balanced: cheap rungs and audio share one decode;
    # chunk_ladder: every rung of a chunk from one decode
    job_strategy: JobStrategy = "per_rung"
    # A source longer than this is encoded in chunks of this length, each its own task; 0: off
    chunk_seconds: int = Field(default=120, ge=0)
    # Every audio rendition normalised to this integrated loudness (LUFS); "off": left as is
    loudness_target_lufs: Annotated[float, Field(ge=-70, le=-5)] | Literal["off"] = -16.0
    # One transcoder task
    fargate_cpu: int = 2048
    fargate_memory_mib: int = 4096
    fargate_spot: bool = False
    # With fargateSpot: a job interrupted three times makes its last attempt on on-demand Fargate
    spot_fallback: bool = False
    architecture: Literal["x86_64", "arm64"] = "x86_64"  # of the two container images
    # Uploads
    max_upload_bytes: int = Field(default=50 * 1024**3, gt=0, le=5 * 1024**4)
    # Videos one user may have UPLOADED or PROCESSING at once (the API answers 429 beyond)
    max_active_videos_per_user: int = Field(default=5, ge=1)
    source_expiry_days: int | None = Field(default=None, ge=1)
    # Parts never assembled, and sources never confirmed by `complete`, go after this long
    unfinished_upload_days: int = Field(default=1, ge=1, le=365)
    # Browsers
    allowed_origins: tuple[str, ...] = ()  # besides the web app's own CloudFront origin
    self_sign_up: bool = False
    auth_domain_prefix: str | None = Field(
        default=None, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
    )
    # Media delivery: the public half of the CloudFront signing key pair, inline or as a file
    # (the CDK CLI cuts a `-c` value at its first newline, so a PEM on the command line
    # must come as a file)
    cdn_public_key_pem: str | None = None
    cdn_public_key_file: Path | None = None
    require_cdn_key: bool = False
    # Operations
    log_retention_days: int = 30

    @classmethod
    def from_node(cls, node: Node) -> Settings:
        """Reads every field's context key; keys that are not set keep their defaults."""
        keys = [field.alias or name for name, field in cls.model_fields.items()]
        by_lower = {key.lower(): key for key in keys}
        for given in node.get_all_context():
            meant = by_lower.get(given.lower())
            if meant is not None and meant != given:
                raise ValueError(f"unknown context key {given!r}: did you mean {meant!r}?")
        values: dict[str, Any] = {}
        for key in keys:
            value = node.try_get_context(key)
            if value is not None:
                values[key] = value
        return cls.model_validate(values)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        # `-c allowedOrigins=https://a.example,http://localhost:5173` or a JSON list
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"allowedOrigins: {origin!r} is not an origin like https://app.example.com"
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _read_pem_file(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        given = values.get("cdnPublicKeyFile", values.get("cdn_public_key_file"))
        if given is None:
            return values
        if values.get("cdnPublicKeyPem", values.get("cdn_public_key_pem")) is not None:
            raise ValueError("give cdnPublicKeyFile or cdnPublicKeyPem, not both")
        path = Path(str(given)).expanduser()
        try:
            pem = path.read_text()
        except OSError as error:
            raise ValueError(f"cdnPublicKeyFile {str(path)!r}: {error.strerror}") from None
        return {**values, "cdnPublicKeyPem": pem}

    @field_validator("cdn_public_key_pem", mode="before")
    @classmethod
    def _normalise_pem(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.replace("\\n", "\n").strip()
            return text or None
        return value

    @field_validator("cdn_public_key_pem")
    @classmethod
    def _check_pem(cls, value: str | None) -> str | None:
        if value == _PEM_BEGIN:
            raise ValueError(
                "cdnPublicKeyPem arrived as its first line only: the CDK CLI cuts a -c value "
                f"at its first newline. Pass the key as a file instead: {_PEM_BY_FILE}"
            )
        if value is not None and not (value.startswith(_PEM_BEGIN) and value.endswith(_PEM_END)):
            raise ValueError(
                f"the CDN public key must be a PEM public key ({_PEM_BEGIN} ...), "
                f"e.g. {_PEM_BY_FILE}"
            )
        return value + "\n" if value is not None else None

    @field_validator("log_retention_days")
    @classmethod
    def _check_retention(cls, value: int) -> int:
        if value not in _RETENTION:
            raise ValueError(f"logRetentionDays must be one of {sorted(_RETENTION)}")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        sizes = _FARGATE_MEMORY.get(self.fargate_cpu)
        if sizes is None:
            raise ValueError(f"fargateCpu must be one of {sorted(_FARGATE_MEMORY)}")
        low, high, step = sizes
        memory = self.fargate_memory_mib
        if not (low <= memory <= high and (memory - low) % step == 0):
            raise ValueError(
                f"fargateMemoryMib {memory} does not fit fargateCpu {self.fargate_cpu}: "
                f"use {low}..{high} in steps of {step}"
            )
        if self.require_cdn_key and self.cdn_public_key_pem is None:
            raise ValueError(
                "requireCdnKey is set but the CDN public key is missing: "
                f"deploy with {_PEM_BY_FILE} (see docs/deploy.md)"
            )
        if self.fargate_spot and self.architecture not in _SPOT_ARCHITECTURES:
            raise ValueError(
                f"fargateSpot runs only x86_64 tasks, so architecture={self.architecture} "
                "would fail every transcoder task: drop fargateSpot or use x86_64"
            )
        return self

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]
