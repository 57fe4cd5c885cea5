"""What the HTTP API accepts and returns (camelCase JSON)."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lambdas.core.models import VideoRecord
from lambdas.core.status import Visibility

ALLOWED_CONTENT_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/x-matroska",
        "video/webm",
        "video/x-msvideo",
        "video/mpeg",
        "video/mp2t",
        "video/3gpp",
        "video/x-m4v",
    }
)


def _printable(value: str) -> str:
    """Rejects control characters (newlines included) but keeps any printable Unicode."""
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"} for char in value):
        raise ValueError("must not contain control or invisible formatting characters")
    return value.strip()


def _allowed_content_type(value: str) -> str:
    lowered = value.lower()
    if lowered not in ALLOWED_CONTENT_TYPES:
        raise ValueError(f"must be one of {', '.join(sorted(ALLOWED_CONTENT_TYPES))}")
    return lowered


Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Tag = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_printable)]
FileName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_printable)]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CreateVideoRequest(ApiModel):
    title: Title
    description: Annotated[str, Field(max_length=5000)] = ""
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    visibility: Visibility = Visibility.PRIVATE
    filename: FileName
    content_type: Annotated[str, AfterValidator(_allowed_content_type)]
    size_bytes: Annotated[int, Field(gt=0)]


class ErrorBody(ApiModel):
    code: str
    message: str


class RenditionBody(ApiModel):
    name: str
    kind: str
    codecs: str
    width: int | None
    height: int | None
    frame_rate: float | None
    average_bitrate_bps: int
    peak_bitrate_bps: int
    segment_count: int


class VideoBody(ApiModel):
    id: str
    title: str
    description: str
    tags: list[str]
    visibility: str
    status: str
    original_filename: str
    content_type: str
    size_bytes: int
    duration_seconds: float | None
    width: int | None
    height: int | None
    error: ErrorBody | None
    renditions: list[RenditionBody]
    created_at: str
    updated_at: str
    processed_at: str | None

    @classmethod
    def from_record(cls, record: VideoRecord) -> VideoBody:
        error = (
            ErrorBody(code=record.error_code, message=record.error_message or "")
            if record.error_code
            else None
        )
        return cls(
            id=record.video_id,
            title=record.title,
            description=record.description,
            tags=list(record.tags),
            visibility=record.visibility,
            status=record.status,
            original_filename=record.original_filename,
            content_type=record.content_type,
            size_bytes=int(record.size_bytes),
            duration_seconds=record.duration_seconds,
            width=_optional_int(record.width),
            height=_optional_int(record.height),
            error=error,
            renditions=[
                RenditionBody(
                    name=r.name,
                    kind=r.kind,
                    codecs=r.codecs,
                    width=_optional_int(r.width),
                    height=_optional_int(r.height),
                    frame_rate=r.frame_rate,
                    average_bitrate_bps=int(r.average_bitrate_bps),
                    peak_bitrate_bps=int(r.peak_bitrate_bps),
                    segment_count=int(r.segment_count),
                )
                for r in record.renditions
            ],
            created_at=record.created_at,
            updated_at=record.updated_at,
            processed_at=record.processed_at,
        )


class UploadInstructions(ApiModel):
    method: str
    url: str
    headers: dict[str, str]
    expires_in_seconds: int


class CreateVideoResponse(ApiModel):
    video: VideoBody
    upload: UploadInstructions


class VideoListResponse(ApiModel):
    items: list[VideoBody]


def _optional_int(value: float | None) -> int | None:
    return None if value is None else int(value)
