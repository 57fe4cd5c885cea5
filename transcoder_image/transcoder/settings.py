"""The transcoder's configuration, validated once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    uploads_bucket: str = Field(min_length=1)
    media_bucket: str = Field(min_length=1)
    ffmpeg_binary: str = Field(default="ffmpeg", min_length=1)
    ffprobe_binary: str = Field(default="ffprobe", min_length=1)
    work_dir: Path | None = None  # None: the system's temporary directory

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            uploads_bucket=env.get("UPLOADS_BUCKET", ""),
            media_bucket=env.get("MEDIA_BUCKET", ""),
            ffmpeg_binary=env.get("FFMPEG_BINARY") or "ffmpeg",
            ffprobe_binary=env.get("FFPROBE_BINARY") or "ffprobe",
            work_dir=env.get("WORK_DIR") or None,
        )
