"""What the HTTP API accepts and returns (camelCase JSON; the multipart part shapes keep S3's
PascalCase because that is what Uppy's @uppy/aws-s3 sends and expects)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lambdas.core.models import CaptionAttribute, ProcessingLogEntry, VideoRecord
from lambdas.core.playback import Playback
from lambdas.core.settings import S3_MAX_PARTS
from lambdas.core.status import Visibility
from lambdas.core.uploads import MultipartPlan, SignedPart, SinglePut, UploadedPart

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
_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}
# Zero-width (non-)joiners are part of ordinary text: emoji sequences, Persian, Indic scripts.
_JOINERS = frozenset({"\u200c", "\u200d"})
_ALLOWED_IN_TEXT = {"\n", "\r", "\t"} | _JOINERS


def _printable(value: str) -> str:
    """Rejects control characters (newlines included) but keeps any printable Unicode."""
    if any(unicodedata.category(char) in _INVISIBLE and char not in _JOINERS for char in value):
        raise ValueError("must not contain control or invisible formatting characters")
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


def _text(value: str) -> str:
    """Free text: line breaks and tabs allowed, other control characters not."""
    if any(
        unicodedata.category(char) in _INVISIBLE and char not in _ALLOWED_IN_TEXT for char in value
    ):
        raise ValueError("must not contain control or invisible formatting characters")
    return value.strip()


def _allowed_content_type(value: str) -> str:
    lowered = value.lower()
    if lowered not in ALLOWED_CONTENT_TYPES:
        raise ValueError(f"must be one of {', '.join(sorted(ALLOWED_CONTENT_TYPES))}")
    return lowered


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Description = Annotated[str, Field(max_length=5000), AfterValidator(_text)]
Tag = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_printable)]
Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique)]
FileName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_printable)]
ETag = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_printable)]
PartNumber = Annotated[int, Field(ge=1, le=S3_MAX_PARTS)]
UploadId = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_printable)]


class ApiModel(BaseModel):
    """camelCase on the wire; a response is built from the record, dataclass or PynamoDB
    attribute of the same field names (`model_validate(obj)`), not field by field."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True
    )


# --- requests ---------------------------------------------------------------------------


class CreateVideoRequest(ApiModel):
    title: Title
    description: Description = ""
    tags: Tags = []
    visibility: Visibility = Visibility.PRIVATE
    filename: FileName
    content_type: Annotated[str, Field(max_length=100), AfterValidator(_allowed_content_type)]
    size_bytes: Annotated[int, Field(gt=0)]
    multipart: bool | None = Field(
        default=None,
        description="Force a multipart (true) or single-PUT (false) upload; by default "
        "sources over the multipart threshold (100 MiB) get a multipart plan.",
    )


class UpdateVideoRequest(ApiModel):
    """Only the fields present change."""

    title: Title | None = None
    description: Description | None = None
    tags: Tags | None = None
    visibility: Visibility | None = None


class StartUploadRequest(ApiModel):
    multipart: bool | None = None


class CompletedPartBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    part_number: PartNumber = Field(alias="PartNumber")
    etag: ETag = Field(alias="ETag")


class CompleteUploadRequest(ApiModel):
    parts: Annotated[list[CompletedPartBody], Field(max_length=S3_MAX_PARTS)] | None = None
    upload_id: UploadId | None = None


class CreateCaptionRequest(ApiModel):
    language: Annotated[
        str,
        Field(min_length=1, max_length=35, description="BCP-47 language tag (en, pt-BR)"),
    ]
    label: (
        Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_printable)] | None
    ) = Field(default=None, description="The name players show; the language tag by default")
    format: Literal["vtt", "srt"] = Field(description="WebVTT or SubRip; SubRip is converted")
    size_bytes: Annotated[int, Field(gt=0, description="The file's exact size (at most 1 MiB)")]


# --- responses --------------------------------------------------------------------------


class ErrorBody(ApiModel):
    code: str
    message: str


class FieldErrorBody(ApiModel):
    field: str
    message: str


class ErrorResponse(ApiModel):
    code: str
    message: str
    fields: list[FieldErrorBody] | None = None


class AuthorizerError(BaseModel):
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
    output_bytes: int
    task_arn: str | None
    ssim: float | None = None  # against the source scaled to the rung's size
    # audio: the track as players list it, and its loudness (EBU R128)
    language: str | None = None  # the source stream's tag as found ("und": none)
    title: str | None = None
    # the record's `default_track` (`default` is every PynamoDB attribute's default value)
    default: bool | None = Field(
        default=None, validation_alias=AliasChoices("default_track", "default")
    )
    role: str | None = None  # main, alternate, commentary, description
    loudness: str | None = None  # what normalisation did: "normalised (linear)", "off" ...
    loudness_lufs: float | None = None  # integrated, of the published audio
    true_peak_dbtp: float | None = None


class PlaybackBody(ApiModel):
    """Signed, short-lived URLs. A player adds `signedQuery` to every playlist and segment
    request it makes for this video: it covers the video's `hls/` folder until `expiresAt`.
    The other URLs come signed for their own folder (`dash/`, `thumbs/`; a storyboard's
    sprite takes the query of its WebVTT), and nothing signs the rest of the prefix."""

    expires_at: str
    signed_query: str
    hls_url: str | None
    dash_url: str | None
    poster_url: str | None
    storyboard_image_url: str | None
    storyboard_vtt_url: str | None
    preview_urls: list[str]
    download_url: str | None = Field(
        default=None,
        description="The progressive MP4 (one rung up to 1080p and the audio), signed for "
        "the video's `download/` folder; its response says `Content-Disposition: attachment` "
        "with a file name from the title. Null until the video is COMPLETED and its "
        "`downloadStatus` READY, or when downloads are off.",
    )

    @classmethod
    def from_playback(cls, playback: Playback | None) -> PlaybackBody | None:
        return None if playback is None else cls.model_validate(playback)


class LogEntryBody(ApiModel):
    stage: str
    started_at: str
    ended_at: str
    outcome: str
    message: str
    execution_arn: str | None
    task_arn: str | None

    @classmethod
    def from_entry(cls, entry: ProcessingLogEntry) -> LogEntryBody:
        return cls.model_validate(entry)


class VideoBody(ApiModel):
    id: str
    title: str
    slug: str
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
    poster_url: str | None = None
    created_at: str
    updated_at: str
    uploaded_at: str | None
    processed_at: str | None
    # When it first became playable: before processed_at when a long source's cheapest
    # rungs were published first (status still PROCESSING, playback offered).
    playable_at: str | None
    download_status: Literal["PREPARING", "READY", "FAILED"] | None = Field(
        default=None,
        description="The MP4 download's, made once the video is COMPLETED (it plays before): "
        "PREPARING, then READY (`playback.downloadUrl`) or FAILED (the processing log says "
        "why; the video still plays). Null when there is none to make.",
    )

    @classmethod
    def from_record(cls, record: VideoRecord, poster_url: str | None = None) -> VideoBody:
        return cls(**_video_fields(record), poster_url=poster_url)


class VideoDetail(VideoBody):
    playback: PlaybackBody | None
    processing_log: list[LogEntryBody]

    @classmethod
    def from_parts(
        cls,
        record: VideoRecord,
        playback: Playback | None,
        log: list[ProcessingLogEntry],
    ) -> VideoDetail:
        return cls(
            **_video_fields(record),
            poster_url=playback.poster_url if playback else None,
            playback=PlaybackBody.from_playback(playback),
            processing_log=[LogEntryBody.from_entry(e) for e in log],
        )


class PublicVideoBody(ApiModel):
    id: str
    title: str
    slug: str
    description: str
    tags: list[str]
    duration_seconds: float | None
    width: int | None
    height: int | None
    poster_url: str | None
    created_at: str
    processed_at: str | None

    @classmethod
    def from_record(cls, record: VideoRecord, poster_url: str | None) -> PublicVideoBody:
        return cls(
            id=record.video_id,
            title=record.title,
            slug=record.slug,
            description=record.description,
            tags=list(record.tags),
            duration_seconds=record.duration_seconds,
            width=_optional_int(record.width),
            height=_optional_int(record.height),
            poster_url=poster_url,
            created_at=record.created_at,
            processed_at=record.processed_at,
        )


class PublicVideoDetail(PublicVideoBody):
    playback: PlaybackBody | None


class SingleUploadBody(ApiModel):
    """PUT the whole file, exactly `sizeBytes` bytes, to `url` with every one of `headers`
    (all signed: another size, type or a second PUT once the source exists is refused)."""

    type: Literal["single"] = "single"
    method: Literal["PUT"] = "PUT"
    url: str
    headers: dict[str, str]
    expires_in_seconds: int

    @classmethod
    def from_put(cls, put: SinglePut) -> SingleUploadBody:
        return cls.model_validate(put)


class MultipartUploadBody(ApiModel):
    """Upload parts 1..`partCount`, each exactly `partSizeBytes` (the last one the rest), to
    URLs from GET .../upload/parts/{n}/url (each signed for its part's size), then POST
    .../upload/complete listing every part."""

    type: Literal["multipart"] = "multipart"
    upload_id: str
    key: str
    part_size_bytes: int
    part_count: int
    expires_in_seconds: int

    @classmethod
    def from_plan(cls, plan: MultipartPlan) -> MultipartUploadBody:
        return cls.model_validate(plan)


UploadBody = Annotated[SingleUploadBody | MultipartUploadBody, Field(discriminator="type")]


def upload_body(plan: SinglePut | MultipartPlan) -> SingleUploadBody | MultipartUploadBody:
    if isinstance(plan, SinglePut):
        return SingleUploadBody.from_put(plan)
    return MultipartUploadBody.from_plan(plan)


class CreateVideoResponse(ApiModel):
    video: VideoBody
    upload: UploadBody


class StartUploadResponse(ApiModel):
    upload: UploadBody


class SignedPartResponse(BaseModel):
    """Uppy's AwsS3UploadParameters: PUT the part's bytes to `url`; `expires` in seconds."""

    method: Literal["PUT"] = "PUT"
    url: str
    headers: dict[str, str]
    expires: int

    @classmethod
    def from_signed(cls, signed: SignedPart) -> SignedPartResponse:
        return cls(url=signed.url, headers={}, expires=signed.expires_in_seconds)


class PartBody(BaseModel):
    """Uppy's AwsS3Part."""

    model_config = ConfigDict(populate_by_name=True)

    part_number: int = Field(alias="PartNumber")
    size: int = Field(alias="Size")
    etag: str = Field(alias="ETag")

    @classmethod
    def from_part(cls, part: UploadedPart) -> PartBody:
        return cls(part_number=part.part_number, size=part.size, etag=part.etag)


class CompleteUploadResponse(ApiModel):
    location: str  # Uppy's completeMultipartUpload result: where the video now lives
    video: VideoBody


class ReprocessResponse(ApiModel):
    video: VideoBody
    execution_arn: str


class VideoListResponse(ApiModel):
    items: list[VideoBody]
    next_cursor: str | None


class CatalogResponse(ApiModel):
    items: list[PublicVideoBody]
    next_cursor: str | None


def _video_fields(record: VideoRecord) -> dict[str, Any]:
    error = (
        ErrorBody(code=record.error_code, message=record.error_message or "")
        if record.error_code
        else None
    )
    return {
        "id": record.video_id,
        "title": record.title,
        "slug": record.slug,
        "description": record.description,
        "tags": list(record.tags),
        "visibility": record.visibility,
        "status": record.status,
        "original_filename": record.original_filename,
        "content_type": record.content_type,
        "size_bytes": int(record.size_bytes),
        "duration_seconds": record.duration_seconds,
        "width": _optional_int(record.width),
        "height": _optional_int(record.height),
        "error": error,
        "renditions": [RenditionBody.model_validate(r) for r in record.renditions],
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "uploaded_at": record.uploaded_at,
        "processed_at": record.processed_at,
        "playable_at": record.playable_at,
        "download_status": record.download_status,
    }


def _optional_int(value: float | None) -> int | None:
    return None if value is None else int(value)


class CaptionBody(ApiModel):
    language: str
    label: str
    source_format: str  # what was uploaded: vtt or srt (published as WebVTT either way)
    cue_count: int
    added_at: str

    @classmethod
    def from_caption(cls, caption: CaptionAttribute) -> CaptionBody:
        return cls.model_validate(caption)


class CaptionUploadResponse(ApiModel):
    """PUT the file to `upload.url` with its headers, then POST
    /videos/{id}/captions/{language}/complete."""

    language: str  # canonical: the {language} of the later calls
    upload: SingleUploadBody


class CaptionListResponse(ApiModel):
    items: list[CaptionBody]
