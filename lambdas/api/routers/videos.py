"""The owner's videos: create (with an optional Idempotency-Key), list, read, edit, delete and
reprocess."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from lambdas.api import idempotency
from lambdas.api.dependencies import ApiDependencies, Caller, Deps
from lambdas.api.parameters import OWNER, Cursor, Limit, VideoId, documented
from lambdas.api.schemas import (
    CreateVideoRequest,
    CreateVideoResponse,
    ReprocessResponse,
    UpdateVideoRequest,
    VideoBody,
    VideoDetail,
    VideoListResponse,
    upload_body,
)
from lambdas.core import lifecycle, uploads, videos
from lambdas.core.observability import logger

router = Router()


@router.post(
    "/videos",
    security=OWNER,
    summary="Create a video; returns its id at once and how to upload the source",
    responses=documented(201, "Created", 400, 401, 409, 413, 415, 422, 429),
)
def create_video(
    request: Annotated[CreateVideoRequest, Body()],
    deps: Deps,
    caller: Caller,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="A retried request with the same key (and body) returns the same video",
        ),
    ] = None,
) -> Response[CreateVideoResponse]:
    payload = {"owner": caller, "key": idempotency_key, "request": request.model_dump(mode="json")}
    if idempotency_key is None:
        stored = _create_video(deps=deps, payload=payload)
    else:
        stored = idempotency.run_once(
            _create_video,
            store=deps.idempotency_store,
            config=deps.idempotency_config,
            key_prefix=idempotency.create_video_key_prefix(),
            lambda_context=router.lambda_context,
            deps=deps,
            payload=payload,
        )
    body = CreateVideoResponse.model_validate(stored)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Location": f"/videos/{body.video.id}"},
    )


def _create_video(*, deps: ApiDependencies, payload: dict[str, Any]) -> dict[str, Any]:
    """Creates the video and its upload; returns the response body as JSON-ready data (what
    the idempotency store keeps for a replay)."""
    request = CreateVideoRequest.model_validate(payload["request"])
    # A single PUT starts processing as soon as it lands: the limit holds from here.
    videos.require_room_to_process(payload["owner"], deps.settings.max_active_videos_per_user)
    record, plan = uploads.begin_upload(
        deps.s3,
        deps.upload_policy,
        videos.NewVideo(
            owner_id=payload["owner"],
            title=request.title,
            description=request.description,
            tags=request.tags,
            visibility=request.visibility,
            original_filename=request.filename,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
        ),
        multipart=request.multipart,
        max_upload_bytes=deps.settings.max_upload_bytes,
    )
    logger.info("video created", extra={"video_id": record.video_id, "upload": type(plan).__name__})
    response = CreateVideoResponse(video=VideoBody.from_record(record), upload=upload_body(plan))
    return response.model_dump(mode="json", by_alias=True)


@router.get(
    "/videos",
    security=OWNER,
    summary="The caller's videos in every status, newest first",
    responses=documented(200, "A page of videos", 400, 401),
)
def list_videos(
    deps: Deps, caller: Caller, limit: Limit = 20, cursor: Cursor = None
) -> VideoListResponse:
    page = videos.list_owned_videos(caller, limit=limit, cursor=cursor)
    return VideoListResponse(
        items=[VideoBody.from_record(r, deps.poster_url(r)) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/videos/<video_id>",
    security=OWNER,
    summary="One video: metadata, status, renditions, processing log, signed playback URLs",
    responses=documented(200, "The video", 400, 401, 404),
)
def get_video(video_id: VideoId, deps: Deps, caller: Caller) -> VideoDetail:
    record, log = videos.get_owned_video_and_log(video_id, caller)
    return VideoDetail.from_parts(record, deps.playback_for(record), log)


@router.patch(
    "/videos/<video_id>",
    security=OWNER,
    summary="Change the title, description, tags or visibility (only the fields given)",
    responses=documented(200, "The changed video", 400, 401, 404, 409, 415),
)
def update_video(
    video_id: VideoId, request: Annotated[UpdateVideoRequest, Body()], deps: Deps, caller: Caller
) -> VideoBody:
    changes = videos.VideoChanges(
        title=request.title,
        description=request.description,
        tags=request.tags,
        visibility=request.visibility,
    )
    record = videos.update_video(video_id, caller, changes)
    return VideoBody.from_record(record, deps.poster_url(record))


@router.delete(
    "/videos/<video_id>",
    security=OWNER,
    summary="Delete the video, its source and its media (deleting again is fine)",
    responses=documented(204, "Deleted", 400, 401, 404, 409),
)
def delete_video(video_id: VideoId, deps: Deps, caller: Caller) -> Response[None]:
    record = videos.find_own_video_or_tombstone(video_id, caller)
    lifecycle.delete_video(
        deps.s3, deps.buckets, record, tombstone_days=deps.settings.tombstone_ttl_days
    )
    logger.info("video deleted", extra={"video_id": video_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@router.post(
    "/videos/<video_id>/reprocess",
    security=OWNER,
    summary="Process a FAILED video again, in a new execution",
    responses=documented(202, "Processing starts again", 400, 401, 404, 409, 429, 503),
)
def reprocess_video(video_id: VideoId, deps: Deps, caller: Caller) -> Response[ReprocessResponse]:
    record = videos.get_owned_video(video_id, caller)
    limit = deps.settings.max_active_videos_per_user
    videos.require_room_to_process(record.owner_id, limit, video_id=video_id)
    execution_arn = lifecycle.reprocess_video(
        deps.s3,
        deps.sfn,
        uploads_bucket=deps.settings.uploads_bucket,
        state_machine_arn=deps.settings.state_machine_arn,
        record=record,
    )
    logger.info("reprocessing", extra={"video_id": video_id, "execution_arn": execution_arn})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=ReprocessResponse(video=VideoBody.from_record(record), execution_arn=execution_arn),
    )
