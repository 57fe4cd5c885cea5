"""Captions: one WebVTT track per language, uploaded by the owner as WebVTT or SubRip.

The file goes to S3 as the source does (a presigned PUT signed for its exact size, type and
the pending tag, into the uploads bucket at `{videoId}/captions/{language}`); `complete`
reads it, checks it (UTF-8, every cue block valid, each cue ending after it starts: an
error names the line), converts it to WebVTT and stores it in the video's `hls/` folder,
which the player's signed query already covers:

    {videoId}/hls/subs/{language}/captions.vtt   the track (one HLS segment, DASH's file)
    {videoId}/hls/subs/{language}/index.m3u8     its HLS media playlist (written on publish)

Publishing into the manifests is lambdas/pipeline/subtitles.py's (republish, and finalise).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from lambdas.core.clock import utc_now_iso
from lambdas.core.errors import (
    CaptionInvalid,
    CaptionNotFound,
    ConcurrentChange,
    FieldError,
    UploadNotFinished,
    UploadTooLarge,
)
from lambdas.core.models import CaptionAttribute, CaptionUploadAttribute, VideoRecord
from lambdas.core.settings import MIB
from lambdas.core.uploads import PENDING_TAGGING, SinglePut, delete_every_version
from lambdas.core.videos import EDIT_ATTEMPTS, get_video

if TYPE_CHECKING:
    import webvtt
    from mypy_boto3_s3 import S3Client

# langcodes and webvtt-py are imported where they are used: every API cold start imports
# this module (its routes), few requests touch captions.

MAX_CAPTION_BYTES = 1 * MIB
MAX_TRACKS_PER_VIDEO = 20
# The upload's Content-Type for each format the API accepts (signed into the PUT).
FORMAT_CONTENT_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip"}
VTT_CONTENT_TYPE = "text/vtt"
CAPTIONS_CACHE_CONTROL = "max-age=60"
# The transcoder starts every media timeline at 10 s (dash.MEDIA_START_SECONDS); the HLS
# WebVTT header maps cue time 0 to it, in the 90 kHz clock, as hls.js and Apple expect.
MEDIA_START_SECONDS = 10
TIMESTAMP_MAP = f"X-TIMESTAMP-MAP=MPEGTS:{MEDIA_START_SECONDS * 90_000},LOCAL:00:00:00.000"
_TAG_SYNTAX = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$")
_BOM = "\ufeff"


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str
    settings: str = ""
    identifier: str | None = None


# --- names ------------------------------------------------------------------------------


def canonical_language(tag: str) -> str:
    """A valid BCP-47 tag in its canonical case (`pt-br` -> `pt-BR`); FieldError otherwise.
    Validity is langcodes' (every subtag registered), not just the syntax."""
    import langcodes

    if len(tag) > 35 or not _TAG_SYNTAX.fullmatch(tag) or not langcodes.tag_is_valid(tag):
        raise FieldError("language", f"{tag!r} is not a valid BCP-47 language tag (en, pt-BR)")
    return str(langcodes.standardize_tag(tag))


def upload_key(video_id: str, language: str) -> str:
    return f"{video_id}/captions/{language}"


def track_folder(video_id: str, language: str) -> str:
    return f"{video_id}/hls/subs/{language}"


def vtt_key(video_id: str, language: str) -> str:
    return f"{track_folder(video_id, language)}/captions.vtt"


def playlist_key(video_id: str, language: str) -> str:
    return f"{track_folder(video_id, language)}/index.m3u8"


# --- reading and converting -------------------------------------------------------------


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CaptionInvalid("the file is not UTF-8 text", line=line) from error
    return text.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")


def parse_captions(data: bytes, source_format: str) -> list[Cue]:
    """Every cue of a WebVTT or SubRip file, in start order; CaptionInvalid naming the line
    of the first problem."""
    text = decode_text(data)
    cues = parse_srt(text) if source_format == "srt" else parse_vtt(text)
    if not cues:
        raise CaptionInvalid("the file has no cues")
    for cue, line in zip(cues, timing_lines(text), strict=False):
        if cue.end_ms <= cue.start_ms:
            raise CaptionInvalid("the cue ends before it starts", line=line)
    return sorted(cues, key=lambda cue: (cue.start_ms, cue.end_ms))


def timing_lines(text: str) -> list[int]:
    """The 1-based line of each cue's timing line ("-->"), in file order."""
    return [number for number, line in enumerate(text.split("\n"), start=1) if "-->" in line]


def parse_srt(text: str) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError
    from webvtt.srt import SRTCueBlock

    # webvtt-py skips a block that is not a cue without a word: check each block first,
    # with the library's own check of a SubRip cue (a number, then its timings).
    blocks = _blocks(text)
    if not blocks:
        raise CaptionInvalid("the file has no cues")
    for line, block in blocks:
        if not SRTCueBlock.is_valid(block):
            raise CaptionInvalid(
                "not a SubRip cue (a number, 00:00:01,000 --> 00:00:02,000, then text)",
                line=line,
            )
    try:
        parsed = webvtt.from_buffer(io.StringIO(text.lstrip()), format="srt")
    except (MalformedCaptionError, MalformedFileError) as error:
        raise CaptionInvalid(f"not valid SubRip ({error})") from error
    return [_cue(c) for c in parsed.captions]


def parse_vtt(text: str) -> list[Cue]:
    if not text.startswith("WEBVTT"):
        raise CaptionInvalid("a WebVTT file starts with WEBVTT", line=1)
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError
    from webvtt.vtt import WebVTTCueBlock

    # webvtt-py's strict parse refuses a bad cue block without saying where: find it first,
    # with the library's own check of a cue block.
    for line, block in _blocks(text):
        if any("-->" in row for row in block) and not WebVTTCueBlock.is_valid(block, strict=True):
            raise CaptionInvalid(
                "not a WebVTT cue (00:00:01.000 --> 00:00:02.000, then text)", line=line
            )
    try:
        parsed = webvtt.from_string(text, strict=True)
    except (MalformedCaptionError, MalformedFileError) as error:
        raise CaptionInvalid(f"not valid WebVTT ({error})") from error
    return [_cue(c) for c in parsed.captions]


def _cue(caption: webvtt.Caption) -> Cue:
    return Cue(
        start_ms=caption.start_time.in_milliseconds(),
        end_ms=caption.end_time.in_milliseconds(),
        text=caption.raw_text,
        settings=str(caption.settings),
        identifier=caption.identifier,
    )


def render_webvtt(cues: list[Cue]) -> str:
    """WebVTT for both manifests: the X-TIMESTAMP-MAP header is what HLS needs, and a DASH
    player reads the header's metadata lines as nothing."""
    blocks = [f"WEBVTT\n{TIMESTAMP_MAP}"]
    for cue in cues:
        timing = f"{_timestamp(cue.start_ms)} --> {_timestamp(cue.end_ms)}"
        if cue.settings:
            timing += f" {cue.settings}"
        # A payload may hold neither a blank line nor "-->" (either would end the cue).
        lines = [row.replace("-->", "--&gt;") for row in cue.text.split("\n") if row.strip()]
        head = [cue.identifier] if cue.identifier and "-->" not in cue.identifier else []
        blocks.append("\n".join([*head, timing, *lines]))
    return "\n\n".join(blocks) + "\n"


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """The file's blocks (runs of non-blank lines), each with its first line's number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, row in enumerate(text.split("\n"), start=1):
        if row.strip():
            if not current:
                start = number
            current.append(row)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _timestamp(milliseconds: int) -> str:
    seconds, ms = divmod(milliseconds, 1000)
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    return f"{hours:02d}:{m:02d}:{s:02d}.{ms:03d}"


# --- uploads and the record -------------------------------------------------------------


@dataclass(frozen=True)
class CaptionRequest:
    language: str  # canonical (canonical_language)
    label: str
    source_format: str  # vtt | srt
    size_bytes: int


def find_caption(record: VideoRecord, language: str) -> CaptionAttribute | None:
    return next((c for c in record.captions if c.language == language), None)


def begin_upload(
    s3: S3Client, bucket: str, ttl_seconds: int, record: VideoRecord, request: CaptionRequest
) -> SinglePut:
    """Remembers what is coming on the record, and signs a PUT for exactly that."""
    if request.size_bytes > MAX_CAPTION_BYTES:
        raise UploadTooLarge(request.size_bytes, MAX_CAPTION_BYTES)
    content_type = FORMAT_CONTENT_TYPES[request.source_format]
    pending = CaptionUploadAttribute(
        language=request.language,
        label=request.label,
        source_format=request.source_format,
        size_bytes=request.size_bytes,
        created_at=utc_now_iso(),
    )

    def change(current: VideoRecord) -> list[Any]:
        others = [c for c in current.captions if c.language != request.language]
        if len(others) >= MAX_TRACKS_PER_VIDEO:
            raise FieldError(
                "language", f"a video has at most {MAX_TRACKS_PER_VIDEO} caption tracks"
            )
        kept = [u for u in current.caption_uploads if u.language != request.language]
        return [VideoRecord.caption_uploads.set([*kept, pending])]

    _edit(record, change)
    url = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket,
            "Key": upload_key(record.video_id, request.language),
            "ContentType": content_type,
            "ContentLength": request.size_bytes,
            "Tagging": PENDING_TAGGING,
        },
        ExpiresIn=ttl_seconds,
    )
    return SinglePut(
        url=url,
        headers={"Content-Type": content_type, "x-amz-tagging": PENDING_TAGGING},
        expires_in_seconds=ttl_seconds,
    )


def complete_upload(
    s3: S3Client, uploads_bucket: str, media_bucket: str, record: VideoRecord, language: str
) -> tuple[VideoRecord, CaptionAttribute]:
    """Checks and converts the uploaded file, stores the WebVTT, and lists the track on the
    record (replacing one of the same language). An invalid file is deleted: upload a
    corrected one after a new POST .../captions."""
    video_id = record.video_id
    pending = next((u for u in record.caption_uploads if u.language == language), None)
    if pending is None:
        raise CaptionNotFound(video_id, language)
    key = upload_key(video_id, language)
    data = _read_upload(s3, uploads_bucket, key, video_id)
    try:
        if len(data) != int(pending.size_bytes):
            raise CaptionInvalid(
                f"the file is {len(data)} bytes, but {int(pending.size_bytes)} were declared"
            )
        cues = parse_captions(data, pending.source_format)
    except CaptionInvalid:
        delete_every_version(s3, uploads_bucket, key)
        _edit(record, lambda current: [_without_upload(current, language)])
        raise
    s3.put_object(
        Bucket=media_bucket,
        Key=vtt_key(video_id, language),
        Body=render_webvtt(cues).encode(),
        ContentType=VTT_CONTENT_TYPE,
        CacheControl=CAPTIONS_CACHE_CONTROL,
    )
    caption = CaptionAttribute(
        language=language,
        label=pending.label,
        vtt_key=vtt_key(video_id, language),
        playlist_key=playlist_key(video_id, language),
        source_format=pending.source_format,
        cue_count=len(cues),
        added_at=utc_now_iso(),
    )

    def change(current: VideoRecord) -> list[Any]:
        others = [c for c in current.captions if c.language != language]
        return [VideoRecord.captions.set([*others, caption]), _without_upload(current, language)]

    updated = _edit(record, change)
    delete_every_version(s3, uploads_bucket, key)
    return updated, caption


def delete_caption(
    s3: S3Client, media_bucket: str, record: VideoRecord, language: str
) -> VideoRecord:
    """Takes the track off the record, then removes its files (republish afterwards)."""
    if find_caption(record, language) is None:
        raise CaptionNotFound(record.video_id, language)
    updated = _edit(
        record,
        lambda current: [
            VideoRecord.captions.set([c for c in current.captions if c.language != language])
        ],
    )
    for key in (vtt_key(record.video_id, language), playlist_key(record.video_id, language)):
        s3.delete_object(Bucket=media_bucket, Key=key)
    return updated


def _without_upload(record: VideoRecord, language: str) -> Any:
    return VideoRecord.caption_uploads.set(
        [u for u in record.caption_uploads if u.language != language]
    )


def _read_upload(s3: S3Client, bucket: str, key: str, video_id: str) -> bytes:
    try:
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_CAPTION_BYTES}")
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in {"NoSuchKey", "404"}:
            raise UploadNotFinished(
                f"no caption file uploaded for video {video_id} yet: PUT it to the upload URL"
            ) from error
        raise
    return body["Body"].read()


def _edit(record: VideoRecord, change: Callable[[VideoRecord], list[Any]]) -> VideoRecord:
    """Applies `change(current) -> actions` under optimistic locking, reading again when the
    pipeline or another edit moved the version on."""
    current = record
    for _ in range(EDIT_ATTEMPTS):
        actions = change(current)
        try:
            current.update(actions=[*actions, VideoRecord.updated_at.set(utc_now_iso())])
        except UpdateError:
            current = get_video(record.video_id)
            continue
        return current
    raise ConcurrentChange(f"video {record.video_id} kept changing; try again")
