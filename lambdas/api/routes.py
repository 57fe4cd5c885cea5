"""The HTTP API: thin routes over the video lifecycle functions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from lambdas.api.dependencies import get_dependencies
from lambdas.api.schemas import (
    CreateVideoRequest,
    CreateVideoResponse,
    VideoBody,
    VideoListResponse,
)
from lambdas.api.uploads import single_put_upload
from lambdas.core import videos
from lambdas.core.errors import InvalidVideoState, UploadTooLarge, VideoNotFound
from lambdas.core.observability import logger

app = APIGatewayHttpResolver(enable_validation=True)


def _caller_id() -> str:
    """The JWT authorizer has already verified the token; its subject is the caller."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    subject = claims.get("sub")
    if not subject:
        raise UnauthorizedError("a signed-in user is required")
    return str(subject)


@app.post("/videos")
def create_video(
    request: Annotated[CreateVideoRequest, Body()],
) -> Response[CreateVideoResponse]:
    deps = get_dependencies()
    limit = deps.settings.max_upload_bytes
    if request.size_bytes > limit:
        raise UploadTooLarge(request.size_bytes, limit)
    record = videos.create_video(
        videos.NewVideo(
            owner_id=_caller_id(),
            title=request.title,
            description=request.description,
            tags=request.tags,
            visibility=request.visibility,
            original_filename=request.filename,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
        )
    )
    upload = single_put_upload(
        deps.s3,
        bucket=deps.settings.uploads_bucket,
        key=record.source_key,
        content_type=request.content_type,
        ttl_seconds=deps.settings.upload_url_ttl_seconds,
    )
    logger.info("video created", extra={"video_id": record.video_id})
    body = CreateVideoResponse(video=VideoBody.from_record(record), upload=upload)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Location": f"/videos/{record.video_id}"},
    )


@app.get("/videos")
def list_videos() -> VideoListResponse:
    get_dependencies()
    items = [VideoBody.from_record(r) for r in videos.list_owned_videos(_caller_id())]
    return VideoListResponse(items=items)


@app.get("/videos/<video_id>")
def get_video(video_id: Annotated[str, Path(max_length=64)]) -> VideoBody:
    get_dependencies()
    return VideoBody.from_record(videos.get_owned_video(video_id, _caller_id()))


# --- errors: one place maps domain errors to HTTP responses -----------------------------


def _error(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"code": code, "message": message, **extra},
    )


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    fields = [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())[1:]) or "body",
            "message": item.get("msg", "invalid"),
        }
        for item in error.errors()
    ]
    names = ", ".join(f["field"] for f in fields)
    return _error(
        HTTPStatus.BAD_REQUEST, "INVALID_REQUEST", f"invalid fields: {names}", fields=fields
    )


@app.exception_handler(VideoNotFound)
def _not_found(error: VideoNotFound) -> Response[Any]:
    return _error(HTTPStatus.NOT_FOUND, "NOT_FOUND", str(error))


@app.exception_handler(InvalidVideoState)
def _conflict(error: InvalidVideoState) -> Response[Any]:
    return _error(HTTPStatus.CONFLICT, "INVALID_STATE", str(error))


@app.exception_handler(UploadTooLarge)
def _too_large(error: UploadTooLarge) -> Response[Any]:
    return _error(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "TOO_LARGE",
        str(error),
        fields=[{"field": "sizeBytes", "message": str(error)}],
    )
