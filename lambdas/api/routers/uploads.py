"""A video's source upload, in the shapes of Uppy's @uppy/aws-s3 multipart hooks."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from lambdas.api.dependencies import Caller, Deps
from lambdas.api.parameters import OWNER, UploadIdQuery, VideoId, documented
from lambdas.api.schemas import (
    CompleteUploadRequest,
    CompleteUploadResponse,
    PartBody,
    SignedPartResponse,
    StartUploadRequest,
    StartUploadResponse,
    VideoBody,
    upload_body,
)
from lambdas.core import uploads, videos
from lambdas.core.observability import logger
from lambdas.core.settings import S3_MAX_PARTS

router = Router()


@router.post(
    "/videos/<video_id>/upload",
    security=OWNER,
    summary="Upload instructions again: a fresh presigned PUT, or the multipart upload in "
    "progress (to resume it), or a new multipart upload",
    responses=documented(200, "How to upload", 400, 401, 404, 409, 415),
)
def start_upload(
    video_id: VideoId,
    deps: Deps,
    caller: Caller,
    request: Annotated[StartUploadRequest | None, Body()] = None,
) -> StartUploadResponse:
    record = videos.get_owned_video(video_id, caller)
    multipart = request.multipart if request else None
    plan = uploads.restart_upload(deps.s3, deps.upload_policy, record, multipart)
    return StartUploadResponse(upload=upload_body(plan))


@router.get(
    "/videos/<video_id>/upload/parts/<part_number>/url",
    security=OWNER,
    summary="Uppy signPart: a presigned URL to PUT one planned part (1..partCount), "
    "signed for that part's exact size",
    responses=documented(200, "Where to PUT the part", 400, 401, 404, 409),
)
def sign_part(
    video_id: VideoId,
    part_number: Annotated[int, Path(ge=1, le=S3_MAX_PARTS)],
    deps: Deps,
    caller: Caller,
    upload_id: UploadIdQuery = None,
) -> SignedPartResponse:
    record = videos.get_owned_video(video_id, caller)
    signed = uploads.sign_part(deps.s3, deps.upload_policy, record, part_number, upload_id)
    return SignedPartResponse.from_signed(signed)


@router.get(
    "/videos/<video_id>/upload/parts",
    security=OWNER,
    summary="Uppy listParts: the parts S3 already holds (resume after a reload or a crash)",
    responses=documented(200, "The uploaded parts, in order", 400, 401, 404, 409),
)
def list_parts(
    video_id: VideoId, deps: Deps, caller: Caller, upload_id: UploadIdQuery = None
) -> list[PartBody]:
    record = videos.get_owned_video(video_id, caller)
    parts = uploads.list_parts(deps.s3, deps.upload_policy, record, upload_id)
    return [PartBody.from_part(part) for part in parts]


@router.post(
    "/videos/<video_id>/upload/complete",
    security=OWNER,
    summary="Uppy completeMultipartUpload (or confirm a single PUT): the source is complete "
    "and its size is the declared one (otherwise it is deleted: 422 UPLOAD_SIZE_MISMATCH)",
    responses=documented(200, "The uploaded video", 400, 401, 404, 409, 415, 422, 429),
)
def complete_upload(
    video_id: VideoId,
    deps: Deps,
    caller: Caller,
    request: Annotated[CompleteUploadRequest | None, Body()] = None,
) -> CompleteUploadResponse:
    record = videos.get_owned_video(video_id, caller)
    limit = deps.settings.max_active_videos_per_user
    videos.require_room_to_process(record.owner_id, limit, video_id=video_id)
    parts = (
        [uploads.PartToComplete(part_number=p.part_number, etag=p.etag) for p in request.parts]
        if request and request.parts
        else None
    )
    record = uploads.complete_upload(
        deps.s3, deps.upload_policy, record, parts, request.upload_id if request else None
    )
    logger.info("upload complete", extra={"video_id": video_id})
    return CompleteUploadResponse(
        location=f"/videos/{record.video_id}", video=VideoBody.from_record(record)
    )


@router.delete(
    "/videos/<video_id>/upload",
    security=OWNER,
    summary="Uppy abortMultipartUpload: drop the parts; the video waits for a new upload",
    responses=documented(204, "Aborted", 400, 401, 404, 409),
)
def abort_upload(
    video_id: VideoId, deps: Deps, caller: Caller, upload_id: UploadIdQuery = None
) -> Response[None]:
    record = videos.get_owned_video(video_id, caller)
    uploads.abort_upload(deps.s3, deps.upload_policy, record, upload_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)
