"""A video's caption tracks: upload (presigned PUT, then complete), list and remove. A
COMPLETED video's manifests are republished on every change."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from lambdas.api.dependencies import ApiDependencies, Caller, Deps
from lambdas.api.parameters import OWNER, Language, VideoId, documented
from lambdas.api.schemas import (
    CaptionBody,
    CaptionListResponse,
    CaptionUploadResponse,
    CreateCaptionRequest,
    SingleUploadBody,
)
from lambdas.core import captions, videos
from lambdas.core.models import VideoRecord
from lambdas.core.observability import logger

router = Router()


@router.post(
    "/videos/<video_id>/captions",
    security=OWNER,
    summary="Start a caption upload (WebVTT or SubRip, one track per language): a presigned "
    "PUT signed for the file's size and type; then POST .../captions/{language}/complete",
    responses=documented(201, "How to upload the file", 400, 401, 404, 409, 413, 415),
)
def create_caption_upload(
    video_id: VideoId, request: Annotated[CreateCaptionRequest, Body()], deps: Deps, caller: Caller
) -> Response[CaptionUploadResponse]:
    record = videos.get_owned_video(video_id, caller)
    language = captions.canonical_language(request.language)
    put = captions.begin_upload(
        deps.s3,
        deps.settings.uploads_bucket,
        deps.settings.upload_url_ttl_seconds,
        record,
        captions.CaptionRequest(
            language=language,
            label=request.label or language,
            source_format=request.format,
            size_bytes=request.size_bytes,
        ),
    )
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=CaptionUploadResponse(language=language, upload=SingleUploadBody.from_put(put)),
    )


@router.post(
    "/videos/<video_id>/captions/<language>/complete",
    security=OWNER,
    summary="Check the uploaded caption file, convert it to WebVTT and publish it (a "
    "COMPLETED video's manifests are rewritten; otherwise it is published on completion). "
    "An invalid file: 422 INVALID_CAPTIONS naming the line",
    responses=documented(200, "The published track", 400, 401, 404, 409, 415, 422),
)
def complete_caption_upload(
    video_id: VideoId, language: Language, deps: Deps, caller: Caller
) -> CaptionBody:
    record = videos.get_owned_video(video_id, caller)
    record, caption = captions.complete_upload(
        deps.s3,
        deps.settings.uploads_bucket,
        deps.settings.media_bucket,
        record,
        captions.canonical_language(language),
    )
    _republish(deps, record)
    logger.info("captions added", extra={"video_id": video_id, "language": caption.language})
    return CaptionBody.from_caption(caption)


@router.get(
    "/videos/<video_id>/captions",
    security=OWNER,
    summary="The video's caption tracks",
    responses=documented(200, "The tracks", 400, 401, 404),
)
def list_captions(video_id: VideoId, caller: Caller) -> CaptionListResponse:
    record = videos.get_owned_video(video_id, caller)
    ordered = sorted(record.captions, key=lambda c: c.language)
    return CaptionListResponse(items=[CaptionBody.from_caption(c) for c in ordered])


@router.delete(
    "/videos/<video_id>/captions/<language>",
    security=OWNER,
    summary="Remove a caption track (a COMPLETED video's manifests are rewritten)",
    responses=documented(204, "Removed", 400, 401, 404, 409),
)
def delete_caption(
    video_id: VideoId, language: Language, deps: Deps, caller: Caller
) -> Response[None]:
    record = videos.get_owned_video(video_id, caller)
    record = captions.delete_caption(
        deps.s3, deps.settings.media_bucket, record, captions.canonical_language(language)
    )
    _republish(deps, record)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


def _republish(deps: ApiDependencies, record: VideoRecord) -> None:
    # The manifest writers (the pipeline's) are imported by the two routes that need them,
    # not by every cold start.
    from lambdas.pipeline import subtitles

    subtitles.republish(deps.s3, deps.settings.media_bucket, record)
